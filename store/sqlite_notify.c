/*
 * store/sqlite_notify.c: noticing changes other processes commit (xfedctl,
 * the native system, the sqlite3 shell). Triggers (sqlite_schema.c)
 * journal them in the changes table; PRAGMA data_version tells, without
 * I/O, whether any other connection committed since the last look, so a
 * timer can ask often and the journal is read only when something
 * happened. Acting on
 * a change (and the timer) is the daemon's.
 */
#include <string.h>

#include <sqlite3.h>

#include "sqlite_int.h"
#include "store.h"

int
sqlite_changed(struct store *st)
{
	sqlite3_stmt	*q;
	int64_t		 v;

	if ((q = sqlite_q(st, Q_DATA_VERSION, "PRAGMA data_version")) == NULL ||
	    sqlite_value(st, q, &v, "data_version") == -1)
		return -1;
	if (v == sqlite_st(st)->data_version)
		return 0;
	sqlite_st(st)->data_version = v;
	return 1;
}

/* SQLite has nothing to wait on: the caller asks sqlite_changed() on a
 * timer. */
int
sqlite_watch_fd(struct store *st)
{
	return -1;
}

/* At open: later polls report what happens from now on. */
int
sqlite_notify_init(struct store *st)
{
	sqlite3_stmt	*q;

	if (sqlite_changed(st) == -1 || (q = sqlite_q(st, Q_CHANGES_MAX,
	    "SELECT coalesce(max(seq), 0) FROM changes")) == NULL)
		return -1;
	return sqlite_value(st, q, &sqlite_st(st)->last_seq, "changes");
}

struct store_change_ctx {
	struct store	*st;
	store_change_cb	 cb;
	void		*arg;
};

static int
store_change_one(sqlite3_stmt *q, void *arg)
{
	struct store_change_ctx	*cx = arg;
	struct store_change	 c;
	const char		*tbl = STORE_COL_TEXT(q, 1);
	const char		*op = STORE_COL_TEXT(q, 3);

	memset(&c, 0, sizeof(c));
	c.seq = sqlite3_column_int64(q, 0);
	sqlite_st(cx->st)->last_seq = c.seq;
	if (tbl == NULL || op == NULL)
		return 0;
	if (strcmp(tbl, "users") == 0)
		c.table = STORE_T_USERS;
	else if (strcmp(tbl, "presence") == 0)
		c.table = STORE_T_PRESENCE;
	else if (strcmp(tbl, "outbox") == 0)
		c.table = STORE_T_OUTBOX;
	else if (strcmp(tbl, "domain_rules") == 0)
		c.table = STORE_T_DOMAIN_RULES;
	else if (strcmp(tbl, "blocks") == 0)
		c.table = STORE_T_BLOCKS;
	else
		return 0;
	c.row_id = sqlite3_column_int64(q, 2);
	c.deleted = strcmp(op, "delete") == 0;
	c.at = sqlite3_column_int64(q, 4);
	cx->cb(cx->arg, &c);
	return 0;
}

int
sqlite_changes_poll(struct store *st, store_change_cb cb, void *arg)
{
	struct store_change_ctx	 cx = { st, cb, arg };
	sqlite3_stmt		*q;
	int			 rc, n;

	if ((rc = sqlite_changed(st)) <= 0)
		return rc;
	if ((q = sqlite_q(st, Q_CHANGES_AFTER, "SELECT seq, tbl, row_id, op, "
	    "at FROM changes WHERE seq > ?1 ORDER BY seq")) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, sqlite_st(st)->last_seq);
	if (sqlite_rows(st, q, store_change_one, &cx, &n, "changes") == -1)
		return -1;
	return n;
}

int
sqlite_changes_prune(struct store *st, int64_t before, int limit, int64_t *np)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_CHANGES_PRUNE,
	    "DELETE FROM changes WHERE seq IN (SELECT seq FROM changes "
	    "WHERE seq <= ?1 AND at < ?2 ORDER BY seq LIMIT ?3)")) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, sqlite_st(st)->last_seq);
	sqlite3_bind_int64(q, 2, before);
	sqlite3_bind_int(q, 3, limit);
	return sqlite_wcount(st, q, np, "changes prune");
}
