/*
 * store/sqlite_contacts.c: what the daemon owes contacts outside the
 * subscription table: the targets of a user's directed presence (RFC 6121
 * 4.6.3) and, after a user was deleted, the contacts it must still tell
 * (kept by the schema's users_departed trigger), or the contacts a
 * stopping daemon could not tell that a user went unavailable.
 */
#include <string.h>

#include <sqlite3.h>

#include "sqlite_int.h"
#include "store.h"

int
sqlite_directed_add(struct store *st, const char *local, const char *domain,
    const char *jid)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_DIRECTED_ADD,
	    "INSERT INTO directed (user_id, jid, sent) "
	    "SELECT id, ?3, ?4 FROM users WHERE domain = ?2 AND localpart = ?1 "
	    "ON CONFLICT (user_id, jid) DO UPDATE SET sent = excluded.sent")) ==
	    NULL)
		return -1;
	sqlite_bind_user(q, local, domain);
	sqlite3_bind_text(q, 3, jid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, store_now());
	return sqlite_wchange(st, q, NULL, "directed add", "no user %s@%s",
	    local, domain);
}

struct store_directed_ctx {
	int	(*cb)(void *, const char *);
	void	*arg;
};

static int
store_directed_one(sqlite3_stmt *q, void *arg)
{
	struct store_directed_ctx	*cx = arg;

	return cx->cb(cx->arg, STORE_COL_TEXT(q, 0));
}

int
sqlite_directed_list(struct store *st, const char *local, const char *domain,
    int (*cb)(void *, const char *), void *arg)
{
	struct store_directed_ctx	 cx = { cb, arg };
	sqlite3_stmt			*q;

	if ((q = sqlite_q(st, Q_DIRECTED_LIST, "SELECT jid FROM directed "
	    "WHERE user_id = " USER_WHERE " ORDER BY jid")) == NULL)
		return -1;
	sqlite_bind_user(q, local, domain);
	return sqlite_rows(st, q, store_directed_one, &cx, NULL, "directed");
}

int
sqlite_directed_del(struct store *st, const char *local, const char *domain,
    const char *jid)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1)
		return -1;
	if (jid != NULL)
		q = sqlite_q(st, Q_DIRECTED_DEL, "DELETE FROM directed "
		    "WHERE user_id = " USER_WHERE " AND jid = ?3");
	else
		q = sqlite_q(st, Q_DIRECTED_DEL_ALL, "DELETE FROM directed "
		    "WHERE user_id = " USER_WHERE);
	if (q == NULL)
		return -1;
	sqlite_bind_user(q, local, domain);
	if (jid != NULL)
		sqlite3_bind_text(q, 3, jid, -1, SQLITE_STATIC);
	return sqlite_wstep(st, q, "directed del");
}

struct store_departed_ctx {
	int	(*cb)(void *, const struct store_departed *);
	void	*arg;
};

static int
store_departed_one(sqlite3_stmt *q, void *arg)
{
	struct store_departed_ctx	*cx = arg;
	struct store_departed		 d;
	enum store_sub_state		 s;

	memset(&d, 0, sizeof(d));
	d.id = sqlite3_column_int64(q, 0);
	d.local = STORE_COL_TEXT(q, 1);
	d.domain = STORE_COL_TEXT(q, 2);
	d.jid = STORE_COL_TEXT(q, 3);
	d.state = store_sub_state_parse(STORE_COL_TEXT(q, 4), &s) == 0 ?
	    (int)s : STORE_DEPARTED_DIRECTED;
	d.pending_out = sqlite3_column_int(q, 5);
	d.created = sqlite3_column_int64(q, 6);
	return cx->cb(cx->arg, &d);
}

int
sqlite_departed_list(struct store *st, int64_t after, size_t limit,
    int (*cb)(void *, const struct store_departed *), void *arg)
{
	struct store_departed_ctx	 cx = { cb, arg };
	sqlite3_stmt			*q;

	if ((q = sqlite_q(st, Q_DEPARTED_LIST, "SELECT id, localpart, domain, "
	    "jid, state, pending_out, created FROM departed WHERE id > ?2 "
	    "ORDER BY id LIMIT ?1")) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, limit ? (sqlite3_int64)limit : -1);
	sqlite3_bind_int64(q, 2, after);
	return sqlite_rows(st, q, store_departed_one, &cx, NULL, "departed");
}

int
sqlite_departed_owe(struct store *st, const char *local, const char *domain,
    const char *jid, int64_t *idp)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_DEPARTED_ADD,
	    "INSERT INTO departed (localpart, domain, jid, state) "
	    "VALUES (?1, ?2, ?3, 'directed')")) == NULL)
		return -1;
	sqlite3_bind_text(q, 1, local, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, jid, -1, SQLITE_STATIC);
	return sqlite_wchange(st, q, idp, "departed owe", "not written");
}

int
sqlite_departed_del(struct store *st, int64_t id)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_DEPARTED_DEL,
	    "DELETE FROM departed WHERE id = ?1")) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	return sqlite_wstep(st, q, "departed del");
}
