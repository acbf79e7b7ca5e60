/*
 * store/backend.h: what a store backend provides, and the part of every
 * connection that does not depend on the backend. Only store/ includes
 * it; the rest of xfed sees store.h alone.
 *
 * store.c opens a backend by the form of the store setting (a path:
 * SQLite, sqlite.c; a postgresql:// or postgres:// URI: PostgreSQL,
 * store_pg_open()) and turns each store_X() of store.h that needs the
 * database into st->ops->X(st, ...). What needs no database (the
 * name/parse functions, store_sub_inbound() and store_sub_outbound(),
 * store_avatar_type(), store_missing(), errors, counters) is shared and
 * stays out of the table.
 *
 * A backend's connection is a struct of its own whose FIRST member is a
 * struct store, so that its functions may cast the struct store * they
 * are given to their own type:
 *
 *	struct sqlite_store {
 *		struct store	 base;
 *		sqlite3		*db;
 *		...
 *	};
 *
 * To add an operation:
 *  1. declare store_X() in store.h, as the rest of xfed will call it;
 *  2. add the member X here, with store_X()'s signature, in its group;
 *  3. add the dispatcher to store.c (one line: st->ops->X(st, ...));
 *  4. write it in every backend (sqlite_X(), pg_X()...) and put it in
 *     that backend's table (sqlite_ops in sqlite.c); a member left NULL
 *     crashes, so a backend for which X means nothing fills in a no-op
 *     saying why.
 * The contract (CONTRACT.md) says what each backend stores, per dialect.
 */
#ifndef STORE_BACKEND_H
#define STORE_BACKEND_H

#include <stdarg.h>

#include "store.h"

/* The transaction a connection has open: the same in every backend. */
enum store_txn {
	STORE_TXN_NONE = 0,
	STORE_TXN_BATCH,	/* opened by a write, closed by store_flush() */
	STORE_TXN_EXPLICIT,	/* store_begin() .. store_commit() */
};

struct store_ops {
	const char	*name;		/* "sqlite", "postgresql" */
	int		 shared;	/* 1: several daemons share one store */

	/* Connection and transactions (store_close() also frees). */
	void	(*close)(struct store *);
	int	(*version)(struct store *);
	int	(*checkpoint_start)(struct store *);
	void	(*checkpoint_stop)(struct store *);
	int	(*begin)(struct store *);
	int	(*commit)(struct store *);
	int	(*rollback)(struct store *);
	int	(*flush)(struct store *);
	/* NULL: flush_async is flush (SQLite commits in microseconds). */
	int	(*flush_async)(struct store *);
	int	(*flush_poll)(struct store *, int wait);
	int	(*flush_fd)(struct store *);
	void	(*busy_timeout)(struct store *, int wait);

	/* S2S state. */
	int	(*state_get)(struct store *, const char *key, char **valuep);
	int	(*state_set)(struct store *, const char *key,
		    const char *value);

	int	(*state_init)(struct store *, const char *key,
		    const char *value, char **valuep);

	/* Instances and leases. */
	int	(*instance_beat)(struct store *, const char *name,
		    int64_t started);
	int	(*instance_del)(struct store *, const char *name);
	int	(*instance_list)(struct store *, store_instance_cb, void *arg);
	int	(*lease_claim)(struct store *, const char *holder, int ttl,
		    int64_t *np);
	int	(*lease_take)(struct store *, const char *holder,
		    const char *local, const char *remote, int ttl,
		    int *heldp);
	int	(*lease_renew)(struct store *, const char *holder, int ttl,
		    int64_t *np);
	int	(*lease_release)(struct store *, const char *holder);
	int	(*lease_list)(struct store *, const char *holder,
		    store_lease_cb, void *arg);
	int	(*outbox_due_held)(struct store *, const char *holder,
		    int64_t now, size_t limit, store_outbox_cb, void *arg);

	/* Users and their presence. */
	int	(*user_add)(struct store *, const char *local,
		    const char *domain, const char *name, int64_t *idp);
	int	(*user_del)(struct store *, const char *local,
		    const char *domain);
	int	(*user_get)(struct store *, const char *local,
		    const char *domain, store_user_cb cb, void *arg);
	int	(*user_get_id)(struct store *, int64_t id, store_user_cb cb,
		    void *arg);
	int	(*user_find)(struct store *, const char *local,
		    const char *domain, int64_t *idp);
	int	(*user_list)(struct store *, const char *domain, store_user_cb,
		    void *arg);
	int	(*user_update)(struct store *, const struct store_user *u);
	int	(*presence_set)(struct store *, const char *local,
		    const char *domain, enum store_show, const char *status,
		    int priority);
	int	(*presence_get)(struct store *, const char *local,
		    const char *domain, struct store_presence *p);

