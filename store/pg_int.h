/*
 * store/pg_int.h: what the PostgreSQL backend's files share and nobody
 * else sees: struct pg_store, the statement table, parameters, the
 * write helpers and error reporting. Defined in pg.c.
 */
#ifndef STORE_PG_INT_H
#define STORE_PG_INT_H

#include <libpq-fe.h>

#include "backend.h"
#include "store.h"

/* One slot per statement; each is prepared once per connection. */
enum pg_q {
	PQ_USER_ADD,
	PQ_USER_DEL,
	PQ_USER_GET,
	PQ_USER_GET_ID,
	PQ_USER_FIND,
	PQ_USER_LIST,
	PQ_USER_LIST_DOMAIN,
	PQ_USER_UPDATE,
	PQ_PRES_SET,
	PQ_PRES_GET,
	PQ_SUB_GET,
	PQ_SUB_LIST,
	PQ_SUB_PUT,
	PQ_SUB_DROP,
	PQ_RPRES_PUT,
	PQ_RPRES_DEL,
	PQ_RPRES_DEL_ALL,
	PQ_RPRES_LIST,
	PQ_RPRES_GET,
	PQ_INBOX_PUT,
	PQ_INBOX_LIST,
	PQ_INBOX_LIST_USER,
	PQ_INBOX_GET,
	PQ_INBOX_CONSUME,
	PQ_INBOX_LAST,
	PQ_INBOX_ACK,
	PQ_INBOX_UNCONSUMED,
	PQ_INBOX_UNCONSUMED_ALL,
	PQ_INBOX_PRUNE,
	PQ_RECEIPTS_DUE,
	PQ_RECEIPT_SENT,
	PQ_OUTBOX_ADD,
	PQ_OUTBOX_GET,
	PQ_OUTBOX_LIST,
	PQ_OUTBOX_LIST_USER,
	PQ_OUTBOX_DUE,
	PQ_OUTBOX_SENT,
	PQ_OUTBOX_DELIVERED,
	PQ_OUTBOX_RETRY,
	PQ_OUTBOX_FAILED,
	PQ_OUTBOX_QUEUED,
	PQ_OUTBOX_COUNTS,
	PQ_OUTBOX_OLDEST,
	PQ_OUTBOX_PRUNE,
	PQ_DIRECTED_ADD,
	PQ_DIRECTED_LIST,
	PQ_DIRECTED_DEL,
	PQ_DIRECTED_DEL_ALL,
	PQ_DEPARTED_LIST,
	PQ_DEPARTED_DEL,
	PQ_STATE_GET,
	PQ_STATE_SET,
	PQ_CHANGES_MAX,
	PQ_CHANGES_AFTER,
	PQ_CHANGES_PRUNE,
	PQ_RULE_SET,
	PQ_RULE_DEL,
	PQ_RULE_LIST,
	PQ_BLOCK_ADD,
	PQ_BLOCK_DEL,
	PQ_BLOCK_LIST,
	PQ_BLOCK_LIST_USER,
	PQ_TOKEN_ADD,
	PQ_TOKEN_FIND,
	PQ_TOKEN_LIST,
	PQ_TOKEN_REVOKE,
	PQ_TOKEN_USED,
	PQ_EVENT_LIST,
	PQ_EVENT_LAST,
	PQ_EVENT_COUNT,
	PQ_EVENT_PRUNE,
	PQ_WEBHOOK_ENSURE,
	PQ_WEBHOOK_GET,
	PQ_WEBHOOK_LIST,
	PQ_WEBHOOK_DONE,
	PQ_WEBHOOK_FAIL,
	PQ_WEBHOOK_ADD,
	PQ_EVENT_FIRST,
	PQ_WEBHOOK_DEL,
	PQ_RPRES_STRANGERS,
	PQ_RPRES_STRANGERS_ALL,
	PQ_OUTBOX_EARLIER,
	PQ_OUTBOX_EARLIER_U,
	PQ_DEPARTED_OWE,
	PQ_STATE_INIT,
	PQ_INSTANCE_BEAT,
	PQ_INSTANCE_DEL,
	PQ_INSTANCE_LIST,
	PQ_LEASE_WANTED,
	PQ_LEASE_CLAIM,
	PQ_LEASE_TAKE,
	PQ_LEASE_RENEW,
	PQ_LEASE_RELEASE,
	PQ_LEASE_LIST,
	PQ_OUTBOX_DUE_HELD,
	PQ_INBOX_PUT_MANY,
	PQ_OUTBOX_SENT_MANY,
	PQ_OUTBOX_DELIVERED_MANY,
	PQ_COUNT
};


