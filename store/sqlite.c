/*
 * store/sqlite.c: the SQLite connection: open and close, the statement
 * cache, transactions and write batching, error reporting. The schema and
 * its migrations are schema.c's; each group of tables has its own file
 * (sqlite_user.c, sqlite_sub.c, sqlite_msg.c), the change journal is
 * notify.c's.
 *
 * Batching: the first write outside an explicit transaction opens one
 * (BEGIN IMMEDIATE) and calls the batch callback; store_flush() commits
 * it. In WAL mode with synchronous=NORMAL a commit is an append to the
 * WAL with no fsync; the WAL is synced at checkpoints. A clean close
 * commits the batch; a crash loses at most the uncommitted batch (and,
 * on power loss, the commits since the last checkpoint).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "sqlite_int.h"
#include "store.h"
#include "xmalloc.h"


static char	 store_open_err[700];

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

static int
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
store_dberr(struct store *st, const char *what)
{
	int		 xc = sqlite3_extended_errcode(st->db);
	enum store_err	 code = STORE_E_DB;

	switch (xc) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		code = STORE_E_EXISTS;
		break;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		code = STORE_E_NOTFOUND;
		break;
	case SQLITE_CONSTRAINT_CHECK:
	case SQLITE_CONSTRAINT_NOTNULL:
	case SQLITE_TOOBIG:
	case SQLITE_MISMATCH:
	case SQLITE_RANGE:
		code = STORE_E_INVALID;
		break;
	}
	store_fail(st, code, "%s: %s", what, sqlite3_errmsg(st->db));
	if (code == STORE_E_DB)
		st->stats.failures++;
	/* Some errors (I/O, full disk) end the transaction in SQLite. */
	if (st->txn != STORE_TXN_NONE && sqlite3_get_autocommit(st->db)) {
		if (st->txn == STORE_TXN_BATCH)	/* the daemon says more */
			log_debug("store: batch rolled back: %s", st->err);
		st->txn = STORE_TXN_NONE;
	}
	return -1;
}

sqlite3_stmt *
store_q(struct store *st, enum store_q id, const char *sql)
{
	if (st->q[id] == NULL &&
	    sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    &st->q[id], NULL) != SQLITE_OK) {
		store_dberr(st, "prepare");
		st->q[id] = NULL;
		return NULL;
	}
	return st->q[id];
}