	/* Subscriptions and remote presence. */
	int	(*sub_get)(struct store *, const char *local,
		    const char *domain, const char *jid, store_sub_cb,
		    void *arg);
	int	(*sub_list)(struct store *, const char *local,
		    const char *domain, store_sub_cb, void *arg);
	int	(*sub_put)(struct store *, const struct store_sub *s);
	int	(*rpres_put)(struct store *, const struct store_rpres *);
	int	(*rpres_del)(struct store *, const char *local,
		    const char *domain, const char *bare);
	int	(*rpres_strangers)(struct store *, const char *local,
		    const char *domain, size_t keep);
	int	(*rpres_list)(struct store *, const char *local,
		    const char *domain, store_rpres_cb, void *arg);
	int	(*rpres_get)(struct store *, int64_t user_id, const char *jid,
		    store_rpres_cb, void *arg);

	/* Inbox. */
	int	(*inbox_put)(struct store *, const struct store_inbox *m,
		    int64_t *idp);
	/* NULL: inbox_put() then refused() at once (store.c) */
	int	(*inbox_put_later)(struct store *, const struct store_inbox *m,
		    store_refused_cb, void *);
	int	(*inbox_list)(struct store *, const char *local,
		    const char *domain, int64_t after, int flags, size_t limit,
		    store_inbox_cb, void *arg);
	int	(*inbox_consume)(struct store *, int64_t id);
	int	(*receipts_due)(struct store *, size_t limit, store_inbox_cb,
		    void *arg);
	int	(*receipt_sent)(struct store *, int64_t id);
	int	(*inbox_last)(struct store *, int64_t *idp);
	int	(*inbox_get)(struct store *, int64_t id, store_inbox_cb,
		    void *arg);
	int	(*inbox_ack)(struct store *, const char *local,
		    const char *domain, int64_t upto, int64_t *np);
	int	(*inbox_unconsumed)(struct store *, const char *local,
		    const char *domain, int64_t *np);
	int	(*inbox_prune)(struct store *, int64_t before, int limit,
		    int64_t *np);
	int	(*inbox_unconsumed_all)(struct store *, int64_t *np);

	/* Outbox. */
	int	(*outbox_add)(struct store *, const struct store_outbox *m,
		    int64_t *idp);
	int	(*outbox_get)(struct store *, int64_t id, store_outbox_cb,
		    void *arg);
	int	(*outbox_list)(struct store *, const char *local,
		    const char *domain, size_t limit, store_outbox_cb,
		    void *arg);
	int	(*outbox_due)(struct store *, int64_t now, size_t limit,
		    store_outbox_cb, void *arg);
	int	(*outbox_sent)(struct store *, int64_t id);
	int	(*outbox_delivered)(struct store *, int64_t id);
	/* NULL: outbox_sent() or _delivered(), refused() at once */
	int	(*outbox_mark_later)(struct store *, int64_t id, int delivered,
		    store_refused_cb, void *);
	int	(*outbox_retry)(struct store *, int64_t id,
		    int64_t next_attempt, const char *stage, const char *error);
	int	(*outbox_failed)(struct store *, int64_t id, const char *stage,
		    const char *error, const char *error_xml);
	int	(*outbox_earlier)(struct store *, const char *local,
		    const char *domain, const char *bare, int64_t id, int *yes);
	int	(*outbox_queued)(struct store *, store_queued_cb, void *arg);
	int	(*outbox_prune)(struct store *, int64_t before, int limit,
		    int64_t *np);
	int	(*outbox_counts)(struct store *, store_count_cb, void *arg);
	int	(*outbox_oldest)(struct store *, int64_t *createdp);

	/* Directed presence and departed users. */
	int	(*directed_add)(struct store *, const char *local,
		    const char *domain, const char *jid);
	int	(*directed_list)(struct store *, const char *local,
		    const char *domain, int (*cb)(void *, const char *),
		    void *arg);
	int	(*directed_del)(struct store *, const char *local,
		    const char *domain, const char *jid);
	int	(*departed_list)(struct store *, int64_t after, size_t limit,
		    int (*cb)(void *, const struct store_departed *), void *arg);
	int	(*departed_owe)(struct store *, const char *local,
		    const char *domain, const char *jid, int64_t *idp);
	int	(*departed_del)(struct store *, int64_t id);

