/*
 * store/pg_user.c: native users, their own presence, subscriptions and
 * remote presence, on PostgreSQL (the SQL of sqlite_user.c and
 * sqlite_sub.c in PostgreSQL's dialect). Parameters are $1 the localpart
 * and $2 the domain wherever a statement names a user.
 */
#include "config.h"

#ifdef HAVE_LIBPQ

#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "pg_int.h"
#include "pg_store.h"
#include "store.h"
#include "xmalloc.h"

#define USER_COLS \
	"id, localpart, domain, name, nickname, email, url, note, avatar, " \
	"avatar_type, created, disabled"

struct pg_user_ctx {
	struct pg_store	*ps;
	store_user_cb	 cb;
	void		*arg;
};

static int
pg_user_one(PGresult *r, int i, void *arg)
{
	struct pg_user_ctx	*cx = arg;
	struct store_user	 u;
	const char		*a;
	size_t			 n = 0;

	memset(&u, 0, sizeof(u));
	u.id = pg_int(r, i, 0);
	u.local = pg_col(r, i, 1);
	u.domain = pg_col(r, i, 2);
	u.name = pg_col(r, i, 3);
	u.nickname = pg_col(r, i, 4);
	u.email = pg_col(r, i, 5);
	u.url = pg_col(r, i, 6);
	u.note = pg_col(r, i, 7);
	PQfreemem(cx->ps->blob);
	cx->ps->blob = NULL;
	if ((a = pg_col(r, i, 8)) != NULL) {
		cx->ps->blob = PQunescapeBytea((const unsigned char *)a, &n);
		u.avatar = cx->ps->blob;
		u.avatar_len = n;
	}
	u.avatar_type = pg_col(r, i, 9);
	u.created = pg_int(r, i, 10);
	u.disabled = (int)pg_int(r, i, 11);
	return cx->cb(cx->arg, &u);
}

static int
pg_user_rows(struct pg_store *ps, PGresult *r, store_user_cb cb, void *arg,
    int *nrows)
{
	struct pg_user_ctx	 cx = { ps, cb, arg };

	return pg_rows(ps, r, pg_user_one, &cx, nrows);
}

static void
pgp_user(struct pg_params *p, const char *local, const char *domain)
{
	pgp_text(p, local);
	pgp_text(p, domain);
}

int
pg_user_add(struct store *st, const char *local, const char *domain,
    const char *name, int64_t *idp)
{
	struct pg_store	*ps = PG(st);
	struct pg_params p = { 0 };

	pgp_user(&p, local, domain);
	pgp_text(&p, name);
	pgp_int(&p, pg_now());
	if (pg_write_id(ps, PQ_USER_ADD, "INSERT INTO users (localpart, "
	    "domain, name, created) VALUES ($1, $2, $3, $4) RETURNING id", &p,
	    NULL, idp, "user add") == -1) {
		if (ps->base.errcode == STORE_E_EXISTS)
			pg_fail(ps, STORE_E_EXISTS, "user %s@%s already exists",
			    local, domain);
		return -1;
	}
	return 0;
}

int
pg_user_del(struct store *st, const char *local, const char *domain)
{
	struct pg_params p = { 0 };

	pgp_user(&p, local, domain);
	return pg_wchange(PG(st), PQ_USER_DEL, "DELETE FROM users "
	    "WHERE domain = $2 AND localpart = $1", &p, NULL, "user del",
	    "no user %s@%s", local, domain);
}

int
pg_user_get_id(struct store *st, int64_t id, store_user_cb cb, void *arg)
{
	struct pg_user_ctx	 cx = { PG(st), cb, arg };

	return pg_get_one(PG(st), PQ_USER_GET_ID, "SELECT " USER_COLS
	    " FROM users WHERE id = $1", id, pg_user_one, &cx, "users",
	    "user with id");
}

int
pg_user_get(struct store *st, const char *local, const char *domain,
    store_user_cb cb, void *arg)
{
	struct pg_params p = { 0 };
	PGresult	*r;
	int		 n;

	pgp_user(&p, local, domain);
	if ((r = pg_read(PG(st), PQ_USER_GET, "SELECT " USER_COLS
	    " FROM users WHERE domain = $2 AND localpart = $1", &p,
	    "users")) == NULL ||
	    pg_user_rows(PG(st), r, cb, arg, &n) == -1)
		return -1;
	if (n == 0)
		return pg_fail(PG(st), STORE_E_NOTFOUND, "no user %s@%s",
		    local, domain);
	return 0;
}

