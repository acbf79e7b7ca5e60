/*
 * store/pg_msg.c: the inbox, the outbox, directed presence and departed
 * users, on PostgreSQL (sqlite_msg.c's SQL in PostgreSQL's dialect). A
 * limit of 0 is "no limit": LIMIT NULL.
 */
#include "config.h"

#ifdef HAVE_LIBPQ

#include <string.h>

#include <libpq-fe.h>

#include "pg_int.h"
#include "pg_store.h"
#include "store.h"

static void
pgp_limit(struct pg_params *p, size_t limit)
{
	if (limit == 0)
		pgp_text(p, NULL);
	else
		pgp_int(p, (int64_t)limit);
}

#define PG_INBOX_PUT "INSERT INTO inbox (user_id, kind, from_jid, to_jid, " \
	"type, stanza_id, body, subject, thread, xml, received, receipt) " \
	"SELECT id, $3::text, $4::text, $5::text, $6::text, $7::text, " \
	"$8::text, $9::text, $10::text, coalesce($11::text, ''), " \
	"$12::bigint, $13::text FROM users WHERE domain = $2 AND " \
	"localpart = $1 AND disabled = 0 RETURNING id"

/*
 * PG_INBOX_PUT for many rows at once (pg_write_later()): $1..$13 are
 * arrays of its parameters, $14 their length; a division by zero when a
 * row was not stored (no such user), so that the rows go again one by
 * one and that row alone is refused.
 */
#define PG_INBOX_PUT_MANY "WITH r AS (SELECT * FROM unnest($1::text[], " \
	"$2::text[], $3::text[], $4::text[], $5::text[], $6::text[], " \
	"$7::text[], $8::text[], $9::text[], $10::text[], $11::text[], " \
	"$12::bigint[], $13::text[]) WITH ORDINALITY AS r(lp, dom, kind, " \
	"fr, t, ty, sid, body, subj, thr, xml, rcv, rcpt, ord)), " \
	"ins AS (INSERT INTO inbox (user_id, kind, from_jid, to_jid, type, " \
	"stanza_id, body, subject, thread, xml, received, receipt) " \
	"SELECT u.id, r.kind, r.fr, r.t, r.ty, r.sid, r.body, r.subj, " \
	"r.thr, coalesce(r.xml, ''), r.rcv, r.rcpt FROM r JOIN users u ON " \
	"u.domain = r.dom AND u.localpart = r.lp AND u.disabled = 0 " \
	"ORDER BY r.ord RETURNING 1) " \
	"SELECT 1 / (CASE WHEN count(*) = $14::bigint THEN 1 ELSE 0 END) " \
	"FROM ins"

static void
pg_inbox_params(struct pg_params *p, const struct store_inbox *m)
{
	pgp_text(p, m->local);
	pgp_text(p, m->domain);
	pgp_text(p, store_kind_name(m->kind));
	pgp_text(p, m->from);
	pgp_text(p, m->to);
	pgp_text(p, m->type);
	pgp_text(p, m->stanza_id);
	pgp_text(p, m->body);
	pgp_text(p, m->subject);
	pgp_text(p, m->thread);
	pgp_text(p, m->xml);
	pgp_int(p, m->received ? m->received : pg_now());
	pgp_text(p, m->receipt ? "wanted" : NULL);
}

int
pg_inbox_put(struct store *st, const struct store_inbox *m, int64_t *idp)
{
	struct pg_params p = { 0 };

	pg_inbox_params(&p, m);
	return pg_wchange(PG(st), PQ_INBOX_PUT, PG_INBOX_PUT, &p, idp,
	    "inbox put", "no user %s@%s", m->local, m->domain);
}

int
pg_inbox_put_later(struct store *st, const struct store_inbox *m,
    store_refused_cb refused, void *arg)
{
	struct pg_params p = { 0 };
	char		 nouser[2 * 1024 + 16];

	pg_inbox_params(&p, m);
	snprintf(nouser, sizeof(nouser), "no user %s@%s", m->local,
	    m->domain);
	return pg_write_later(PG(st), PQ_INBOX_PUT, PG_INBOX_PUT,
	    PQ_INBOX_PUT_MANY, PG_INBOX_PUT_MANY, &p, refused, arg,
	    "inbox put", nouser);
}

struct pg_inbox_ctx {
	store_inbox_cb	 cb;
	void		*arg;
};

