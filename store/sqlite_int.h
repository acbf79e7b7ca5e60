/*
 * store/sqlite_int.h: what the SQLite backend's files share and nobody
 * else sees: struct store, the statement cache, the write-transaction
 * helpers and error reporting. Declared here, defined in sqlite.c.
 */
#ifndef STORE_SQLITE_INT_H
#define STORE_SQLITE_INT_H

#include <sqlite3.h>

#include "store.h"

/* One slot per statement; each is prepared on first use and reused. */
enum store_q {
	Q_BEGIN,
	Q_COMMIT,
	Q_ROLLBACK,
	Q_USER_ADD,
	Q_USER_DEL,
	Q_USER_GET,
	Q_USER_GET_ID,
	Q_USER_FIND,
	Q_USER_LIST,
	Q_USER_LIST_DOMAIN,
	Q_USER_UPDATE,
	Q_PRES_SET,
	Q_PRES_GET,
	Q_SUB_GET,
	Q_SUB_LIST,
	Q_SUB_PUT,
	Q_SUB_DROP,
	Q_RPRES_PUT,
	Q_RPRES_DEL,
	Q_RPRES_DEL_ALL,
	Q_RPRES_LIST,
	Q_INBOX_PUT,
	Q_INBOX_LIST,
	Q_INBOX_LIST_USER,
	Q_INBOX_CONSUME,
	Q_INBOX_LAST,
	Q_RECEIPTS_DUE,
	Q_RECEIPT_SENT,
	Q_OUTBOX_ADD,
	Q_OUTBOX_GET,
	Q_OUTBOX_LIST,
	Q_OUTBOX_LIST_USER,
	Q_OUTBOX_DUE,
	Q_OUTBOX_SENT,
	Q_OUTBOX_DELIVERED,
	Q_OUTBOX_RETRY,
	Q_OUTBOX_FAILED,
	Q_OUTBOX_QUEUED,
	Q_DIRECTED_ADD,
	Q_DIRECTED_LIST,
	Q_DIRECTED_DEL,
	Q_DIRECTED_DEL_ALL,
	Q_DEPARTED_LIST,
	Q_DEPARTED_DEL,
	Q_STATE_GET,
	Q_STATE_SET,
	Q_DATA_VERSION,
	Q_CHANGES_MAX,
	Q_CHANGES_AFTER,
	Q_CHANGES_PRUNE,
	Q_TOKEN_ADD,
	Q_TOKEN_FIND,
	Q_TOKEN_LIST,
	Q_TOKEN_REVOKE,
	Q_TOKEN_USED,
	Q_EVENT_LIST,
	Q_EVENT_LAST,
	Q_EVENT_FIRST,
	Q_EVENT_COUNT,
	Q_EVENT_PRUNE,
	Q_WEBHOOK_ENSURE,
	Q_WEBHOOK_GET,
	Q_WEBHOOK_LIST,
	Q_WEBHOOK_DONE,
	Q_WEBHOOK_FAIL,
	Q_WEBHOOK_ADD,
	Q_WEBHOOK_DEL,
	Q_INBOX_GET,
	Q_INBOX_ACK,
	Q_RPRES_GET,
	Q_OUTBOX_COUNTS,
	Q_OUTBOX_OLDEST,
	Q_INBOX_UNCONSUMED_ALL,
	Q_RULE_SET,
	Q_RULE_DEL,
	Q_RULE_LIST,
	Q_BLOCK_ADD,
	Q_BLOCK_DEL,
	Q_BLOCK_LIST,
	Q_BLOCK_LIST_USER,
	Q_INBOX_UNCONSUMED,
	Q_INBOX_PRUNE,
	Q_OUTBOX_PRUNE,
	Q_COUNT
};

enum store_txn {
	STORE_TXN_NONE = 0,
	STORE_TXN_BATCH,	/* opened by a write, closed by store_flush() */
	STORE_TXN_EXPLICIT,	/* store_begin() .. store_commit() */
};

#define STORE_BUSY_TIMEOUT_MS	5000

struct store_ckpt;

