/*
 * store/pg_misc.c: on PostgreSQL, the change journal read on NOTIFY,
 * domain rules and per-user blocks, and what the HTTP API needs (tokens,
 * events, webhooks, metrics counts): sqlite_block.c, sqlite_api.c and
 * notify.c in PostgreSQL's dialect.
 *
 * Outside changes: the journal's trigger NOTIFYs xfed_changes when its
 * transaction commits; the connection LISTENs, so store_changed() reads
 * what libpq received on its socket (no query, no wait) and the journal
 * is read only after a notification, as SQLite reads it only after
 * PRAGMA data_version moved.
 */
#include "config.h"

#ifdef HAVE_LIBPQ

#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <libpq-fe.h>

#include "pg_int.h"
#include "pg_store.h"
#include "store.h"

void
pg_watch_sync(struct pg_store *ps)
{
	struct epoll_event	 ev;
	int			 sock = -1;

	if (ps->epfd == -1)
		return;
	if (PQstatus(ps->conn) == CONNECTION_OK)
		sock = PQsocket(ps->conn);
	if (sock == ps->watched)
		return;
	if (ps->watched != -1)
		epoll_ctl(ps->epfd, EPOLL_CTL_DEL, ps->watched, NULL);
	ps->watched = -1;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = sock;
	if (sock != -1 && epoll_ctl(ps->epfd, EPOLL_CTL_ADD, sock, &ev) == 0)
		ps->watched = sock;
}

/* Wakes the watcher: the eventfd's counter, read back by pg_changed(). */
static void
pg_wake(struct pg_store *ps)
{
	uint64_t	 one = 1;

	if (ps->wakefd != -1 && write(ps->wakefd, &one, sizeof(one)) == -1)
		return;		/* the counter is full: readable anyway */
}

void
pg_notices(struct pg_store *ps)
{
	PGnotify	*n;
	int		 self = PQbackendPID(ps->conn);

	/* this connection's own commits are not news (SQLite's
	 * data_version does not move for them either); its journal rows
	 * are reported with the next other writer's */
	while ((n = PQnotifies(ps->conn)) != NULL) {
		if (n->be_pid != self) {
			if (!ps->notified)
				pg_wake(ps);
			ps->notified = 1;
		}
		PQfreemem(n);
	}
}

int
pg_changed(struct store *st)
{
	struct pg_store	*ps = PG(st);
	uint64_t	 v;

	if (pg_connected(ps) == -1) {
		pg_watch_sync(ps);
		return -1;
	}
	if (PQconsumeInput(ps->conn) != 1) {
		ps->base.stats.failures++;
		pg_fail(ps, STORE_E_DB, "PostgreSQL: %s",
		    PQerrorMessage(ps->conn));
		pg_watch_sync(ps);	/* a dead socket stays readable */
		return -1;
	}
	pg_watch_sync(ps);
	pg_notices(ps);
	/* drained after: what comes later wakes the watcher again */
	if (ps->wakefd != -1 && read(ps->wakefd, &v, sizeof(v)) == -1)
		v = 0;		/* nothing to drain */
	if (!ps->notified)
		return 0;
	ps->notified = 0;
	return 1;
}

/*
 * What the daemon waits on: an epoll fd holding the connection's socket
 * (readable when a NOTIFY arrives) and an eventfd written when a query
 * read a NOTIFY first (libpq keeps it; the socket is then quiet). The fd
 * stays the same across reconnections; the socket in it changes.
 */
