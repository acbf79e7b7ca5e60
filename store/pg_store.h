/*
 * store/pg_store.h: the PostgreSQL backend (store/pg*.c). Each pg_NAME
 * does what store_NAME of store.h does, with the same signature, on a
 * store that store_pg_open() returned.
 */
#ifndef STORE_PG_STORE_H
#define STORE_PG_STORE_H

#include "backend.h"
#include "store.h"

/* store_pg_open() (backend.h) connects to a libpq connection URI,
 * creates or migrates the schema and returns a store using pg_ops. */
extern const struct store_ops pg_ops;

void pg_close(struct store *);
int pg_version(struct store *);
int pg_checkpoint_start(struct store *);
void pg_checkpoint_stop(struct store *);
int pg_begin(struct store *);
int pg_commit(struct store *);
int pg_rollback(struct store *);
int pg_flush(struct store *);
void pg_busy_timeout(struct store *, int wait);
int pg_user_add(struct store *, const char *local, const char *domain, const
    char *name, int64_t *idp);
int pg_user_del(struct store *, const char *local, const char *domain);
int pg_user_get(struct store *, const char *local, const char *domain,
    store_user_cb cb, void *arg);
int pg_user_get_id(struct store *, int64_t id, store_user_cb cb, void *arg);
int pg_user_find(struct store *, const char *local, const char *domain,
    int64_t *idp);
int pg_user_list(struct store *, const char *domain, store_user_cb, void
    *arg);
int pg_user_update(struct store *, const struct store_user *u);
int pg_presence_set(struct store *, const char *local, const char *domain,
    enum store_show, const char *status, int priority);
int pg_presence_get(struct store *, const char *local, const char *domain,
    struct store_presence *p);
int pg_sub_get(struct store *, const char *local, const char *domain, const
    char *jid, store_sub_cb, void *arg);
int pg_sub_list(struct store *, const char *local, const char *domain,
    store_sub_cb, void *arg);
int pg_sub_put(struct store *, const struct store_sub *s);
int pg_rpres_put(struct store *, const struct store_rpres *);
int pg_rpres_del(struct store *, const char *local, const char *domain,
    const char *bare);
int pg_rpres_strangers(struct store *, const char *local,
    const char *domain, size_t keep);
int pg_rpres_list(struct store *, const char *local, const char *domain,
    store_rpres_cb, void *arg);
int pg_inbox_put(struct store *, const struct store_inbox *m, int64_t *idp);
int pg_inbox_put_later(struct store *, const struct store_inbox *m,
    store_refused_cb, void *);
int pg_outbox_mark_later(struct store *, int64_t id, int delivered,
    store_refused_cb, void *);
int pg_inbox_list(struct store *, const char *local, const char *domain,
    int64_t after, int flags, size_t limit, store_inbox_cb, void *arg);
int pg_inbox_consume(struct store *, int64_t id);
int pg_receipts_due(struct store *, size_t limit, store_inbox_cb, void
    *arg);
int pg_receipt_sent(struct store *, int64_t id);
int pg_inbox_last(struct store *, int64_t *idp);
int pg_outbox_add(struct store *, const struct store_outbox *m, int64_t
    *idp);
int pg_outbox_get(struct store *, int64_t id, store_outbox_cb, void *arg);
int pg_outbox_list(struct store *, const char *local, const char *domain,
    size_t limit, store_outbox_cb, void *arg);
int pg_outbox_due(struct store *, int64_t now, size_t limit,
    store_outbox_cb, void *arg);
int pg_outbox_sent(struct store *, int64_t id);
int pg_outbox_delivered(struct store *, int64_t id);
int pg_outbox_retry(struct store *, int64_t id, int64_t next_attempt, const
    char *stage, const char *error);
int pg_outbox_failed(struct store *, int64_t id, const char *stage, const
    char *error, const char *error_xml);
int pg_outbox_earlier(struct store *, const char *local,
    const char *domain, const char *bare, int64_t id, int *yes);
int pg_outbox_queued(struct store *, store_queued_cb, void *arg);
int pg_directed_add(struct store *, const char *local, const char *domain,
    const char *jid);
int pg_directed_list(struct store *, const char *local, const char *domain,
    int (*cb)(void *, const char *), void *arg);
