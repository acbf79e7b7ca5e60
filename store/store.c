/*
 * store/store.c: store_open() picks the backend by the form of the store
 * setting, and each store_X() of store.h that needs the database is
 * handed to that backend (backend.h says how to add one). What is the
 * same in every backend lives here too: the error of a connection, its
 * counters, the write batch's bookkeeping.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "backend.h"
#include "jid.h"
#include "store.h"

int
store_is_pg(const char *s)
{
	return strncmp(s, "postgresql://", 13) == 0 ||
	    strncmp(s, "postgres://", 11) == 0;
}

#ifndef HAVE_LIBPQ
static const char	 store_no_pg[] =
			    "xfed was built without PostgreSQL support";

struct store *
store_pg_open(const char *uri, int flags, const char **errstr)
{
	*errstr = store_no_pg;
	return NULL;
}
#endif

struct store *
store_open(const char *location, int flags, const char **errstr)
{
	if (store_is_pg(location))
		return store_pg_open(location, flags, errstr);
	return store_sqlite_open(location, flags, errstr);
}

/* A URI is checked when it is opened: there is no file to look at. */
int
store_path_check(const char *location, int flags, const char **errstr)
{
	if (store_is_pg(location)) {
#ifndef HAVE_LIBPQ
		*errstr = store_no_pg;
		return -1;
#else
		return 0;
#endif
	}
	return store_sqlite_path_check(location, flags, errstr);
}

int
store_missing(const char *location)
{
	return !store_is_pg(location) && access(location, F_OK) == -1 &&
	    errno == ENOENT;
}

int
store_jid_same_bare(const char *written, const char *bare)
{
	char		 out[JID_MAX + 1];
	const char	*err;
	size_t		 n;

	if (jid_prep(written, out, sizeof(out), &err) == -1)
		return 0;
	n = strcspn(out, "/");
	return strlen(bare) == n && strncmp(out, bare, n) == 0;
}

int64_t
store_now(void)
{
	return (int64_t)time(NULL);
}

void
store_ok(struct store *st)
{
	st->errcode = STORE_E_NONE;
	st->err[0] = '\0';
}

int
store_vfail(struct store *st, enum store_err code, const char *fmt,
    va_list ap)
{
	st->errcode = code;
	vsnprintf(st->err, sizeof(st->err), fmt, ap);
	return -1;
}

int
store_fail(struct store *st, enum store_err code, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	store_vfail(st, code, fmt, ap);
	va_end(ap);
	return -1;
}

int
store_batch_write(struct store *st, int (*begin)(struct store *))
{
	st->stats.writes++;
	if (st->txn != STORE_TXN_NONE)
		return 0;
	if (begin(st) == -1)
		return -1;
	st->txn = STORE_TXN_BATCH;
	if (st->batch_cb != NULL)
		st->batch_cb(st->batch_arg);
	return 0;
}

const char *
store_errstr(const struct store *st)
{
	return st->err[0] ? st->err : "no error";
}

enum store_err
store_errcode(const struct store *st)
{
	return st->errcode;
}

int
store_pending(const struct store *st)
{
	return st->txn == STORE_TXN_BATCH;
}

void
store_counts(const struct store *st, uint64_t *writes, uint64_t *dberrs)
{
	*writes = st->stats.writes;
	*dberrs = st->stats.failures;
}

void
store_stats(const struct store *st, struct store_stats *s)
{
	*s = st->stats;
}

void
store_set_batch_cb(struct store *st, void (*cb)(void *), void *arg)
{
	st->batch_cb = cb;
	st->batch_arg = arg;
}

/* The dispatchers, in backend.h's order. */

void
store_close(struct store *st)
{
	if (st != NULL)
		st->ops->close(st);
}

int
store_version(struct store *st)
{
	return st->ops->version(st);
}

int
store_checkpoint_start(struct store *st)
{
	return st->ops->checkpoint_start(st);
}

void
store_checkpoint_stop(struct store *st)
{
	st->ops->checkpoint_stop(st);
}

int
store_begin(struct store *st)
{
	return st->ops->begin(st);
}

int
store_commit(struct store *st)
{
	return st->ops->commit(st);
}