static int
pg_inbox_one(PGresult *r, int i, void *arg)
{
	struct pg_inbox_ctx	*cx = arg;
	struct store_inbox	 m;

	memset(&m, 0, sizeof(m));
	m.id = pg_int(r, i, 0);
	m.local = pg_col(r, i, 1);
	m.domain = pg_col(r, i, 2);
	store_kind_parse(pg_col(r, i, 3), &m.kind);
	m.from = pg_col(r, i, 4);
	m.to = pg_col(r, i, 5);
	m.type = pg_col(r, i, 6);
	m.stanza_id = pg_col(r, i, 7);
	m.body = pg_col(r, i, 8);
	m.subject = pg_col(r, i, 9);
	m.thread = pg_col(r, i, 10);
	m.xml = pg_col(r, i, 11);
	m.received = pg_int(r, i, 12);
	m.consumed = pg_int(r, i, 13);
	return cx->cb(cx->arg, &m);
}

#define INBOX_COLS \
	"SELECT i.id, u.localpart, u.domain, i.kind, i.from_jid, i.to_jid, " \
	"i.type, i.stanza_id, i.body, i.subject, i.thread, i.xml, " \
	"i.received, i.consumed FROM inbox i JOIN users u ON u.id = i.user_id "
#define INBOX_SELECT \
	INBOX_COLS "WHERE i.id > $3 AND ($4 OR i.consumed IS NULL) "

int
pg_inbox_list(struct store *st, const char *local, const char *domain,
    int64_t after, int flags, size_t limit, store_inbox_cb cb, void *arg)
{
	struct pg_inbox_ctx cx = { cb, arg };
	struct pg_params p = { 0 };
	PGresult	*r;

	pgp_text(&p, local);
	pgp_text(&p, domain);
	pgp_int(&p, after);
	pgp_text(&p, (flags & STORE_INBOX_ALL) ? "t" : "f");
	pgp_limit(&p, limit);
	if (local != NULL)
		r = pg_read(PG(st), PQ_INBOX_LIST_USER, INBOX_SELECT
		    "AND u.domain = $2 AND u.localpart = $1 "
		    "ORDER BY i.id LIMIT $5", &p, "inbox");
	else
		r = pg_read(PG(st), PQ_INBOX_LIST, INBOX_SELECT
		    "AND $1::text IS NULL AND $2::text IS NULL "
		    "ORDER BY i.id LIMIT $5", &p, "inbox");
	if (r == NULL)
		return -1;
	return pg_rows(PG(st), r, pg_inbox_one, &cx, NULL);
}

int
pg_inbox_get(struct store *st, int64_t id, store_inbox_cb cb, void *arg)
{
	struct pg_inbox_ctx cx = { cb, arg };

	return pg_get_one(PG(st), PQ_INBOX_GET, INBOX_COLS "WHERE i.id = $1",
	    id, pg_inbox_one, &cx, "inbox", "inbox entry");
}

int
pg_inbox_consume(struct store *st, int64_t id)
{
	struct pg_params p = { 0 };

	pgp_int(&p, id);
	pgp_int(&p, pg_now());
	return pg_wchange(PG(st), PQ_INBOX_CONSUME, "UPDATE inbox SET "
	    "consumed = coalesce(consumed, $2) WHERE id = $1", &p, NULL,
	    "inbox consume", "no inbox entry %lld", (long long)id);
}

int
pg_receipts_due(struct store *st, size_t limit, store_inbox_cb cb, void *arg)
{
	struct pg_inbox_ctx cx = { cb, arg };
	struct pg_params p = { 0 };
	PGresult	*r;

	pgp_limit(&p, limit);
	if ((r = pg_read(PG(st), PQ_RECEIPTS_DUE, INBOX_COLS
	    "WHERE i.receipt = 'wanted' AND i.consumed IS NOT NULL "
	    "ORDER BY i.id LIMIT $1", &p, "receipts")) == NULL)
		return -1;
	return pg_rows(PG(st), r, pg_inbox_one, &cx, NULL);
}

int
pg_receipt_sent(struct store *st, int64_t id)
{
	struct pg_params p = { 0 };

	pgp_int(&p, id);
	return pg_write(PG(st), PQ_RECEIPT_SENT, "UPDATE inbox SET "
	    "receipt = 'sent' WHERE id = $1", &p, NULL, "receipt sent");
}

