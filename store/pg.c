/*
 * store/pg.c: the PostgreSQL connection (libpq): open and close,
 * reconnection with backoff, prepared statements, transactions and write
 * batching, error reporting. The schema is pg_schema.c's; each group of
 * tables has its own file (pg_user.c, pg_msg.c, pg_misc.c).
 *
 * Batching, as on SQLite: the first write outside an explicit transaction
 * sends BEGIN and calls the batch callback; store_flush() commits. Every
 * write runs in a savepoint so that a refused row (unique, check) fails
 * alone, as a failed statement does in SQLite, instead of aborting the
 * whole batch; BEGIN (when it opens the batch), SAVEPOINT, the statement
 * and RELEASE go in one pipeline (PQenterPipelineMode), one round trip.
 * Inbound rows (pg_write_later()) do not wait for a round trip each: they
 * are queued, and go out as one pipeline per 256 rows when the batch
 * commits (with COMMIT in the last one) or before any other statement:
 * SAVEPOINT, the rows, RELEASE. When a row is refused there, the
 * pipeline is undone to the savepoint and its rows run again one by one,
 * each in its own savepoint, so the refused one fails alone.
 * The daemon's commit of such a batch need not wait (pg_flush_async()):
 * it goes out on the non-blocking socket and its answer is read when it
 * comes, while the next batch's rows queue. Reads, other writes and
 * other commits are synchronous (PQexecPrepared), each first waiting for
 * a commit in flight. A lost connection fails the
 * open transaction (the daemon keeps its batch in memory and retries);
 * the next call reconnects, at most once per backoff (100 ms doubling to
 * 5 s), and prepares its statements again.
 */
#include "config.h"

#ifdef HAVE_LIBPQ

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "log.h"
#include "pg_int.h"
#include "pg_store.h"
#include "store.h"
#include "xmalloc.h"

static char	 pg_open_err[700];

int64_t
pg_now(void)
{
	return (int64_t)time(NULL);
}

static int64_t
pg_mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
pg_ok(struct pg_store *ps)
{
	store_ok(&ps->base);
}

static int
pg_vfail(struct pg_store *ps, enum store_err code, const char *fmt,
    va_list ap)
{
	char	*p;

	ps->base.errcode = code;
	vsnprintf(ps->base.err, sizeof(ps->base.err), fmt, ap);
	/* one line: libpq's messages end in a newline, some span two */
	for (p = ps->base.err; *p != '\0'; p++)
		if (*p == '\n')
			*p = ' ';
	while (p > ps->base.err && p[-1] == ' ')
		*--p = '\0';
	return -1;
}

int
pg_fail(struct pg_store *ps, enum store_err code, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	pg_vfail(ps, code, fmt, ap);
	va_end(ap);
	return -1;
}

/* The store error of a failed result, by its SQLSTATE. */
static int
pg_dberr(struct pg_store *ps, const PGresult *r, const char *what)
{
	const char	*state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char	*msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)
			    : NULL;
	enum store_err	 code = STORE_E_DB;

	if (state == NULL)
		state = "";
	if (strcmp(state, "23505") == 0)		/* unique_violation */
		code = STORE_E_EXISTS;
	else if (strcmp(state, "23503") == 0)	/* foreign_key_violation */
		code = STORE_E_NOTFOUND;
	else if (strcmp(state, "23514") == 0 ||	/* check_violation */
	    strcmp(state, "23502") == 0 ||	/* not_null_violation */
	    strncmp(state, "22", 2) == 0)	/* data exception */
		code = STORE_E_INVALID;
	if (msg == NULL)
		msg = PQerrorMessage(ps->conn);
	pg_fail(ps, code, "%s: %s", what, msg);
	if (code == STORE_E_DB)
		ps->base.stats.failures++;
	if (PQstatus(ps->conn) != CONNECTION_OK ||
	    PQtransactionStatus(ps->conn) == PQTRANS_IDLE) {
		if (ps->base.txn == STORE_TXN_BATCH)	/* the daemon says more */
			log_debug("store: batch lost: %s", ps->base.err);
		ps->base.txn = STORE_TXN_NONE;
	}
	return -1;
}

void
pgp_text(struct pg_params *p, const char *s)
{
	p->v[p->n] = s;
	p->len[p->n] = 0;
	p->fmt[p->n] = 0;
	p->n++;
}

void
pgp_int(struct pg_params *p, int64_t v)
{
	snprintf(p->num[p->n], sizeof(p->num[p->n]), "%lld", (long long)v);
	pgp_text(p, p->num[p->n]);
}

void
pgp_bytes(struct pg_params *p, const void *b, size_t len)
{
	p->v[p->n] = b;
	p->len[p->n] = (int)len;
	p->fmt[p->n] = 1;
	p->n++;
}

