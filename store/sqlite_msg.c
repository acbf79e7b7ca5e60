/*
 * store/sqlite_msg.c: the inbox (stanzas delivered to native users) and
 * the outbox (what they send), on SQLite. sqlite_inbox_put() is the hot
 * path of inbound traffic: one cached INSERT .. SELECT that finds the
 * user and writes the row in one step, no allocation.
 */
#include <string.h>

#include <sqlite3.h>

#include "sqlite_int.h"
#include "store.h"

int
sqlite_inbox_put(struct store *st, const struct store_inbox *m, int64_t *idp)
{
	sqlite3_stmt	*q;
	int		 rc;

	/*
	 * VALUES with the user's id from a subquery, not INSERT .. SELECT:
	 * with a row trigger on inbox (events_inbox), SQLite runs an
	 * INSERT .. SELECT through a temporary table, one per row (a
	 * b-tree opened, a page zeroed and freed), which cost as much as
	 * the insert itself (make bench). No such user: user_id is NULL,
	 * which its NOT NULL refuses.
	 */
	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_INBOX_PUT,
	    "INSERT INTO inbox (user_id, kind, from_jid, to_jid, type, "
	    "stanza_id, body, subject, thread, xml, received, receipt) "
	    "VALUES ((SELECT id FROM users WHERE domain = ?2 AND "
	    "localpart = ?1 AND disabled = 0), ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
	    "?10, coalesce(?11, ''), ?12, ?13)")) == NULL)
		return -1;
	sqlite_bind_user(q, m->local, m->domain);
	sqlite3_bind_text(q, 3, store_kind_name(m->kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, m->from, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, m->to, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 6, m->type, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 7, m->stanza_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 8, m->body, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 9, m->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 10, m->thread, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 11, m->xml, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 12, m->received ? m->received : store_now());
	if (m->receipt)
		sqlite3_bind_text(q, 13, "wanted", -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, 13);
	if ((rc = sqlite3_step(q)) == SQLITE_DONE) {
		if (idp != NULL)
			*idp = sqlite3_last_insert_rowid(sqlite_db(st));
		store_ok(st);
	} else if (sqlite3_extended_errcode(sqlite_db(st)) ==
	    SQLITE_CONSTRAINT_NOTNULL && m->from != NULL && m->to != NULL)
		store_fail(st, STORE_E_NOTFOUND, "no user %s@%s", m->local,
		    m->domain);
	else
		sqlite_dberr(st, "inbox put");
	sqlite3_reset(q);
	return rc == SQLITE_DONE ? 0 : -1;
}

struct store_inbox_ctx {
	store_inbox_cb	 cb;
	void		*arg;
};

static int
store_inbox_one(sqlite3_stmt *q, void *arg)
{
	struct store_inbox_ctx	*cx = arg;
	struct store_inbox	 m;

	memset(&m, 0, sizeof(m));
	m.id = sqlite3_column_int64(q, 0);
	m.local = STORE_COL_TEXT(q, 1);
	m.domain = STORE_COL_TEXT(q, 2);
	store_kind_parse(STORE_COL_TEXT(q, 3), &m.kind);
	m.from = STORE_COL_TEXT(q, 4);
	m.to = STORE_COL_TEXT(q, 5);
	m.type = STORE_COL_TEXT(q, 6);
	m.stanza_id = STORE_COL_TEXT(q, 7);
	m.body = STORE_COL_TEXT(q, 8);
	m.subject = STORE_COL_TEXT(q, 9);
	m.thread = STORE_COL_TEXT(q, 10);
	m.xml = STORE_COL_TEXT(q, 11);
	m.received = sqlite3_column_int64(q, 12);
	m.consumed = sqlite3_column_int64(q, 13);
	return cx->cb(cx->arg, &m);
}

#define INBOX_SELECT \
	"SELECT i.id, u.localpart, u.domain, i.kind, i.from_jid, i.to_jid, " \
	"i.type, i.stanza_id, i.body, i.subject, i.thread, i.xml, " \
	"i.received, i.consumed FROM inbox i JOIN users u ON u.id = i.user_id " \
	"WHERE i.id > ?3 AND (?4 OR i.consumed IS NULL) "