int
pg_inbox_last(struct store *st, int64_t *idp)
{
	return pg_value(PG(st), PQ_INBOX_LAST, "SELECT coalesce(max(id), 0) "
	    "FROM inbox", NULL, idp, "inbox last");
}

int
pg_inbox_ack(struct store *st, const char *local, const char *domain,
    int64_t upto, int64_t *np)
{
	struct pg_params p = { 0 };

	pgp_text(&p, local);
	pgp_text(&p, domain);
	pgp_int(&p, upto);
	pgp_int(&p, pg_now());
	return pg_write(PG(st), PQ_INBOX_ACK, "UPDATE inbox SET consumed = $4 "
	    "WHERE user_id = " PG_USER_WHERE " AND id <= $3 "
	    "AND consumed IS NULL", &p, np, "inbox ack");
}

int
pg_inbox_unconsumed(struct store *st, const char *local, const char *domain,
    int64_t *np)
{
	struct pg_params p = { 0 };

	pgp_text(&p, local);
	pgp_text(&p, domain);
	return pg_value(PG(st), PQ_INBOX_UNCONSUMED, "SELECT count(*) FROM "
	    "inbox WHERE consumed IS NULL AND user_id = " PG_USER_WHERE, &p,
	    np, "inbox count");
}

int
pg_inbox_unconsumed_all(struct store *st, int64_t *np)
{
	return pg_value(PG(st), PQ_INBOX_UNCONSUMED_ALL, "SELECT count(*) "
	    "FROM inbox WHERE consumed IS NULL", NULL, np, "inbox count");
}

int
pg_inbox_prune(struct store *st, int64_t before, int limit, int64_t *np)
{
	struct pg_params p = { 0 };

	pgp_int(&p, before);
	pgp_int(&p, limit);
	return pg_write(PG(st), PQ_INBOX_PRUNE, "DELETE FROM inbox WHERE id IN "
	    "(SELECT id FROM inbox WHERE consumed IS NOT NULL AND "
	    "consumed < $1 AND receipt IS DISTINCT FROM 'wanted' LIMIT $2)",
	    &p, np, "inbox prune");
}

int
pg_outbox_add(struct store *st, const struct store_outbox *m, int64_t *idp)
{
	struct pg_params p = { 0 };
	const char	*type = m->type;

	if (type == NULL && m->kind == STORE_KIND_MESSAGE)
		type = "chat";
	pgp_text(&p, m->local);
	pgp_text(&p, m->domain);
	pgp_text(&p, store_kind_name(m->kind));
	pgp_text(&p, m->to);
	pgp_text(&p, type);
	pgp_text(&p, m->stanza_id);
	pgp_text(&p, m->body);
	pgp_text(&p, m->subject);
	pgp_text(&p, m->thread);
	pgp_int(&p, pg_now());
	pgp_text(&p, m->xml);
	return pg_wchange(PG(st), PQ_OUTBOX_ADD, "INSERT INTO outbox (user_id, "
	    "kind, to_jid, type, stanza_id, body, subject, thread, xml, "
	    "created, updated) SELECT id, $3::text, $4::text, $5::text, "
	    "$6::text, $7::text, $8::text, $9::text, $11::text, $10::bigint, "
	    "$10::bigint FROM users WHERE domain = $2 AND localpart = $1 "
	    "RETURNING id", &p, idp, "outbox add", "no user %s@%s", m->local,
	    m->domain);
}

struct pg_outbox_ctx {
	store_outbox_cb	 cb;
	void		*arg;
};

static int
pg_outbox_one(PGresult *r, int i, void *arg)
{
	struct pg_outbox_ctx	*cx = arg;
	struct store_outbox	 m;

	/* PostgreSQL's text never holds a NUL: nul_column stays NULL */
	memset(&m, 0, sizeof(m));
	m.id = pg_int(r, i, 0);
	m.local = pg_col(r, i, 1);
	m.domain = pg_col(r, i, 2);
	store_kind_parse(pg_col(r, i, 3), &m.kind);
	m.to = pg_col(r, i, 4);
	m.type = pg_col(r, i, 5);
	m.stanza_id = pg_col(r, i, 6);
	m.body = pg_col(r, i, 7);
	m.subject = pg_col(r, i, 8);
	m.thread = pg_col(r, i, 9);
	store_out_state_parse(pg_col(r, i, 10), &m.state);
	m.attempts = (int)pg_int(r, i, 11);
	m.next_attempt = pg_int(r, i, 12);
	m.last_error = pg_col(r, i, 13);
	m.error_stage = pg_col(r, i, 14);
	m.error_xml = pg_col(r, i, 15);
	m.created = pg_int(r, i, 16);
	m.updated = pg_int(r, i, 17);
	m.xml = pg_col(r, i, 18);
	return cx->cb(cx->arg, &m);
}