int
pg_watch_fd(struct store *st)
{
	struct pg_store		*ps = PG(st);
	struct epoll_event	 ev;

	if (ps->epfd == -1) {
		if ((ps->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
			return -1;
		if ((ps->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) ==
		    -1) {
			close(ps->epfd);
			ps->epfd = -1;
			return -1;
		}
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.fd = ps->wakefd;
		epoll_ctl(ps->epfd, EPOLL_CTL_ADD, ps->wakefd, &ev);
		if (ps->notified)
			pg_wake(ps);
	}
	pg_watch_sync(ps);
	return ps->epfd;
}

/* At open: later polls report what happens from now on. */
int
pg_notify_init(struct pg_store *ps)
{
	return pg_value(ps, PQ_CHANGES_MAX, "SELECT coalesce(max(seq), 0) "
	    "FROM changes", NULL, &ps->last_seq, "changes");
}

struct pg_change_ctx {
	struct pg_store	*ps;
	store_change_cb	 cb;
	void		*arg;
};

static int
pg_change_one(PGresult *r, int i, void *arg)
{
	static const char *const tables[] = {
		[STORE_T_USERS] = "users", [STORE_T_PRESENCE] = "presence",
		[STORE_T_OUTBOX] = "outbox",
		[STORE_T_DOMAIN_RULES] = "domain_rules",
		[STORE_T_BLOCKS] = "blocks",
	};
	struct pg_change_ctx	*cx = arg;
	struct store_change	 c;
	const char		*tbl = pg_col(r, i, 1), *op = pg_col(r, i, 3);
	size_t			 t;

	memset(&c, 0, sizeof(c));
	c.seq = pg_int(r, i, 0);
	cx->ps->last_seq = c.seq;
	if (tbl == NULL || op == NULL)
		return 0;
	for (t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		if (strcmp(tbl, tables[t]) == 0)
			break;
	if (t == sizeof(tables) / sizeof(tables[0]))
		return 0;
	c.table = (enum store_table)t;
	c.row_id = pg_int(r, i, 2);
	c.deleted = strcmp(op, "delete") == 0;
	c.at = pg_int(r, i, 4);
	cx->cb(cx->arg, &c);
	return 0;
}

int
pg_changes_poll(struct store *st, store_change_cb cb, void *arg)
{
	struct pg_change_ctx cx = { PG(st), cb, arg };
	struct pg_params p = { 0 };
	PGresult	*r;
	int		 rc, n;

	if ((rc = pg_changed(st)) <= 0)
		return rc;
	pgp_int(&p, PG(st)->last_seq);
	if ((r = pg_read(PG(st), PQ_CHANGES_AFTER, "SELECT seq, tbl, row_id, "
	    "op, at FROM changes WHERE seq > $1 ORDER BY seq", &p,
	    "changes")) == NULL) {
		PG(st)->notified = 1;	/* read again next time */
		return -1;
	}
	if (pg_rows(PG(st), r, pg_change_one, &cx, &n) == -1)
		return -1;
	return n;
}

int
pg_changes_prune(struct store *st, int64_t before, int limit, int64_t *np)
{
	struct pg_params p = { 0 };

	pgp_int(&p, PG(st)->last_seq);
	pgp_int(&p, before);
	pgp_int(&p, limit);
	return pg_write(PG(st), PQ_CHANGES_PRUNE, "DELETE FROM changes WHERE "
	    "seq IN (SELECT seq FROM changes WHERE seq <= $1 AND at < $2 "
	    "ORDER BY seq LIMIT $3)", &p, np, "changes prune");
}

/* Domain rules and blocks. */

int
pg_domain_rule_set(struct store *st, const char *domain,
    enum store_rule action)
{
	struct pg_params p = { 0 };

	pgp_text(&p, domain);
	pgp_text(&p, store_rule_name(action));
	pgp_int(&p, pg_now());
	return pg_write(PG(st), PQ_RULE_SET, "INSERT INTO domain_rules "
	    "(domain, action, created) VALUES ($1, $2, $3) ON CONFLICT "
	    "(domain) DO UPDATE SET action = excluded.action "
	    "WHERE domain_rules.action <> excluded.action", &p, NULL,
	    "domain rule set");
}

int
pg_domain_rule_del(struct store *st, const char *domain)
{
	struct pg_params p = { 0 };

	pgp_text(&p, domain);
	return pg_wchange(PG(st), PQ_RULE_DEL, "DELETE FROM domain_rules "
	    "WHERE domain = $1", &p, NULL, "domain rule del",
	    "no rule for %s", domain);
}

struct pg_rule_ctx {
	store_domain_rule_cb	 cb;
	void			*arg;
};

static int
pg_rule_one(PGresult *r, int i, void *arg)
{
	struct pg_rule_ctx		*cx = arg;
	struct store_domain_rule	 d;

	memset(&d, 0, sizeof(d));
	d.domain = pg_col(r, i, 0);
	if (d.domain == NULL ||
	    store_rule_parse(pg_col(r, i, 1), &d.action) == -1)
		return 0;
	d.created = pg_int(r, i, 2);
	return cx->cb(cx->arg, &d);
}

int
pg_domain_rule_list(struct store *st, store_domain_rule_cb cb, void *arg)
{
	struct pg_rule_ctx cx = { cb, arg };
	PGresult	*r;

	if ((r = pg_read(PG(st), PQ_RULE_LIST, "SELECT domain, action, "
	    "created FROM domain_rules ORDER BY domain", NULL,
	    "domain rules")) == NULL)
		return -1;
	return pg_rows(PG(st), r, pg_rule_one, &cx, NULL);
}

int
pg_block_add(struct store *st, const char *local, const char *domain,
    const char *jid)
{
	struct pg_params p = { 0 };

	pgp_text(&p, local);
	pgp_text(&p, domain);
	pgp_text(&p, jid);
	pgp_int(&p, pg_now());
	return pg_wchange(PG(st), PQ_BLOCK_ADD, "INSERT INTO blocks (user_id, "
	    "jid, created) SELECT id, $3::text, $4::bigint FROM users "
	    "WHERE domain = $2 AND localpart = $1", &p, NULL, "block add",
	    "no user %s@%s", local, domain);
}

int
pg_block_del(struct store *st, const char *local, const char *domain,
    const char *jid)
{
	struct pg_params p = { 0 };

	pgp_text(&p, local);
	pgp_text(&p, domain);
	pgp_text(&p, jid);
	return pg_wchange(PG(st), PQ_BLOCK_DEL, "DELETE FROM blocks "
	    "WHERE jid = $3 AND user_id = " PG_USER_WHERE, &p, NULL,
	    "block del", "%s@%s does not block %s", local, domain, jid);
}

struct pg_block_ctx {
	store_block_cb	 cb;
	void		*arg;
};

static int
pg_block_one(PGresult *r, int i, void *arg)
{
	struct pg_block_ctx	*cx = arg;
	struct store_block	 b;

	memset(&b, 0, sizeof(b));
	b.local = pg_col(r, i, 0);
	b.domain = pg_col(r, i, 1);
	b.jid = pg_col(r, i, 2);
	b.created = pg_int(r, i, 3);
	if (b.local == NULL || b.domain == NULL || b.jid == NULL)
		return 0;
	return cx->cb(cx->arg, &b);
}

#define BLOCK_SELECT \
	"SELECT u.localpart, u.domain, b.jid, b.created FROM blocks b " \
	"JOIN users u ON u.id = b.user_id "

int
pg_block_list(struct store *st, const char *local, const char *domain,
    store_block_cb cb, void *arg)
{
	struct pg_block_ctx cx = { cb, arg };
	struct pg_params p = { 0 };
	PGresult	*r;

	if (local != NULL) {
		pgp_text(&p, local);
		pgp_text(&p, domain);
		r = pg_read(PG(st), PQ_BLOCK_LIST_USER, BLOCK_SELECT
		    "WHERE u.domain = $2 AND u.localpart = $1 ORDER BY b.jid",
		    &p, "blocks");
	} else
		r = pg_read(PG(st), PQ_BLOCK_LIST, BLOCK_SELECT
		    "ORDER BY u.domain, u.localpart, b.jid", NULL, "blocks");
	if (r == NULL)
		return -1;
	return pg_rows(PG(st), r, pg_block_one, &cx, NULL);
}

/* Tokens. */

int
pg_token_add(struct store *st, const char *name, const char *hash,
    enum store_scope scope, int64_t *idp)
{
	struct pg_params p = { 0 };

	pgp_text(&p, name);
	pgp_text(&p, hash);
	pgp_text(&p, store_scope_name(scope));
	pgp_int(&p, pg_now());
	return pg_wchange(PG(st), PQ_TOKEN_ADD, "INSERT INTO api_tokens "
	    "(name, hash, scope, created) VALUES ($1, $2, $3, $4) "
	    "RETURNING id", &p, idp, "token add", "token not added");
}

struct pg_token_ctx {
	store_token_cb	 cb;
	void		*arg;
};

static int
pg_token_one(PGresult *r, int i, void *arg)
{
	struct pg_token_ctx	*cx = arg;
	struct store_token	 t;

	memset(&t, 0, sizeof(t));
	t.id = pg_int(r, i, 0);
	t.name = pg_col(r, i, 1);
	store_scope_parse(pg_col(r, i, 2), &t.scope);
	t.created = pg_int(r, i, 3);
	t.last_used = pg_int(r, i, 4);
	return cx->cb(cx->arg, &t);
}

#define TOKEN_SELECT \
	"SELECT id, name, scope, created, last_used FROM api_tokens "

int
pg_token_find(struct store *st, const char *hash, store_token_cb cb,
    void *arg)
{
	struct pg_token_ctx cx = { cb, arg };
	struct pg_params p = { 0 };
	PGresult	*r;
	int		 n;

	pgp_text(&p, hash);
	if ((r = pg_read(PG(st), PQ_TOKEN_FIND, TOKEN_SELECT "WHERE hash = $1",
	    &p, "token")) == NULL ||
	    pg_rows(PG(st), r, pg_token_one, &cx, &n) == -1)
		return -1;
	if (n == 0)
		return pg_fail(PG(st), STORE_E_NOTFOUND, "no such token");
	return 0;
}

int
pg_token_list(struct store *st, store_token_cb cb, void *arg)
{
	struct pg_token_ctx cx = { cb, arg };
	PGresult	*r;

	if ((r = pg_read(PG(st), PQ_TOKEN_LIST, TOKEN_SELECT "ORDER BY name",
	    NULL, "tokens")) == NULL)
		return -1;
	return pg_rows(PG(st), r, pg_token_one, &cx, NULL);
}

int
pg_token_revoke(struct store *st, const char *name)
{
	struct pg_params p = { 0 };

	pgp_text(&p, name);
	return pg_wchange(PG(st), PQ_TOKEN_REVOKE, "DELETE FROM api_tokens "
	    "WHERE name = $1", &p, NULL, "token revoke", "no token %s", name);
}

int
pg_token_used(struct store *st, int64_t id, int64_t when)
{
	struct pg_params p = { 0 };

	pgp_int(&p, id);
	pgp_int(&p, when);
	return pg_write(PG(st), PQ_TOKEN_USED, "UPDATE api_tokens SET "
	    "last_used = $2 WHERE id = $1", &p, NULL, "token used");
}

/* Events. */

struct pg_event_ctx {
	store_event_cb	 cb;
	void		*arg;
};

static int
pg_event_one(PGresult *r, int i, void *arg)
{
	struct pg_event_ctx	*cx = arg;
	struct store_event	 e;

	memset(&e, 0, sizeof(e));
	e.id = pg_int(r, i, 0);
	e.type = pg_col(r, i, 1);
	e.user_id = pg_int(r, i, 2);
	e.user = pg_col(r, i, 3);
	e.ref_id = pg_int(r, i, 4);
	e.jid = pg_col(r, i, 5);
	e.state = pg_col(r, i, 6);
	e.at = pg_int(r, i, 7);
	return cx->cb(cx->arg, &e);
}

int
pg_event_list(struct store *st, int64_t after, size_t limit,
    store_event_cb cb, void *arg)
{
	struct pg_event_ctx cx = { cb, arg };
	struct pg_params p = { 0 };
	PGresult	*r;

	pgp_int(&p, after);
	if (limit == 0)
		pgp_text(&p, NULL);
	else
		pgp_int(&p, (int64_t)limit);
	/* a deleted user's events keep the name the trigger wrote */
	if ((r = pg_read(PG(st), PQ_EVENT_LIST, "SELECT e.id, e.type, "
	    "e.user_id, coalesce(e.\"user\", u.localpart || '@' || u.domain), "
	    "e.ref_id, e.jid, e.state, e.at FROM events e LEFT JOIN users u "
	    "ON u.id = e.user_id WHERE e.id > $1 ORDER BY e.id LIMIT $2", &p,
	    "events")) == NULL)
		return -1;
	return pg_rows(PG(st), r, pg_event_one, &cx, NULL);
}

int
pg_event_last(struct store *st, int64_t *idp)
{
	return pg_value(PG(st), PQ_EVENT_LAST, "SELECT coalesce(max(id), 0) "
	    "FROM events", NULL, idp, "events");
}

int
pg_event_first(struct store *st, int64_t *idp)
{
	return pg_value(PG(st), PQ_EVENT_FIRST, "SELECT coalesce(min(id), 0) "
	    "FROM events", NULL, idp, "events");
}

int
pg_event_count(struct store *st, int64_t after, int64_t *np)
{
	struct pg_params p = { 0 };

	pgp_int(&p, after);
	return pg_value(PG(st), PQ_EVENT_COUNT, "SELECT count(*) FROM events "
	    "WHERE id > $1", &p, np, "events");
}

int
pg_event_prune(struct store *st, int64_t upto, int64_t before)
{
	struct pg_params p = { 0 };

	pgp_int(&p, upto);
	pgp_int(&p, before);
	return pg_write(PG(st), PQ_EVENT_PRUNE, "DELETE FROM events "
	    "WHERE id <= $1 AND at < $2 AND id < (SELECT max(id) FROM events)",
	    &p, NULL, "events prune");
}

/* Webhooks. */

struct pg_webhook_ctx {
	store_webhook_cb cb;
	void		*arg;
};

static int
pg_webhook_one(PGresult *r, int i, void *arg)
{
	struct pg_webhook_ctx	*cx = arg;
	struct store_webhook	 w;

	memset(&w, 0, sizeof(w));
	w.id = pg_int(r, i, 0);
	w.url = pg_col(r, i, 1);
	w.cursor = pg_int(r, i, 2);
	w.delivered = pg_int(r, i, 3);
	w.failures = (int)pg_int(r, i, 4);
	w.last_status = (int)pg_int(r, i, 5);
	w.last_error = pg_col(r, i, 6);
	w.last_attempt = pg_int(r, i, 7);
	w.next_attempt = pg_int(r, i, 8);
	w.secret = pg_col(r, i, 9);
	w.managed = (int)pg_int(r, i, 10);
	return cx->cb(cx->arg, &w);
}

#define WEBHOOK_SELECT \
	"SELECT id, url, cursor, delivered, failures, last_status, " \
	"last_error, last_attempt, next_attempt, secret, managed " \
	"FROM webhooks "

int
pg_webhook_open(struct store *st, const char *url, int64_t start,
    store_webhook_cb cb, void *arg)
{
	struct pg_webhook_ctx cx = { cb, arg };
	struct pg_params p = { 0 }, g = { 0 };
	PGresult	*r;
	int		 n;

	pgp_text(&p, url);
	pgp_int(&p, start);
	pgp_text(&g, url);
	if (pg_write(PG(st), PQ_WEBHOOK_ENSURE, "INSERT INTO webhooks (url, "
	    "cursor) VALUES ($1, $2) ON CONFLICT (url) DO NOTHING", &p, NULL,
	    "webhook") == -1 || (r = pg_read(PG(st), PQ_WEBHOOK_GET,
	    WEBHOOK_SELECT "WHERE url = $1", &g, "webhook")) == NULL ||
	    pg_rows(PG(st), r, pg_webhook_one, &cx, &n) == -1)
		return -1;
	if (n == 0)
		return pg_fail(PG(st), STORE_E_NOTFOUND, "no webhook %s", url);
	return 0;
}

int
pg_webhook_list(struct store *st, store_webhook_cb cb, void *arg)
{
	struct pg_webhook_ctx cx = { cb, arg };
	PGresult	*r;

	if ((r = pg_read(PG(st), PQ_WEBHOOK_LIST, WEBHOOK_SELECT "ORDER BY id",
	    NULL, "webhooks")) == NULL)
		return -1;
	return pg_rows(PG(st), r, pg_webhook_one, &cx, NULL);
}

int
pg_webhook_add(struct store *st, const char *url, const char *secret,
    int64_t start, int64_t *idp)
{
	struct pg_params p = { 0 };

	pgp_text(&p, url);
	pgp_int(&p, start);
	pgp_text(&p, secret);
	return pg_wchange(PG(st), PQ_WEBHOOK_ADD, "INSERT INTO webhooks (url, "
	    "cursor, secret, managed) VALUES ($1, $2, $3, 1) RETURNING id",
	    &p, idp, "webhook add", "webhook %s", url);
}

/* managed 1: the API's or xfedctl's; 0: an xfed.conf line's */
static int
pg_webhook_rm(struct store *st, int64_t id, int managed)
{
	struct pg_params p = { 0 };

	pgp_int(&p, id);
	pgp_int(&p, managed);
	return pg_wchange(PG(st), PQ_WEBHOOK_DEL, "DELETE FROM webhooks "
	    "WHERE id = $1 AND managed = $2", &p, NULL, "webhook delete",
	    "no webhook %lld %s", (long long)id, managed ?
	    "made through the API or xfedctl" : "of xfed.conf");
}

int
pg_webhook_delete(struct store *st, int64_t id)
{
	return pg_webhook_rm(st, id, 1);
}

int
pg_webhook_forget(struct store *st, int64_t id)
{
	return pg_webhook_rm(st, id, 0);
}

int
pg_webhook_done(struct store *st, int64_t id, int64_t cursor, int64_t n,
    int status)
{
	struct pg_params p = { 0 };

	pgp_int(&p, id);
	pgp_int(&p, cursor);
	pgp_int(&p, n);
	pgp_int(&p, status);
	pgp_int(&p, pg_now());
	return pg_wchange(PG(st), PQ_WEBHOOK_DONE, "UPDATE webhooks SET "
	    "cursor = greatest(cursor, $2), delivered = delivered + $3, "
	    "failures = 0, last_status = $4, last_error = NULL, "
	    "last_attempt = $5, next_attempt = 0 WHERE id = $1", &p, NULL,
	    "webhook done", "no webhook %lld", (long long)id);
}

int
pg_webhook_fail(struct store *st, int64_t id, int status, const char *error,
    int64_t next_attempt)
{
	struct pg_params p = { 0 };

	pgp_int(&p, id);
	if (status > 0)
		pgp_int(&p, status);
	else
		pgp_text(&p, NULL);
	pgp_text(&p, error);
	pgp_int(&p, pg_now());
	pgp_int(&p, next_attempt);
	return pg_wchange(PG(st), PQ_WEBHOOK_FAIL, "UPDATE webhooks SET "
	    "failures = failures + 1, last_status = $2, last_error = $3, "
	    "last_attempt = $4, next_attempt = $5 WHERE id = $1", &p, NULL,
	    "webhook fail", "no webhook %lld", (long long)id);
}

/* Counts for metrics. */

struct pg_count_ctx {
	store_count_cb	 cb;
	void		*arg;
};

static int
pg_count_one(PGresult *r, int i, void *arg)
{
	struct pg_count_ctx	*cx = arg;
	const char		*a = pg_col(r, i, 0), *b = pg_col(r, i, 1);

	cx->cb(cx->arg, a ? a : "", b ? b : "", pg_int(r, i, 2));
	return 0;
}

int
pg_outbox_counts(struct store *st, store_count_cb cb, void *arg)
{
	struct pg_count_ctx cx = { cb, arg };
	PGresult	*r;

	if ((r = pg_read(PG(st), PQ_OUTBOX_COUNTS, "SELECT state, error_stage, "
	    "count(*) FROM outbox GROUP BY state, error_stage", NULL,
	    "outbox counts")) == NULL)
		return -1;
	return pg_rows(PG(st), r, pg_count_one, &cx, NULL);
}

int
pg_outbox_oldest(struct store *st, int64_t *createdp)
{
	return pg_value(PG(st), PQ_OUTBOX_OLDEST, "SELECT coalesce("
	    "min(created), 0) FROM outbox WHERE state = 'queued'", NULL,
	    createdp, "outbox oldest");
}

#endif