const char *
pg_col(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

int64_t
pg_int(const PGresult *r, int row, int col)
{
	const char	*s = PQgetvalue(r, row, col);

	if (PQgetisnull(r, row, col))
		return 0;
	if (*s == 't')		/* a boolean */
		return 1;
	if (*s == 'f')
		return 0;
	return strtoll(s, NULL, 10);
}

/* LISTEN on the journal's channel (a new connection listens again). */
static int
pg_listen(struct pg_store *ps)
{
	PGresult	*r;
	int		 rc = 0;

	r = PQexec(ps->conn, "LISTEN " PG_CHANNEL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = pg_dberr(ps, r, "listen");
	PQclear(r);
	return rc;
}

static int	pg_lock_timeout(struct pg_store *);
static int	pg_later_drain(struct pg_store *);
static void	pg_pipe_end(struct pg_store *);
static int	pg_later_send(struct pg_store *, int);
static void	pg_later_free(struct pg_store *, struct pg_later **, size_t,
		    int);
static void	pg_fly_wait(struct pg_store *);
static void	pg_fly_abort(struct pg_store *, const char *);

int
pg_connected(struct pg_store *ps)
{
	int64_t	 now;

	if (PQstatus(ps->conn) == CONNECTION_OK && !ps->need_reset)
		return 0;
	/* a reset ends the commit in flight, as failed: its answer would
	 * never come on the new connection */
	if (ps->flying)
		pg_fly_abort(ps, "the connection to PostgreSQL was lost");
	/*
	 * Every failure here is a database failure the caller counts
	 * (store_counts()): the daemon keeps what it was writing. A
	 * reconnect that succeeds with no transaction open lost nothing and
	 * is not one. An open transaction died with the connection: say so
	 * once, before any new connection could take writes into a batch
	 * that lacks the first.
	 */
	ps->base.stats.failures++;
	if (ps->base.txn != STORE_TXN_NONE) {
		ps->base.txn = STORE_TXN_NONE;
		return pg_fail(ps, STORE_E_DB, "PostgreSQL: the connection was "
		    "lost; its open transaction was not stored");
	}
	now = pg_mono_ms();
	if (now < ps->retry_at_ms)
		return pg_fail(ps, STORE_E_DB, "PostgreSQL: not connected, "
		    "next attempt in %lld ms", (long long)(ps->retry_at_ms -
		    now));
	ps->need_reset = 0;
	PQreset(ps->conn);
	PQsetnonblocking(ps->conn, 0);
	if (PQstatus(ps->conn) != CONNECTION_OK) {
		ps->backoff_ms = ps->backoff_ms ? ps->backoff_ms * 2 :
		    PG_BACKOFF_MIN_MS;
		if (ps->backoff_ms > PG_BACKOFF_MAX_MS)
			ps->backoff_ms = PG_BACKOFF_MAX_MS;
		ps->retry_at_ms = now + ps->backoff_ms;
		return pg_fail(ps, STORE_E_DB, "PostgreSQL: reconnect: %s",
		    PQerrorMessage(ps->conn));
	}
	log_info("store: reconnected to PostgreSQL");
	ps->backoff_ms = 0;
	ps->retry_at_ms = 0;
	memset(ps->prepared, 0, sizeof(ps->prepared));
	ps->notified = 1;	/* read the journal: NOTIFYs were missed */
	if (pg_lock_timeout(ps) == -1 || pg_listen(ps) == -1)
		return -1;
	ps->base.stats.failures--;
	return 0;
}

static void
pg_qname(enum pg_q id, char *buf, size_t sz)
{
	snprintf(buf, sz, "xfed_q%d", (int)id);
}

static int
pg_prepare(struct pg_store *ps, enum pg_q id, const char *sql)
{
	PGresult	*r;
	char		 name[32];
	int		 rc = 0;

	if (ps->prepared[id])
		return 0;
	pg_qname(id, name, sizeof(name));
	r = PQprepare(ps->conn, name, sql, 0, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = pg_dberr(ps, r, "prepare");
	else
		ps->prepared[id] = 1;
	PQclear(r);
	return rc;
}

PGresult *
pg_read(struct pg_store *ps, enum pg_q id, const char *sql,
    struct pg_params *p, const char *what)
{
	PGresult	*r;
	char		 name[32];

	if (pg_later_drain(ps) == -1 || pg_connected(ps) == -1 ||
	    pg_prepare(ps, id, sql) == -1)
		return NULL;
	pg_qname(id, name, sizeof(name));
	r = PQexecPrepared(ps->conn, name, p ? p->n : 0, p ? p->v : NULL,
	    p ? p->len : NULL, p ? p->fmt : NULL, 0);
	pg_notices(ps);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		pg_dberr(ps, r, what);
		PQclear(r);
		/* a failed read aborts an open transaction */
		if (ps->base.txn != STORE_TXN_NONE &&
		    PQtransactionStatus(ps->conn) == PQTRANS_INERROR) {
			PQclear(PQexec(ps->conn, "ROLLBACK"));
			ps->base.txn = STORE_TXN_NONE;
		}
		return NULL;
	}
	pg_ok(ps);
	return r;
}

int
pg_rows(struct pg_store *ps, PGresult *r, int (*row)(PGresult *, int, void *),
    void *arg, int *nrows)
{
	int	 i, n = PQntuples(r);

	for (i = 0; i < n; i++)
		if (row(r, i, arg) != 0)
			break;
	PQclear(r);
	if (nrows != NULL)
		*nrows = i < n ? i + 1 : n;
	pg_ok(ps);
	return 0;
}

int
pg_get_one(struct pg_store *ps, enum pg_q q, const char *sql, int64_t id,
    int (*row)(PGresult *, int, void *), void *ctx, const char *table,
    const char *what)
{
	struct pg_params p = { 0 };
	PGresult	*r;
	int		 n;

	pgp_int(&p, id);
	if ((r = pg_read(ps, q, sql, &p, table)) == NULL ||
	    pg_rows(ps, r, row, ctx, &n) == -1)
		return -1;
	if (n == 0)
		return pg_fail(ps, STORE_E_NOTFOUND, "no %s %lld", what,
		    (long long)id);
	return 0;
}

int
pg_value(struct pg_store *ps, enum pg_q id, const char *sql,
    struct pg_params *p, int64_t *vp, const char *what)
{
	PGresult	*r;

	if ((r = pg_read(ps, id, sql, p, what)) == NULL)
		return -1;
	if (PQntuples(r) < 1) {
		PQclear(r);
		return pg_fail(ps, STORE_E_DB, "%s: no row", what);
	}
	*vp = pg_int(r, 0, 0);
	PQclear(r);
	return 0;
}

/* The results of a pipeline of n queries then a sync: res[i] is query
 * i's (NULL when none came); 0 when the sync came back. */
static int
pg_pipe_results(struct pg_store *ps, PGresult **res, int n)
{
	PGresult	*r;
	int		 i;

	for (i = 0; i < n; i++) {
		res[i] = NULL;
		while ((r = PQgetResult(ps->conn)) != NULL) {
			if (res[i] == NULL)
				res[i] = r;
			else
				PQclear(r);
		}
		if (res[i] == NULL)
			return -1;
	}
	/* the sync */
	if ((r = PQgetResult(ps->conn)) == NULL)
		return -1;
	i = PQresultStatus(r) == PGRES_PIPELINE_SYNC ? 0 : -1;
	PQclear(r);
	return i;
}

static int
pg_send(PGconn *c, const char *sql)
{
	return PQsendQueryParams(c, sql, 0, NULL, NULL, NULL, NULL, 0);
}

/* Runs statement id as a write; its result in *rp (caller clears). */
static int
pg_wrun(struct pg_store *ps, enum pg_q id, const char *sql,
    struct pg_params *p, PGresult **rp, const char *what)
{
	PGresult	*res[4] = { NULL, NULL, NULL, NULL };
	char		 name[32];
	int		 opening, n, i, st, rc = -1;

	*rp = NULL;
	pg_fly_wait(ps);
	if (pg_connected(ps) == -1 || pg_prepare(ps, id, sql) == -1)
		return -1;
	ps->base.stats.writes++;
	opening = ps->base.txn == STORE_TXN_NONE;
	pg_qname(id, name, sizeof(name));
	if (PQenterPipelineMode(ps->conn) != 1) {
		ps->base.stats.failures++;
		return pg_fail(ps, STORE_E_DB, "%s: pipeline: %s", what,
		    PQerrorMessage(ps->conn));
	}
	n = 0;
	if ((opening && (n++, pg_send(ps->conn, "BEGIN") != 1)) ||
	    (n++, pg_send(ps->conn, "SAVEPOINT xfed_w") != 1) ||
	    (n++, PQsendQueryPrepared(ps->conn, name, p->n, p->v, p->len,
	    p->fmt, 0) != 1) ||
	    (n++, pg_send(ps->conn, "RELEASE xfed_w") != 1) ||
	    PQpipelineSync(ps->conn) != 1) {
		pg_fail(ps, STORE_E_DB, "%s: send: %s", what,
		    PQerrorMessage(ps->conn));
		ps->base.stats.failures++;
		PQexitPipelineMode(ps->conn);
		if (!opening && PQstatus(ps->conn) != CONNECTION_OK)
			ps->base.txn = STORE_TXN_NONE;
		return -1;
	}
	n = pg_pipe_results(ps, res, n);
	pg_notices(ps);
	if (n == -1) {
		pg_dberr(ps, NULL, what);
		ps->base.txn = STORE_TXN_NONE;
		goto done;
	}
	PQexitPipelineMode(ps->conn);
	if (opening) {
		if (PQresultStatus(res[0]) != PGRES_COMMAND_OK) {
			pg_dberr(ps, res[0], what);
			goto done;
		}
		ps->base.txn = STORE_TXN_BATCH;
		if (ps->base.batch_cb != NULL)
			ps->base.batch_cb(ps->base.batch_arg);
	}
	i = opening ? 2 : 1;
	st = PQresultStatus(res[i]);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		pg_dberr(ps, res[i], what);
		/* the statement alone is undone; the transaction goes on */
		if (PQtransactionStatus(ps->conn) == PQTRANS_INERROR) {
			PGresult *r = PQexec(ps->conn,
			    "ROLLBACK TO SAVEPOINT xfed_w");

			if (PQresultStatus(r) != PGRES_COMMAND_OK)
				ps->base.txn = STORE_TXN_NONE;
			PQclear(r);
		}
		goto done;
	}
	if (PQresultStatus(res[i + 1]) != PGRES_COMMAND_OK) {
		pg_dberr(ps, res[i + 1], what);
		goto done;
	}
	*rp = res[i];
	res[i] = NULL;
	pg_ok(ps);
	rc = 0;
 done:
	pg_pipe_end(ps);
	for (i = 0; i < 4; i++)
		PQclear(res[i]);
	return rc;
}

int
pg_write_id(struct pg_store *ps, enum pg_q id, const char *sql,
    struct pg_params *p, int64_t *np, int64_t *idp, const char *what)
{
	PGresult	*r;

	if (pg_later_drain(ps) == -1 || pg_wrun(ps, id, sql, p, &r,
	    what) == -1)
		return -1;
	if (np != NULL)
		*np = strtoll(PQcmdTuples(r), NULL, 10);
	if (idp != NULL)
		*idp = PQntuples(r) > 0 ? pg_int(r, 0, 0) : 0;
	PQclear(r);
	return 0;
}

int
pg_write(struct pg_store *ps, enum pg_q id, const char *sql,
    struct pg_params *p, int64_t *np, const char *what)
{
	return pg_write_id(ps, id, sql, p, np, NULL, what);
}

int
pg_wchange(struct pg_store *ps, enum pg_q id, const char *sql,
    struct pg_params *p, int64_t *idp, const char *what, const char *fmt, ...)
{
	va_list	 ap;
	int64_t	 n;

	if (pg_write_id(ps, id, sql, p, &n, idp, what) == -1)
		return -1;
	if (n == 0) {
		va_start(ap, fmt);
		pg_vfail(ps, STORE_E_NOTFOUND, fmt, ap);
		va_end(ap);
		return -1;
	}
	return 0;
}

/* A statement of transaction control, synchronous. */
static int
pg_txn_exec(struct pg_store *ps, const char *sql, const char *what)
{
	PGresult	*r;
	int		 rc = 0;

	pg_fly_wait(ps);
	r = PQexec(ps->conn, sql);
	pg_notices(ps);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = pg_dberr(ps, r, what);
	else
		pg_ok(ps);
	PQclear(r);
	return rc;
}

/*
 * The rows pg_write_later() queues. Each is one allocation: the
 * parameters, copied into buf, and, once sent, the outcome its caller is
 * told (refused != 0: code and why).
 */
struct pg_later {
	struct pg_params p;
	enum pg_q	 id, many_id;
	const char	*sql, *what;	/* static strings */
	const char	*many_sql;	/* all rows in one, or NULL */
	const char	*nouser;	/* in buf */
	store_refused_cb cb;
	void		*arg;
	int		 refused;
	enum store_err	 code;
	char		*why;
	char		 buf[];
};

#define PG_LATER_CHUNK	256	/* rows per pipeline: its results fit the
				   socket buffers, so blocking I/O cannot
				   deadlock */

int
pg_write_later(struct pg_store *ps, enum pg_q id, const char *sql,
    enum pg_q many_id, const char *many_sql, struct pg_params *p,
    store_refused_cb cb, void *arg, const char *what, const char *nouser)
{
	struct pg_later	*l;
	size_t		 len = strlen(nouser) + 1, n;
	int64_t		 rows;
	char		*b;
	int		 i;

	if (ps->base.txn == STORE_TXN_EXPLICIT) {
		/* an explicit transaction: its caller reads as it goes */
		if (pg_write_id(ps, id, sql, p, &rows, NULL,
		    what) == -1) {
			if (ps->base.errcode == STORE_E_DB)
				return -1;
			cb(arg, ps->base.errcode, ps->base.err);
		} else if (rows == 0)
			cb(arg, STORE_E_NOTFOUND, nouser);
		return 0;
	}
	for (i = 0; i < p->n; i++)
		if (p->v[i] != NULL && p->v[i] != p->num[i])
			len += p->fmt[i] ? (size_t)p->len[i] :
			    strlen(p->v[i]) + 1;
	l = xcalloc(1, sizeof(*l) + len);
	l->p = *p;
	b = l->buf;
	for (i = 0; i < p->n; i++) {
		if (p->v[i] == NULL)
			continue;
		if (p->v[i] == p->num[i]) {
			l->p.v[i] = l->p.num[i];
			continue;
		}
		n = p->fmt[i] ? (size_t)p->len[i] : strlen(p->v[i]) + 1;
		memcpy(b, p->v[i], n);
		l->p.v[i] = b;
		b += n;
	}
	memcpy(b, nouser, strlen(nouser) + 1);
	l->nouser = b;
	l->id = id;
	l->sql = sql;
	l->many_id = many_id;
	l->many_sql = many_sql;
	l->what = what;
	l->cb = cb;
	l->arg = arg;
	if (ps->base.txn == STORE_TXN_NONE) {
		/* while a commit is in flight the socket is its: checked
		 * when these rows go out */
		if (!ps->flying && pg_connected(ps) == -1) {
			free(l);
			return -1;
		}
		/* BEGIN goes with the rows: the batch is open from here */
		ps->base.txn = STORE_TXN_BATCH;
		ps->later_begin = 1;
		if (ps->base.batch_cb != NULL)
			ps->base.batch_cb(ps->base.batch_arg);
	}
	if (ps->nlater == ps->later_cap) {
		ps->later_cap = ps->later_cap ? ps->later_cap * 2 : 256;
		ps->later = xreallocarray(ps->later, ps->later_cap,
		    sizeof(*ps->later));
	}
	ps->later[ps->nlater++] = l;
	ps->base.stats.writes++;
	pg_ok(ps);
	return 0;
}

static void
pg_later_refuse(struct pg_store *ps, struct pg_later *l, enum store_err code,
    const char *why)
{
	l->refused = 1;
	l->code = code;
	l->why = xstrdup(why);
}

/* The rows again one by one, each in its savepoint (pg_wrun()): those
 * refused fail alone. -1 when the database fails (not a refusal). */
static int
pg_later_each(struct pg_store *ps, struct pg_later **v, size_t n)
{
	PGresult	*r;
	size_t		 i;

	for (i = 0; i < n; i++) {
		if (pg_wrun(ps, v[i]->id, v[i]->sql, &v[i]->p, &r,
		    v[i]->what) == -1) {
			if (ps->base.errcode == STORE_E_DB ||
			    ps->base.txn == STORE_TXN_NONE)
				return -1;
			pg_later_refuse(ps, v[i], ps->base.errcode,
			    ps->base.err);
			continue;
		}
		if (strtoll(PQcmdTuples(r), NULL, 10) == 0)
			pg_later_refuse(ps, v[i], STORE_E_NOTFOUND,
			    v[i]->nouser);
		PQclear(r);
	}
	pg_ok(ps);
	return 0;
}

/* Ends a pipeline whatever state it is in: what is left is read. */
static void
pg_pipe_end(struct pg_store *ps)
{
	PGresult	*r;

	if (PQpipelineStatus(ps->conn) == PQ_PIPELINE_OFF)
		return;
	while ((r = PQgetResult(ps->conn)) != NULL)
		PQclear(r);
	/* still busy (a query whose sync never went out): the connection
	 * is not used again as it is, the next statement reconnects */
	if (PQexitPipelineMode(ps->conn) != 1)
		ps->need_reset = 1;
}

/* Appends s to the array literal at *bp as one quoted element. */
static char *
pg_arr_put(char *b, const char *s, int first)
{
	if (!first)
		*b++ = ',';
	if (s == NULL) {
		memcpy(b, "NULL", 4);
		return b + 4;
	}
	*b++ = '"';
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			*b++ = '\\';
		*b++ = *s;
	}
	*b++ = '"';
	return b;
}

