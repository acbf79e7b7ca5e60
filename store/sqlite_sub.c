/*
 * store/sqlite_sub.c: subscriptions and remote presence, on SQLite. The
 * state changes themselves are subscription.c's (inbound) and the
 * schema's outbox triggers (outbound); this file only reads and writes
 * rows.
 */
#include <string.h>

#include <sqlite3.h>

#include "sqlite_int.h"
#include "store.h"


struct store_sub_ctx {
	store_sub_cb	 cb;
	void		*arg;
};

static int
store_sub_one(sqlite3_stmt *q, void *arg)
{
	struct store_sub_ctx	*cx = arg;
	struct store_sub	 s;

	memset(&s, 0, sizeof(s));
	s.local = STORE_COL_TEXT(q, 0);
	s.domain = STORE_COL_TEXT(q, 1);
	s.jid = STORE_COL_TEXT(q, 2);
	store_sub_state_parse(STORE_COL_TEXT(q, 3), &s.state);
	s.pending_out = sqlite3_column_int(q, 4);
	s.pending_in = sqlite3_column_int(q, 5);
	s.preapproved = sqlite3_column_int(q, 6);
	s.request = STORE_COL_TEXT(q, 7);
	s.updated = sqlite3_column_int64(q, 8);
	return cx->cb(cx->arg, &s);
}

#define SUB_SELECT \
	"SELECT u.localpart, u.domain, s.jid, s.state, s.pending_out, " \
	"s.pending_in, s.preapproved, s.request, s.updated " \
	"FROM subscriptions s JOIN users u ON u.id = s.user_id " \
	"WHERE u.domain = ?2 AND u.localpart = ?1"

int
sqlite_sub_get(struct store *st, const char *local, const char *domain,
    const char *jid, store_sub_cb cb, void *arg)
{
	struct store_sub_ctx	 cx = { cb, arg };
	sqlite3_stmt		*q;
	int			 n;

	if ((q = sqlite_q(st, Q_SUB_GET, SUB_SELECT " AND s.jid = ?3")) == NULL)
		return -1;
	sqlite_bind_user(q, local, domain);
	sqlite3_bind_text(q, 3, jid, -1, SQLITE_STATIC);
	if (sqlite_rows(st, q, store_sub_one, &cx, &n, "subscription") == -1)
		return -1;
	if (n == 0)
		return store_fail(st, STORE_E_NOTFOUND, "%s@%s has no "
		    "subscription with %s", local, domain, jid);
	return 0;
}

int
sqlite_sub_list(struct store *st, const char *local, const char *domain,
    store_sub_cb cb, void *arg)
{
	struct store_sub_ctx	 cx = { cb, arg };
	sqlite3_stmt		*q;

	if ((q = sqlite_q(st, Q_SUB_LIST,
	    SUB_SELECT " ORDER BY s.jid")) == NULL)
		return -1;
	sqlite_bind_user(q, local, domain);
	return sqlite_rows(st, q, store_sub_one, &cx, NULL, "subscriptions");
}

int
sqlite_sub_put(struct store *st, const struct store_sub *s)
{
	sqlite3_stmt	*q;
	int		 empty;

	empty = s->state == STORE_SUB_NONE && !s->pending_in &&
	    !s->pending_out && !s->preapproved;
	if (sqlite_wbegin(st) == -1)
		return -1;
	if (empty)
		q = sqlite_q(st, Q_SUB_DROP, "DELETE FROM subscriptions "
		    "WHERE user_id = " USER_WHERE " AND jid = ?3");
	else
		q = sqlite_q(st, Q_SUB_PUT, "INSERT INTO subscriptions "
		    "(user_id, jid, state, pending_out, pending_in, preapproved, "
		    "request, updated) SELECT id, ?3, ?4, ?5, ?6, ?7, ?8, ?9 "
		    "FROM users WHERE domain = ?2 AND localpart = ?1 "
		    "ON CONFLICT (user_id, jid) DO UPDATE SET "
		    "state = excluded.state, pending_out = excluded.pending_out, "
		    "pending_in = excluded.pending_in, "
		    "preapproved = excluded.preapproved, "
		    "request = excluded.request, updated = excluded.updated");
	if (q == NULL)
		return -1;
	sqlite_bind_user(q, s->local, s->domain);
	sqlite3_bind_text(q, 3, s->jid, -1, SQLITE_STATIC);
	if (!empty) {
		sqlite3_bind_text(q, 4, store_sub_state_name(s->state), -1,
		    SQLITE_STATIC);
		sqlite3_bind_int(q, 5, s->pending_out != 0);
		sqlite3_bind_int(q, 6, s->pending_in != 0);
		sqlite3_bind_int(q, 7, s->preapproved != 0);
		sqlite3_bind_text(q, 8, s->pending_in ? s->request : NULL, -1,
		    SQLITE_STATIC);
		sqlite3_bind_int64(q, 9, store_now());
	}
	if (empty)
		return sqlite_wstep(st, q, "subscription put");
	return sqlite_wchange(st, q, NULL, "subscription put",
	    "no user %s@%s", s->local, s->domain);
}