int
store_rollback(struct store *st)
{
	return st->ops->rollback(st);
}

int
store_flush(struct store *st)
{
	return st->ops->flush(st);
}

int
store_flush_async(struct store *st)
{
	if (st->ops->flush_async == NULL)
		return st->ops->flush(st);
	return st->ops->flush_async(st);
}

int
store_flush_poll(struct store *st, int wait)
{
	return st->ops->flush_poll == NULL ? 1 : st->ops->flush_poll(st, wait);
}

int
store_flush_fd(struct store *st)
{
	return st->ops->flush_fd == NULL ? -1 : st->ops->flush_fd(st);
}

void
store_busy_timeout(struct store *st, int wait)
{
	st->ops->busy_timeout(st, wait);
}

int
store_state_get(struct store *st, const char *key, char **valuep)
{
	return st->ops->state_get(st, key, valuep);
}

int
store_state_set(struct store *st, const char *key, const char *value)
{
	return st->ops->state_set(st, key, value);
}

int
store_user_add(struct store *st, const char *local, const char *domain,
    const char *name, int64_t *idp)
{
	return st->ops->user_add(st, local, domain, name, idp);
}

int
store_user_del(struct store *st, const char *local, const char *domain)
{
	return st->ops->user_del(st, local, domain);
}

int
store_user_get(struct store *st, const char *local, const char *domain,
    store_user_cb cb, void *arg)
{
	return st->ops->user_get(st, local, domain, cb, arg);
}

int
store_user_get_id(struct store *st, int64_t id, store_user_cb cb, void *arg)
{
	return st->ops->user_get_id(st, id, cb, arg);
}

int
store_user_find(struct store *st, const char *local, const char *domain,
    int64_t *idp)
{
	return st->ops->user_find(st, local, domain, idp);
}

int
store_user_list(struct store *st, const char *domain, store_user_cb cb,
    void *arg)
{
	return st->ops->user_list(st, domain, cb, arg);
}

int
store_user_update(struct store *st, const struct store_user *u)
{
	return st->ops->user_update(st, u);
}

int
store_presence_set(struct store *st, const char *local, const char *domain,
    enum store_show show, const char *status, int priority)
{
	return st->ops->presence_set(st, local, domain, show, status, priority);
}

int
store_presence_get(struct store *st, const char *local, const char *domain,
    struct store_presence *p)
{
	return st->ops->presence_get(st, local, domain, p);
}

int
store_sub_get(struct store *st, const char *local, const char *domain,
    const char *jid, store_sub_cb cb, void *arg)
{
	return st->ops->sub_get(st, local, domain, jid, cb, arg);
}

int
store_sub_list(struct store *st, const char *local, const char *domain,
    store_sub_cb cb, void *arg)
{
	return st->ops->sub_list(st, local, domain, cb, arg);
}

int
store_sub_put(struct store *st, const struct store_sub *s)
{
	return st->ops->sub_put(st, s);
}

int
store_rpres_put(struct store *st, const struct store_rpres *a1)
{
	return st->ops->rpres_put(st, a1);
}

int
store_rpres_del(struct store *st, const char *local, const char *domain,
    const char *bare)
{
	return st->ops->rpres_del(st, local, domain, bare);
}

int
store_rpres_list(struct store *st, const char *local, const char *domain,
    store_rpres_cb cb, void *arg)
{
	return st->ops->rpres_list(st, local, domain, cb, arg);
}

int
store_rpres_get(struct store *st, int64_t user_id, const char *jid,
    store_rpres_cb cb, void *arg)
{
	return st->ops->rpres_get(st, user_id, jid, cb, arg);
}

int
store_inbox_put(struct store *st, const struct store_inbox *m, int64_t *idp)
{
	return st->ops->inbox_put(st, m, idp);
}

/* A *_later() call a backend runs at once: a refusal is told now. */
static int
store_later_told(struct store *st, int rc, store_refused_cb refused,
    void *arg)
{
	if (rc == 0)
		return 0;
	if (st->errcode == STORE_E_DB)
		return -1;
	refused(arg, st->errcode, st->err);
	return 0;
}

