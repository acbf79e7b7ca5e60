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
 * Reads are synchronous (PQexecPrepared). A lost connection fails the
 * open transaction (the daemon keeps its batch in memory and retries);
 * the next call reconnects, at most once per backoff (100 ms doubling to
 * 5 s), and prepares its statements again.
 */
#include "config.h"

#ifdef HAVE_LIBPQ

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	ps->errcode = STORE_E_NONE;
	ps->err[0] = '\0';
}

static int
pg_vfail(struct pg_store *ps, enum store_err code, const char *fmt,
    va_list ap)
{
	char	*p;

	ps->errcode = code;
	vsnprintf(ps->err, sizeof(ps->err), fmt, ap);
	/* one line: libpq's messages end in a newline, some span two */
	for (p = ps->err; *p != '\0'; p++)
		if (*p == '\n')
			*p = ' ';
	while (p > ps->err && p[-1] == ' ')
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
		ps->stats.failures++;
	if (PQstatus(ps->conn) != CONNECTION_OK ||
	    PQtransactionStatus(ps->conn) == PQTRANS_IDLE) {
		if (ps->txn == PG_TXN_BATCH)	/* the daemon says more */
			log_debug("store: batch lost: %s", ps->err);
		ps->txn = PG_TXN_NONE;
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

int
pg_connected(struct pg_store *ps)
{
	int64_t	 now;

	if (PQstatus(ps->conn) == CONNECTION_OK)
		return 0;
	ps->txn = PG_TXN_NONE;		/* it died with the connection */
	now = pg_mono_ms();
	if (now < ps->retry_at_ms)
		return pg_fail(ps, STORE_E_DB, "PostgreSQL: not connected, "
		    "next attempt in %lld ms", (long long)(ps->retry_at_ms -
		    now));
	PQreset(ps->conn);
	if (PQstatus(ps->conn) != CONNECTION_OK) {
		ps->backoff_ms = ps->backoff_ms ? ps->backoff_ms * 2 :
		    PG_BACKOFF_MIN_MS;
		if (ps->backoff_ms > PG_BACKOFF_MAX_MS)
			ps->backoff_ms = PG_BACKOFF_MAX_MS;
		ps->retry_at_ms = now + ps->backoff_ms;
		ps->stats.failures++;
		return pg_fail(ps, STORE_E_DB, "PostgreSQL: reconnect: %s",
		    PQerrorMessage(ps->conn));
	}
	log_info("store: reconnected to PostgreSQL");
	ps->backoff_ms = 0;
	ps->retry_at_ms = 0;
	memset(ps->prepared, 0, sizeof(ps->prepared));
	ps->notified = 1;	/* read the journal: NOTIFYs were missed */
	return pg_listen(ps);
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

	if (pg_connected(ps) == -1 || pg_prepare(ps, id, sql) == -1)
		return NULL;
	pg_qname(id, name, sizeof(name));
	r = PQexecPrepared(ps->conn, name, p ? p->n : 0, p ? p->v : NULL,
	    p ? p->len : NULL, p ? p->fmt : NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		pg_dberr(ps, r, what);
		PQclear(r);
		/* a failed read aborts an open transaction */
		if (ps->txn != PG_TXN_NONE &&
		    PQtransactionStatus(ps->conn) == PQTRANS_INERROR) {
			PQclear(PQexec(ps->conn, "ROLLBACK"));
			ps->txn = PG_TXN_NONE;
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
	if (pg_connected(ps) == -1 || pg_prepare(ps, id, sql) == -1)
		return -1;
	ps->stats.writes++;
	opening = ps->txn == PG_TXN_NONE;
	pg_qname(id, name, sizeof(name));
	if (PQenterPipelineMode(ps->conn) != 1)
		return pg_fail(ps, STORE_E_DB, "%s: pipeline: %s", what,
		    PQerrorMessage(ps->conn));
	n = 0;
	if ((opening && (n++, pg_send(ps->conn, "BEGIN") != 1)) ||
	    (n++, pg_send(ps->conn, "SAVEPOINT xfed_w") != 1) ||
	    (n++, PQsendQueryPrepared(ps->conn, name, p->n, p->v, p->len,
	    p->fmt, 0) != 1) ||
	    (n++, pg_send(ps->conn, "RELEASE xfed_w") != 1) ||
	    PQpipelineSync(ps->conn) != 1) {
		pg_fail(ps, STORE_E_DB, "%s: send: %s", what,
		    PQerrorMessage(ps->conn));
		ps->stats.failures++;
		PQexitPipelineMode(ps->conn);
		if (!opening && PQstatus(ps->conn) != CONNECTION_OK)
			ps->txn = PG_TXN_NONE;
		return -1;
	}
	if (pg_pipe_results(ps, res, n) == -1) {
		pg_dberr(ps, NULL, what);
		ps->txn = PG_TXN_NONE;
		goto done;
	}
	PQexitPipelineMode(ps->conn);
	if (opening) {
		if (PQresultStatus(res[0]) != PGRES_COMMAND_OK) {
			pg_dberr(ps, res[0], what);
			goto done;
		}
		ps->txn = PG_TXN_BATCH;
		if (ps->batch_cb != NULL)
			ps->batch_cb(ps->batch_arg);
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
				ps->txn = PG_TXN_NONE;
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
	if (PQpipelineStatus(ps->conn) != PQ_PIPELINE_OFF) {
		PGresult *r;

		while ((r = PQgetResult(ps->conn)) != NULL)
			PQclear(r);
		PQexitPipelineMode(ps->conn);
	}
	for (i = 0; i < 4; i++)
		PQclear(res[i]);
	return rc;
}

int
pg_write_id(struct pg_store *ps, enum pg_q id, const char *sql,
    struct pg_params *p, int64_t *np, int64_t *idp, const char *what)
{
	PGresult	*r;

	if (pg_wrun(ps, id, sql, p, &r, what) == -1)
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

	r = PQexec(ps->conn, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = pg_dberr(ps, r, what);
	else
		pg_ok(ps);
	PQclear(r);
	return rc;
}

struct store *
store_pg_open(const char *uri, int flags, const char **errstr)
{
	static const char *const keys[] = { "dbname", "connect_timeout",
	    "application_name", NULL };
	const char	*vals[] = { uri, "5", "xfed", NULL };
	struct pg_store	*ps;

	ps = xcalloc(1, sizeof(*ps));
	ps->uri = xstrdup(uri);
	ps->conn = PQconnectdbParams(keys, vals, 1);
	if (ps->conn == NULL || PQstatus(ps->conn) != CONNECTION_OK) {
		snprintf(pg_open_err, sizeof(pg_open_err), "%s: %s", uri,
		    ps->conn ? PQerrorMessage(ps->conn) : "out of memory");
		pg_open_err[strcspn(pg_open_err, "\n")] = '\0';
		goto fail;
	}
	if (PQserverVersion(ps->conn) < 140000) {
		snprintf(pg_open_err, sizeof(pg_open_err), "%s: PostgreSQL "
		    "%d is too old: xfed needs 14 or newer", uri,
		    PQserverVersion(ps->conn) / 10000);
		goto fail;
	}
	if (pg_schema_open(ps, flags, pg_open_err,
	    sizeof(pg_open_err)) == -1)
		goto fail;
	if (pg_listen(ps) == -1 || pg_notify_init(ps) == -1) {
		snprintf(pg_open_err, sizeof(pg_open_err), "%s: %s", uri,
		    ps->err);
		goto fail;
	}
	pg_ok(ps);
	return (struct store *)ps;
 fail:
	*errstr = pg_open_err;
	PQfinish(ps->conn);
	free(ps->uri);
	free(ps);
	return NULL;
}

void
pg_close(struct store *st)
{
	struct pg_store	*ps = PG(st);

	if (ps == NULL)
		return;
	if (ps->txn == PG_TXN_BATCH && pg_flush(st) == -1)
		log_warnx("store: %s", ps->err);
	else if (ps->txn == PG_TXN_EXPLICIT)
		pg_rollback(st);
	PQfinish(ps->conn);
	free(ps->scratch);
	PQfreemem(ps->blob);
	free(ps->uri);
	free(ps);
}

const char *
pg_errstr(const struct store *st)
{
	return PGC(st)->err[0] ? PGC(st)->err : "no error";
}

enum store_err
pg_errcode(const struct store *st)
{
	return PGC(st)->errcode;
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

	if (ps->txn == PG_TXN_EXPLICIT)
		return pg_fail(ps, STORE_E_DB, "begin: a transaction is "
		    "already open");
	if (ps->txn == PG_TXN_BATCH && pg_flush(st) == -1)
		return -1;
	if (pg_connected(ps) == -1 || pg_txn_exec(ps, "BEGIN", "begin") == -1)
		return -1;
	ps->txn = PG_TXN_EXPLICIT;
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
	ps->txn = PG_TXN_NONE;
	return rc;
}

int
pg_commit(struct store *st)
{
	if (PG(st)->txn != PG_TXN_EXPLICIT)
		return pg_fail(PG(st), STORE_E_DB, "commit: no transaction");
	return pg_end(PG(st));
}

int
pg_rollback(struct store *st)
{
	struct pg_store	*ps = PG(st);
	int		 rc = 0;

	if (ps->txn == PG_TXN_NONE)
		return 0;
	if (PQstatus(ps->conn) == CONNECTION_OK &&
	    PQtransactionStatus(ps->conn) != PQTRANS_IDLE)
		rc = pg_txn_exec(ps, "ROLLBACK", "rollback");
	ps->txn = PG_TXN_NONE;
	return rc;
}

int
pg_flush(struct store *st)
{
	struct pg_store	*ps = PG(st);
	int		 rc;

	if (ps->txn != PG_TXN_BATCH)
		return 0;
	if (PQstatus(ps->conn) != CONNECTION_OK) {
		ps->txn = PG_TXN_NONE;
		ps->stats.failures++;
		return pg_fail(ps, STORE_E_DB, "commit: the connection to "
		    "PostgreSQL was lost; the batch was not stored");
	}
	if ((rc = pg_end(ps)) == 0)
		ps->stats.commits++;
	return rc;
}

void
pg_stats(const struct store *st, struct store_stats *s)
{
	*s = PGC(st)->stats;
}

int
pg_pending(const struct store *st)
{
	return PGC(st)->txn == PG_TXN_BATCH;
}

/* Lock waits are PostgreSQL's (lock_timeout is not set): nothing to do. */
void
pg_busy_timeout(struct store *st, int wait)
{
}

void
pg_counts(const struct store *st, uint64_t *writes, uint64_t *dberrs)
{
	*writes = PGC(st)->stats.writes;
	*dberrs = PGC(st)->stats.failures;
}

void
pg_set_batch_cb(struct store *st, void (*cb)(void *), void *arg)
{
	PG(st)->batch_cb = cb;
	PG(st)->batch_arg = arg;
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

#else	/* !HAVE_LIBPQ */

#include <stddef.h>

#include "pg_store.h"
#include "store.h"

struct store *
store_pg_open(const char *uri, int flags, const char **errstr)
{
	*errstr = "this xfed was built without PostgreSQL (libpq): use a "
	    "SQLite store, or rebuild with libpq-dev installed";
	return NULL;
}

#endif