int
sqlite_inbox_list(struct store *st, const char *local, const char *domain,
    int64_t after, int flags, size_t limit, store_inbox_cb cb, void *arg)
{
	struct store_inbox_ctx	 cx = { cb, arg };
	sqlite3_stmt		*q;

	if (local != NULL)
		q = sqlite_q(st, Q_INBOX_LIST_USER, INBOX_SELECT
		    "AND u.domain = ?2 AND u.localpart = ?1 "
		    "ORDER BY i.id LIMIT ?5");
	else
		q = sqlite_q(st, Q_INBOX_LIST, INBOX_SELECT
		    "ORDER BY i.id LIMIT ?5");
	if (q == NULL)
		return -1;
	if (local != NULL)
		sqlite_bind_user(q, local, domain);
	sqlite3_bind_int64(q, 3, after);
	sqlite3_bind_int(q, 4, (flags & STORE_INBOX_ALL) != 0);
	sqlite3_bind_int64(q, 5, limit ? (sqlite3_int64)limit : -1);
	return sqlite_rows(st, q, store_inbox_one, &cx, NULL, "inbox");
}

int
sqlite_inbox_consume(struct store *st, int64_t id)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_INBOX_CONSUME,
	    "UPDATE inbox SET consumed = coalesce(consumed, ?2) "
	    "WHERE id = ?1")) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, store_now());
	return sqlite_wchange(st, q, NULL, "inbox consume",
	    "no inbox entry %lld", (long long)id);
}

int
sqlite_receipts_due(struct store *st, size_t limit, store_inbox_cb cb,
    void *arg)
{
	struct store_inbox_ctx	 cx = { cb, arg };
	sqlite3_stmt		*q;

	if ((q = sqlite_q(st, Q_RECEIPTS_DUE, "SELECT i.id, u.localpart, "
	    "u.domain, i.kind, i.from_jid, i.to_jid, i.type, i.stanza_id, "
	    "i.body, i.subject, i.thread, i.xml, i.received, i.consumed "
	    "FROM inbox i JOIN users u ON u.id = i.user_id "
	    "WHERE i.receipt = 'wanted' AND i.consumed IS NOT NULL "
	    "ORDER BY i.id LIMIT ?1")) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, limit ? (sqlite3_int64)limit : -1);
	return sqlite_rows(st, q, store_inbox_one, &cx, NULL, "receipts");
}

int
sqlite_receipt_sent(struct store *st, int64_t id)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_RECEIPT_SENT,
	    "UPDATE inbox SET receipt = 'sent' WHERE id = ?1")) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	return sqlite_wstep(st, q, "receipt sent");
}

int
sqlite_inbox_last(struct store *st, int64_t *idp)
{
	sqlite3_stmt	*q;

	if ((q = sqlite_q(st, Q_INBOX_LAST,
	    "SELECT coalesce(max(id), 0) FROM inbox")) == NULL)
		return -1;
	return sqlite_value(st, q, idp, "inbox last");
}

int
sqlite_outbox_add(struct store *st, const struct store_outbox *m,
    int64_t *idp)
{
	sqlite3_stmt	*q;
	const char	*type = m->type;

	if (type == NULL && m->kind == STORE_KIND_MESSAGE)
		type = "chat";
	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_OUTBOX_ADD,
	    "INSERT INTO outbox (user_id, kind, to_jid, type, stanza_id, "
	    "body, subject, thread, xml, created, updated) "
	    "SELECT id, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?11, ?10, ?10 FROM users "
	    "WHERE domain = ?2 AND localpart = ?1")) == NULL)
		return -1;
	sqlite_bind_user(q, m->local, m->domain);
	sqlite3_bind_text(q, 3, store_kind_name(m->kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, m->to, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 6, m->stanza_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 7, m->body, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 8, m->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 9, m->thread, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 10, store_now());
	sqlite3_bind_text(q, 11, m->xml, -1, SQLITE_STATIC);
	return sqlite_wchange(st, q, idp, "outbox add",
	    "no user %s@%s", m->local, m->domain);
}

struct store_outbox_ctx {
	store_outbox_cb	 cb;
	void		*arg;
};

/*
 * Column i as a C string, by its bytes (sqlite3_column_bytes): a value
 * holding a NUL would end early as a string, so the first such column is
 * named in m->nul_column.
 */
static const char *
store_outbox_col(sqlite3_stmt *q, int i, struct store_outbox *m)
{
	static const char *const names[] = {
		[4] = "to_jid", [5] = "type", [6] = "stanza_id", [7] = "body",
		[8] = "subject", [9] = "thread",
	};
	const char	*s = STORE_COL_TEXT(q, i);
	int		 n = sqlite3_column_bytes(q, i);

	if (s != NULL && m->nul_column == NULL && memchr(s, '\0', n) != NULL)
		m->nul_column = names[i];
	return s;
}