int
store_inbox_put_later(struct store *st, const struct store_inbox *m,
    store_refused_cb refused, void *arg)
{
	if (st->ops->inbox_put_later != NULL)
		return st->ops->inbox_put_later(st, m, refused, arg);
	return store_later_told(st, st->ops->inbox_put(st, m, NULL), refused,
	    arg);
}

int
store_inbox_list(struct store *st, const char *local, const char *domain,
    int64_t after, int flags, size_t limit, store_inbox_cb cb, void *arg)
{
	return st->ops->inbox_list(st, local, domain, after, flags, limit, cb,
	    arg);
}

int
store_inbox_consume(struct store *st, int64_t id)
{
	return st->ops->inbox_consume(st, id);
}

int
store_receipts_due(struct store *st, size_t limit, store_inbox_cb cb, void *arg)
{
	return st->ops->receipts_due(st, limit, cb, arg);
}

int
store_receipt_sent(struct store *st, int64_t id)
{
	return st->ops->receipt_sent(st, id);
}

int
store_inbox_last(struct store *st, int64_t *idp)
{
	return st->ops->inbox_last(st, idp);
}

int
store_inbox_get(struct store *st, int64_t id, store_inbox_cb cb, void *arg)
{
	return st->ops->inbox_get(st, id, cb, arg);
}

int
store_inbox_ack(struct store *st, const char *local, const char *domain,
    int64_t upto, int64_t *np)
{
	return st->ops->inbox_ack(st, local, domain, upto, np);
}

int
store_inbox_unconsumed(struct store *st, const char *local, const char *domain,
    int64_t *np)
{
	return st->ops->inbox_unconsumed(st, local, domain, np);
}

int
store_inbox_prune(struct store *st, int64_t before, int limit, int64_t *np)
{
	return st->ops->inbox_prune(st, before, limit, np);
}

int
store_inbox_unconsumed_all(struct store *st, int64_t *np)
{
	return st->ops->inbox_unconsumed_all(st, np);
}

int
store_outbox_add(struct store *st, const struct store_outbox *m, int64_t *idp)
{
	return st->ops->outbox_add(st, m, idp);
}

int
store_outbox_get(struct store *st, int64_t id, store_outbox_cb cb, void *arg)
{
	return st->ops->outbox_get(st, id, cb, arg);
}

int
store_outbox_list(struct store *st, const char *local, const char *domain,
    size_t limit, store_outbox_cb cb, void *arg)
{
	return st->ops->outbox_list(st, local, domain, limit, cb, arg);
}

int
store_outbox_due(struct store *st, int64_t now, size_t limit,
    store_outbox_cb cb, void *arg)
{
	return st->ops->outbox_due(st, now, limit, cb, arg);
}

int
store_outbox_sent(struct store *st, int64_t id)
{
	return st->ops->outbox_sent(st, id);
}

int
store_outbox_delivered(struct store *st, int64_t id)
{
	return st->ops->outbox_delivered(st, id);
}

int
store_outbox_mark_later(struct store *st, int64_t id, int delivered,
    store_refused_cb refused, void *arg)
{
	int	 rc;

	if (st->ops->outbox_mark_later != NULL)
		return st->ops->outbox_mark_later(st, id, delivered, refused,
		    arg);
	rc = delivered ? st->ops->outbox_delivered(st, id) :
	    st->ops->outbox_sent(st, id);
	return store_later_told(st, rc, refused, arg);
}

int
store_outbox_retry(struct store *st, int64_t id, int64_t next_attempt,
    const char *stage, const char *error)
{
	return st->ops->outbox_retry(st, id, next_attempt, stage, error);
}

int
store_outbox_failed(struct store *st, int64_t id, const char *stage,
    const char *error, const char *error_xml)
{
	return st->ops->outbox_failed(st, id, stage, error, error_xml);
}

int
store_outbox_queued(struct store *st, store_queued_cb cb, void *arg)
{
	return st->ops->outbox_queued(st, cb, arg);
}

int
store_outbox_prune(struct store *st, int64_t before, int limit, int64_t *np)
{
	return st->ops->outbox_prune(st, before, limit, np);
}

int
store_outbox_counts(struct store *st, store_count_cb cb, void *arg)
{
	return st->ops->outbox_counts(st, cb, arg);
}