/*
 * The parameters of v[0]'s many statement: parameter j of every row in
 * one text[] literal (bufs[j], the caller frees them), then the count.
 */
static void
pg_arr_params(struct pg_later **v, size_t n, struct pg_params *ap,
    char **bufs)
{
	size_t	 i, len;
	char	*b;
	int	 j, np = v[0]->p.n;

	memset(ap, 0, sizeof(*ap));
	for (j = 0; j < np; j++) {
		len = 3;
		for (i = 0; i < n; i++)
			len += 5 + (v[i]->p.v[j] == NULL ? 0 :
			    2 * strlen(v[i]->p.v[j]));
		b = bufs[j] = xmalloc(len);
		*b++ = '{';
		for (i = 0; i < n; i++)
			b = pg_arr_put(b, v[i]->p.v[j], i == 0);
		*b++ = '}';
		*b = '\0';
		pgp_text(ap, bufs[j]);
	}
	pgp_int(ap, (int64_t)n);
}

/*
 * One pipeline: [BEGIN] SAVEPOINT, the rows, RELEASE [COMMIT], sync. The
 * rows are v[0]'s many statement (all n in one, which fails unless it
 * stores every row) or one statement each. 1 when it committed, 0 when
 * the rows are in the open transaction, 2 when a row was refused and the
 * pipeline undone (to the savepoint), -1 with the error set when the
 * batch failed.
 */