int pg_directed_del(struct store *, const char *local, const char *domain,
    const char *jid);
int pg_departed_list(struct store *, int64_t after, size_t limit,
    int (*cb)(void *, const struct store_departed *), void *arg);
int pg_departed_owe(struct store *, const char *local,
    const char *domain, const char *jid, int64_t *idp);
int pg_departed_del(struct store *, int64_t id);
int pg_domain_rule_set(struct store *, const char *domain, enum store_rule);
int pg_domain_rule_del(struct store *, const char *domain);
int pg_domain_rule_list(struct store *, store_domain_rule_cb, void *);
int pg_block_add(struct store *, const char *local, const char *domain,
    const char *jid);
int pg_block_del(struct store *, const char *local, const char *domain,
    const char *jid);
int pg_block_list(struct store *, const char *local, const char *domain,
    store_block_cb, void *);
int pg_inbox_unconsumed(struct store *, const char *local, const char
    *domain, int64_t *np);
int pg_inbox_prune(struct store *, int64_t before, int limit, int64_t *np);
int pg_outbox_prune(struct store *, int64_t before, int limit, int64_t *np);
int pg_state_get(struct store *, const char *key, char **valuep);
int pg_state_set(struct store *, const char *key, const char *value);
int pg_state_init(struct store *, const char *key, const char *value,
    char **valuep);
int pg_instance_beat(struct store *, const char *name, int64_t started);
int pg_instance_del(struct store *, const char *name);
int pg_instance_list(struct store *, store_instance_cb, void *arg);
int pg_lease_claim(struct store *, const char *holder, int ttl, int64_t *np);
int pg_lease_take(struct store *, const char *holder, const char *local,
    const char *remote, int ttl, int *heldp);
int pg_lease_renew(struct store *, const char *holder, int ttl, int64_t *np);
int pg_lease_release(struct store *, const char *holder);
int pg_lease_list(struct store *, const char *holder, store_lease_cb,
    void *arg);
int pg_outbox_due_held(struct store *, const char *holder, int64_t now,
    size_t limit, store_outbox_cb, void *arg);
int pg_changes_poll(struct store *, store_change_cb, void *arg);
int pg_changed(struct store *);
int pg_watch_fd(struct store *);
int pg_changes_prune(struct store *, int64_t before, int limit, int64_t
    *np);
int pg_token_add(struct store *, const char *name, const char *hash, enum
    store_scope, int64_t *idp);
int pg_token_find(struct store *, const char *hash, store_token_cb, void
    *arg);
int pg_token_list(struct store *, store_token_cb, void *arg);
int pg_token_revoke(struct store *, const char *name);
int pg_token_used(struct store *, int64_t id, int64_t when);
int pg_event_list(struct store *, int64_t after, size_t limit,
    store_event_cb, void *arg);
int pg_event_last(struct store *, int64_t *idp);
int pg_event_first(struct store *, int64_t *idp);
int pg_event_count(struct store *, int64_t after, int64_t *np);
int pg_event_prune(struct store *, int64_t upto, int64_t before);
int pg_webhook_open(struct store *, const char *url, int64_t start,
    store_webhook_cb, void *arg);
int pg_webhook_list(struct store *, store_webhook_cb, void *arg);
int pg_webhook_add(struct store *, const char *url,
    const char *secret, int64_t start, int64_t *idp);
int pg_webhook_delete(struct store *, int64_t id);
int pg_webhook_forget(struct store *, int64_t id);
int pg_events_journal(struct store *, int on);
int pg_webhook_done(struct store *, int64_t id, int64_t cursor, int64_t n,
    int status);
int pg_webhook_fail(struct store *, int64_t id, int status, const char
    *error, int64_t next_attempt);
int pg_inbox_get(struct store *, int64_t id, store_inbox_cb, void *arg);
int pg_inbox_ack(struct store *, const char *local, const char *domain,
    int64_t upto, int64_t *np);
int pg_rpres_get(struct store *, int64_t user_id, const char *jid,
    store_rpres_cb, void *arg);
int pg_outbox_counts(struct store *, store_count_cb, void *arg);
int pg_outbox_oldest(struct store *, int64_t *createdp);
int pg_inbox_unconsumed_all(struct store *, int64_t *np);

#endif