#define OUTBOX_SELECT \
	"SELECT o.id, u.localpart, u.domain, o.kind, o.to_jid, o.type, " \
	"o.stanza_id, o.body, o.subject, o.thread, o.state, o.attempts, " \
	"o.next_attempt, o.last_error, o.error_stage, o.error_xml, " \
	"o.created, o.updated, o.xml " \
	"FROM outbox o JOIN users u ON u.id = o.user_id "

int
pg_outbox_get(struct store *st, int64_t id, store_outbox_cb cb, void *arg)
{
	struct pg_outbox_ctx cx = { cb, arg };

	return pg_get_one(PG(st), PQ_OUTBOX_GET, OUTBOX_SELECT
	    "WHERE o.id = $1", id, pg_outbox_one, &cx, "outbox",
	    "outbox entry");
}

int
pg_outbox_list(struct store *st, const char *local, const char *domain,
    size_t limit, store_outbox_cb cb, void *arg)
{
	struct pg_outbox_ctx cx = { cb, arg };
	struct pg_params p = { 0 };
	PGresult	*r;

	pgp_text(&p, local);
	pgp_text(&p, domain);
	pgp_limit(&p, limit);
	if (local != NULL)
		r = pg_read(PG(st), PQ_OUTBOX_LIST_USER, OUTBOX_SELECT
		    "WHERE u.domain = $2 AND u.localpart = $1 "
		    "ORDER BY o.id DESC LIMIT $3", &p, "outbox");
	else
		r = pg_read(PG(st), PQ_OUTBOX_LIST, OUTBOX_SELECT
		    "WHERE $1::text IS NULL AND $2::text IS NULL "
		    "ORDER BY o.id DESC LIMIT $3", &p, "outbox");
	if (r == NULL)
		return -1;
	return pg_rows(PG(st), r, pg_outbox_one, &cx, NULL);
}

int
pg_outbox_due(struct store *st, int64_t now, size_t limit,
    store_outbox_cb cb, void *arg)
{
	struct pg_outbox_ctx cx = { cb, arg };
	struct pg_params p = { 0 };
	PGresult	*r;

	pgp_int(&p, now);
	pgp_limit(&p, limit);
	if ((r = pg_read(PG(st), PQ_OUTBOX_DUE, OUTBOX_SELECT
	    "WHERE o.state = 'queued' AND o.next_attempt <= $1 "
	    "ORDER BY o.id LIMIT $2", &p, "outbox")) == NULL)
		return -1;
	return pg_rows(PG(st), r, pg_outbox_one, &cx, NULL);
}

int
pg_outbox_due_held(struct store *st, const char *holder, int64_t now,
    size_t limit, store_outbox_cb cb, void *arg)
{
	struct pg_outbox_ctx cx = { cb, arg };
	struct pg_params p = { 0 };
	PGresult	*r;

	pgp_int(&p, now);
	pgp_limit(&p, limit);
	pgp_text(&p, holder);
	if ((r = pg_read(PG(st), PQ_OUTBOX_DUE_HELD, OUTBOX_SELECT
	    "JOIN leases l ON l.remote_domain = " PG_TO_DOMAIN " AND "
	    "l.local_domain = u.domain "
	    "WHERE o.state = 'queued' AND o.next_attempt <= $1 AND "
	    "l.holder = $3 AND l.expiry >= " PG_DBNOW " "
	    "ORDER BY o.id LIMIT $2", &p, "outbox")) == NULL)
		return -1;
	return pg_rows(PG(st), r, pg_outbox_one, &cx, NULL);
}

struct pg_queued_ctx {
	store_queued_cb	 cb;
	void		*arg;
};

static int
pg_queued_one(PGresult *r, int i, void *arg)
{
	struct pg_queued_ctx	*cx = arg;

	return cx->cb(cx->arg, pg_col(r, i, 0), pg_int(r, i, 1),
	    pg_int(r, i, 2));
}