int
pg_user_find(struct store *st, const char *local, const char *domain,
    int64_t *idp)
{
	struct pg_params p = { 0 };
	PGresult	*r;
	int		 rc = 0;

	pgp_user(&p, local, domain);
	if ((r = pg_read(PG(st), PQ_USER_FIND, "SELECT id FROM users "
	    "WHERE domain = $2 AND localpart = $1", &p, "user find")) == NULL)
		return -1;
	if (PQntuples(r) > 0) {
		if (idp != NULL)
			*idp = pg_int(r, 0, 0);
		rc = 1;
	}
	PQclear(r);
	return rc;
}

int
pg_user_list(struct store *st, const char *domain, store_user_cb cb,
    void *arg)
{
	struct pg_params p = { 0 };
	PGresult	*r;

	if (domain != NULL) {
		pgp_text(&p, domain);
		r = pg_read(PG(st), PQ_USER_LIST_DOMAIN, "SELECT " USER_COLS
		    " FROM users WHERE domain = $1 ORDER BY localpart", &p,
		    "users");
	} else
		r = pg_read(PG(st), PQ_USER_LIST, "SELECT " USER_COLS
		    " FROM users ORDER BY domain, localpart", NULL, "users");
	if (r == NULL)
		return -1;
	return pg_user_rows(PG(st), r, cb, arg, NULL);
}

int
pg_user_update(struct store *st, const struct store_user *u)
{
	struct pg_params p = { 0 };

	pgp_int(&p, u->id);
	pgp_text(&p, u->name);
	pgp_text(&p, u->nickname);
	pgp_text(&p, u->email);
	pgp_text(&p, u->url);
	pgp_text(&p, u->note);
	if (u->avatar != NULL)
		pgp_bytes(&p, u->avatar, u->avatar_len);
	else
		pgp_text(&p, NULL);
	pgp_text(&p, u->avatar_type);
	pgp_int(&p, u->disabled != 0);
	return pg_wchange(PG(st), PQ_USER_UPDATE, "UPDATE users SET "
	    "name = $2, nickname = $3, email = $4, url = $5, note = $6, "
	    "avatar = $7::bytea, avatar_type = $8, disabled = $9 "
	    "WHERE id = $1", &p, NULL, "user update", "no user with id %lld",
	    (long long)u->id);
}

int
pg_presence_set(struct store *st, const char *local, const char *domain,
    enum store_show show, const char *status, int priority)
{
	struct pg_params p = { 0 };

	if (priority < -128 || priority > 127)
		return pg_fail(PG(st), STORE_E_INVALID, "priority %d is not "
		    "between -128 and 127", priority);
	pgp_user(&p, local, domain);
	pgp_text(&p, store_show_name(show));
	pgp_text(&p, status);
	pgp_int(&p, priority);
	pgp_int(&p, pg_now());
	return pg_wchange(PG(st), PQ_PRES_SET, "INSERT INTO presence "
	    "(user_id, show, status, priority, updated) "
	    "SELECT id, $3::text, $4::text, $5::integer, $6::bigint FROM users "
	    "WHERE domain = $2 AND localpart = $1 "
	    "ON CONFLICT (user_id) DO UPDATE SET show = excluded.show, "
	    "status = excluded.status, priority = excluded.priority, "
	    "updated = excluded.updated", &p, NULL, "presence set",
	    "no user %s@%s", local, domain);
}

int
pg_presence_get(struct store *st, const char *local, const char *domain,
    struct store_presence *pr)
{
	struct pg_store	*ps = PG(st);
	struct pg_params p = { 0 };
	PGresult	*r;
	const char	*s;

	pgp_user(&p, local, domain);
	if ((r = pg_read(ps, PQ_PRES_GET, "SELECT p.show, p.status, "
	    "p.priority, p.updated FROM users u "
	    "LEFT JOIN presence p ON p.user_id = u.id "
	    "WHERE u.domain = $2 AND u.localpart = $1", &p,
	    "presence get")) == NULL)
		return -1;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return pg_fail(ps, STORE_E_NOTFOUND, "no user %s@%s", local,
		    domain);
	}
	memset(pr, 0, sizeof(*pr));
	pr->show = STORE_SHOW_UNAVAILABLE;
	if (pg_col(r, 0, 0) != NULL) {
		store_show_parse(pg_col(r, 0, 0), &pr->show);
		pr->priority = (int)pg_int(r, 0, 2);
		pr->updated = pg_int(r, 0, 3);
	}
	free(ps->scratch);
	ps->scratch = NULL;
	if ((s = pg_col(r, 0, 1)) != NULL)
		ps->scratch = xstrdup(s);
	pr->status = ps->scratch;
	PQclear(r);
	return 0;
}

struct pg_sub_ctx {
	store_sub_cb	 cb;
	void		*arg;
};

