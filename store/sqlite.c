/*
 * store/sqlite.c: the SQLite backend (backend.h): open and close, the
 * statement cache, transactions and write batching, error reporting, and
 * sqlite_ops, its table of operations. The schema and its migrations are
 * sqlite_schema.c's; each group of tables has its own file
 * (sqlite_user.c, sqlite_sub.c, sqlite_msg.c...), the change journal is
 * sqlite_notify.c's, file access sqlite_access.c's, checkpoints
 * sqlite_ckpt.c's.
 *
 * Batching: the first write outside an explicit transaction opens one
 * (BEGIN IMMEDIATE) and calls the batch callback; sqlite_flush() commits
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

int
sqlite_dberr(struct store *st, const char *what)
{
	int		 xc = sqlite3_extended_errcode(sqlite_db(st));
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
	store_fail(st, code, "%s: %s", what, sqlite3_errmsg(sqlite_db(st)));
	if (code == STORE_E_DB)
		st->stats.failures++;
	/* Some errors (I/O, full disk) end the transaction in SQLite. */
	if (st->txn != STORE_TXN_NONE &&
	    sqlite3_get_autocommit(sqlite_db(st))) {
		if (st->txn == STORE_TXN_BATCH)	/* the daemon says more */
			log_debug("store: batch rolled back: %s", st->err);
		st->txn = STORE_TXN_NONE;
	}
	return -1;
}

sqlite3_stmt *
sqlite_q(struct store *st, enum sqlite_q id, const char *sql)
{
	sqlite3_stmt	**q = &sqlite_st(st)->q[id];

	if (*q == NULL && sqlite3_prepare_v3(sqlite_db(st), sql, -1,
	    SQLITE_PREPARE_PERSISTENT, q, NULL) != SQLITE_OK) {
		sqlite_dberr(st, "prepare");
		*q = NULL;
		return NULL;
	}
	return *q;
}