int
pg_outbox_queued(struct store *st, store_queued_cb cb, void *arg)
{
	struct pg_queued_ctx cx = { cb, arg };
	PGresult	*r;

	/* the domain of to_jid: before any '/', after any '@' */
	if ((r = pg_read(PG(st), PQ_OUTBOX_QUEUED, "WITH b(j, created) AS "
	    "(SELECT split_part(to_jid, '/', 1), created FROM outbox "
	    "WHERE state = 'queued'), d(domain, created) AS "
	    "(SELECT substr(j, strpos(j, '@') + 1), created FROM b) "
	    "SELECT domain, count(*), min(created) FROM d GROUP BY domain "
	    "ORDER BY domain", NULL, "outbox queued")) == NULL)
		return -1;
	return pg_rows(PG(st), r, pg_queued_one, &cx, NULL);
}

#define PG_OUTBOX_SQL(set)	"UPDATE outbox SET " set " WHERE id = $1"

/* One UPDATE of row $1 at $2; NOTFOUND when there is no such row. */
static int
pg_outbox_update(struct store *st, enum pg_q q, const char *sql,
    struct pg_params *p, int64_t id, const char *what)
{
	return pg_wchange(PG(st), q, sql, p, NULL, what, "no outbox entry %lld",
	    (long long)id);
}

static void
pgp_row(struct pg_params *p, int64_t id)
{
	pgp_int(p, id);
	pgp_int(p, pg_now());
}

int
pg_outbox_sent(struct store *st, int64_t id)
{
	struct pg_params p = { 0 };

	pgp_row(&p, id);
	return pg_outbox_update(st, PQ_OUTBOX_SENT, PG_OUTBOX_SQL(
	    "state = 'sent', attempts = attempts + 1, updated = $2"), &p, id,
	    "outbox sent");
}

int
pg_outbox_delivered(struct store *st, int64_t id)
{
	struct pg_params p = { 0 };

	/* an attempt when it was not counted as sent before */
	pgp_row(&p, id);
	return pg_outbox_update(st, PQ_OUTBOX_DELIVERED, PG_OUTBOX_SQL(
	    "attempts = attempts + (state = 'queued')::integer, "
	    "state = 'delivered', updated = $2"), &p, id, "outbox delivered");
}

/*
 * The marks of a pipeline in one UPDATE (pg_write_later()): $1 the ids,
 * $2 the times, $3 their number; a division by zero unless every row
 * changed (one gone, or marked twice in the pipeline), so that they go
 * again one by one.
 */
#define PG_OUTBOX_MARK_MANY(set) "WITH c AS (UPDATE outbox o SET " set \
	" FROM unnest($1::bigint[], $2::bigint[]) AS r(id, at) WHERE " \
	"o.id = r.id RETURNING 1) SELECT 1 / (CASE WHEN count(*) = " \
	"$3::bigint THEN 1 ELSE 0 END) FROM c"
#define PG_SENT_SET	"state = 'sent', attempts = o.attempts + 1, " \
	"updated = r.at"
#define PG_DELIVERED_SET "attempts = o.attempts + " \
	"(o.state = 'queued')::integer, state = 'delivered', updated = r.at"

int
pg_outbox_mark_later(struct store *st, int64_t id, int delivered,
    store_refused_cb refused, void *arg)
{
	struct pg_params p = { 0 };
	char		 gone[64];

	pgp_row(&p, id);
	snprintf(gone, sizeof(gone), "no outbox entry %lld", (long long)id);
	if (delivered)
		return pg_write_later(PG(st), PQ_OUTBOX_DELIVERED, PG_OUTBOX_SQL(
		    "attempts = attempts + (state = 'queued')::integer, "
		    "state = 'delivered', updated = $2"),
		    PQ_OUTBOX_DELIVERED_MANY,
		    PG_OUTBOX_MARK_MANY(PG_DELIVERED_SET), &p, refused, arg,
		    "outbox delivered", gone);
	return pg_write_later(PG(st), PQ_OUTBOX_SENT, PG_OUTBOX_SQL(
	    "state = 'sent', attempts = attempts + 1, updated = $2"),
	    PQ_OUTBOX_SENT_MANY, PG_OUTBOX_MARK_MANY(PG_SENT_SET), &p,
	    refused, arg, "outbox sent", gone);
}