static int
pg_sub_one(PGresult *r, int i, void *arg)
{
	struct pg_sub_ctx	*cx = arg;
	struct store_sub	 s;

	memset(&s, 0, sizeof(s));
	s.local = pg_col(r, i, 0);
	s.domain = pg_col(r, i, 1);
	s.jid = pg_col(r, i, 2);
	store_sub_state_parse(pg_col(r, i, 3), &s.state);
	s.pending_out = (int)pg_int(r, i, 4);
	s.pending_in = (int)pg_int(r, i, 5);
	s.preapproved = (int)pg_int(r, i, 6);
	s.request = pg_col(r, i, 7);
	s.updated = pg_int(r, i, 8);
	return cx->cb(cx->arg, &s);
}

#define SUB_SELECT \
	"SELECT u.localpart, u.domain, s.jid, s.state, s.pending_out, " \
	"s.pending_in, s.preapproved, s.request, s.updated " \
	"FROM subscriptions s JOIN users u ON u.id = s.user_id " \
	"WHERE u.domain = $2 AND u.localpart = $1"

int
pg_sub_get(struct store *st, const char *local, const char *domain,
    const char *jid, store_sub_cb cb, void *arg)
{
	struct pg_sub_ctx cx = { cb, arg };
	struct pg_params p = { 0 };
	PGresult	*r;
	int		 n;

	pgp_user(&p, local, domain);
	pgp_text(&p, jid);
	if ((r = pg_read(PG(st), PQ_SUB_GET, SUB_SELECT " AND s.jid = $3", &p,
	    "subscription")) == NULL ||
	    pg_rows(PG(st), r, pg_sub_one, &cx, &n) == -1)
		return -1;
	if (n == 0)
		return pg_fail(PG(st), STORE_E_NOTFOUND, "%s@%s has no "
		    "subscription with %s", local, domain, jid);
	return 0;
}

int
pg_sub_list(struct store *st, const char *local, const char *domain,
    store_sub_cb cb, void *arg)
{
	struct pg_sub_ctx cx = { cb, arg };
	struct pg_params p = { 0 };
	PGresult	*r;

	pgp_user(&p, local, domain);
	if ((r = pg_read(PG(st), PQ_SUB_LIST, SUB_SELECT " ORDER BY s.jid", &p,
	    "subscriptions")) == NULL)
		return -1;
	return pg_rows(PG(st), r, pg_sub_one, &cx, NULL);
}

int
pg_sub_put(struct store *st, const struct store_sub *s)
{
	struct pg_params p = { 0 };

	pgp_user(&p, s->local, s->domain);
	pgp_text(&p, s->jid);
	if (s->state == STORE_SUB_NONE && !s->pending_in && !s->pending_out &&
	    !s->preapproved)
		return pg_write(PG(st), PQ_SUB_DROP, "DELETE FROM "
		    "subscriptions WHERE user_id = " PG_USER_WHERE
		    " AND jid = $3", &p, NULL, "subscription put");
	pgp_text(&p, store_sub_state_name(s->state));
	pgp_int(&p, s->pending_out != 0);
	pgp_int(&p, s->pending_in != 0);
	pgp_int(&p, s->preapproved != 0);
	pgp_text(&p, s->pending_in ? s->request : NULL);
	pgp_int(&p, pg_now());
	return pg_wchange(PG(st), PQ_SUB_PUT, "INSERT INTO subscriptions "
	    "(user_id, jid, state, pending_out, pending_in, preapproved, "
	    "request, updated) SELECT id, $3::text, $4::text, $5::integer, "
	    "$6::integer, $7::integer, $8::text, $9::bigint "
	    "FROM users WHERE domain = $2 AND localpart = $1 "
	    "ON CONFLICT (user_id, jid) DO UPDATE SET "
	    "state = excluded.state, pending_out = excluded.pending_out, "
	    "pending_in = excluded.pending_in, "
	    "preapproved = excluded.preapproved, "
	    "request = excluded.request, updated = excluded.updated", &p, NULL,
	    "subscription put", "no user %s@%s", s->local, s->domain);
}

int
pg_rpres_put(struct store *st, const struct store_rpres *rp)
{
	struct pg_params p = { 0 };

	pgp_user(&p, rp->local, rp->domain);
	pgp_text(&p, rp->jid);
	pgp_text(&p, store_show_name(rp->show));
	pgp_text(&p, rp->status);
	pgp_int(&p, rp->priority);
	pgp_text(&p, rp->xml);
	pgp_int(&p, rp->updated ? rp->updated : pg_now());
	return pg_wchange(PG(st), PQ_RPRES_PUT, "INSERT INTO remote_presence "
	    "(user_id, jid, bare, show, status, priority, xml, updated) "
	    "SELECT id, $3::text, split_part($3::text, '/', 1), $4::text, "
	    "$5::text, $6::integer, $7::text, $8::bigint FROM users "
	    "WHERE domain = $2 AND localpart = $1 "
	    "ON CONFLICT (user_id, jid) DO UPDATE SET show = excluded.show, "
	    "status = excluded.status, priority = excluded.priority, "
	    "xml = excluded.xml, updated = excluded.updated", &p, NULL,
	    "remote presence put", "no user %s@%s", rp->local, rp->domain);
}