int
sqlite_rows(struct store *st, sqlite3_stmt *q,
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
		sqlite_dberr(st, what);
	else
		store_ok(st);
	sqlite3_reset(q);
	if (nrows != NULL)
		*nrows = n;
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int
sqlite_value(struct store *st, sqlite3_stmt *q, int64_t *vp, const char *what)
{
	int	 rc;

	if ((rc = sqlite3_step(q)) == SQLITE_ROW)
		*vp = sqlite3_column_int64(q, 0);
	else
		sqlite_dberr(st, what);
	sqlite3_reset(q);
	return rc == SQLITE_ROW ? 0 : -1;
}

int
sqlite_wstep(struct store *st, sqlite3_stmt *q, const char *what)
{
	int	 rc = -1;

	if (sqlite3_step(q) != SQLITE_DONE)
		sqlite_dberr(st, what);
	else {
		store_ok(st);
		rc = 0;
	}
	sqlite3_reset(q);
	return rc;
}

int
sqlite_wcount(struct store *st, sqlite3_stmt *q, int64_t *np, const char *what)
{
	if (sqlite_wstep(st, q, what) == -1)
		return -1;
	if (np != NULL)
		*np = sqlite3_changes(sqlite_db(st));
	return 0;
}

int
sqlite_wchange(struct store *st, sqlite3_stmt *q, int64_t *idp,
    const char *what, const char *fmt, ...)
{
	va_list	 ap;
	int	 rc = -1;

	if (sqlite3_step(q) != SQLITE_DONE)
		sqlite_dberr(st, what);
	else if (sqlite3_changes(sqlite_db(st)) == 0) {
		va_start(ap, fmt);
		store_vfail(st, STORE_E_NOTFOUND, fmt, ap);
		va_end(ap);
	} else {
		if (idp != NULL)
			*idp = sqlite3_last_insert_rowid(sqlite_db(st));
		store_ok(st);
		rc = 0;
	}
	sqlite3_reset(q);
	return rc;
}

/* Runs a cached statement that returns no rows. */
static int
sqlite_exec_q(struct store *st, enum sqlite_q id, const char *sql,
    const char *what)
{
	sqlite3_stmt	*q;
	int		 rc;

	if ((q = sqlite_q(st, id, sql)) == NULL)
		return -1;
	rc = sqlite3_step(q);
	if (rc != SQLITE_DONE)
		sqlite_dberr(st, what);
	sqlite3_reset(q);
	return rc == SQLITE_DONE ? 0 : -1;
}

struct store *
store_sqlite_open(const char *path, int flags, const char **errstr)
{
	struct sqlite_store	*sl;
	struct store		*st;
	size_t			 i;
	int			 oflags, rc, created = 0, persist;

	sl = xcalloc(1, sizeof(*sl));
	st = &sl->base;
	st->ops = &sqlite_ops;
	st->location = xstrdup(path);
	st->flags = flags;
	sl->lockfd = -1;
	if (sqlite_access_check(path, flags, store_open_err,
	    sizeof(store_open_err)) == -1)
		goto fail;
	if ((flags & STORE_OPEN_CREATE) && (created = sqlite_access_create(path,
	    flags, store_open_err, sizeof(store_open_err))) == -1)
		goto fail;
	if ((flags & STORE_OPEN_LOCK) && (sl->lockfd = sqlite_lock_take(path,
	    store_open_err, sizeof(store_open_err))) == -1)
		goto fail;
	oflags = (flags & STORE_OPEN_READONLY ? SQLITE_OPEN_READONLY :
	    SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX;
	if (flags & STORE_OPEN_CREATE)
		oflags |= SQLITE_OPEN_CREATE;
	rc = sqlite3_open_v2(path, &sl->db, oflags, NULL);
	if (rc != SQLITE_OK) {
		if (rc == SQLITE_CANTOPEN && sl->db != NULL &&
		    sqlite3_system_errno(sl->db) != 0)
			snprintf(store_open_err, sizeof(store_open_err),
			    "%s: cannot open: %s", path,
			    strerror(sqlite3_system_errno(sl->db)));
		else
			snprintf(store_open_err, sizeof(store_open_err),
			    "%s: %s", path, sl->db ? sqlite3_errmsg(sl->db) :
			    sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(sl->db, 1);
	sqlite3_busy_timeout(sl->db, STORE_BUSY_TIMEOUT_MS);
	/*
	 * -wal and -shm stay when the last connection closes: a native system
	 * in xfed's group then writes the store without write access to the
	 * directory (store_group_write; CONTRACT.md "Access").
	 */
	persist = 1;
	sqlite3_file_control(sl->db, "main", SQLITE_FCNTL_PERSIST_WAL,
	    &persist);
	if (sqlite_schema_open(st, flags, store_open_err,
	    sizeof(store_open_err)) == -1)
		goto fail;
	if (sqlite_notify_init(st) == -1) {
		snprintf(store_open_err, sizeof(store_open_err), "%s: %s",
		    path, st->err);
		goto fail;
	}
	if (!(flags & STORE_OPEN_READONLY))
		sqlite_access_fix(path, flags);
	store_ok(st);
	return st;
 fail:
	*errstr = store_open_err;
	for (i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(sl->q[i]);
	sqlite3_close(sl->db);
	if (sl->lockfd != -1)
		close(sl->lockfd);
	if (created == 1)		/* nothing left behind by a failed open */
		unlink(path);
	free(st->location);
	free(sl);
	return NULL;
}

void
sqlite_close(struct store *st)
{
	struct sqlite_store	*sl = sqlite_st(st);
	sqlite3_stmt		*q = NULL;
	size_t			 i;

	if (st->txn == STORE_TXN_BATCH && sqlite_flush(st) == -1)
		log_warnx("store: %s", st->err);
	else if (st->txn == STORE_TXN_EXPLICIT)
		sqlite_rollback(st);
	sqlite_checkpoint_stop(st);
	for (i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(sl->q[i]);
	/* the kept -wal is emptied at close: a file copied over the store
	 * without it (a restored backup) meets no stale frames */
	if (sqlite3_prepare_v2(sl->db, "PRAGMA journal_size_limit = 0", -1,
	    &q, NULL) == SQLITE_OK)
		sqlite3_step(q);
	sqlite3_finalize(q);
	if (sqlite3_close(sl->db) != SQLITE_OK)
		log_warnx("store: close %s: %s", st->location,
		    sqlite3_errmsg(sl->db));
	if (sl->lockfd != -1)		/* after SQLite's fds: sqlite_lock.c */
		close(sl->lockfd);
	sqlite_watch_free(st);
	free(sl->scratch);
	free(st->location);
	free(sl);
}

static int
sqlite_begin_txn(struct store *st, enum store_txn kind)
{
	if (sqlite_exec_q(st, Q_BEGIN, "BEGIN IMMEDIATE", "begin") == -1)
		return -1;
	st->txn = kind;
	return 0;
}

/* Opens the batch for store_batch_write(). */
static int
sqlite_begin_batch(struct store *st)
{
	return sqlite_exec_q(st, Q_BEGIN, "BEGIN IMMEDIATE", "begin");
}

int
sqlite_wbegin(struct store *st)
{
	return store_batch_write(st, sqlite_begin_batch);
}

int
sqlite_begin(struct store *st)
{
	if (st->txn == STORE_TXN_EXPLICIT)
		return store_fail(st, STORE_E_DB, "begin: a transaction is "
		    "already open");
	if (st->txn == STORE_TXN_BATCH && sqlite_flush(st) == -1)
		return -1;
	return sqlite_begin_txn(st, STORE_TXN_EXPLICIT);
}

static int
sqlite_end(struct store *st)
{
	if (sqlite_exec_q(st, Q_COMMIT, "COMMIT", "commit") == -1) {
		if (!sqlite3_get_autocommit(sqlite_db(st)))
			sqlite_exec_q(st, Q_ROLLBACK, "ROLLBACK", "rollback");
		st->txn = STORE_TXN_NONE;
		return -1;
	}
	st->txn = STORE_TXN_NONE;
	return 0;
}

int
sqlite_commit(struct store *st)
{
	if (st->txn != STORE_TXN_EXPLICIT)
		return store_fail(st, STORE_E_DB, "commit: no transaction");
	return sqlite_end(st);
}

int
sqlite_rollback(struct store *st)
{
	int	 rc = 0;

	if (st->txn == STORE_TXN_NONE)
		return 0;
	if (!sqlite3_get_autocommit(sqlite_db(st)))
		rc = sqlite_exec_q(st, Q_ROLLBACK, "ROLLBACK", "rollback");
	st->txn = STORE_TXN_NONE;
	return rc;
}

int
sqlite_flush(struct store *st)
{
	int	 rc;

	if (st->txn != STORE_TXN_BATCH)
		return 0;
	if ((rc = sqlite_end(st)) == 0)
		st->stats.commits++;
	return rc;
}

void
sqlite_busy_timeout(struct store *st, int wait)
{
	sqlite3_busy_timeout(sqlite_db(st), wait ? STORE_BUSY_TIMEOUT_MS : 0);
}

int
sqlite_state_get(struct store *st, const char *key, char **valuep)
{
	sqlite3_stmt	*q;
	int		 rc;

	if ((q = sqlite_q(st, Q_STATE_GET,
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
		rc = sqlite_dberr(st, "state get");
	sqlite3_reset(q);
	if (rc == 0)
		store_ok(st);
	return rc;
}

int
sqlite_state_set(struct store *st, const char *key, const char *value)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_STATE_SET,
	    "INSERT INTO s2s_state (key, value, updated) VALUES (?1, ?2, ?3) "
	    "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
	    "updated = excluded.updated")) == NULL)
		return -1;
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, value, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, store_now());
	return sqlite_wstep(st, q, "state set");
}

const struct store_ops sqlite_ops = {
	.name = "sqlite",
	.shared = 0,		/* one daemon per file (sqlite_lock.c) */
	.close = sqlite_close,
	.version = sqlite_version,
	.checkpoint_start = sqlite_checkpoint_start,
	.checkpoint_stop = sqlite_checkpoint_stop,
	.begin = sqlite_begin,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.flush = sqlite_flush,
	.busy_timeout = sqlite_busy_timeout,
	.state_get = sqlite_state_get,
	.state_set = sqlite_state_set,
	.state_init = sqlite_state_init,
	.instance_beat = sqlite_instance_beat,
	.instance_del = sqlite_instance_del,
	.instance_list = sqlite_instance_list,
	.lease_claim = sqlite_lease_claim,
	.lease_take = sqlite_lease_take,
	.lease_renew = sqlite_lease_renew,
	.lease_release = sqlite_lease_release,
	.lease_list = sqlite_lease_list,
	.outbox_due_held = sqlite_outbox_due_held,
	.user_add = sqlite_user_add,
	.user_del = sqlite_user_del,
	.user_get = sqlite_user_get,
	.user_get_id = sqlite_user_get_id,
	.user_find = sqlite_user_find,
	.user_list = sqlite_user_list,
	.user_update = sqlite_user_update,
	.presence_set = sqlite_presence_set,
	.presence_get = sqlite_presence_get,
	.sub_get = sqlite_sub_get,
	.sub_list = sqlite_sub_list,
	.sub_put = sqlite_sub_put,
	.rpres_put = sqlite_rpres_put,
	.rpres_del = sqlite_rpres_del,
	.rpres_strangers = sqlite_rpres_strangers,
	.rpres_list = sqlite_rpres_list,
	.rpres_get = sqlite_rpres_get,
	.inbox_put = sqlite_inbox_put,
	.inbox_list = sqlite_inbox_list,
	.inbox_consume = sqlite_inbox_consume,
	.receipts_due = sqlite_receipts_due,
	.receipt_sent = sqlite_receipt_sent,
	.inbox_last = sqlite_inbox_last,
	.inbox_get = sqlite_inbox_get,
	.inbox_ack = sqlite_inbox_ack,
	.inbox_unconsumed = sqlite_inbox_unconsumed,
	.inbox_prune = sqlite_inbox_prune,
	.inbox_unconsumed_all = sqlite_inbox_unconsumed_all,
	.outbox_add = sqlite_outbox_add,
	.outbox_get = sqlite_outbox_get,
	.outbox_list = sqlite_outbox_list,
	.outbox_due = sqlite_outbox_due,
	.outbox_sent = sqlite_outbox_sent,
	.outbox_delivered = sqlite_outbox_delivered,
	.outbox_retry = sqlite_outbox_retry,
	.outbox_failed = sqlite_outbox_failed,
	.outbox_earlier = sqlite_outbox_earlier,
	.outbox_queued = sqlite_outbox_queued,
	.outbox_prune = sqlite_outbox_prune,
	.outbox_counts = sqlite_outbox_counts,
	.outbox_oldest = sqlite_outbox_oldest,
	.directed_add = sqlite_directed_add,
	.directed_list = sqlite_directed_list,
	.directed_del = sqlite_directed_del,
	.departed_list = sqlite_departed_list,
	.departed_owe = sqlite_departed_owe,
	.departed_del = sqlite_departed_del,
	.domain_rule_set = sqlite_domain_rule_set,
	.domain_rule_del = sqlite_domain_rule_del,
	.domain_rule_list = sqlite_domain_rule_list,
	.block_add = sqlite_block_add,
	.block_del = sqlite_block_del,
	.block_list = sqlite_block_list,
	.changes_poll = sqlite_changes_poll,
	.changed = sqlite_changed,
	.watch_fd = sqlite_watch_fd,
	.changes_prune = sqlite_changes_prune,
	.token_add = sqlite_token_add,
	.token_find = sqlite_token_find,
	.token_list = sqlite_token_list,
	.token_revoke = sqlite_token_revoke,
	.token_used = sqlite_token_used,
	.event_list = sqlite_event_list,
	.event_last = sqlite_event_last,
	.event_first = sqlite_event_first,
	.event_count = sqlite_event_count,
	.event_prune = sqlite_event_prune,
	.events_journal = sqlite_events_journal,
	.webhook_open = sqlite_webhook_open,
	.webhook_list = sqlite_webhook_list,
	.webhook_add = sqlite_webhook_add,
	.webhook_delete = sqlite_webhook_delete,
	.webhook_forget = sqlite_webhook_forget,
	.webhook_done = sqlite_webhook_done,
	.webhook_fail = sqlite_webhook_fail,
};