static int
pg_later_pipe(struct pg_store *ps, struct pg_later **v, size_t n, int commit,
    int many)
{
	struct pg_params ap;
	PGresult	**res = NULL;
	char		 name[32], *bufs[PG_MAXP];
	size_t		 i, k, nq = many ? 1 : n, total, bad = nq;
	int		 begin = ps->later_begin, st, j, rc = -1;

	if (many) {
		if (pg_prepare(ps, v[0]->many_id, v[0]->many_sql) == -1)
			return -1;
		pg_arr_params(v, n, &ap, bufs);
	} else
		for (i = 0; i < n; i++)
			if (pg_prepare(ps, v[i]->id, v[i]->sql) == -1)
				return -1;
	total = (begin ? 1 : 0) + 1 + nq + 1 + (commit ? 1 : 0);
	if (PQenterPipelineMode(ps->conn) != 1) {
		ps->base.stats.failures++;
		pg_fail(ps, STORE_E_DB, "%s: pipeline: %s", v[0]->what,
		    PQerrorMessage(ps->conn));
		goto out;
	}
	if (begin && pg_send(ps->conn, "BEGIN") != 1)
		goto sendfail;
	if (pg_send(ps->conn, "SAVEPOINT xfed_b") != 1)
		goto sendfail;
	if (many) {
		pg_qname(v[0]->many_id, name, sizeof(name));
		if (PQsendQueryPrepared(ps->conn, name, ap.n, ap.v, ap.len,
		    ap.fmt, 0) != 1)
			goto sendfail;
	} else
		for (i = 0; i < n; i++) {
			pg_qname(v[i]->id, name, sizeof(name));
			if (PQsendQueryPrepared(ps->conn, name, v[i]->p.n,
			    v[i]->p.v, v[i]->p.len, v[i]->p.fmt, 0) != 1)
				goto sendfail;
		}
	if (pg_send(ps->conn, "RELEASE xfed_b") != 1 ||
	    (commit && pg_send(ps->conn, "COMMIT") != 1) ||
	    PQpipelineSync(ps->conn) != 1)
		goto sendfail;
	res = xcalloc(total, sizeof(*res));
	if (pg_pipe_results(ps, res, (int)total) == -1) {
		pg_dberr(ps, NULL, v[0]->what);
		ps->base.txn = STORE_TXN_NONE;
		goto done;
	}
	pg_notices(ps);
	pg_pipe_end(ps);
	k = 0;
	if (begin) {
		if (PQresultStatus(res[k]) != PGRES_COMMAND_OK) {
			pg_dberr(ps, res[k], v[0]->what);
			goto done;
		}
		k++;
		ps->later_begin = 0;
	}
	if (PQresultStatus(res[k]) != PGRES_COMMAND_OK) {
		pg_dberr(ps, res[k], v[0]->what);
		goto done;
	}
	k++;
	for (i = 0; i < nq && bad == nq; i++) {
		st = PQresultStatus(res[k + i]);
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
			bad = i;
	}
	if (bad < nq) {
		/* a refused row: undo the pipeline's rows, to the savepoint */
		pg_dberr(ps, res[k + bad], v[bad]->what);
		if (ps->base.errcode == STORE_E_DB ||
		    PQtransactionStatus(ps->conn) != PQTRANS_INERROR)
			goto done;
		if (pg_txn_exec(ps, "ROLLBACK TO SAVEPOINT xfed_b",
		    "rollback to savepoint") == 0)
			rc = 2;
		goto done;
	}
	for (i = 0; i < 1 + (commit ? 1u : 0u); i++)
		if (PQresultStatus(res[k + nq + i]) != PGRES_COMMAND_OK) {
			pg_dberr(ps, res[k + nq + i], i ? "commit" :
			    v[0]->what);
			goto done;
		}
	for (i = 0; !many && i < n; i++)
		if (strtoll(PQcmdTuples(res[k + i]), NULL, 10) == 0)
			pg_later_refuse(ps, v[i], STORE_E_NOTFOUND,
			    v[i]->nouser);
	pg_ok(ps);
	rc = commit ? 1 : 0;
 done:
	pg_pipe_end(ps);
	for (i = 0; res != NULL && i < total; i++)
		PQclear(res[i]);
	free(res);
 out:
	for (j = 0; many && j < v[0]->p.n; j++)
		free(bufs[j]);
	return rc;
 sendfail:
	pg_fail(ps, STORE_E_DB, "%s: send: %s", v[0]->what,
	    PQerrorMessage(ps->conn));
	ps->base.stats.failures++;
	if (PQexitPipelineMode(ps->conn) != 1)
		ps->need_reset = 1;
	if (PQstatus(ps->conn) != CONNECTION_OK || ps->need_reset)
		ps->base.txn = STORE_TXN_NONE;
	goto out;
}

