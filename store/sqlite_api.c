/*
 * store/sqlite_api.c: what the HTTP API keeps in the store, on SQLite:
 * bearer tokens (only their SHA-256), the events journal the triggers of
 * schema step 2 write, the webhooks' cursors, and the counts metrics
 * report. Hashing tokens and speaking HTTP are server/'s.
 */
#include <string.h>

#include <sqlite3.h>

#include "sqlite_int.h"
#include "store.h"

static const char *const store_scopes[] = { "read", "write", "admin" };

const char *
store_scope_name(enum store_scope s)
{
	return (unsigned)s < 3 ? store_scopes[s] : "?";
}

int
store_scope_parse(const char *s, enum store_scope *sp)
{
	int	 i;

	for (i = 0; s != NULL && i < 3; i++)
		if (strcmp(s, store_scopes[i]) == 0) {
			*sp = (enum store_scope)i;
			return 0;
		}
	return -1;
}

/* Tokens. */

int
sqlite_token_add(struct store *st, const char *name, const char *hash,
    enum store_scope scope, int64_t *idp)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_TOKEN_ADD,
	    "INSERT INTO api_tokens (name, hash, scope, created) "
	    "VALUES (?1, ?2, ?3, ?4)")) == NULL)
		return -1;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, store_scope_name(scope), -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, store_now());
	return sqlite_wchange(st, q, idp, "token add", "token not added");
}

struct store_token_ctx {
	store_token_cb	 cb;
	void		*arg;
};

static int
store_token_one(sqlite3_stmt *q, void *arg)
{
	struct store_token_ctx	*cx = arg;
	struct store_token	 t;

	memset(&t, 0, sizeof(t));
	t.id = sqlite3_column_int64(q, 0);
	t.name = STORE_COL_TEXT(q, 1);
	store_scope_parse(STORE_COL_TEXT(q, 2), &t.scope);
	t.created = sqlite3_column_int64(q, 3);
	t.last_used = sqlite3_column_int64(q, 4);
	return cx->cb(cx->arg, &t);
}

#define TOKEN_SELECT \
	"SELECT id, name, scope, created, last_used FROM api_tokens "

int
sqlite_token_find(struct store *st, const char *hash, store_token_cb cb,
    void *arg)
{
	struct store_token_ctx	 cx = { cb, arg };
	sqlite3_stmt		*q;
	int			 n;

	if ((q = sqlite_q(st, Q_TOKEN_FIND, TOKEN_SELECT
	    "WHERE hash = ?1")) == NULL)
		return -1;
	sqlite3_bind_text(q, 1, hash, -1, SQLITE_STATIC);
	if (sqlite_rows(st, q, store_token_one, &cx, &n, "token") == -1)
		return -1;
	if (n == 0)
		return store_fail(st, STORE_E_NOTFOUND, "no such token");
	return 0;
}

int
sqlite_token_list(struct store *st, store_token_cb cb, void *arg)
{
	struct store_token_ctx	 cx = { cb, arg };
	sqlite3_stmt		*q;

	if ((q = sqlite_q(st, Q_TOKEN_LIST, TOKEN_SELECT
	    "ORDER BY name")) == NULL)
		return -1;
	return sqlite_rows(st, q, store_token_one, &cx, NULL, "tokens");
}

int
sqlite_token_revoke(struct store *st, const char *name)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_TOKEN_REVOKE,
	    "DELETE FROM api_tokens WHERE name = ?1")) == NULL)
		return -1;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	return sqlite_wchange(st, q, NULL, "token revoke", "no token %s",
	    name);
}

int
sqlite_token_used(struct store *st, int64_t id, int64_t when)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_TOKEN_USED,
	    "UPDATE api_tokens SET last_used = ?2 WHERE id = ?1")) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, when);
	return sqlite_wstep(st, q, "token used");
}

/* Events. */

struct store_event_ctx {
	store_event_cb	 cb;
	void		*arg;
};

static int
store_event_one(sqlite3_stmt *q, void *arg)
{
	struct store_event_ctx	*cx = arg;
	struct store_event	 e;

	memset(&e, 0, sizeof(e));
	e.id = sqlite3_column_int64(q, 0);
	e.type = STORE_COL_TEXT(q, 1);
	e.user_id = sqlite3_column_int64(q, 2);
	e.user = STORE_COL_TEXT(q, 3);
	e.ref_id = sqlite3_column_int64(q, 4);
	e.jid = STORE_COL_TEXT(q, 5);
	e.state = STORE_COL_TEXT(q, 6);
	e.at = sqlite3_column_int64(q, 7);
	return cx->cb(cx->arg, &e);
}