int
store_outbox_oldest(struct store *st, int64_t *createdp)
{
	return st->ops->outbox_oldest(st, createdp);
}

int
store_directed_add(struct store *st, const char *local, const char *domain,
    const char *jid)
{
	return st->ops->directed_add(st, local, domain, jid);
}

int
store_directed_list(struct store *st, const char *local, const char *domain,
    int (*cb)(void *, const char *), void *arg)
{
	return st->ops->directed_list(st, local, domain, cb, arg);
}

int
store_directed_del(struct store *st, const char *local, const char *domain,
    const char *jid)
{
	return st->ops->directed_del(st, local, domain, jid);
}

int
store_departed_list(struct store *st, int64_t after, size_t limit,
    int (*cb)(void *, const struct store_departed *), void *arg)
{
	return st->ops->departed_list(st, after, limit, cb, arg);
}

int
store_departed_del(struct store *st, int64_t id)
{
	return st->ops->departed_del(st, id);
}

int
store_domain_rule_set(struct store *st, const char *domain,
    enum store_rule action)
{
	return st->ops->domain_rule_set(st, domain, action);
}

int
store_domain_rule_del(struct store *st, const char *domain)
{
	return st->ops->domain_rule_del(st, domain);
}

int
store_domain_rule_list(struct store *st, store_domain_rule_cb cb, void *arg)
{
	return st->ops->domain_rule_list(st, cb, arg);
}

int
store_block_add(struct store *st, const char *local, const char *domain,
    const char *jid)
{
	return st->ops->block_add(st, local, domain, jid);
}

int
store_block_del(struct store *st, const char *local, const char *domain,
    const char *jid)
{
	return st->ops->block_del(st, local, domain, jid);
}

int
store_block_list(struct store *st, const char *local, const char *domain,
    store_block_cb cb, void *arg)
{
	return st->ops->block_list(st, local, domain, cb, arg);
}

int
store_changes_poll(struct store *st, store_change_cb cb, void *arg)
{
	return st->ops->changes_poll(st, cb, arg);
}

int
store_changed(struct store *st)
{
	return st->ops->changed(st);
}

int
store_watch_fd(struct store *st)
{
	return st->ops->watch_fd(st);
}

int
store_changes_prune(struct store *st, int64_t before, int limit, int64_t *np)
{
	return st->ops->changes_prune(st, before, limit, np);
}

int
store_token_add(struct store *st, const char *name, const char *hash,
    enum store_scope scope, int64_t *idp)
{
	return st->ops->token_add(st, name, hash, scope, idp);
}

int
store_token_find(struct store *st, const char *hash, store_token_cb cb,
    void *arg)
{
	return st->ops->token_find(st, hash, cb, arg);
}

int
store_token_list(struct store *st, store_token_cb cb, void *arg)
{
	return st->ops->token_list(st, cb, arg);
}

int
store_token_revoke(struct store *st, const char *name)
{
	return st->ops->token_revoke(st, name);
}

int
store_token_used(struct store *st, int64_t id, int64_t when)
{
	return st->ops->token_used(st, id, when);
}

int
store_event_list(struct store *st, int64_t after, size_t limit,
    store_event_cb cb, void *arg)
{
	return st->ops->event_list(st, after, limit, cb, arg);
}

int
store_event_last(struct store *st, int64_t *idp)
{
	return st->ops->event_last(st, idp);
}

int
store_event_count(struct store *st, int64_t after, int64_t *np)
{
	return st->ops->event_count(st, after, np);
}

int
store_event_prune(struct store *st, int64_t upto, int64_t before)
{
	return st->ops->event_prune(st, upto, before);
}

int
store_webhook_open(struct store *st, const char *url, int64_t start,
    store_webhook_cb cb, void *arg)
{
	return st->ops->webhook_open(st, url, start, cb, arg);
}

int
store_webhook_list(struct store *st, store_webhook_cb cb, void *arg)
{
	return st->ops->webhook_list(st, cb, arg);
}

struct store_webhook_find {
	const char	*url;
	int64_t		 id;
	int		 managed;
};