int
pg_outbox_retry(struct store *st, int64_t id, int64_t next_attempt,
    const char *stage, const char *error)
{
	struct pg_params p = { 0 };

	pgp_row(&p, id);
	pgp_int(&p, next_attempt);
	pgp_text(&p, stage);
	pgp_text(&p, error);
	return pg_outbox_update(st, PQ_OUTBOX_RETRY, "UPDATE outbox SET "
	    "attempts = attempts + 1, next_attempt = $3, error_stage = $4, "
	    "last_error = $5, updated = $2, state = CASE WHEN state IN "
	    "('sent', 'delivered') THEN 'queued' ELSE state END WHERE id = $1",
	    &p, id, "outbox retry");
}

int
pg_outbox_failed(struct store *st, int64_t id, const char *stage,
    const char *error, const char *error_xml)
{
	struct pg_params p = { 0 };

	pgp_row(&p, id);
	pgp_text(&p, stage);
	pgp_text(&p, error);
	pgp_text(&p, error_xml);
	return pg_outbox_update(st, PQ_OUTBOX_FAILED, "UPDATE outbox SET "
	    "state = 'failed', attempts = attempts + 1, error_stage = $3, "
	    "last_error = $4, error_xml = $5, updated = $2 WHERE id = $1", &p,
	    id, "outbox failed");
}

int
pg_outbox_prune(struct store *st, int64_t before, int limit, int64_t *np)
{
	struct pg_params p = { 0 };

	pgp_int(&p, before);
	pgp_int(&p, limit);
	return pg_write(PG(st), PQ_OUTBOX_PRUNE, "DELETE FROM outbox WHERE id "
	    "IN (SELECT id FROM outbox WHERE state <> 'queued' AND "
	    "updated < $1 LIMIT $2)", &p, np, "outbox prune");
}

int
pg_directed_add(struct store *st, const char *local, const char *domain,
    const char *jid)
{
	struct pg_params p = { 0 };

	pgp_text(&p, local);
	pgp_text(&p, domain);
	pgp_text(&p, jid);
	pgp_int(&p, pg_now());
	return pg_wchange(PG(st), PQ_DIRECTED_ADD, "INSERT INTO directed "
	    "(user_id, jid, sent) SELECT id, $3::text, $4::bigint FROM users "
	    "WHERE domain = $2 AND localpart = $1 ON CONFLICT (user_id, jid) "
	    "DO UPDATE SET sent = excluded.sent", &p, NULL, "directed add",
	    "no user %s@%s", local, domain);
}

struct pg_directed_ctx {
	int	(*cb)(void *, const char *);
	void	*arg;
};

static int
pg_directed_one(PGresult *r, int i, void *arg)
{
	struct pg_directed_ctx	*cx = arg;

	return cx->cb(cx->arg, pg_col(r, i, 0));
}

int
pg_directed_list(struct store *st, const char *local, const char *domain,
    int (*cb)(void *, const char *), void *arg)
{
	struct pg_directed_ctx cx = { cb, arg };
	struct pg_params p = { 0 };
	PGresult	*r;

	pgp_text(&p, local);
	pgp_text(&p, domain);
	if ((r = pg_read(PG(st), PQ_DIRECTED_LIST, "SELECT jid FROM directed "
	    "WHERE user_id = " PG_USER_WHERE " ORDER BY jid", &p,
	    "directed")) == NULL)
		return -1;
	return pg_rows(PG(st), r, pg_directed_one, &cx, NULL);
}

int
pg_directed_del(struct store *st, const char *local, const char *domain,
    const char *jid)
{
	struct pg_params p = { 0 };

	pgp_text(&p, local);
	pgp_text(&p, domain);
	if (jid == NULL)
		return pg_write(PG(st), PQ_DIRECTED_DEL_ALL, "DELETE FROM "
		    "directed WHERE user_id = " PG_USER_WHERE, &p, NULL,
		    "directed del");
	pgp_text(&p, jid);
	return pg_write(PG(st), PQ_DIRECTED_DEL, "DELETE FROM directed "
	    "WHERE user_id = " PG_USER_WHERE " AND jid = $3", &p, NULL,
	    "directed del");
}

struct pg_departed_ctx {
	int	(*cb)(void *, const struct store_departed *);
	void	*arg;
};