int
sqlite_event_list(struct store *st, int64_t after, size_t limit,
    store_event_cb cb, void *arg)
{
	struct store_event_ctx	 cx = { cb, arg };
	sqlite3_stmt		*q;

	/* A deleted user's events keep the name the trigger wrote. */
	if ((q = sqlite_q(st, Q_EVENT_LIST, "SELECT e.id, e.type, e.user_id, "
	    "coalesce(e.user, u.localpart || '@' || u.domain), e.ref_id, "
	    "e.jid, e.state, e.at FROM events e LEFT JOIN users u "
	    "ON u.id = e.user_id WHERE e.id > ?1 ORDER BY e.id LIMIT ?2")) ==
	    NULL)
		return -1;
	sqlite3_bind_int64(q, 1, after);
	sqlite3_bind_int64(q, 2, limit ? (sqlite3_int64)limit : -1);
	return sqlite_rows(st, q, store_event_one, &cx, NULL, "events");
}

int
sqlite_event_last(struct store *st, int64_t *idp)
{
	sqlite3_stmt	*q;

	/* Pruning keeps the newest row: this is the high mark. */
	if ((q = sqlite_q(st, Q_EVENT_LAST,
	    "SELECT coalesce(max(id), 0) FROM events")) == NULL)
		return -1;
	return sqlite_value(st, q, idp, "events");
}

int
sqlite_event_first(struct store *st, int64_t *idp)
{
	sqlite3_stmt	*q;

	if ((q = sqlite_q(st, Q_EVENT_FIRST,
	    "SELECT coalesce(min(id), 0) FROM events")) == NULL)
		return -1;
	return sqlite_value(st, q, idp, "events");
}

int
sqlite_event_count(struct store *st, int64_t after, int64_t *np)
{
	sqlite3_stmt	*q;

	if ((q = sqlite_q(st, Q_EVENT_COUNT,
	    "SELECT count(*) FROM events WHERE id > ?1")) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, after);
	return sqlite_value(st, q, np, "events");
}

int
sqlite_event_prune(struct store *st, int64_t upto, int64_t before)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_EVENT_PRUNE,
	    "DELETE FROM events WHERE id <= ?1 AND at < ?2 "
	    "AND id < (SELECT max(id) FROM events)")) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, upto);
	sqlite3_bind_int64(q, 2, before);
	return sqlite_wstep(st, q, "events prune");
}

/* Webhooks. */

struct store_webhook_ctx {
	store_webhook_cb cb;
	void		*arg;
};

static int
store_webhook_one(sqlite3_stmt *q, void *arg)
{
	struct store_webhook_ctx	*cx = arg;
	struct store_webhook		 w;

	memset(&w, 0, sizeof(w));
	w.id = sqlite3_column_int64(q, 0);
	w.url = STORE_COL_TEXT(q, 1);
	w.cursor = sqlite3_column_int64(q, 2);
	w.delivered = sqlite3_column_int64(q, 3);
	w.failures = sqlite3_column_int(q, 4);
	w.last_status = sqlite3_column_int(q, 5);
	w.last_error = STORE_COL_TEXT(q, 6);
	w.last_attempt = sqlite3_column_int64(q, 7);
	w.next_attempt = sqlite3_column_int64(q, 8);
	w.secret = STORE_COL_TEXT(q, 9);
	w.managed = sqlite3_column_int(q, 10);
	return cx->cb(cx->arg, &w);
}

#define WEBHOOK_SELECT \
	"SELECT id, url, cursor, delivered, failures, last_status, " \
	"last_error, last_attempt, next_attempt, secret, managed " \
	"FROM webhooks "

int
sqlite_webhook_open(struct store *st, const char *url, int64_t start,
    store_webhook_cb cb, void *arg)
{
	struct store_webhook_ctx	 cx = { cb, arg };
	sqlite3_stmt			*q;
	int				 n;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_WEBHOOK_ENSURE,
	    "INSERT INTO webhooks (url, cursor) VALUES (?1, ?2) "
	    "ON CONFLICT (url) DO NOTHING")) == NULL)
		return -1;
	sqlite3_bind_text(q, 1, url, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, start);
	if (sqlite_wstep(st, q, "webhook") == -1 || (q = sqlite_q(st,
	    Q_WEBHOOK_GET, WEBHOOK_SELECT "WHERE url = ?1")) == NULL)
		return -1;
	sqlite3_bind_text(q, 1, url, -1, SQLITE_STATIC);
	if (sqlite_rows(st, q, store_webhook_one, &cx, &n, "webhook") == -1)
		return -1;
	if (n == 0)
		return store_fail(st, STORE_E_NOTFOUND, "no webhook %s", url);
	return 0;
}

int
sqlite_webhook_list(struct store *st, store_webhook_cb cb, void *arg)
{
	struct store_webhook_ctx	 cx = { cb, arg };
	sqlite3_stmt			*q;

	if ((q = sqlite_q(st, Q_WEBHOOK_LIST, WEBHOOK_SELECT
	    "ORDER BY id")) == NULL)
		return -1;
	return sqlite_rows(st, q, store_webhook_one, &cx, NULL, "webhooks");
}