/* The channel the journal's trigger notifies (CONTRACT.md). */
#define PG_CHANNEL		"xfed_changes"
/* Reconnection: at most one attempt per backoff, doubling to the max. */
#define PG_BACKOFF_MIN_MS	100
#define PG_BACKOFF_MAX_MS	5000

struct pg_later;

struct pg_store {
	struct store	 base;		/* first: backend.h */
	PGconn		*conn;
	char		 prepared[PQ_COUNT];	/* on this connection */
	int64_t		 last_seq;	/* last journal row reported */
	int		 notified;	/* a NOTIFY arrived since the last poll */
	char		*scratch;	/* a string lent until the next call */
	unsigned char	*blob;		/* an unescaped bytea, same */
	int64_t		 retry_at_ms;	/* no reconnection before (monotonic) */
	int		 backoff_ms;
	int		 lock_wait;	/* store_busy_timeout(): 5 s, else 10 ms */
	int		 epfd;		/* store_watch_fd(): the socket + wake */
	int		 wakefd;	/* an eventfd: a NOTIFY read by a query */
	int		 watched;	/* the socket in epfd, -1 when none */
	struct pg_later	**later;	/* pg_write_later() rows not sent yet */
	size_t		 nlater, later_cap;
	int		 later_begin;	/* the batch's BEGIN goes with them */
	/* pg_flush_async(): the commit in flight and its outcome */
	struct pg_later	**fly;		/* its rows */
	size_t		 nfly;
	int		 flying;	/* sent, its results not all read */
	int		 need_reset;	/* left mid-pipeline: reconnect */
	int		 fly_done;	/* 1 committed, -1 failed: not yet told */
	enum store_err	 fly_code;
	char		*fly_err;
	PGresult	*fly_res[5];	/* BEGIN SAVEPOINT rows RELEASE COMMIT */
	int		 fly_nres;
	int		 told_later;	/* refusals wait in told, not told */
	struct pg_later	**told;
	size_t		 ntold;
};

#define PG(st)	((struct pg_store *)(st))
#define PGC(st)	((const struct pg_store *)(st))

/* Parameters of one statement, all sent as text except bytea (binary). */
#define PG_MAXP	16
struct pg_params {
	int		 n;
	const char	*v[PG_MAXP];
	int		 len[PG_MAXP];
	int		 fmt[PG_MAXP];
	char		 num[PG_MAXP][24];
};

void	 pgp_text(struct pg_params *, const char *);	/* NULL: NULL */
void	 pgp_int(struct pg_params *, int64_t);
void	 pgp_bytes(struct pg_params *, const void *, size_t);

