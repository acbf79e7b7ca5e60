/*
 * store/sqlite_int.h: what the SQLite backend's files share and nobody
 * else sees: struct sqlite_store, its operations (sqlite_ops), the
 * statement cache, the write-transaction helpers and error reporting.
 * The helpers are defined in sqlite.c.
 */
#ifndef STORE_SQLITE_INT_H
#define STORE_SQLITE_INT_H

#include <sqlite3.h>

#include "backend.h"
#include "store.h"

/* One slot per statement; each is prepared on first use and reused. */
enum sqlite_q {
	Q_BEGIN,
	Q_COMMIT,
	Q_ROLLBACK,
	Q_USER_ADD,
	Q_USER_DEL,
	Q_USER_GET,
	Q_USER_GET_ID,
	Q_USER_FIND,
	Q_USER_LIST,
	Q_USER_LIST_DOMAIN,
	Q_USER_UPDATE,
	Q_PRES_SET,
	Q_PRES_GET,
	Q_SUB_GET,
	Q_SUB_LIST,
	Q_SUB_PUT,
	Q_SUB_DROP,
	Q_RPRES_PUT,
	Q_RPRES_DEL,
	Q_RPRES_DEL_ALL,
	Q_RPRES_LIST,
	Q_INBOX_PUT,
	Q_INBOX_LIST,
	Q_INBOX_LIST_USER,
	Q_INBOX_CONSUME,
	Q_INBOX_LAST,
	Q_RECEIPTS_DUE,
	Q_RECEIPT_SENT,
	Q_OUTBOX_ADD,
	Q_OUTBOX_GET,
	Q_OUTBOX_LIST,
	Q_OUTBOX_LIST_USER,
	Q_OUTBOX_DUE,
	Q_OUTBOX_SENT,
	Q_OUTBOX_DELIVERED,
	Q_OUTBOX_RETRY,
	Q_OUTBOX_FAILED,
	Q_OUTBOX_QUEUED,
	Q_DIRECTED_ADD,
	Q_DIRECTED_LIST,
	Q_DIRECTED_DEL,
	Q_DIRECTED_DEL_ALL,
	Q_DEPARTED_LIST,
	Q_DEPARTED_DEL,
	Q_DEPARTED_ADD,
	Q_RPRES_STRANGERS,
	Q_RPRES_STRANGERS_ALL,
	Q_OUTBOX_EARLIER,
	Q_OUTBOX_EARLIER_U,
	Q_STATE_GET,
	Q_STATE_SET,
	Q_DATA_VERSION,
	Q_CHANGES_MAX,
	Q_CHANGES_AFTER,
	Q_CHANGES_PRUNE,
	Q_TOKEN_ADD,
	Q_TOKEN_FIND,
	Q_TOKEN_LIST,
	Q_TOKEN_REVOKE,
	Q_TOKEN_USED,
	Q_EVENT_LIST,
	Q_EVENT_LAST,
	Q_EVENT_FIRST,
	Q_EVENT_COUNT,
	Q_EVENT_PRUNE,
	Q_WEBHOOK_ENSURE,
	Q_WEBHOOK_GET,
	Q_WEBHOOK_LIST,
	Q_WEBHOOK_DONE,
	Q_WEBHOOK_FAIL,
	Q_WEBHOOK_ADD,
	Q_WEBHOOK_DEL,
	Q_INBOX_GET,
	Q_INBOX_ACK,
	Q_RPRES_GET,
	Q_OUTBOX_COUNTS,
	Q_OUTBOX_OLDEST,
	Q_INBOX_UNCONSUMED_ALL,
	Q_RULE_SET,
	Q_RULE_DEL,
	Q_RULE_LIST,
	Q_BLOCK_ADD,
	Q_BLOCK_DEL,
	Q_BLOCK_LIST,
	Q_BLOCK_LIST_USER,
	Q_INBOX_UNCONSUMED,
	Q_INBOX_PRUNE,
	Q_OUTBOX_PRUNE,
	Q_STATE_INIT,
	Q_INSTANCE_BEAT,
	Q_INSTANCE_DEL,
	Q_INSTANCE_LIST,
	Q_LEASE_WANTED,
	Q_LEASE_CLAIM,
	Q_LEASE_TAKE,
	Q_LEASE_RENEW,
	Q_LEASE_RELEASE,
	Q_LEASE_LIST,
	Q_COUNT
};

#define STORE_BUSY_TIMEOUT_MS	5000

struct store_ckpt;
struct sqlite_watch;