	/* Domain rules and blocks. */
	int	(*domain_rule_set)(struct store *, const char *domain,
		    enum store_rule);
	int	(*domain_rule_del)(struct store *, const char *domain);
	int	(*domain_rule_list)(struct store *, store_domain_rule_cb,
		    void *);
	int	(*block_add)(struct store *, const char *local,
		    const char *domain, const char *jid);
	int	(*block_del)(struct store *, const char *local,
		    const char *domain, const char *jid);
	int	(*block_list)(struct store *, const char *local,
		    const char *domain, store_block_cb, void *);

	/* Outside changes. */
	int	(*changes_poll)(struct store *, store_change_cb, void *arg);
	int	(*changed)(struct store *);
	int	(*watch_fd)(struct store *);
	int	(*changes_prune)(struct store *, int64_t before, int limit,
		    int64_t *np);

	/* The HTTP API: tokens, events, webhooks. */
	int	(*token_add)(struct store *, const char *name, const char *hash,
		    enum store_scope, int64_t *idp);
	int	(*token_find)(struct store *, const char *hash, store_token_cb,
		    void *arg);
	int	(*token_list)(struct store *, store_token_cb, void *arg);
	int	(*token_revoke)(struct store *, const char *name);
	int	(*token_used)(struct store *, int64_t id, int64_t when);
	int	(*event_list)(struct store *, int64_t after, size_t limit,
		    store_event_cb, void *arg);
	int	(*event_last)(struct store *, int64_t *idp);
	int	(*event_first)(struct store *, int64_t *idp);
	int	(*event_count)(struct store *, int64_t after, int64_t *np);
	int	(*event_prune)(struct store *, int64_t upto, int64_t before);
	int	(*events_journal)(struct store *, int on);	/* -1: ask */
	int	(*webhook_open)(struct store *, const char *url, int64_t start,
		    store_webhook_cb, void *arg);
	int	(*webhook_list)(struct store *, store_webhook_cb, void *arg);
	int	(*webhook_add)(struct store *, const char *url, const char *secret,
		    int64_t start, int64_t *idp);
	int	(*webhook_delete)(struct store *, int64_t id);
	int	(*webhook_forget)(struct store *, int64_t id);
	int	(*webhook_done)(struct store *, int64_t id, int64_t cursor,
		    int64_t n, int status);
	int	(*webhook_fail)(struct store *, int64_t id, int status,
		    const char *error, int64_t next_attempt);
};

/*
 * The backend-neutral head of a connection: the first member of each
 * backend's connection struct. A backend sets ops and location at open
 * and keeps txn, errcode/err and stats current; store.c reads them for
 * store_errstr(), store_errcode(), store_pending(), store_counts() and
 * store_stats(), and calls batch_cb.
 */
struct store {
	const struct store_ops	*ops;
	char			*location;	/* the store setting, for
						 * messages (no password) */
	int			 flags;		/* STORE_OPEN_* given */
	enum store_txn		 txn;
	void			(*batch_cb)(void *);
	void			*batch_arg;
	enum store_err		 errcode;
	char			 err[512];	/* store_errstr() */
	struct store_stats	 stats;		/* writes, failures, commits */
};

/*
 * The backends' open functions, with store_open()'s contract. Without
 * libpq (HAVE_LIBPQ undefined) store.c provides a store_pg_open() that
 * fails saying so.
 */
struct store	*store_sqlite_open(const char *path, int flags,
		    const char **errstr);
int		 store_sqlite_path_check(const char *path, int flags,
		    const char **errstr);
struct store	*store_pg_open(const char *uri, int flags,
		    const char **errstr);
/* 1 when the store setting s names a PostgreSQL database. */
int		 store_is_pg(const char *s);

/* Shared helpers (store.c). */

/* Clears the error. */
void		 store_ok(struct store *);
/* Sets the error and returns -1. */
int		 store_fail(struct store *, enum store_err, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));
int		 store_vfail(struct store *, enum store_err, const char *fmt,
		    va_list)
		    __attribute__((format(printf, 3, 0)));
int64_t		 store_now(void);
/*
 * 1 when the JID written (as a native system wrote it, any case, any
 * resource) is bare once prepared (RFC 7622: Unicode case mapping, width
 * mapping, NFC), else 0. For what SQL's lower() cannot fold (non-ASCII).
 */
int		 store_jid_same_bare(const char *written, const char *bare);
/*
 * Before a write of a backend that batches: counts it, and when no
 * transaction is open, calls begin(st) to open a batch (0 or -1), then
 * the batch callback.
 */
int		 store_batch_write(struct store *,
		    int (*begin)(struct store *));

#endif