int
store_rows(struct store *st, sqlite3_stmt *q,
    int (*row)(sqlite3_stmt *, void *), void *arg, int *nrows,
    const char *what)
{
	int	 rc, n = 0;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		n++;
		if (row(q, arg) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		store_dberr(st, what);
	else
		store_ok(st);
	sqlite3_reset(q);
	if (nrows != NULL)
		*nrows = n;
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int
store_value(struct store *st, sqlite3_stmt *q, int64_t *vp, const char *what)
{
	int	 rc;

	if ((rc = sqlite3_step(q)) == SQLITE_ROW)
		*vp = sqlite3_column_int64(q, 0);
	else
		store_dberr(st, what);
	sqlite3_reset(q);
	return rc == SQLITE_ROW ? 0 : -1;
}

int
store_wstep(struct store *st, sqlite3_stmt *q, const char *what)
{
	int	 rc = -1;

	if (sqlite3_step(q) != SQLITE_DONE)
		store_dberr(st, what);
	else {
		store_ok(st);
		rc = 0;
	}
	sqlite3_reset(q);
	return rc;
}

int
store_wcount(struct store *st, sqlite3_stmt *q, int64_t *np, const char *what)
{
	if (store_wstep(st, q, what) == -1)
		return -1;
	if (np != NULL)
		*np = sqlite3_changes(st->db);
	return 0;
}

int
store_wchange(struct store *st, sqlite3_stmt *q, int64_t *idp,
    const char *what, const char *fmt, ...)
{
	va_list	 ap;
	int	 rc = -1;

	if (sqlite3_step(q) != SQLITE_DONE)
		store_dberr(st, what);
	else if (sqlite3_changes(st->db) == 0) {
		va_start(ap, fmt);
		store_vfail(st, STORE_E_NOTFOUND, fmt, ap);
		va_end(ap);
	} else {
		if (idp != NULL)
			*idp = sqlite3_last_insert_rowid(st->db);
		store_ok(st);
		rc = 0;
	}
	sqlite3_reset(q);
	return rc;
}

/* Runs a cached statement that returns no rows. */
static int
store_exec_q(struct store *st, enum store_q id, const char *sql,
    const char *what)
{
	sqlite3_stmt	*q;
	int		 rc;

	if ((q = store_q(st, id, sql)) == NULL)
		return -1;
	rc = sqlite3_step(q);
	if (rc != SQLITE_DONE)
		store_dberr(st, what);
	sqlite3_reset(q);
	return rc == SQLITE_DONE ? 0 : -1;
}

struct store *
store_open(const char *path, int flags, const char **errstr)
{
	struct store	*st;
	size_t		 i;
	int		 oflags, rc, created = 0, persist;

	st = xcalloc(1, sizeof(*st));
	st->path = xstrdup(path);
	if (store_access_check(path, flags, store_open_err,
	    sizeof(store_open_err)) == -1)
		goto fail;
	if ((flags & STORE_OPEN_CREATE) && (created = store_access_create(path,
	    flags, store_open_err, sizeof(store_open_err))) == -1)
		goto fail;
	oflags = (flags & STORE_OPEN_READONLY ? SQLITE_OPEN_READONLY :
	    SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX;
	if (flags & STORE_OPEN_CREATE)
		oflags |= SQLITE_OPEN_CREATE;
	rc = sqlite3_open_v2(path, &st->db, oflags, NULL);
	if (rc != SQLITE_OK) {
		if (rc == SQLITE_CANTOPEN && st->db != NULL &&
		    sqlite3_system_errno(st->db) != 0)
			snprintf(store_open_err, sizeof(store_open_err),
			    "%s: cannot open: %s", path,
			    strerror(sqlite3_system_errno(st->db)));
		else
			snprintf(store_open_err, sizeof(store_open_err),
			    "%s: %s", path, st->db ? sqlite3_errmsg(st->db) :
			    sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);
	/*
	 * -wal and -shm stay when the last connection closes: a native system
	 * in xfed's group then writes the store without write access to the
	 * directory (store_group_write; CONTRACT.md "Access").
	 */
	persist = 1;
	sqlite3_file_control(st->db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
	if (store_schema_open(st, flags, store_open_err,
	    sizeof(store_open_err)) == -1)
		goto fail;
	if (store_notify_init(st) == -1) {
		snprintf(store_open_err, sizeof(store_open_err), "%s: %s",
		    path, st->err);
		goto fail;
	}
	if (!(flags & STORE_OPEN_READONLY))
		store_access_fix(path, flags);
	store_ok(st);
	return st;
 fail:
	*errstr = store_open_err;
	for (i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(st->q[i]);
	sqlite3_close(st->db);
	if (created == 1)		/* nothing left behind by a failed open */
		unlink(path);
	free(st->path);
	free(st);
	return NULL;
}

void
store_close(struct store *st)
{
	sqlite3_stmt	*q = NULL;
	size_t		 i;

	if (st == NULL)
		return;
	if (st->txn == STORE_TXN_BATCH && store_flush(st) == -1)
		log_warnx("store: %s", st->err);
	else if (st->txn == STORE_TXN_EXPLICIT)
		store_rollback(st);
	store_checkpoint_stop(st);
	for (i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(st->q[i]);
	/* the kept -wal is emptied at close: a file copied over the store
	 * without it (a restored backup) meets no stale frames */
	if (sqlite3_prepare_v2(st->db, "PRAGMA journal_size_limit = 0", -1, &q,
	    NULL) == SQLITE_OK)
		sqlite3_step(q);
	sqlite3_finalize(q);
	if (sqlite3_close(st->db) != SQLITE_OK)
		log_warnx("store: close %s: %s", st->path,
		    sqlite3_errmsg(st->db));
	free(st->scratch);
	free(st->path);
	free(st);
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

static int
store_begin_txn(struct store *st, enum store_txn kind)
{
	if (store_exec_q(st, Q_BEGIN, "BEGIN IMMEDIATE", "begin") == -1)
		return -1;
	st->txn = kind;
	return 0;
}

int
store_wbegin(struct store *st)
{
	st->stats.writes++;
	if (st->txn != STORE_TXN_NONE)
		return 0;
	if (store_begin_txn(st, STORE_TXN_BATCH) == -1)
		return -1;
	if (st->batch_cb != NULL)
		st->batch_cb(st->batch_arg);
	return 0;
}

int
store_begin(struct store *st)
{
	if (st->txn == STORE_TXN_EXPLICIT)
		return store_fail(st, STORE_E_DB, "begin: a transaction is "
		    "already open");
	if (st->txn == STORE_TXN_BATCH && store_flush(st) == -1)
		return -1;
	return store_begin_txn(st, STORE_TXN_EXPLICIT);
}

static int
store_end(struct store *st)
{
	if (store_exec_q(st, Q_COMMIT, "COMMIT", "commit") == -1) {
		if (!sqlite3_get_autocommit(st->db))
			store_exec_q(st, Q_ROLLBACK, "ROLLBACK", "rollback");
		st->txn = STORE_TXN_NONE;
		return -1;
	}
	st->txn = STORE_TXN_NONE;
	return 0;
}

int
store_commit(struct store *st)
{
	if (st->txn != STORE_TXN_EXPLICIT)
		return store_fail(st, STORE_E_DB, "commit: no transaction");
	return store_end(st);
}

int
store_rollback(struct store *st)
{
	int	 rc = 0;

	if (st->txn == STORE_TXN_NONE)
		return 0;
	if (!sqlite3_get_autocommit(st->db))
		rc = store_exec_q(st, Q_ROLLBACK, "ROLLBACK", "rollback");
	st->txn = STORE_TXN_NONE;
	return rc;
}

int
store_flush(struct store *st)
{
	int	 rc;

	if (st->txn != STORE_TXN_BATCH)
		return 0;
	if ((rc = store_end(st)) == 0)
		st->stats.commits++;
	return rc;
}

void
store_stats(const struct store *st, struct store_stats *s)
{
	*s = st->stats;
}

int
store_pending(const struct store *st)
{
	return st->txn == STORE_TXN_BATCH;
}

void
store_busy_timeout(struct store *st, int wait)
{
	sqlite3_busy_timeout(st->db, wait ? STORE_BUSY_TIMEOUT_MS : 0);
}

void
store_counts(const struct store *st, uint64_t *writes, uint64_t *dberrs)
{
	*writes = st->stats.writes;
	*dberrs = st->stats.failures;
}

void
store_set_batch_cb(struct store *st, void (*cb)(void *), void *arg)
{
	st->batch_cb = cb;
	st->batch_arg = arg;
}

int
store_state_get(struct store *st, const char *key, char **valuep)
{
	sqlite3_stmt	*q;
	int		 rc;

	if ((q = store_q(st, Q_STATE_GET,
	    "SELECT value FROM s2s_state WHERE key = ?1")) == NULL)
		return -1;
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*valuep = xstrdup(STORE_COL_TEXT(q, 0));
		rc = 0;
	} else if (rc == SQLITE_DONE)
		rc = store_fail(st, STORE_E_NOTFOUND, "%s: not set", key);
	else
		rc = store_dberr(st, "state get");
	sqlite3_reset(q);
	if (rc == 0)
		store_ok(st);
	return rc;
}

int
store_state_set(struct store *st, const char *key, const char *value)
{
	sqlite3_stmt	*q;

	if (store_wbegin(st) == -1 || (q = store_q(st, Q_STATE_SET,
	    "INSERT INTO s2s_state (key, value, updated) VALUES (?1, ?2, ?3) "
	    "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
	    "updated = excluded.updated")) == NULL)
		return -1;
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, value, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, store_now());
	return store_wstep(st, q, "state set");
}