/* A SQLite connection: the shared head first (backend.h). */
struct sqlite_store {
	struct store	 base;
	sqlite3		*db;
	sqlite3_stmt	*q[Q_COUNT];
	int64_t		 data_version;	/* last PRAGMA data_version seen */
	int64_t		 last_seq;	/* last journal row reported */
	char		*scratch;	/* a string lent until the next call */
	struct store_ckpt *ckpt;	/* sqlite_ckpt.c, the daemon's only */
	int		 lockfd;	/* STORE_OPEN_LOCK: sqlite_lock.c; -1 */
	struct sqlite_watch *watch;	/* sqlite_watch_fd()'s; NULL */
	int		 watch_failed;	/* it could not be made: -1 */
};

static inline struct sqlite_store *
sqlite_st(struct store *st)
{
	return (struct sqlite_store *)st;
}

static inline sqlite3 *
sqlite_db(struct store *st)
{
	return sqlite_st(st)->db;
}

extern const struct store_ops sqlite_ops;

/* The operations (backend.h), each in the file of its tables. */
void	sqlite_close(struct store *);
int	sqlite_version(struct store *);
int	sqlite_checkpoint_start(struct store *);
void	sqlite_checkpoint_stop(struct store *);
int	sqlite_begin(struct store *);
int	sqlite_commit(struct store *);
int	sqlite_rollback(struct store *);
int	sqlite_flush(struct store *);
void	sqlite_busy_timeout(struct store *, int wait);
int	sqlite_state_get(struct store *, const char *key, char **valuep);
int	sqlite_state_set(struct store *, const char *key, const char *value);
int	sqlite_user_add(struct store *, const char *local, const char *domain,
	    const char *name, int64_t *idp);
int	sqlite_user_del(struct store *, const char *local, const char *domain);
int	sqlite_user_get(struct store *, const char *local, const char *domain,
	    store_user_cb cb, void *arg);
int	sqlite_user_get_id(struct store *, int64_t id, store_user_cb cb,
	    void *arg);
int	sqlite_user_find(struct store *, const char *local, const char *domain,
	    int64_t *idp);
int	sqlite_user_list(struct store *, const char *domain, store_user_cb,
	    void *arg);
int	sqlite_user_update(struct store *, const struct store_user *u);
int	sqlite_presence_set(struct store *, const char *local,
	    const char *domain, enum store_show, const char *status,
	    int priority);
int	sqlite_presence_get(struct store *, const char *local,
	    const char *domain, struct store_presence *p);
int	sqlite_sub_get(struct store *, const char *local, const char *domain,
	    const char *jid, store_sub_cb, void *arg);
int	sqlite_sub_list(struct store *, const char *local, const char *domain,
	    store_sub_cb, void *arg);
int	sqlite_sub_put(struct store *, const struct store_sub *s);
int	sqlite_rpres_put(struct store *, const struct store_rpres *);
int	sqlite_rpres_del(struct store *, const char *local, const char *domain,
	    const char *bare);
int	sqlite_rpres_strangers(struct store *, const char *local,
	    const char *domain, size_t keep);
int	sqlite_rpres_list(struct store *, const char *local, const char *domain,
	    store_rpres_cb, void *arg);
int	sqlite_rpres_get(struct store *, int64_t user_id, const char *jid,
	    store_rpres_cb, void *arg);
int	sqlite_inbox_put(struct store *, const struct store_inbox *m,
	    int64_t *idp);
int	sqlite_inbox_list(struct store *, const char *local, const char *domain,
	    int64_t after, int flags, size_t limit, store_inbox_cb, void *arg);
int	sqlite_inbox_consume(struct store *, int64_t id);
int	sqlite_receipts_due(struct store *, size_t limit, store_inbox_cb,
	    void *arg);
int	sqlite_receipt_sent(struct store *, int64_t id);
int	sqlite_inbox_last(struct store *, int64_t *idp);
int	sqlite_inbox_get(struct store *, int64_t id, store_inbox_cb, void *arg);
int	sqlite_inbox_ack(struct store *, const char *local, const char *domain,
	    int64_t upto, int64_t *np);
int	sqlite_inbox_unconsumed(struct store *, const char *local,
	    const char *domain, int64_t *np);
int	sqlite_inbox_prune(struct store *, int64_t before, int limit,
	    int64_t *np);
int	sqlite_inbox_unconsumed_all(struct store *, int64_t *np);
int	sqlite_outbox_add(struct store *, const struct store_outbox *m,
	    int64_t *idp);