int
pg_rpres_del(struct store *st, const char *local, const char *domain,
    const char *bare)
{
	struct pg_params p = { 0 };

	pgp_user(&p, local, domain);
	if (bare == NULL)
		return pg_write(PG(st), PQ_RPRES_DEL_ALL, "DELETE FROM "
		    "remote_presence WHERE user_id = " PG_USER_WHERE, &p, NULL,
		    "remote presence del");
	pgp_text(&p, bare);
	return pg_write(PG(st), PQ_RPRES_DEL, "DELETE FROM remote_presence "
	    "WHERE user_id = " PG_USER_WHERE " AND bare = $3", &p, NULL,
	    "remote presence del");
}

struct pg_rpres_ctx {
	store_rpres_cb	 cb;
	void		*arg;
};

static int
pg_rpres_one(PGresult *r, int i, void *arg)
{
	struct pg_rpres_ctx	*cx = arg;
	struct store_rpres	 rp;

	memset(&rp, 0, sizeof(rp));
	rp.local = pg_col(r, i, 0);
	rp.domain = pg_col(r, i, 1);
	rp.jid = pg_col(r, i, 2);
	store_show_parse(pg_col(r, i, 3), &rp.show);
	rp.status = pg_col(r, i, 4);
	rp.priority = (int)pg_int(r, i, 5);
	rp.xml = pg_col(r, i, 6);
	rp.updated = pg_int(r, i, 7);
	return cx->cb(cx->arg, &rp);
}

#define RPRES_SELECT \
	"SELECT u.localpart, u.domain, r.jid, r.show, r.status, r.priority, " \
	"r.xml, r.updated FROM remote_presence r " \
	"JOIN users u ON u.id = r.user_id "

#define PG_RPRES_STRANGER "NOT EXISTS (SELECT 1 FROM subscriptions s " \
	"WHERE s.user_id = r.user_id AND s.jid = r.bare " \
	"AND s.state IN ('to', 'both'))"

int
pg_rpres_strangers(struct store *st, const char *local, const char *domain,
    size_t keep)
{
	struct pg_params p = { 0 };

	if (local == NULL)
		return pg_write(PG(st), PQ_RPRES_STRANGERS_ALL, "DELETE FROM "
		    "remote_presence AS r WHERE " PG_RPRES_STRANGER, &p, NULL,
		    "remote presence strangers");
	/* the newest keep stay */
	pgp_text(&p, local);
	pgp_text(&p, domain);
	pgp_int(&p, (int64_t)keep);
	return pg_write(PG(st), PQ_RPRES_STRANGERS, "DELETE FROM "
	    "remote_presence WHERE (user_id, jid) IN (SELECT r.user_id, r.jid "
	    "FROM remote_presence AS r WHERE r.user_id = " PG_USER_WHERE
	    " AND " PG_RPRES_STRANGER " ORDER BY r.updated DESC, r.jid DESC "
	    "OFFSET $3)", &p, NULL, "remote presence strangers");
}

int
pg_rpres_list(struct store *st, const char *local, const char *domain,
    store_rpres_cb cb, void *arg)
{
	struct pg_rpres_ctx cx = { cb, arg };
	struct pg_params p = { 0 };
	PGresult	*r;

	pgp_user(&p, local, domain);
	if ((r = pg_read(PG(st), PQ_RPRES_LIST, RPRES_SELECT
	    "WHERE u.domain = $2 AND u.localpart = $1 ORDER BY r.jid", &p,
	    "remote presence")) == NULL)
		return -1;
	return pg_rows(PG(st), r, pg_rpres_one, &cx, NULL);
}

int
pg_rpres_get(struct store *st, int64_t user_id, const char *jid,
    store_rpres_cb cb, void *arg)
{
	struct pg_rpres_ctx cx = { cb, arg };
	struct pg_params p = { 0 };
	PGresult	*r;
	int		 n;

	pgp_int(&p, user_id);
	pgp_text(&p, jid);
	if ((r = pg_read(PG(st), PQ_RPRES_GET, RPRES_SELECT
	    "WHERE r.user_id = $1 AND r.jid = $2", &p,
	    "remote presence")) == NULL ||
	    pg_rows(PG(st), r, pg_rpres_one, &cx, &n) == -1)
		return -1;
	if (n == 0)
		return pg_fail(PG(st), STORE_E_NOTFOUND, "no remote presence");
	return 0;
}

#endif