/*
 * Rows of one pipeline: all in one statement when the rows have one
 * (the common case: every row stored); when that is refused (a row
 * breaks a constraint, or names no user), a statement each; when one of
 * those is refused, each in its savepoint, so it fails alone. As
 * pg_later_pipe(), but never 2.
 */
static int
pg_later_chunk(struct pg_store *ps, struct pg_later **v, size_t n, int commit)
{
	size_t	 i;
	int	 rc = 2, many = v[0]->many_sql != NULL;

	for (i = 1; many && i < n; i++)
		if (v[i]->many_id != v[0]->many_id)
			many = 0;
	if (many)
		rc = pg_later_pipe(ps, v, n, commit, 1);
	if (rc == 2)
		rc = pg_later_pipe(ps, v, n, commit, 0);
	if (rc == 2)
		rc = pg_later_each(ps, v, n);
	return rc;
}

/* Frees the queued rows; told: their callers hear of refusals (or, while
 * told_later, those refused wait in ps->told). */
static void
pg_later_free(struct pg_store *ps, struct pg_later **v, size_t n, int told)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (told && v[i]->refused && ps->told_later) {
			ps->told = xreallocarray(ps->told, ps->ntold + 1,
			    sizeof(*ps->told));
			ps->told[ps->ntold++] = v[i];
			continue;
		}
		if (told && v[i]->refused)
			v[i]->cb(v[i]->arg, v[i]->code, v[i]->why);
		free(v[i]->why);
		free(v[i]);
	}
	free(v);
}

/*
 * Sends the queued rows (commit: and commits the batch with the last
 * pipeline). 1 when committed, 0 when the rows joined the open
 * transaction, -1 with the error set when the batch failed. The
 * refusals are told after the transaction's state is settled, so a
 * caller may write again from its callback.
 */
static int
pg_later_send(struct pg_store *ps, int commit)
{
	struct pg_later	**v = ps->later;
	size_t		 n = ps->nlater, i, c;
	int		 rc = 0;

	pg_fly_wait(ps);
	n = ps->nlater;
	v = ps->later;
	if (n == 0)
		return 0;
	ps->later = NULL;
	ps->nlater = ps->later_cap = 0;
	if (pg_connected(ps) == -1)
		rc = -1;
	for (i = 0; rc == 0 && i < n; i += c) {
		c = n - i < PG_LATER_CHUNK ? n - i : PG_LATER_CHUNK;
		rc = pg_later_chunk(ps, v + i, c, commit && i + c == n);
	}
	ps->later_begin = 0;
	if (rc == 1) {
		ps->base.txn = STORE_TXN_NONE;
		ps->base.stats.commits++;
	}
	pg_later_free(ps, v, n, rc != -1);
	return rc;
}

/* Before any other statement: the queued rows go first. */
static int
pg_later_drain(struct pg_store *ps)
{
	pg_fly_wait(ps);
	return ps->nlater > 0 ? (pg_later_send(ps, 0) == -1 ? -1 : 0) : 0;
}

/*
 * The commit without waiting (pg_flush_async()). Eligible: a batch of
 * queued rows only, nothing of it sent yet, all of one many statement:
 * BEGIN, SAVEPOINT, the rows in one statement, RELEASE and COMMIT go out
 * as one pipeline on the non-blocking socket, and the loop goes on. Its
 * results are read as they come (pg_flush_poll()) or, when another call
 * needs the connection first, waited for (pg_fly_wait()). When the
 * statement is refused (a row names no user, or breaks a constraint), the
 * transaction is rolled back and the rows are committed again the
 * synchronous way (pg_flush()), so that the refused one fails alone.
 */
#define PG_FLY_MAX	65536	/* rows of one commit sent this way */

static void
pg_fly_clear(struct pg_store *ps)
{
	int	 i;

	for (i = 0; i < ps->fly_nres; i++)
		PQclear(ps->fly_res[i]);
	ps->fly_nres = 0;
}

/* The commit in flight failed: why is kept until pg_flush_poll(). */
static void
pg_fly_failed(struct pg_store *ps, enum store_err code, const char *why)
{
	free(ps->fly_err);
	ps->fly_err = xstrdup(why != NULL && *why != '\0' ? why :
	    "the connection to PostgreSQL was lost");
	ps->fly_err[strcspn(ps->fly_err, "\n")] = '\0';
	ps->fly_code = code;
	ps->fly_done = -1;
	ps->base.stats.failures++;
}

/* The refused statement: the rows alone, one by one where needed. */
static void
pg_fly_again(struct pg_store *ps)
{
	struct pg_later	**sv = ps->later, **told;
	size_t		 nsv = ps->nlater, capsv = ps->later_cap, ntold, i;
	enum store_txn	 txn = ps->base.txn;
	int		 begin = ps->later_begin, rc;

	PQclear(PQexec(ps->conn, "ROLLBACK"));
	ps->later = ps->fly;
	ps->nlater = ps->later_cap = ps->nfly;
	ps->fly = NULL;
	ps->nfly = 0;
	ps->later_begin = 1;
	ps->base.txn = STORE_TXN_BATCH;
	ps->told_later = 1;
	rc = pg_flush(&ps->base);
	ps->told_later = 0;
	if (rc == -1)
		pg_fly_failed(ps, ps->base.errcode, ps->base.err);
	else
		ps->fly_done = 1;
	/* the next batch as it was, then the refusals (they may write) */
	ps->later = sv;
	ps->nlater = nsv;
	ps->later_cap = capsv;
	ps->later_begin = begin;
	ps->base.txn = txn;
	told = ps->told;
	ntold = ps->ntold;
	ps->told = NULL;
	ps->ntold = 0;
	for (i = 0; i < ntold; i++) {
		if (rc != -1)
			told[i]->cb(told[i]->arg, told[i]->code, told[i]->why);
		free(told[i]->why);
		free(told[i]);
	}
	free(told);
}