int	sqlite_outbox_get(struct store *, int64_t id, store_outbox_cb,
	    void *arg);
int	sqlite_outbox_list(struct store *, const char *local,
	    const char *domain, size_t limit, store_outbox_cb, void *arg);
int	sqlite_outbox_due(struct store *, int64_t now, size_t limit,
	    store_outbox_cb, void *arg);
int	sqlite_outbox_sent(struct store *, int64_t id);
int	sqlite_outbox_delivered(struct store *, int64_t id);
int	sqlite_outbox_retry(struct store *, int64_t id, int64_t next_attempt,
	    const char *stage, const char *error);
int	sqlite_outbox_failed(struct store *, int64_t id, const char *stage,
	    const char *error, const char *error_xml);
int	sqlite_outbox_earlier(struct store *, const char *local,
	    const char *domain, const char *bare, int64_t id, int *yes);
int	sqlite_outbox_queued(struct store *, store_queued_cb, void *arg);
int	sqlite_outbox_prune(struct store *, int64_t before, int limit,
	    int64_t *np);
int	sqlite_outbox_counts(struct store *, store_count_cb, void *arg);
int	sqlite_outbox_oldest(struct store *, int64_t *createdp);
int	sqlite_directed_add(struct store *, const char *local,
	    const char *domain, const char *jid);
int	sqlite_directed_list(struct store *, const char *local,
	    const char *domain, int (*cb)(void *, const char *), void *arg);
int	sqlite_directed_del(struct store *, const char *local,
	    const char *domain, const char *jid);
int	sqlite_departed_list(struct store *, int64_t after, size_t limit,
	    int (*cb)(void *, const struct store_departed *), void *arg);
int	sqlite_departed_owe(struct store *, const char *local,
	    const char *domain, const char *jid, int64_t *idp);
int	sqlite_departed_del(struct store *, int64_t id);
int	sqlite_domain_rule_set(struct store *, const char *domain,
	    enum store_rule);
int	sqlite_domain_rule_del(struct store *, const char *domain);
int	sqlite_domain_rule_list(struct store *, store_domain_rule_cb, void *);
int	sqlite_block_add(struct store *, const char *local, const char *domain,
	    const char *jid);
int	sqlite_block_del(struct store *, const char *local, const char *domain,
	    const char *jid);
int	sqlite_block_list(struct store *, const char *local, const char *domain,
	    store_block_cb, void *);
int	sqlite_changes_poll(struct store *, store_change_cb, void *arg);
int	sqlite_changed(struct store *);
int	sqlite_watch_fd(struct store *);
int	sqlite_changes_prune(struct store *, int64_t before, int limit,
	    int64_t *np);
int	sqlite_token_add(struct store *, const char *name, const char *hash,
	    enum store_scope, int64_t *idp);
int	sqlite_token_find(struct store *, const char *hash, store_token_cb,
	    void *arg);
int	sqlite_token_list(struct store *, store_token_cb, void *arg);
int	sqlite_token_revoke(struct store *, const char *name);
int	sqlite_token_used(struct store *, int64_t id, int64_t when);
int	sqlite_event_list(struct store *, int64_t after, size_t limit,
	    store_event_cb, void *arg);
int	sqlite_event_last(struct store *, int64_t *idp);
int	sqlite_event_first(struct store *, int64_t *idp);
int	sqlite_event_count(struct store *, int64_t after, int64_t *np);
int	sqlite_event_prune(struct store *, int64_t upto, int64_t before);
int	sqlite_events_journal(struct store *, int on);
int	sqlite_webhook_open(struct store *, const char *url, int64_t start,
	    store_webhook_cb, void *arg);
int	sqlite_webhook_list(struct store *, store_webhook_cb, void *arg);
int	sqlite_webhook_add(struct store *, const char *url,
	    const char *secret, int64_t start, int64_t *idp);
int	sqlite_webhook_delete(struct store *, int64_t id);
int	sqlite_webhook_forget(struct store *, int64_t id);
int	sqlite_webhook_done(struct store *, int64_t id, int64_t cursor,
	    int64_t n, int status);
int	sqlite_webhook_fail(struct store *, int64_t id, int status,
	    const char *error, int64_t next_attempt);

/* sqlite_lease.c: instances and leases (one daemon holds them all). */
int	sqlite_state_init(struct store *, const char *key, const char *value,
	    char **valuep);
int	sqlite_instance_beat(struct store *, const char *name, int64_t started);
int	sqlite_instance_del(struct store *, const char *name);
int	sqlite_instance_list(struct store *, store_instance_cb, void *arg);
int	sqlite_lease_claim(struct store *, const char *holder, int ttl,
	    int64_t *np);