struct store {
	sqlite3		*db;
	char		*path;
	sqlite3_stmt	*q[Q_COUNT];
	enum store_txn	 txn;
	void		(*batch_cb)(void *);
	void		*batch_arg;
	enum store_err	 errcode;
	char		 err[512];
	int64_t		 data_version;	/* last PRAGMA data_version seen */
	int64_t		 last_seq;	/* last journal row reported */
	char		*scratch;	/* a string lent until the next call */
	struct store_ckpt *ckpt;	/* checkpoint.c, the daemon's only */
	struct store_stats stats;	/* store_stats() */
};

/* The statement for slot id, prepared from sql on first use; NULL (with
 * the error set) when it does not prepare. */
sqlite3_stmt	*store_q(struct store *, enum store_q id, const char *sql);
/* Before a write: opens a batch when no transaction is open. */
int		 store_wbegin(struct store *);
/* Sets the error and returns -1. */
int		 store_fail(struct store *, enum store_err, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
/* Sets the error from the connection's last SQLite error, classifying
 * constraint failures; notices a transaction SQLite rolled back itself.
 * Returns -1. */
int		 store_dberr(struct store *, const char *what);
void		 store_ok(struct store *);
/* Steps q to the end, calling row(q, arg) for each row until it returns
 * non-zero; resets q. Counts rows in *nrows when not NULL. */
int		 store_rows(struct store *, sqlite3_stmt *q,
		    int (*row)(sqlite3_stmt *, void *), void *arg, int *nrows,
		    const char *what);
/* Steps q, which yields one row, and reads its first column into *vp;
 * resets q. */
int		 store_value(struct store *, sqlite3_stmt *q, int64_t *vp,
		    const char *what);
/* Steps the write q to its end and resets it; sets the error and
 * returns -1 when it fails. */
int		 store_wstep(struct store *, sqlite3_stmt *q, const char *what);
/* The same, with the number of rows it changed in *np (when not NULL). */
int		 store_wcount(struct store *, sqlite3_stmt *q, int64_t *np,
		    const char *what);
/* The same for a write that must change a row: when it changes none, it
 * fails with STORE_E_NOTFOUND and the message fmt. On success *idp, when
 * not NULL, is the id of the row inserted. */
int		 store_wchange(struct store *, sqlite3_stmt *q, int64_t *idp,
		    const char *what, const char *fmt, ...)
		    __attribute__((format(printf, 5, 6)));
int64_t		 store_now(void);
/* The id of the user bound as ?1 (localpart) and ?2 (domain). */
#define USER_WHERE	"(SELECT id FROM users WHERE domain = ?2 AND localpart = ?1)"

/* notify.c: where the first store_changes_poll() starts. */
int		 store_notify_init(struct store *);

/*
 * access.c: before SQLite opens path. check: 0, or -1 with err naming the
 * owner, mode and fix when this user may not read or write the file (or
 * make -wal/-shm in its directory). create: makes a missing file with the
 * store's mode (flags: STORE_OPEN_GROUP_WRITE); 1 when it made one. fix:
 * sets that mode on the file, -wal and -shm where this user owns them.
 */
int		 store_access_check(const char *path, int flags, char *err,
		    size_t errsz);
int		 store_access_create(const char *path, int flags, char *err,
		    size_t errsz);
void		 store_access_fix(const char *path, int flags);
unsigned int	 store_access_mode(int flags);

/* schema.c */
/* The SQL of migration step i (version i -> i + 1), or NULL; for tests
 * that build a file of an older version. */
const char	*store_schema_step(int i);
int		 store_schema_open(struct store *, int flags, char *err,
		    size_t errsz);

#define STORE_COL_TEXT(q, i)	((const char *)sqlite3_column_text((q), (i)))

/* Binds the user a per-user statement names: ?1 the localpart, ?2 the
 * domain. */
static inline void
store_bind_user(sqlite3_stmt *q, const char *local, const char *domain)
{
	sqlite3_bind_text(q, 1, local, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, domain, -1, SQLITE_STATIC);
}

#endif