static int
store_outbox_one(sqlite3_stmt *q, void *arg)
{
	struct store_outbox_ctx	*cx = arg;
	struct store_outbox	 m;

	memset(&m, 0, sizeof(m));
	m.id = sqlite3_column_int64(q, 0);
	m.local = STORE_COL_TEXT(q, 1);
	m.domain = STORE_COL_TEXT(q, 2);
	store_kind_parse(STORE_COL_TEXT(q, 3), &m.kind);
	m.to = store_outbox_col(q, 4, &m);
	m.type = store_outbox_col(q, 5, &m);
	m.stanza_id = store_outbox_col(q, 6, &m);
	m.body = store_outbox_col(q, 7, &m);
	m.subject = store_outbox_col(q, 8, &m);
	m.thread = store_outbox_col(q, 9, &m);
	store_out_state_parse(STORE_COL_TEXT(q, 10), &m.state);
	m.attempts = sqlite3_column_int(q, 11);
	m.next_attempt = sqlite3_column_int64(q, 12);
	m.last_error = STORE_COL_TEXT(q, 13);
	m.error_stage = STORE_COL_TEXT(q, 14);
	m.error_xml = STORE_COL_TEXT(q, 15);
	m.created = sqlite3_column_int64(q, 16);
	m.updated = sqlite3_column_int64(q, 17);
	m.xml = STORE_COL_TEXT(q, 18);
	return cx->cb(cx->arg, &m);
}

#define OUTBOX_SELECT \
	"SELECT o.id, u.localpart, u.domain, o.kind, o.to_jid, o.type, " \
	"o.stanza_id, o.body, o.subject, o.thread, o.state, o.attempts, " \
	"o.next_attempt, o.last_error, o.error_stage, o.error_xml, " \
	"o.created, o.updated, o.xml " \
	"FROM outbox o JOIN users u ON u.id = o.user_id "