int	sqlite_lease_take(struct store *, const char *holder,
	    const char *local, const char *remote, int ttl, int *heldp);
int	sqlite_lease_renew(struct store *, const char *holder, int ttl,
	    int64_t *np);
int	sqlite_lease_release(struct store *, const char *holder);
int	sqlite_lease_list(struct store *, const char *holder, store_lease_cb,
	    void *arg);
int	sqlite_outbox_due_held(struct store *, const char *holder, int64_t now,
	    size_t limit, store_outbox_cb, void *arg);

/* The statement for slot id, prepared from sql on first use; NULL (with
 * the error set) when it does not prepare. */
sqlite3_stmt	*sqlite_q(struct store *, enum sqlite_q id, const char *sql);
/* Before a write: opens a batch when no transaction is open. */
int		 sqlite_wbegin(struct store *);
/* Sets the error from the connection's last SQLite error, classifying
 * constraint failures; notices a transaction SQLite rolled back itself.
 * Returns -1. */
int		 sqlite_dberr(struct store *, const char *what);
/* Steps q to the end, calling row(q, arg) for each row until it returns
 * non-zero; resets q. Counts rows in *nrows when not NULL. */
int		 sqlite_rows(struct store *, sqlite3_stmt *q,
		    int (*row)(sqlite3_stmt *, void *), void *arg, int *nrows,
		    const char *what);
/* Steps q, which yields one row, and reads its first column into *vp;
 * resets q. */
int		 sqlite_value(struct store *, sqlite3_stmt *q, int64_t *vp,
		    const char *what);
/* Steps the write q to its end and resets it; sets the error and
 * returns -1 when it fails. */
int		 sqlite_wstep(struct store *, sqlite3_stmt *q,
		    const char *what);
/* The same, with the number of rows it changed in *np (when not NULL). */
int		 sqlite_wcount(struct store *, sqlite3_stmt *q, int64_t *np,
		    const char *what);
/* The same for a write that must change a row: when it changes none, it
 * fails with STORE_E_NOTFOUND and the message fmt. On success *idp, when
 * not NULL, is the id of the row inserted. */
int		 sqlite_wchange(struct store *, sqlite3_stmt *q, int64_t *idp,
		    const char *what, const char *fmt, ...)
		    __attribute__((format(printf, 5, 6)));
/* The id of the user bound as ?1 (localpart) and ?2 (domain). */
#define USER_WHERE	"(SELECT id FROM users WHERE domain = ?2 AND localpart = ?1)"

/* sqlite_notify.c: where the first sqlite_changes_poll() starts. */
int		 sqlite_notify_init(struct store *);
/* sqlite_notify.c: sqlite_watch_fd()'s descriptors go (at close). */
void		 sqlite_watch_free(struct store *);

/*
 * sqlite_access.c: before SQLite opens path. check: 0, or -1 with err
 * naming the owner, mode and fix when this user may not read or write the
 * file (or make -wal/-shm in its directory). create: makes a missing file
 * with the store's mode (flags: STORE_OPEN_GROUP_WRITE); 1 when it made
 * one. fix: sets that mode on the file, -wal and -shm where this user owns
 * them.
 */
int		 sqlite_access_check(const char *path, int flags, char *err,
		    size_t errsz);
int		 sqlite_access_create(const char *path, int flags, char *err,
		    size_t errsz);
void		 sqlite_access_fix(const char *path, int flags);
unsigned int	 sqlite_access_mode(int flags);

/*
 * sqlite_lock.c: the daemon's lock on path, an fd to close after
 * sqlite3_close(); -1 with err naming the file and the holder's PID when
 * another process has it.
 */
int		 sqlite_lock_take(const char *path, char *err, size_t errsz);

/* sqlite_schema.c */
/* The SQL of migration step i (version i -> i + 1), or NULL; for tests
 * that build a file of an older version. */
const char	*sqlite_schema_step(int i);
int		 sqlite_schema_open(struct store *, int flags, char *err,
		    size_t errsz);

#define STORE_COL_TEXT(q, i)	((const char *)sqlite3_column_text((q), (i)))

/* Binds the user a per-user statement names: ?1 the localpart, ?2 the
 * domain. */
static inline void
sqlite_bind_user(sqlite3_stmt *q, const char *local, const char *domain)
{
	sqlite3_bind_text(q, 1, local, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, domain, -1, SQLITE_STATIC);
}

#endif