int
sqlite_webhook_add(struct store *st, const char *url, const char *secret,
    int64_t start, int64_t *idp)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_WEBHOOK_ADD,
	    "INSERT INTO webhooks (url, cursor, secret, managed) "
	    "VALUES (?1, ?2, ?3, 1)")) == NULL)
		return -1;
	sqlite3_bind_text(q, 1, url, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, start);
	if (secret != NULL)
		sqlite3_bind_text(q, 3, secret, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, 3);
	return sqlite_wchange(st, q, idp, "webhook add", "webhook %s", url);
}

/* managed 1: the API's or xfedctl's; 0: an xfed.conf line's */
static int
sqlite_webhook_rm(struct store *st, int64_t id, int managed)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_WEBHOOK_DEL,
	    "DELETE FROM webhooks WHERE id = ?1 AND managed = ?2")) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int(q, 2, managed);
	return sqlite_wchange(st, q, NULL, "webhook delete", "no webhook %lld "
	    "%s", (long long)id, managed ? "made through the API or xfedctl" :
	    "of xfed.conf");
}

int
sqlite_webhook_delete(struct store *st, int64_t id)
{
	return sqlite_webhook_rm(st, id, 1);
}

int
sqlite_webhook_forget(struct store *st, int64_t id)
{
	return sqlite_webhook_rm(st, id, 0);
}

int
sqlite_webhook_done(struct store *st, int64_t id, int64_t cursor, int64_t n,
    int status)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_WEBHOOK_DONE,
	    "UPDATE webhooks SET cursor = max(cursor, ?2), "
	    "delivered = delivered + ?3, failures = 0, last_status = ?4, "
	    "last_error = NULL, last_attempt = ?5, next_attempt = 0 "
	    "WHERE id = ?1")) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, cursor);
	sqlite3_bind_int64(q, 3, n);
	sqlite3_bind_int(q, 4, status);
	sqlite3_bind_int64(q, 5, store_now());
	return sqlite_wchange(st, q, NULL, "webhook done", "no webhook %lld",
	    (long long)id);
}

int
sqlite_webhook_fail(struct store *st, int64_t id, int status,
    const char *error, int64_t next_attempt)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_WEBHOOK_FAIL,
	    "UPDATE webhooks SET failures = failures + 1, last_status = ?2, "
	    "last_error = ?3, last_attempt = ?4, next_attempt = ?5 "
	    "WHERE id = ?1")) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	if (status > 0)
		sqlite3_bind_int(q, 2, status);
	else
		sqlite3_bind_null(q, 2);
	sqlite3_bind_text(q, 3, error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, store_now());
	sqlite3_bind_int64(q, 5, next_attempt);
	return sqlite_wchange(st, q, NULL, "webhook fail", "no webhook %lld",
	    (long long)id);
}

/* Counts for metrics. */

struct store_count_ctx {
	store_count_cb	 cb;
	void		*arg;
};

static int
store_count_one(sqlite3_stmt *q, void *arg)
{
	struct store_count_ctx	*cx = arg;
	const char		*a = STORE_COL_TEXT(q, 0);
	const char		*b = STORE_COL_TEXT(q, 1);

	cx->cb(cx->arg, a ? a : "", b ? b : "", sqlite3_column_int64(q, 2));
	return 0;
}

int
sqlite_outbox_counts(struct store *st, store_count_cb cb, void *arg)
{
	struct store_count_ctx	 cx = { cb, arg };
	sqlite3_stmt		*q;

	if ((q = sqlite_q(st, Q_OUTBOX_COUNTS, "SELECT state, error_stage, "
	    "count(*) FROM outbox GROUP BY state, error_stage")) == NULL)
		return -1;
	return sqlite_rows(st, q, store_count_one, &cx, NULL, "outbox counts");
}

int
sqlite_outbox_oldest(struct store *st, int64_t *createdp)
{
	sqlite3_stmt	*q;

	if ((q = sqlite_q(st, Q_OUTBOX_OLDEST, "SELECT coalesce(min(created), "
	    "0) FROM outbox WHERE state = 'queued'")) == NULL)
		return -1;
	return sqlite_value(st, q, createdp, "outbox oldest");
}

int
sqlite_inbox_unconsumed_all(struct store *st, int64_t *np)
{
	sqlite3_stmt	*q;

	if ((q = sqlite_q(st, Q_INBOX_UNCONSUMED_ALL,
	    "SELECT count(*) FROM inbox WHERE consumed IS NULL")) == NULL)
		return -1;
	return sqlite_value(st, q, np, "inbox unconsumed");
}
