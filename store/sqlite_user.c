/*
 * store/sqlite_user.c: native users and their own presence, on SQLite.
 * Names are taken as given: xfedctl and the daemon prepare localparts and
 * domains before they get here; the schema only refuses the impossible.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "sqlite_int.h"
#include "store.h"
#include "xmalloc.h"

#define USER_COLS \
	"id, localpart, domain, name, nickname, email, url, note, avatar, " \
	"avatar_type, created, disabled"

static void
store_user_row(sqlite3_stmt *q, struct store_user *u)
{
	u->id = sqlite3_column_int64(q, 0);
	u->local = STORE_COL_TEXT(q, 1);
	u->domain = STORE_COL_TEXT(q, 2);
	u->name = STORE_COL_TEXT(q, 3);
	u->nickname = STORE_COL_TEXT(q, 4);
	u->email = STORE_COL_TEXT(q, 5);
	u->url = STORE_COL_TEXT(q, 6);
	u->note = STORE_COL_TEXT(q, 7);
	u->avatar = sqlite3_column_blob(q, 8);
	u->avatar_len = sqlite3_column_bytes(q, 8);
	u->avatar_type = STORE_COL_TEXT(q, 9);
	u->created = sqlite3_column_int64(q, 10);
	u->disabled = sqlite3_column_int(q, 11);
}

struct store_user_ctx {
	store_user_cb	 cb;
	void		*arg;
};

static int
store_user_one(sqlite3_stmt *q, void *arg)
{
	struct store_user_ctx	*cx = arg;
	struct store_user	 u;

	store_user_row(q, &u);
	return cx->cb(cx->arg, &u);
}

static int
store_user_rows(struct store *st, sqlite3_stmt *q, store_user_cb cb,
    void *arg, int *nrows)
{
	struct store_user_ctx	 cx = { cb, arg };

	return sqlite_rows(st, q, store_user_one, &cx, nrows, "users");
}

int
sqlite_user_add(struct store *st, const char *local, const char *domain,
    const char *name, int64_t *idp)
{
	sqlite3_stmt	*q;
	int		 rc = -1;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_USER_ADD,
	    "INSERT INTO users (localpart, domain, name, created) "
	    "VALUES (?1, ?2, ?3, ?4)")) == NULL)
		return -1;
	sqlite_bind_user(q, local, domain);
	sqlite3_bind_text(q, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, store_now());
	if (sqlite3_step(q) == SQLITE_DONE) {
		if (idp != NULL)
			*idp = sqlite3_last_insert_rowid(sqlite_db(st));
		store_ok(st);
		rc = 0;
	} else if (sqlite_dberr(st, "user add") == -1 &&
	    st->errcode == STORE_E_EXISTS)
		store_fail(st, STORE_E_EXISTS, "user %s@%s already exists",
		    local, domain);
	sqlite3_reset(q);
	return rc;
}

int
sqlite_user_del(struct store *st, const char *local, const char *domain)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_USER_DEL,
	    "DELETE FROM users WHERE domain = ?2 AND localpart = ?1")) == NULL)
		return -1;
	sqlite_bind_user(q, local, domain);
	return sqlite_wchange(st, q, NULL, "user del",
	    "no user %s@%s", local, domain);
}

int
sqlite_user_get_id(struct store *st, int64_t id, store_user_cb cb, void *arg)
{
	sqlite3_stmt	*q;
	int		 n;

	if ((q = sqlite_q(st, Q_USER_GET_ID, "SELECT " USER_COLS " FROM users "
	    "WHERE id = ?1")) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	if (store_user_rows(st, q, cb, arg, &n) == -1)
		return -1;
	if (n == 0)
		return store_fail(st, STORE_E_NOTFOUND, "no user with id %lld",
		    (long long)id);
	store_ok(st);
	return 0;
}

int
sqlite_user_get(struct store *st, const char *local, const char *domain,
    store_user_cb cb, void *arg)
{
	sqlite3_stmt	*q;
	int		 n;

	if ((q = sqlite_q(st, Q_USER_GET, "SELECT " USER_COLS " FROM users "
	    "WHERE domain = ?2 AND localpart = ?1")) == NULL)
		return -1;
	sqlite_bind_user(q, local, domain);
	if (store_user_rows(st, q, cb, arg, &n) == -1)
		return -1;
	if (n == 0)
		return store_fail(st, STORE_E_NOTFOUND, "no user %s@%s",
		    local, domain);
	store_ok(st);
	return 0;
}

int
sqlite_user_find(struct store *st, const char *local, const char *domain,
    int64_t *idp)
{
	sqlite3_stmt	*q;
	int		 rc;

	if ((q = sqlite_q(st, Q_USER_FIND, "SELECT id FROM users "
	    "WHERE domain = ?2 AND localpart = ?1")) == NULL)
		return -1;
	sqlite_bind_user(q, local, domain);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		if (idp != NULL)
			*idp = sqlite3_column_int64(q, 0);
		rc = 1;
	} else if (rc == SQLITE_DONE)
		rc = 0;
	else
		rc = sqlite_dberr(st, "user find");
	sqlite3_reset(q);
	if (rc != -1)
		store_ok(st);
	return rc;
}

int
sqlite_user_list(struct store *st, const char *domain, store_user_cb cb,
    void *arg)
{
	sqlite3_stmt	*q;
	int		 n;

	if (domain != NULL) {
		if ((q = sqlite_q(st, Q_USER_LIST_DOMAIN, "SELECT " USER_COLS
		    " FROM users WHERE domain = ?1 ORDER BY localpart")) == NULL)
			return -1;
		sqlite3_bind_text(q, 1, domain, -1, SQLITE_STATIC);
	} else if ((q = sqlite_q(st, Q_USER_LIST, "SELECT " USER_COLS
	    " FROM users ORDER BY domain, localpart")) == NULL)
		return -1;
	if (store_user_rows(st, q, cb, arg, &n) == -1)
		return -1;
	store_ok(st);
	return 0;
}

int
sqlite_user_update(struct store *st, const struct store_user *u)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_USER_UPDATE,
	    "UPDATE users SET name = ?2, nickname = ?3, email = ?4, url = ?5, "
	    "note = ?6, avatar = ?7, avatar_type = ?8, disabled = ?9 "
	    "WHERE id = ?1")) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, u->id);
	sqlite3_bind_text(q, 2, u->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, u->nickname, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, u->email, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, u->url, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 6, u->note, -1, SQLITE_STATIC);
	if (u->avatar != NULL)
		sqlite3_bind_blob64(q, 7, u->avatar, u->avatar_len,
		    SQLITE_STATIC);
	else
		sqlite3_bind_null(q, 7);
	sqlite3_bind_text(q, 8, u->avatar_type, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 9, u->disabled != 0);
	return sqlite_wchange(st, q, NULL, "user update",
	    "no user with id %lld", (long long)u->id);
}

int
sqlite_presence_set(struct store *st, const char *local, const char *domain,
    enum store_show show, const char *status, int priority)
{
	sqlite3_stmt	*q;

	if (priority < -128 || priority > 127)
		return store_fail(st, STORE_E_INVALID, "priority %d is not "
		    "between -128 and 127", priority);
	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_PRES_SET,
	    "INSERT INTO presence (user_id, show, status, priority, updated) "
	    "SELECT id, ?3, ?4, ?5, ?6 FROM users "
	    "WHERE domain = ?2 AND localpart = ?1 "
	    "ON CONFLICT (user_id) DO UPDATE SET show = excluded.show, "
	    "status = excluded.status, priority = excluded.priority, "
	    "updated = excluded.updated")) == NULL)
		return -1;
	sqlite_bind_user(q, local, domain);
	sqlite3_bind_text(q, 3, store_show_name(show), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, status, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 5, priority);
	sqlite3_bind_int64(q, 6, store_now());
	return sqlite_wchange(st, q, NULL, "presence set",
	    "no user %s@%s", local, domain);
}

int
sqlite_presence_get(struct store *st, const char *local, const char *domain,
    struct store_presence *p)
{
	sqlite3_stmt	*q;
	const char	*s;
	int		 rc;

	if ((q = sqlite_q(st, Q_PRES_GET, "SELECT p.show, p.status, "
	    "p.priority, p.updated FROM users u "
	    "LEFT JOIN presence p ON p.user_id = u.id "
	    "WHERE u.domain = ?2 AND u.localpart = ?1")) == NULL)
		return -1;
	sqlite_bind_user(q, local, domain);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		memset(p, 0, sizeof(*p));
		p->show = STORE_SHOW_UNAVAILABLE;
		if (sqlite3_column_type(q, 0) != SQLITE_NULL) {
			store_show_parse(STORE_COL_TEXT(q, 0), &p->show);
			p->priority = sqlite3_column_int(q, 2);
			p->updated = sqlite3_column_int64(q, 3);
		}
		free(sqlite_st(st)->scratch);
		sqlite_st(st)->scratch = NULL;
		if ((s = STORE_COL_TEXT(q, 1)) != NULL)
			sqlite_st(st)->scratch = xstrdup(s);
		p->status = sqlite_st(st)->scratch;
		rc = 0;
	} else if (rc == SQLITE_DONE)
		rc = store_fail(st, STORE_E_NOTFOUND, "no user %s@%s", local,
		    domain);
	else
		rc = sqlite_dberr(st, "presence get");
	sqlite3_reset(q);
	if (rc == 0)
		store_ok(st);
	return rc;
}