static int
pg_departed_one(PGresult *r, int i, void *arg)
{
	struct pg_departed_ctx	*cx = arg;
	struct store_departed	 d;
	enum store_sub_state	 s;
	const char		*state = pg_col(r, i, 4);

	memset(&d, 0, sizeof(d));
	d.id = pg_int(r, i, 0);
	d.local = pg_col(r, i, 1);
	d.domain = pg_col(r, i, 2);
	d.jid = pg_col(r, i, 3);
	if (state != NULL && strcmp(state, "directed") == 0)
		d.state = STORE_DEPARTED_DIRECTED;
	else if (store_sub_state_parse(state, &s) == 0)
		d.state = (int)s;
	d.pending_out = (int)pg_int(r, i, 5);
	d.created = pg_int(r, i, 6);
	return cx->cb(cx->arg, &d);
}

int
pg_departed_list(struct store *st, int64_t after, size_t limit,
    int (*cb)(void *, const struct store_departed *), void *arg)
{
	struct pg_departed_ctx cx = { cb, arg };
	struct pg_params p = { 0 };
	PGresult	*r;

	pgp_limit(&p, limit);
	pgp_int(&p, after);
	if ((r = pg_read(PG(st), PQ_DEPARTED_LIST, "SELECT id, localpart, "
	    "domain, jid, state, pending_out, created FROM departed WHERE "
	    "id > $2 ORDER BY id LIMIT $1", &p, "departed")) == NULL)
		return -1;
	return pg_rows(PG(st), r, pg_departed_one, &cx, NULL);
}

int
pg_departed_del(struct store *st, int64_t id)
{
	struct pg_params p = { 0 };

	pgp_int(&p, id);
	return pg_write(PG(st), PQ_DEPARTED_DEL, "DELETE FROM departed "
	    "WHERE id = $1", &p, NULL, "departed del");
}

int
pg_departed_owe(struct store *st, const char *local, const char *domain,
    const char *jid, int64_t *idp)
{
	struct pg_params p = { 0 };

	pgp_text(&p, local);
	pgp_text(&p, domain);
	pgp_text(&p, jid);
	return pg_wchange(PG(st), PQ_DEPARTED_OWE, "INSERT INTO departed "
	    "(localpart, domain, jid, state) VALUES ($1, $2, $3, 'directed') "
	    "RETURNING id", &p, idp, "departed owe", "not written");
}

struct pg_earlier_u {
	const char	*bare;
	int		*yes;
};

static int
pg_outbox_earlier_u(PGresult *r, int i, void *arg)
{
	struct pg_earlier_u	*cx = arg;
	const char		*to = pg_col(r, i, 0);

	if (to != NULL && store_jid_same_bare(to, cx->bare))
		*cx->yes = 1;
	return *cx->yes;
}

#define PG_OUTBOX_EARLIER_ROWS \
	"FROM outbox WHERE user_id = " PG_USER_WHERE " AND id < $3 AND " \
	"kind = 'message' AND state IN ('queued', 'sent', 'delivered') "

int
pg_outbox_earlier(struct store *st, const char *local, const char *domain,
    const char *bare, int64_t id, int *yes)
{
	struct pg_earlier_u cx = { bare, yes };
	struct pg_params p = { 0 };
	PGresult	*r;
	int64_t		 v;

	*yes = 0;
	pgp_text(&p, local);
	pgp_text(&p, domain);
	pgp_int(&p, id);
	pgp_text(&p, bare);
	if (pg_value(PG(st), PQ_OUTBOX_EARLIER, "SELECT EXISTS (SELECT 1 "
	    PG_OUTBOX_EARLIER_ROWS "AND (lower(to_jid) = $4 OR "
	    "substr(lower(to_jid), 1, length($4) + 1) = $4 || '/'))::int", &p,
	    &v, "outbox earlier") == -1)
		return -1;
	if ((*yes = v != 0))
		return 0;
	/* what lower() may not fold (non-ASCII, by the database's locale)
	 * is prepared as a JID here (Unicode case, width, NFC) */
	p.n = 3;
	if ((r = pg_read(PG(st), PQ_OUTBOX_EARLIER_U, "SELECT to_jid "
	    PG_OUTBOX_EARLIER_ROWS "AND to_jid ~ '[^ -~]'", &p,
	    "outbox earlier")) == NULL)
		return -1;
	return pg_rows(PG(st), r, pg_outbox_earlier_u, &cx, NULL);
}

#endif