int
sqlite_outbox_get(struct store *st, int64_t id, store_outbox_cb cb, void *arg)
{
	struct store_outbox_ctx	 cx = { cb, arg };
	sqlite3_stmt		*q;
	int			 n;

	if ((q = sqlite_q(st, Q_OUTBOX_GET, OUTBOX_SELECT
	    "WHERE o.id = ?1")) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	if (sqlite_rows(st, q, store_outbox_one, &cx, &n, "outbox") == -1)
		return -1;
	if (n == 0)
		return store_fail(st, STORE_E_NOTFOUND, "no outbox entry %lld",
		    (long long)id);
	return 0;
}

int
sqlite_outbox_list(struct store *st, const char *local, const char *domain,
    size_t limit, store_outbox_cb cb, void *arg)
{
	struct store_outbox_ctx	 cx = { cb, arg };
	sqlite3_stmt		*q;

	if (local != NULL)
		q = sqlite_q(st, Q_OUTBOX_LIST_USER, OUTBOX_SELECT
		    "WHERE u.domain = ?2 AND u.localpart = ?1 "
		    "ORDER BY o.id DESC LIMIT ?3");
	else
		q = sqlite_q(st, Q_OUTBOX_LIST, OUTBOX_SELECT
		    "ORDER BY o.id DESC LIMIT ?3");
	if (q == NULL)
		return -1;
	if (local != NULL)
		sqlite_bind_user(q, local, domain);
	sqlite3_bind_int64(q, 3, limit ? (sqlite3_int64)limit : -1);
	return sqlite_rows(st, q, store_outbox_one, &cx, NULL, "outbox");
}

int
sqlite_outbox_due(struct store *st, int64_t now, size_t limit,
    store_outbox_cb cb, void *arg)
{
	struct store_outbox_ctx	 cx = { cb, arg };
	sqlite3_stmt		*q;

	if ((q = sqlite_q(st, Q_OUTBOX_DUE, OUTBOX_SELECT
	    "WHERE o.state = 'queued' AND o.next_attempt <= ?1 "
	    "ORDER BY o.id LIMIT ?2")) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, now);
	sqlite3_bind_int64(q, 2, limit ? (sqlite3_int64)limit : -1);
	return sqlite_rows(st, q, store_outbox_one, &cx, NULL, "outbox");
}

struct store_queued_ctx {
	store_queued_cb	 cb;
	void		*arg;
};

static int
store_outbox_queued_one(sqlite3_stmt *q, void *arg)
{
	struct store_queued_ctx	*cx = arg;

	return cx->cb(cx->arg, (const char *)sqlite3_column_text(q, 0),
	    sqlite3_column_int64(q, 1), sqlite3_column_int64(q, 2));
}

int
sqlite_outbox_queued(struct store *st, store_queued_cb cb, void *arg)
{
	struct store_queued_ctx	 cx = { cb, arg };
	sqlite3_stmt		*q;

	/* The domain of to_jid: before any '/', after any '@'. */
	if ((q = sqlite_q(st, Q_OUTBOX_QUEUED,
	    "WITH b(j, created) AS (SELECT CASE WHEN instr(to_jid, '/') > 0 "
	    "THEN substr(to_jid, 1, instr(to_jid, '/') - 1) ELSE to_jid END, "
	    "created FROM outbox WHERE state = 'queued'), "
	    "d(domain, created) AS (SELECT substr(j, instr(j, '@') + 1), "
	    "created FROM b) "
	    "SELECT domain, count(*), min(created) FROM d GROUP BY domain "
	    "ORDER BY domain")) == NULL)
		return -1;
	return sqlite_rows(st, q, store_outbox_queued_one, &cx, NULL,
	    "outbox queued");
}

static int
store_outbox_earlier_one(sqlite3_stmt *q, void *arg)
{
	*(int *)arg = sqlite3_column_int(q, 0);
	return 0;
}

struct store_earlier_u {
	const char	*bare;
	int		*yes;
};

static int
store_outbox_earlier_u(sqlite3_stmt *q, void *arg)
{
	struct store_earlier_u	*cx = arg;
	const char		*to = STORE_COL_TEXT(q, 0);

	if (to != NULL && store_jid_same_bare(to, cx->bare))
		*cx->yes = 1;
	return *cx->yes;
}

#define OUTBOX_EARLIER_ROWS \
	"FROM outbox WHERE user_id = " USER_WHERE " AND id < ?4 AND " \
	"kind = 'message' AND state IN ('queued', 'sent', 'delivered') "

int
sqlite_outbox_earlier(struct store *st, const char *local, const char *domain,
    const char *bare, int64_t id, int *yes)
{
	struct store_earlier_u	 cx = { bare, yes };
	sqlite3_stmt		*q;

	*yes = 0;
	/* outbox_user (user_id, id) bounds the scan; to_jid is as the
	 * native system wrote it, bare the prepared JID: compared without
	 * ASCII case in SQL; a row that failed or was refused took no nick */
	if ((q = sqlite_q(st, Q_OUTBOX_EARLIER, "SELECT EXISTS (SELECT 1 "
	    OUTBOX_EARLIER_ROWS "AND (lower(to_jid) = ?3 OR "
	    "substr(lower(to_jid), 1, length(?3) + 1) = ?3 || '/'))")) == NULL)
		return -1;
	sqlite_bind_user(q, local, domain);
	sqlite3_bind_text(q, 3, bare, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, id);
	if (sqlite_rows(st, q, store_outbox_earlier_one, yes, NULL,
	    "outbox earlier") == -1 || *yes)
		return *yes ? 0 : -1;
	/* lower() folds ASCII only: rows with other characters are
	 * prepared as JIDs here (Unicode case, width, NFC) */
	if ((q = sqlite_q(st, Q_OUTBOX_EARLIER_U, "SELECT to_jid "
	    OUTBOX_EARLIER_ROWS "AND to_jid GLOB '*[^ -~]*'")) == NULL)
		return -1;
	sqlite_bind_user(q, local, domain);
	sqlite3_bind_int64(q, 4, id);
	return sqlite_rows(st, q, store_outbox_earlier_u, &cx, NULL,
	    "outbox earlier");
}

/* One UPDATE of row id; NOTFOUND when there is no such row. */
static int
store_outbox_update(struct store *st, sqlite3_stmt *q, int64_t id,
    const char *what)
{
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, store_now());
	return sqlite_wchange(st, q, NULL, what,
	    "no outbox entry %lld", (long long)id);
}

int
sqlite_outbox_sent(struct store *st, int64_t id)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_OUTBOX_SENT,
	    "UPDATE outbox SET state = 'sent', attempts = attempts + 1, "
	    "updated = ?2 WHERE id = ?1")) == NULL)
		return -1;
	return store_outbox_update(st, q, id, "outbox sent");
}

int
sqlite_outbox_delivered(struct store *st, int64_t id)
{
	sqlite3_stmt	*q;

	/* an attempt when it was not counted as sent before */
	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_OUTBOX_DELIVERED,
	    "UPDATE outbox SET attempts = attempts + (state = 'queued'), "
	    "state = 'delivered', updated = ?2 WHERE id = ?1")) == NULL)
		return -1;
	return store_outbox_update(st, q, id, "outbox delivered");
}