/* All results are in: the outcome of the commit in flight. */
static void
pg_fly_end(struct pg_store *ps)
{
	const char	*state, *msg;
	int		 i, bad = -1;

	ps->flying = 0;
	if (PQexitPipelineMode(ps->conn) != 1)
		ps->need_reset = 1;
	PQsetnonblocking(ps->conn, 0);
	pg_notices(ps);
	for (i = 0; i < 5 && bad == -1; i++)
		if (i >= ps->fly_nres || (PQresultStatus(ps->fly_res[i]) !=
		    PGRES_COMMAND_OK && PQresultStatus(ps->fly_res[i]) !=
		    PGRES_TUPLES_OK))
			bad = i;
	if (bad == -1) {
		pg_fly_clear(ps);
		ps->fly_done = 1;
		ps->base.stats.commits++;
		pg_later_free(ps, ps->fly, ps->nfly, 1);
		ps->fly = NULL;
		ps->nfly = 0;
		return;
	}
	state = bad < ps->fly_nres ? PQresultErrorField(ps->fly_res[bad],
	    PG_DIAG_SQLSTATE) : NULL;
	if (bad == 2 && state != NULL && (strncmp(state, "23", 2) == 0 ||
	    strncmp(state, "22", 2) == 0) &&
	    PQstatus(ps->conn) == CONNECTION_OK && !ps->need_reset) {
		/* a refused row: each alone */
		pg_fly_clear(ps);
		pg_fly_again(ps);
		return;
	}
	msg = bad < ps->fly_nres ? PQresultErrorField(ps->fly_res[bad],
	    PG_DIAG_MESSAGE_PRIMARY) : NULL;
	pg_fly_failed(ps, STORE_E_DB, msg != NULL ? msg :
	    PQerrorMessage(ps->conn));
	pg_fly_clear(ps);
	if (PQstatus(ps->conn) == CONNECTION_OK && !ps->need_reset &&
	    PQtransactionStatus(ps->conn) != PQTRANS_IDLE)
		PQclear(PQexec(ps->conn, "ROLLBACK"));
	pg_later_free(ps, ps->fly, ps->nfly, 0);
	ps->fly = NULL;
	ps->nfly = 0;
}

/* The commit in flight ends, failed, with its answer not all read. */
static void
pg_fly_abort(struct pg_store *ps, const char *why)
{
	ps->flying = 0;
	pg_fly_failed(ps, STORE_E_DB, why);
	pg_fly_clear(ps);
	pg_later_free(ps, ps->fly, ps->nfly, 0);
	ps->fly = NULL;
	ps->nfly = 0;
	/* what is left of its pipeline is not waited for: reconnect */
	if (PQexitPipelineMode(ps->conn) != 1)
		ps->need_reset = 1;
	PQsetnonblocking(ps->conn, 0);
	if (PQstatus(ps->conn) == CONNECTION_OK && !ps->need_reset &&
	    PQtransactionStatus(ps->conn) != PQTRANS_IDLE)
		PQclear(PQexec(ps->conn, "ROLLBACK"));
}

/* Reads what arrived of the commit in flight; wait: until it is all in. */
static void
pg_fly_step(struct pg_store *ps, int wait)
{
	struct pollfd	 pfd;
	PGresult	*r;
	int		 flush, nulls, ok;

	while (ps->flying) {
		ok = (flush = PQflush(ps->conn)) != -1 &&
		    PQconsumeInput(ps->conn) == 1;
		/* what arrived before an error is read first: a commit
		 * answered before the connection closed did commit */
		nulls = 0;
		while (!PQisBusy(ps->conn) && nulls < 2) {
			if ((r = PQgetResult(ps->conn)) == NULL) {
				nulls++;
				continue;
			}
			nulls = 0;
			if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
				PQclear(r);
				pg_fly_end(ps);
				return;
			}
			if (ps->fly_nres < 5)
				ps->fly_res[ps->fly_nres++] = r;
			else
				PQclear(r);
		}
		if (!ok) {
			pg_fly_abort(ps, PQerrorMessage(ps->conn));
			return;
		}
		if (!wait)
			return;
		pfd.fd = PQsocket(ps->conn);
		pfd.events = POLLIN | (flush == 1 ? POLLOUT : 0);
		if (poll(&pfd, 1, 1000) == -1 && errno != EINTR) {
			ps->need_reset = 1;
			pg_fly_abort(ps, strerror(errno));
			return;
		}
	}
}

static void
pg_fly_wait(struct pg_store *ps)
{
	if (ps->flying)
		pg_fly_step(ps, 1);
}

int
pg_flush_async(struct store *st)
{
	struct pg_store	*ps = PG(st);
	struct pg_params ap;
	struct pg_later	**v = ps->later;
	size_t		 n = ps->nlater, i;
	char		 name[32], *bufs[PG_MAXP];
	int		 j, ok;

	pg_fly_wait(ps);
	ok = ps->base.txn == STORE_TXN_BATCH && ps->later_begin &&
	    n > 0 && n <= PG_FLY_MAX && ps->fly_done == 0 &&
	    v[0]->many_sql != NULL;
	for (i = 1; ok && i < n; i++)
		ok = v[i]->many_id == v[0]->many_id;
	if (!ok)
		return pg_flush(st) == -1 ? -1 : 0;
	if (pg_connected(ps) == -1 ||
	    pg_prepare(ps, v[0]->many_id, v[0]->many_sql) == -1) {
		pg_rollback(st);
		return -1;
	}
	pg_arr_params(v, n, &ap, bufs);
	pg_qname(v[0]->many_id, name, sizeof(name));
	ok = PQsetnonblocking(ps->conn, 1) == 0 &&
	    PQenterPipelineMode(ps->conn) == 1 &&
	    pg_send(ps->conn, "BEGIN") == 1 &&
	    pg_send(ps->conn, "SAVEPOINT xfed_b") == 1 &&
	    PQsendQueryPrepared(ps->conn, name, ap.n, ap.v, ap.len, ap.fmt,
	    0) == 1 &&
	    pg_send(ps->conn, "RELEASE xfed_b") == 1 &&
	    pg_send(ps->conn, "COMMIT") == 1 &&
	    PQpipelineSync(ps->conn) == 1 && PQflush(ps->conn) != -1;
	for (j = 0; j < v[0]->p.n; j++)
		free(bufs[j]);
	if (!ok) {
		pg_fail(ps, STORE_E_DB, "commit: send: %s",
		    PQerrorMessage(ps->conn));
		ps->base.stats.failures++;
		pg_pipe_end(ps);
		PQsetnonblocking(ps->conn, 0);
		if (PQstatus(ps->conn) == CONNECTION_OK &&
		    PQtransactionStatus(ps->conn) != PQTRANS_IDLE)
			PQclear(PQexec(ps->conn, "ROLLBACK"));
		pg_later_free(ps, v, n, 0);
		ps->later = NULL;
		ps->nlater = ps->later_cap = 0;
		ps->later_begin = 0;
		ps->base.txn = STORE_TXN_NONE;
		return -1;
	}
	ps->fly = v;
	ps->nfly = n;
	ps->flying = 1;
	ps->later = NULL;
	ps->nlater = ps->later_cap = 0;
	ps->later_begin = 0;
	ps->base.txn = STORE_TXN_NONE;
	pg_ok(ps);
	return 1;
}