int
sqlite_rpres_put(struct store *st, const struct store_rpres *r)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_RPRES_PUT,
	    "INSERT INTO remote_presence "
	    "(user_id, jid, bare, show, status, priority, xml, updated) "
	    "SELECT id, ?3, CASE WHEN instr(?3, '/') > 0 "
	    "THEN substr(?3, 1, instr(?3, '/') - 1) ELSE ?3 END, "
	    "?4, ?5, ?6, ?7, ?8 FROM users "
	    "WHERE domain = ?2 AND localpart = ?1 "
	    "ON CONFLICT (user_id, jid) DO UPDATE SET show = excluded.show, "
	    "status = excluded.status, priority = excluded.priority, "
	    "xml = excluded.xml, updated = excluded.updated")) == NULL)
		return -1;
	sqlite_bind_user(q, r->local, r->domain);
	sqlite3_bind_text(q, 3, r->jid, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, store_show_name(r->show), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, r->status, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 6, r->priority);
	sqlite3_bind_text(q, 7, r->xml, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 8, r->updated ? r->updated : store_now());
	return sqlite_wchange(st, q, NULL, "remote presence put",
	    "no user %s@%s", r->local, r->domain);
}

int
sqlite_rpres_del(struct store *st, const char *local, const char *domain,
    const char *bare)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1)
		return -1;
	if (bare != NULL)
		q = sqlite_q(st, Q_RPRES_DEL, "DELETE FROM remote_presence "
		    "WHERE user_id = " USER_WHERE " AND bare = ?3");
	else
		q = sqlite_q(st, Q_RPRES_DEL_ALL, "DELETE FROM remote_presence "
		    "WHERE user_id = " USER_WHERE);
	if (q == NULL)
		return -1;
	sqlite_bind_user(q, local, domain);
	if (bare != NULL)
		sqlite3_bind_text(q, 3, bare, -1, SQLITE_STATIC);
	return sqlite_wstep(st, q, "remote presence del");
}

struct store_rpres_ctx {
	store_rpres_cb	 cb;
	void		*arg;
};

static int
store_rpres_one(sqlite3_stmt *q, void *arg)
{
	struct store_rpres_ctx	*cx = arg;
	struct store_rpres	 r;

	memset(&r, 0, sizeof(r));
	r.local = STORE_COL_TEXT(q, 0);
	r.domain = STORE_COL_TEXT(q, 1);
	r.jid = STORE_COL_TEXT(q, 2);
	store_show_parse(STORE_COL_TEXT(q, 3), &r.show);
	r.status = STORE_COL_TEXT(q, 4);
	r.priority = sqlite3_column_int(q, 5);
	r.xml = STORE_COL_TEXT(q, 6);
	r.updated = sqlite3_column_int64(q, 7);
	return cx->cb(cx->arg, &r);
}

int
sqlite_rpres_list(struct store *st, const char *local, const char *domain,
    store_rpres_cb cb, void *arg)
{
	struct store_rpres_ctx	 cx = { cb, arg };
	sqlite3_stmt		*q;

	if ((q = sqlite_q(st, Q_RPRES_LIST, "SELECT u.localpart, u.domain, "
	    "r.jid, r.show, r.status, r.priority, r.xml, r.updated "
	    "FROM remote_presence r JOIN users u ON u.id = r.user_id "
	    "WHERE u.domain = ?2 AND u.localpart = ?1 ORDER BY r.jid")) == NULL)
		return -1;
	sqlite_bind_user(q, local, domain);
	return sqlite_rows(st, q, store_rpres_one, &cx, NULL,
	    "remote presence");
}

int
sqlite_rpres_get(struct store *st, int64_t user_id, const char *jid,
    store_rpres_cb cb, void *arg)
{
	struct store_rpres_ctx	 cx = { cb, arg };
	sqlite3_stmt		*q;
	int			 n;

	if ((q = sqlite_q(st, Q_RPRES_GET, "SELECT u.localpart, u.domain, "
	    "r.jid, r.show, r.status, r.priority, r.xml, r.updated "
	    "FROM remote_presence r JOIN users u ON u.id = r.user_id "
	    "WHERE r.user_id = ?1 AND r.jid = ?2")) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, user_id);
	sqlite3_bind_text(q, 2, jid, -1, SQLITE_STATIC);
	if (sqlite_rows(st, q, store_rpres_one, &cx, &n,
	    "remote presence") == -1)
		return -1;
	if (n == 0)
		return store_fail(st, STORE_E_NOTFOUND, "no remote presence");
	return 0;
}