/* Sets the error and returns -1. */
int	 pg_fail(struct pg_store *, enum store_err, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	 pg_ok(struct pg_store *);
int64_t	 pg_now(void);

/*
 * A read: runs statement id (sql, prepared on first use on this
 * connection) with p; the result (PGRES_TUPLES_OK) or NULL with the
 * error set. The caller PQclear()s it.
 */
PGresult *pg_read(struct pg_store *, enum pg_q id, const char *sql,
	    struct pg_params *p, const char *what);
/*
 * A write: joins the open transaction or opens a batch (calling the
 * batch callback), and runs statement id inside a savepoint, so that a
 * refused row (a constraint) does not abort the transaction: BEGIN,
 * SAVEPOINT, the statement and RELEASE go in one pipeline, one round
 * trip. *np gets the rows changed (when not NULL); -1 with the error
 * set (constraints classified like SQLite's) on failure.
 */
int	 pg_write(struct pg_store *, enum pg_q id, const char *sql,
	    struct pg_params *p, int64_t *np, const char *what);
/* The same, for an INSERT .. RETURNING id: *idp gets it (0 when no row
 * was inserted, *np then 0). */
int	 pg_write_id(struct pg_store *, enum pg_q id, const char *sql,
	    struct pg_params *p, int64_t *np, int64_t *idp, const char *what);
/*
 * A write whose refusal the caller takes later (store_inbox_put_later()):
 * p (text parameters only) is copied and queued; the queue goes out at
 * the next read, write or flush in pipelines (pg.c). many_sql (or NULL)
 * stores a whole pipeline's rows in one statement: its parameter j is a
 * text[] of the rows' parameters j, the last the number of rows, and it
 * must fail unless it stores them all. A row that changes nothing is
 * refused with STORE_E_NOTFOUND and nouser; one the database refuses
 * fails alone, with its error. -1 only when the queue cannot be sent.
 */
int	 pg_write_later(struct pg_store *, enum pg_q id, const char *sql,
	    enum pg_q many_id, const char *many_sql, struct pg_params *p,
	    store_refused_cb, void *arg, const char *what, const char *nouser);
/* pg_write that must change a row, else STORE_E_NOTFOUND with fmt. */
int	 pg_wchange(struct pg_store *, enum pg_q id, const char *sql,
	    struct pg_params *p, int64_t *idp, const char *what,
	    const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* A read of one integer (column 0 of row 0) into *vp. */
int	 pg_value(struct pg_store *, enum pg_q id, const char *sql,
	    struct pg_params *p, int64_t *vp, const char *what);

/* Column helpers: NULL for SQL NULL; integers 0 for NULL. */
const char	*pg_col(const PGresult *, int row, int col);
int64_t		 pg_int(const PGresult *, int row, int col);

/* Rows of r to row(r, i, arg) until it returns non-zero; clears r. */
int	 pg_rows(struct pg_store *, PGresult *r,
	    int (*row)(PGresult *, int, void *), void *arg, int *nrows);

/*
 * A read of the row whose id is $1 of sql (statement q) to row(r, i, ctx);
 * no such row is STORE_E_NOTFOUND "no WHAT ID". table names the read in
 * errors.
 */
int	 pg_get_one(struct pg_store *, enum pg_q q, const char *sql,
	    int64_t id, int (*row)(PGresult *, int, void *), void *ctx,
	    const char *table, const char *what);

/* The database's clock in Unix seconds: leases and heartbeats of
 * instances on several hosts compare one clock. */
#define PG_DBNOW	"floor(extract(epoch FROM clock_timestamp()))::bigint"
/* The domain of an outbox row's to_jid: before any '/', after any '@',
 * in lower case without a trailing dot (as server/lease.c names it). */
#define PG_TO_DOMAIN_COL \
	"lower(rtrim(split_part(split_part(to_jid, '/', 1), '@', -1), '.'))"
#define PG_TO_DOMAIN \
	"lower(rtrim(split_part(split_part(o.to_jid, '/', 1), '@', -1), '.'))"

/* The id of the user whose localpart is $1 and domain $2. */
#define PG_USER_WHERE \
	"(SELECT id FROM users WHERE domain = $2 AND localpart = $1)"

/* pg_schema.c: creates or migrates the schema; -1 with err set. */
int	 pg_schema_open(struct pg_store *, int flags, char *err, size_t errsz);
int	 pg_schema_version(struct pg_store *, int *vp, char *err,
	    size_t errsz);
/* The SQL of PostgreSQL migration step i, or NULL (for tests). */
const char *pg_schema_step(int i);

/*
 * The batch's commit without waiting for it (store_flush_async()): 1 when
 * sent, 0 when committed already (not eligible: done as pg_flush()), -1
 * with the error set. pg_flush_poll() reads its outcome: 0 while in
 * flight, 1 committed, -1 failed (the error set). Any other call on the
 * connection first waits for the commit in flight.
 */
int	 pg_flush_async(struct store *);
int	 pg_flush_poll(struct store *, int wait);
int	 pg_flush_fd(struct store *);

/* pg.c: what pg_misc.c needs. */
int	 pg_connected(struct pg_store *);
/* pg_misc.c */
int	 pg_notify_init(struct pg_store *);
/* Keeps epfd on the connection's current socket (none when it is bad). */
void	 pg_watch_sync(struct pg_store *);
/* After a query: NOTIFYs libpq read meanwhile make epfd readable. */
void	 pg_notices(struct pg_store *);

#endif