int
pg_flush_poll(struct store *st, int wait)
{
	struct pg_store	*ps = PG(st);
	int		 rc;

	if (ps->flying)
		pg_fly_step(ps, wait);
	if (ps->flying)
		return 0;
	rc = ps->fly_done;
	ps->fly_done = 0;
	if (rc == -1)
		return pg_fail(ps, ps->fly_code == STORE_E_DB ? STORE_E_DB :
		    ps->fly_code, "commit: %s", ps->fly_err);
	return 1;
}

int
pg_flush_fd(struct store *st)
{
	return PQsocket(PG(st)->conn);
}

/* The URI for messages: a password in it is masked. */
static char *
pg_location(const char *uri)
{
	char		*s = xstrdup(uri), *at, *colon, *auth;

	if ((auth = strstr(s, "://")) == NULL)
		return s;
	auth += 3;
	if ((at = strchr(auth, '@')) != NULL &&
	    (colon = memchr(auth, ':', at - auth)) != NULL && at - colon > 1)
		memmove(colon + 1, at, strlen(at) + 1);
	return s;
}

struct store *
store_pg_open(const char *uri, int flags, const char **errstr)
{
	static const char *const keys[] = { "dbname", "connect_timeout",
	    "application_name", NULL };
	const char	*vals[] = { uri, "5", "xfed", NULL };
	struct pg_store	*ps;

	ps = xcalloc(1, sizeof(*ps));
	ps->base.ops = &pg_ops;
	ps->base.flags = flags;
	ps->base.location = pg_location(uri);
	ps->epfd = ps->wakefd = ps->watched = -1;
	ps->conn = PQconnectdbParams(keys, vals, 1);
	if (ps->conn == NULL || PQstatus(ps->conn) != CONNECTION_OK) {
		snprintf(pg_open_err, sizeof(pg_open_err), "%s: %s",
		    ps->base.location,
		    ps->conn ? PQerrorMessage(ps->conn) : "out of memory");
		pg_open_err[strcspn(pg_open_err, "\n")] = '\0';
		goto fail;
	}
	if (PQserverVersion(ps->conn) < 140000) {
		snprintf(pg_open_err, sizeof(pg_open_err), "%s: PostgreSQL "
		    "%d is too old: xfed needs 14 or newer", ps->base.location,
		    PQserverVersion(ps->conn) / 10000);
		goto fail;
	}
	if (pg_schema_open(ps, flags, pg_open_err,
	    sizeof(pg_open_err)) == -1)
		goto fail;
	ps->lock_wait = 1;
	if (pg_lock_timeout(ps) == -1 || pg_listen(ps) == -1 ||
	    pg_notify_init(ps) == -1) {
		snprintf(pg_open_err, sizeof(pg_open_err), "%s: %s",
		    ps->base.location, ps->base.err);
		goto fail;
	}
	pg_ok(ps);
	return (struct store *)ps;
 fail:
	*errstr = pg_open_err;
	PQfinish(ps->conn);
	free(ps->base.location);
	free(ps);
	return NULL;
}

void
pg_close(struct store *st)
{
	struct pg_store	*ps = PG(st);

	if (ps == NULL)
		return;
	pg_fly_wait(ps);
	if (ps->base.txn == STORE_TXN_BATCH && pg_flush(st) == -1)
		log_warnx("store: %s", ps->base.err);
	else if (ps->base.txn == STORE_TXN_EXPLICIT)
		pg_rollback(st);
	PQfinish(ps->conn);
	free(ps->fly_err);
	if (ps->epfd != -1)
		close(ps->epfd);
	if (ps->wakefd != -1)
		close(ps->wakefd);
	free(ps->scratch);
	PQfreemem(ps->blob);
	free(ps->base.location);
	free(ps);
}

int
pg_version(struct store *st)
{
	char	 err[256];
	int	 v;

	if (pg_connected(PG(st)) == -1)
		return -1;
	if (pg_schema_version(PG(st), &v, err, sizeof(err)) == -1)
		return pg_fail(PG(st), STORE_E_DB, "%s", err);
	return v;
}

/* PostgreSQL checkpoints itself: nothing to start. */
int
pg_checkpoint_start(struct store *st)
{
	return 0;
}

void
pg_checkpoint_stop(struct store *st)
{
}

int
pg_begin(struct store *st)
{
	struct pg_store	*ps = PG(st);

	pg_fly_wait(ps);
	if (ps->base.txn == STORE_TXN_EXPLICIT)
		return pg_fail(ps, STORE_E_DB, "begin: a transaction is "
		    "already open");
	if (ps->base.txn == STORE_TXN_BATCH && pg_flush(st) == -1)
		return -1;
	if (pg_connected(ps) == -1 || pg_txn_exec(ps, "BEGIN", "begin") == -1)
		return -1;
	ps->base.txn = STORE_TXN_EXPLICIT;
	return 0;
}

static int
pg_end(struct pg_store *ps)
{
	int	 rc;

	rc = pg_txn_exec(ps, "COMMIT", "commit");
	if (rc == -1 && PQstatus(ps->conn) == CONNECTION_OK &&
	    PQtransactionStatus(ps->conn) != PQTRANS_IDLE)
		PQclear(PQexec(ps->conn, "ROLLBACK"));
	ps->base.txn = STORE_TXN_NONE;
	return rc;
}

int
pg_commit(struct store *st)
{
	if (PG(st)->base.txn != STORE_TXN_EXPLICIT)
		return pg_fail(PG(st), STORE_E_DB, "commit: no transaction");
	return pg_end(PG(st));
}

int
pg_rollback(struct store *st)
{
	struct pg_store	*ps = PG(st);
	int		 rc = 0;

	pg_fly_wait(ps);
	if (ps->nlater > 0) {	/* not sent: nothing to undo there */
		pg_later_free(ps, ps->later, ps->nlater, 0);
		ps->later = NULL;
		ps->nlater = ps->later_cap = 0;
	}
	if (ps->later_begin) {
		ps->later_begin = 0;
		ps->base.txn = STORE_TXN_NONE;
		return 0;
	}
	if (ps->base.txn == STORE_TXN_NONE)
		return 0;
	if (PQstatus(ps->conn) == CONNECTION_OK &&
	    PQtransactionStatus(ps->conn) != PQTRANS_IDLE)
		rc = pg_txn_exec(ps, "ROLLBACK", "rollback");
	ps->base.txn = STORE_TXN_NONE;
	return rc;
}

int
pg_flush(struct store *st)
{
	struct pg_store	*ps = PG(st);
	int		 rc;

	pg_fly_wait(ps);
	if (ps->fly_done == -1 && ps->base.txn == STORE_TXN_BATCH) {
		/* the batch before this one failed: the daemon, told at its
		 * poll, handles both again; nothing of this one commits */
		pg_rollback(st);
		ps->base.stats.failures++;
		return pg_fail(ps, STORE_E_DB, "%s", ps->fly_err);
	}
	if (ps->base.txn != STORE_TXN_BATCH)
		return 0;
	if (ps->nlater > 0) {
		/* the rows and COMMIT in one pipeline */
		if ((rc = pg_later_send(ps, 1)) == -1) {
			/* the error stays the batch's, as in pg_end() */
			if (PQstatus(ps->conn) == CONNECTION_OK &&
			    PQtransactionStatus(ps->conn) != PQTRANS_IDLE)
				PQclear(PQexec(ps->conn, "ROLLBACK"));
			ps->base.txn = STORE_TXN_NONE;
			return -1;
		}
		if (rc == 1)
			return 0;
	}
	if (PQstatus(ps->conn) != CONNECTION_OK) {
		ps->base.txn = STORE_TXN_NONE;
		ps->base.stats.failures++;
		return pg_fail(ps, STORE_E_DB, "commit: the connection to "
		    "PostgreSQL was lost; the batch was not stored");
	}
	if ((rc = pg_end(ps)) == 0)
		ps->base.stats.commits++;
	return rc;
}