int
sqlite_outbox_retry(struct store *st, int64_t id, int64_t next_attempt,
    const char *stage, const char *error)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_OUTBOX_RETRY,
	    "UPDATE outbox SET attempts = attempts + 1, next_attempt = ?3, "
	    "error_stage = ?4, last_error = ?5, updated = ?2, "
	    "state = CASE WHEN state IN ('sent', 'delivered') THEN 'queued' "
	    "ELSE state END WHERE id = ?1")) == NULL)
		return -1;
	sqlite3_bind_int64(q, 3, next_attempt);
	sqlite3_bind_text(q, 4, stage, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, error, -1, SQLITE_STATIC);
	return store_outbox_update(st, q, id, "outbox retry");
}

int
sqlite_outbox_failed(struct store *st, int64_t id, const char *stage,
    const char *error, const char *error_xml)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_OUTBOX_FAILED,
	    "UPDATE outbox SET state = 'failed', attempts = attempts + 1, "
	    "error_stage = ?3, last_error = ?4, error_xml = ?5, updated = ?2 "
	    "WHERE id = ?1")) == NULL)
		return -1;
	sqlite3_bind_text(q, 3, stage, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, error, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, error_xml, -1, SQLITE_STATIC);
	return store_outbox_update(st, q, id, "outbox failed");
}

int
sqlite_inbox_get(struct store *st, int64_t id, store_inbox_cb cb, void *arg)
{
	struct store_inbox_ctx	 cx = { cb, arg };
	sqlite3_stmt		*q;
	int			 n;

	if ((q = sqlite_q(st, Q_INBOX_GET, INBOX_SELECT "AND i.id = ?1")) ==
	    NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 3, id - 1);
	sqlite3_bind_int(q, 4, 1);
	if (sqlite_rows(st, q, store_inbox_one, &cx, &n, "inbox") == -1)
		return -1;
	if (n == 0)
		return store_fail(st, STORE_E_NOTFOUND, "no inbox entry %lld",
		    (long long)id);
	return 0;
}

int
sqlite_inbox_ack(struct store *st, const char *local, const char *domain,
    int64_t upto, int64_t *np)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, Q_INBOX_ACK,
	    "UPDATE inbox SET consumed = ?4 WHERE user_id = (SELECT id "
	    "FROM users WHERE domain = ?2 AND localpart = ?1) AND id <= ?3 "
	    "AND consumed IS NULL")) == NULL)
		return -1;
	sqlite_bind_user(q, local, domain);
	sqlite3_bind_int64(q, 3, upto);
	sqlite3_bind_int64(q, 4, store_now());
	if (sqlite_wstep(st, q, "inbox ack") == -1)
		return -1;
	*np = sqlite3_changes(sqlite_db(st));
	return 0;
}

int
sqlite_inbox_unconsumed(struct store *st, const char *local,
    const char *domain, int64_t *np)
{
	sqlite3_stmt	*q;

	if ((q = sqlite_q(st, Q_INBOX_UNCONSUMED, "SELECT count(*) FROM inbox "
	    "WHERE consumed IS NULL AND user_id = (SELECT id FROM users "
	    "WHERE domain = ?2 AND localpart = ?1)")) == NULL)
		return -1;
	sqlite_bind_user(q, local, domain);
	return sqlite_value(st, q, np, "inbox count");
}

/* One bounded DELETE of rows finished before before (?1), limit ?2. */
static int
store_prune(struct store *st, enum sqlite_q id, const char *sql,
    int64_t before, int limit, int64_t *np, const char *what)
{
	sqlite3_stmt	*q;

	if (sqlite_wbegin(st) == -1 || (q = sqlite_q(st, id, sql)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, before);
	sqlite3_bind_int(q, 2, limit);
	return sqlite_wcount(st, q, np, what);
}

int
sqlite_inbox_prune(struct store *st, int64_t before, int limit, int64_t *np)
{
	return store_prune(st, Q_INBOX_PRUNE, "DELETE FROM inbox WHERE id IN "
	    "(SELECT id FROM inbox WHERE consumed IS NOT NULL AND "
	    "consumed < ?1 AND receipt IS NOT 'wanted' LIMIT ?2)", before,
	    limit, np, "inbox prune");
}

int
sqlite_outbox_prune(struct store *st, int64_t before, int limit, int64_t *np)
{
	return store_prune(st, Q_OUTBOX_PRUNE, "DELETE FROM outbox WHERE id IN "
	    "(SELECT id FROM outbox WHERE state <> 'queued' AND "
	    "updated < ?1 LIMIT ?2)", before, limit, np, "outbox prune");
}