static int
store_webhook_find_cb(void *arg, const struct store_webhook *w)
{
	struct store_webhook_find	*f = arg;

	if (strcmp(w->url, f->url) == 0) {
		f->id = w->id;
		f->managed = w->managed;
	}
	return 0;
}

/* A URL with a row is told apart here, by whose it is, before the
 * backend's unique constraint would say it in its own words. */
int
store_webhook_add(struct store *st, const char *url, const char *secret,
    int64_t start, int64_t *idp)
{
	struct store_webhook_find	 f = { url, 0, 0 };

	if (st->ops->webhook_list(st, store_webhook_find_cb, &f) == -1)
		return -1;
	if (f.id != 0 && f.managed)
		return store_fail(st, STORE_E_EXISTS, "a webhook for %s "
		    "exists (id %lld)", url, (long long)f.id);
	if (f.id != 0)
		return store_fail(st, STORE_E_EXISTS, "a webhook for %s "
		    "exists (id %lld): it is a webhook line of xfed.conf",
		    url, (long long)f.id);
	return st->ops->webhook_add(st, url, secret, start, idp);
}

int
store_webhook_delete(struct store *st, int64_t id)
{
	return st->ops->webhook_delete(st, id);
}

int
store_webhook_forget(struct store *st, int64_t id)
{
	return st->ops->webhook_forget(st, id);
}

int
store_webhook_done(struct store *st, int64_t id, int64_t cursor, int64_t n,
    int status)
{
	return st->ops->webhook_done(st, id, cursor, n, status);
}

int
store_webhook_fail(struct store *st, int64_t id, int status, const char *error,
    int64_t next_attempt)
{
	return st->ops->webhook_fail(st, id, status, error, next_attempt);
}

int
store_rpres_strangers(struct store *st, const char *local, const char *domain,
    size_t keep)
{
	return st->ops->rpres_strangers(st, local, domain, keep);
}

int
store_outbox_earlier(struct store *st, const char *local, const char *domain,
    const char *bare, int64_t id, int *yes)
{
	return st->ops->outbox_earlier(st, local, domain, bare, id, yes);
}

int
store_departed_owe(struct store *st, const char *local, const char *domain,
    const char *jid, int64_t *idp)
{
	return st->ops->departed_owe(st, local, domain, jid, idp);
}

int
store_events_journal(struct store *st, int on)
{
	return st->ops->events_journal(st, on != 0);
}

int
store_events_journal_on(struct store *st)
{
	return st->ops->events_journal(st, -1);
}

int
store_event_first(struct store *st, int64_t *idp)
{
	return st->ops->event_first(st, idp);
}

int
store_state_init(struct store *st, const char *key, const char *value,
    char **valuep)
{
	return st->ops->state_init(st, key, value, valuep);
}

int
store_instance_beat(struct store *st, const char *name, int64_t started)
{
	return st->ops->instance_beat(st, name, started);
}

int
store_instance_del(struct store *st, const char *name)
{
	return st->ops->instance_del(st, name);
}

int
store_instance_list(struct store *st, store_instance_cb cb, void *arg)
{
	return st->ops->instance_list(st, cb, arg);
}

int
store_shared(const struct store *st)
{
	return st->ops->shared;
}

int
store_lease_claim(struct store *st, const char *holder, int ttl, int64_t *np)
{
	return st->ops->lease_claim(st, holder, ttl, np);
}

int
store_lease_take(struct store *st, const char *holder, const char *local,
    const char *remote, int ttl, int *heldp)
{
	return st->ops->lease_take(st, holder, local, remote, ttl, heldp);
}

int
store_lease_renew(struct store *st, const char *holder, int ttl, int64_t *np)
{
	return st->ops->lease_renew(st, holder, ttl, np);
}

int
store_lease_release(struct store *st, const char *holder)
{
	return st->ops->lease_release(st, holder);
}

int
store_lease_list(struct store *st, const char *holder, store_lease_cb cb,
    void *arg)
{
	return st->ops->lease_list(st, holder, cb, arg);
}

int
store_outbox_due_held(struct store *st, const char *holder, int64_t now,
    size_t limit, store_outbox_cb cb, void *arg)
{
	return st->ops->outbox_due_held(st, holder, now, limit, cb, arg);
}