/*
 * How long a statement waits for a lock another session holds (a native
 * system's open transaction): 5 s, as SQLite's busy timeout, or 10 ms
 * while the daemon's store is failing, so its loop never blocks long.
 * Past it the statement fails (55P03) and the daemon's back-pressure
 * takes over.
 */
static int
pg_lock_timeout(struct pg_store *ps)
{
	PGresult	*r;
	int		 rc = 0;

	if (PQstatus(ps->conn) != CONNECTION_OK ||
	    PQtransactionStatus(ps->conn) == PQTRANS_INERROR)
		return 0;	/* set again when it reconnects */
	r = PQexec(ps->conn, ps->lock_wait ? "SET lock_timeout = '5s'" :
	    "SET lock_timeout = '10ms'");
	pg_notices(ps);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = pg_dberr(ps, r, "lock timeout");
	PQclear(r);
	return rc;
}

void
pg_busy_timeout(struct store *st, int wait)
{
	PG(st)->lock_wait = wait != 0;
	pg_lock_timeout(PG(st));
}

int
pg_state_get(struct store *st, const char *key, char **valuep)
{
	struct pg_params p = { 0 };
	PGresult	*r;

	pgp_text(&p, key);
	if ((r = pg_read(PG(st), PQ_STATE_GET,
	    "SELECT value FROM s2s_state WHERE key = $1", &p,
	    "state get")) == NULL)
		return -1;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return pg_fail(PG(st), STORE_E_NOTFOUND, "%s: not set", key);
	}
	*valuep = xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

int
pg_state_set(struct store *st, const char *key, const char *value)
{
	struct pg_params p = { 0 };

	pgp_text(&p, key);
	pgp_text(&p, value);
	pgp_int(&p, pg_now());
	return pg_write(PG(st), PQ_STATE_SET, "INSERT INTO s2s_state "
	    "(key, value, updated) VALUES ($1, $2, $3) ON CONFLICT (key) DO "
	    "UPDATE SET value = excluded.value, updated = excluded.updated",
	    &p, NULL, "state set");
}

const struct store_ops pg_ops = {
	.name = "postgresql",
	.shared = 1,
	.close = pg_close,
	.version = pg_version,
	.checkpoint_start = pg_checkpoint_start,
	.checkpoint_stop = pg_checkpoint_stop,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.flush = pg_flush,
	.flush_async = pg_flush_async,
	.flush_poll = pg_flush_poll,
	.flush_fd = pg_flush_fd,
	.busy_timeout = pg_busy_timeout,
	.state_get = pg_state_get,
	.state_set = pg_state_set,
	.state_init = pg_state_init,
	.instance_beat = pg_instance_beat,
	.instance_del = pg_instance_del,
	.instance_list = pg_instance_list,
	.lease_claim = pg_lease_claim,
	.lease_take = pg_lease_take,
	.lease_renew = pg_lease_renew,
	.lease_release = pg_lease_release,
	.lease_list = pg_lease_list,
	.outbox_due_held = pg_outbox_due_held,
	.user_add = pg_user_add,
	.user_del = pg_user_del,
	.user_get = pg_user_get,
	.user_get_id = pg_user_get_id,
	.user_find = pg_user_find,
	.user_list = pg_user_list,
	.user_update = pg_user_update,
	.presence_set = pg_presence_set,
	.presence_get = pg_presence_get,
	.sub_get = pg_sub_get,
	.sub_list = pg_sub_list,
	.sub_put = pg_sub_put,
	.rpres_put = pg_rpres_put,
	.rpres_del = pg_rpres_del,
	.rpres_strangers = pg_rpres_strangers,
	.rpres_list = pg_rpres_list,
	.rpres_get = pg_rpres_get,
	.inbox_put = pg_inbox_put,
	.inbox_put_later = pg_inbox_put_later,
	.inbox_list = pg_inbox_list,
	.inbox_consume = pg_inbox_consume,
	.receipts_due = pg_receipts_due,
	.receipt_sent = pg_receipt_sent,
	.inbox_last = pg_inbox_last,
	.inbox_get = pg_inbox_get,
	.inbox_ack = pg_inbox_ack,
	.inbox_unconsumed = pg_inbox_unconsumed,
	.inbox_prune = pg_inbox_prune,
	.inbox_unconsumed_all = pg_inbox_unconsumed_all,
	.outbox_add = pg_outbox_add,
	.outbox_get = pg_outbox_get,
	.outbox_list = pg_outbox_list,
	.outbox_due = pg_outbox_due,
	.outbox_sent = pg_outbox_sent,
	.outbox_delivered = pg_outbox_delivered,
	.outbox_mark_later = pg_outbox_mark_later,
	.outbox_retry = pg_outbox_retry,
	.outbox_failed = pg_outbox_failed,
	.outbox_earlier = pg_outbox_earlier,
	.outbox_queued = pg_outbox_queued,
	.outbox_prune = pg_outbox_prune,
	.outbox_counts = pg_outbox_counts,
	.outbox_oldest = pg_outbox_oldest,
	.directed_add = pg_directed_add,
	.directed_list = pg_directed_list,
	.directed_del = pg_directed_del,
	.departed_list = pg_departed_list,
	.departed_owe = pg_departed_owe,
	.departed_del = pg_departed_del,
	.domain_rule_set = pg_domain_rule_set,
	.domain_rule_del = pg_domain_rule_del,
	.domain_rule_list = pg_domain_rule_list,
	.block_add = pg_block_add,
	.block_del = pg_block_del,
	.block_list = pg_block_list,
	.changes_poll = pg_changes_poll,
	.changed = pg_changed,
	.watch_fd = pg_watch_fd,
	.changes_prune = pg_changes_prune,
	.token_add = pg_token_add,
	.token_find = pg_token_find,
	.token_list = pg_token_list,
	.token_revoke = pg_token_revoke,
	.token_used = pg_token_used,
	.event_list = pg_event_list,
	.event_last = pg_event_last,
	.event_first = pg_event_first,
	.event_count = pg_event_count,
	.event_prune = pg_event_prune,
	.webhook_open = pg_webhook_open,
	.webhook_list = pg_webhook_list,
	.webhook_add = pg_webhook_add,
	.webhook_delete = pg_webhook_delete,
	.webhook_forget = pg_webhook_forget,
	.events_journal = pg_events_journal,
	.webhook_done = pg_webhook_done,
	.webhook_fail = pg_webhook_fail,
};

#endif
