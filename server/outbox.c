/*
 * server/outbox.c: outbox rows in and out of the daemon. A row is read
 * when due (state queued, next_attempt passed), checked and turned into a
 * stanza (payload.c) and routed; the outbound manager later says sent,
 * delivered, retry at a time, or failed. A retry that would fall after
 * created + outbound_retry_for is moved to that deadline, and a failure at
 * or after it fails the row, with the stanza error of its last failure; so
 * does a permanent failure at once. A row waiting for its retry time goes
 * at once when the outbound manager wakes it (its domain is reachable
 * again). Stanza ids we make are "xfed-ROWID", which is how a peer's error
 * stanza finds its row again.
 *
 * The window: a row stays in the table below from the moment it is read
 * until the commit that holds its verdict (its "mark"). At most
 * OUTBOX_BATCH rows are there at a time, and once half of them are marked
 * the batch is committed at once (batch_flush_now()). A crash of xfed can
 * only send again rows that were there, so a peer sees at most
 * OUTBOX_BATCH duplicates per crash. A long queue drains at the speed of
 * the stream: each commit frees the window and the next rows are read
 * from the loop.
 *
 * Marks are kept in memory until committed: when a commit fails they are
 * written again once the store works (batch.c), never lost; while it
 * fails, no row is read.
 *
 * Several instances on one store: only the rows of the (local, remote)
 * domain pairs whose lease this instance holds are read (lease.c), so one
 * instance sends each pair's rows, in order. When an instance dies, the
 * rows in its window that were not marked go again from the instance
 * that takes its leases over: at most OUTBOX_BATCH duplicates per pair.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "batch.h"
#include "conf.h"
#include "el.h"
#include "jid.h"
#include "lease.h"
#include "log.h"
#include "outbox.h"
#include "payload.h"
#include "presence.h"
#include "rowxml.h"
#include "router.h"
#include "server.h"
#include "store.h"
#include "stream.h"
#include "xmalloc.h"

#define OUTBOX_BATCH	256	/* rows read per kick; the window */
#define OUTBOX_ID_PREFIX "xfed-"

/*
 * Rows in the window: open addressing on the row id, created time kept,
 * marked once their verdict waits for its commit.
 */
struct outbox_slot {
	int64_t		 id;		/* 0: empty */
	int64_t		 created;
	int		 marked;
	int		 verdict_due;	/* a peer's wait error queued it
					 * again before the route's verdict */
};

/* A verdict to write, kept until committed. */
struct outbox_mark {
	int64_t			 id;
	enum store_out_state	 state;		/* QUEUED: a retry */
	int64_t			 next;		/* retry at */
	char			*stage, *text, *xml;	/* or NULL */
	int			 written;	/* 1 in the open batch, 2 in the
						   commit in flight */
};

static struct outbox_slot	*outbox_tab;
static size_t			 outbox_cap, outbox_n, outbox_nflight;
static struct outbox_mark	*outbox_marks;
static size_t			 outbox_nmarks, outbox_capmarks, outbox_nwritten;
static struct event		*outbox_more_ev;	/* the next batch */
static int			 outbox_more;	/* more rows may be due */
/*
 * Set while a read of due rows steps: a mark made then (a row that
 * fails alone, a verdict given at once) waits until the read is done,
 * since a write begun inside a read whose snapshot another writer has
 * overtaken fails at once (SQLITE_BUSY_SNAPSHOT) and would look like a
 * failing store.
 */
static int			 outbox_reading;

static void	outbox_more_cb(evutil_socket_t, short, void *);
static void	outbox_note(const struct store_outbox *);
static void	outbox_fail(int64_t, const char *, const char *,
		    const char *);

static size_t
outbox_hash(int64_t id, size_t cap)
{
	return (size_t)((uint64_t)id * 0x9e3779b97f4a7c15ULL) & (cap - 1);
}

static struct outbox_slot *
outbox_find(int64_t id)
{
	size_t	 i;

	if (outbox_cap == 0)
		return NULL;
	for (i = outbox_hash(id, outbox_cap); outbox_tab[i].id != 0;
	    i = (i + 1) & (outbox_cap - 1))
		if (outbox_tab[i].id == id)
			return &outbox_tab[i];
	return NULL;
}

static void
outbox_insert(int64_t id, int64_t created)
{
	struct outbox_slot	*old = outbox_tab;
	size_t			 i, oldcap = outbox_cap;

	if ((outbox_n + 1) * 2 > outbox_cap) {
		outbox_cap = outbox_cap ? outbox_cap * 2 : 256;
		outbox_tab = xcalloc(outbox_cap, sizeof(*outbox_tab));
		outbox_n = 0;
		for (i = 0; i < oldcap; i++)
			if (old[i].id != 0) {
				outbox_insert(old[i].id, old[i].created);
				*outbox_find(old[i].id) = old[i];
			}
		free(old);
	}
	for (i = outbox_hash(id, outbox_cap); outbox_tab[i].id != 0;
	    i = (i + 1) & (outbox_cap - 1))
		;
	outbox_tab[i].id = id;
	outbox_tab[i].created = created;
	outbox_tab[i].marked = 0;
	outbox_tab[i].verdict_due = 0;
	outbox_n++;
}

/* Removes id; returns its created time, or -1 when it was not in flight. */
static int64_t
outbox_remove(int64_t id)
{
	struct outbox_slot	*s = outbox_find(id);
	size_t			 i, j, k;
	int64_t			 created;

	if (s == NULL)
		return -1;
	created = s->created;
	/* backward-shift deletion keeps probe chains whole */
	i = s - outbox_tab;
	outbox_tab[i].id = 0;
	for (j = (i + 1) & (outbox_cap - 1); outbox_tab[j].id != 0;
	    j = (j + 1) & (outbox_cap - 1)) {
		k = outbox_hash(outbox_tab[j].id, outbox_cap);
		if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
			outbox_tab[i] = outbox_tab[j];
			outbox_tab[j].id = 0;
			i = j;
		}
	}
	outbox_n--;
	return created;
}

uint64_t
outbox_inflight(void)
{
	return outbox_nflight;
}

size_t
outbox_marks_pending(void)
{
	return outbox_nmarks;
}

/* A mark the store could not write: the row went away or was changed. */
static void
outbox_mark_refused(void *arg, enum store_err code, const char *why)
{
	log_warnx("outbox: row %lld: %s", (long long)(intptr_t)arg, why);
}

/* Writes mark m into the open batch; -1 when the store failed. */
static int
outbox_mark_write(struct outbox_mark *m)
{
	struct store	*st = server->store;
	int		 rc;

	switch (m->state) {
	case STORE_OUT_SENT:
	case STORE_OUT_DELIVERED:
		/* a refusal is told by the commit at the latest */
		rc = store_outbox_mark_later(st, m->id,
		    m->state == STORE_OUT_DELIVERED, outbox_mark_refused,
		    (void *)(intptr_t)m->id);
		break;
	case STORE_OUT_QUEUED:
		rc = store_outbox_retry(st, m->id, m->next, m->stage, m->text);
		break;
	default:
		rc = store_outbox_failed(st, m->id, m->stage, m->text, m->xml);
		break;
	}
	if (rc == -1 && store_errcode(st) == STORE_E_DB) {
		batch_failed(store_errstr(st));
		return -1;
	}
	if (rc == -1)	/* the row went away or was changed: nothing to keep */
		log_warnx("outbox: row %lld: %s", (long long)m->id,
		    store_errstr(st));
	m->written = 1;
	outbox_nwritten++;
	return 0;
}

/*
 * The verdict on row id: kept as a mark until committed, and written now
 * unless the store fails. Strings are copied.
 */
static void
outbox_mark(int64_t id, enum store_out_state state, int64_t next,
    const char *stage, const char *text, const char *xml)
{
	struct outbox_slot	*s = outbox_find(id);
	struct outbox_mark	*m;

	if (s == NULL) {
		outbox_insert(id, 0);
		s = outbox_find(id);
	} else if (!s->marked)
		outbox_nflight--;
	s->marked = 1;
	if (outbox_nmarks == outbox_capmarks) {
		outbox_capmarks = outbox_capmarks ? outbox_capmarks * 2 : 64;
		outbox_marks = xreallocarray(outbox_marks, outbox_capmarks,
		    sizeof(*outbox_marks));
	}
	m = &outbox_marks[outbox_nmarks++];
	memset(m, 0, sizeof(*m));
	m->id = id;
	m->state = state;
	m->next = next;
	m->stage = stage ? xstrdup(stage) : NULL;
	m->text = text ? xstrdup(text) : NULL;
	m->xml = xml ? xstrdup(xml) : NULL;
	if (!batch_failing() && !outbox_reading && outbox_mark_write(m) == 0 &&
	    outbox_nwritten >= OUTBOX_BATCH / 2)
		batch_flush_now();	/* the window is half settled */
}

void
outbox_batch_sent(void)
{
	size_t	 i;

	for (i = 0; i < outbox_nmarks; i++)
		if (outbox_marks[i].written)
			outbox_marks[i].written = 2;
	outbox_nwritten = 0;
}

void
outbox_batch_done(int committed)
{
	struct outbox_slot	*s;
	struct outbox_mark	*m;
	size_t			 i, j;

	if (!committed) {
		for (i = 0; i < outbox_nmarks; i++)
			outbox_marks[i].written = 0;
		outbox_nwritten = 0;
		return;
	}
	for (i = j = 0; i < outbox_nmarks; i++) {
		m = &outbox_marks[i];
		if (m->written != 2) {
			outbox_marks[j++] = *m;
			continue;
		}
		/* requeued by a peer's wait error before the route said
		 * sent: the slot stays until it does, so that the row is
		 * neither read again meanwhile nor marked sent after */
		if ((s = outbox_find(m->id)) == NULL || !s->verdict_due)
			outbox_remove(m->id);
		free(m->stage);
		free(m->text);
		free(m->xml);
	}
	outbox_nmarks = j;
	if (outbox_more && outbox_n < OUTBOX_BATCH && outbox_more_ev != NULL)
		event_active(outbox_more_ev, EV_TIMEOUT, 0);
}

void
outbox_replay(void)
{
	size_t	 i;

	for (i = 0; i < outbox_nmarks && !batch_failing(); i++)
		if (!outbox_marks[i].written)
			outbox_mark_write(&outbox_marks[i]);
	if (!batch_failing() && outbox_nwritten >= OUTBOX_BATCH / 2)
		batch_flush_now();	/* the window is half settled */
}

void
outbox_init(void)
{
	outbox_more_ev = event_new(server->base, -1, 0, outbox_more_cb, NULL);
}

void
outbox_free(void)
{
	if (outbox_more_ev != NULL)
		event_free(outbox_more_ev);
	outbox_more_ev = NULL;
	outbox_more = 0;
	free(outbox_tab);
	outbox_tab = NULL;
	outbox_cap = outbox_n = outbox_nflight = 0;
	outbox_nwritten = 0;
	outbox_batch_sent();
	outbox_batch_done(1);
	while (outbox_nmarks > 0) {
		outbox_nmarks--;
		free(outbox_marks[outbox_nmarks].stage);
		free(outbox_marks[outbox_nmarks].text);
		free(outbox_marks[outbox_nmarks].xml);
	}
	free(outbox_marks);
	outbox_marks = NULL;
	outbox_capmarks = 0;
}

/*
 * The stanza for a row, checked (payload.c); NULL when the row cannot
 * become one, with the stage and reason in *stage and why.
 */
static struct el *
outbox_stanza(const struct store_outbox *o, const char **stage,
    const char **cond, char *why, size_t whysz)
{
	struct el	*el;
	char		 to[JID_MAX + 1], id[32];
	const char	*errstr;
	size_t		 max = (size_t)server->conf->max_stanza_size;

	*stage = "payload";
	*cond = "not-acceptable";
	if (o->nul_column != NULL) {
		snprintf(why, whysz, "%s holds a NUL byte", o->nul_column);
		return NULL;
	}
	if (payload_row_ok(o, why, whysz) == -1)
		return NULL;
	if (jid_prep(o->to, to, sizeof(to), &errstr) == -1) {
		*stage = "address";
		*cond = "jid-malformed";
		snprintf(why, whysz, "%s", errstr);
		return NULL;
	}
	snprintf(id, sizeof(id), OUTBOX_ID_PREFIX "%lld", (long long)o->id);
	if (o->kind == STORE_KIND_PRESENCE) {
		/* directed presence (RFC 6121 4.6), from the broadcasts' JID */
		if ((el = presence_stanza(o->local, o->domain, to)) != NULL)
			el_set_attr(el, "id", o->stanza_id ? o->stanza_id : id);
	} else
		el = payload_stanza(o, to, o->stanza_id ? o->stanza_id : id);
	if (el == NULL) {
		snprintf(why, whysz, "this row cannot be turned into a stanza");
		return NULL;
	}
	if (o->kind == STORE_KIND_MESSAGE && o->xml != NULL &&
	    rowxml_add(el, o->xml, &errstr) == -1) {
		snprintf(why, whysz, "xml column: %s", errstr);
		el_free(el);
		return NULL;
	}
	if (o->kind == STORE_KIND_SUBSCRIBE)
		presence_add_nick(el, o->local, o->domain);	/* XEP-0172 */
	/* XEP-0172 4.2: a stranger learns the name with a first message */
	if (o->kind == STORE_KIND_MESSAGE && o->body != NULL)
		presence_add_first_nick(el, o->local, o->domain, to, o->id);
	if (max > S2S_OUT_MAX)
		max = S2S_OUT_MAX;
	if (payload_check(el, max, why, whysz) == -1) {
		el_free(el);
		return NULL;
	}
	return el;
}

struct outbox_read {
	int	 rows;		/* due rows read */
	int	 routed;	/* of which handed to the router */
	int	 full;		/* the window filled up */
	int	 wake;		/* a woken row: past the window */
	int	 stale;		/* the leases ran out during the read */
};

static int
outbox_row(void *arg, const struct store_outbox *o)
{
	struct outbox_read	*r = arg;
	struct el		*el;
	const char		*stage, *cond;
	char			 why[PAYLOAD_WHY_MAX];

	r->rows++;
	if (outbox_find(o->id) != NULL)
		return 0;
	/* stopped for longer than the lease in the middle of the read
	 * (SIGSTOP, a stalled host): another instance may hold the pair */
	if (!lease_fresh()) {
		r->stale = 1;
		return 1;
	}
	if (outbox_n >= OUTBOX_BATCH && !r->wake) {
		r->full = 1;
		return 1;
	}
	if ((el = outbox_stanza(o, &stage, &cond, why, sizeof(why))) == NULL) {
		/* fails alone: the rows after it go on */
		outbox_fail(o->id, stage, cond, why);
		return 0;
	}
	outbox_insert(o->id, o->created);
	outbox_nflight++;
	log_debug("outbox: row %lld to %s, attempt %d", (long long)o->id, o->to,
	    o->attempts + 1);
	r->routed++;
	outbox_note(o);
	presence_outbox_before(o->local, o->domain, o->to, o->kind);
	router_send(el, o->id);
	presence_outbox_after(o->local, o->domain, o->to, o->kind);
	return 0;
}

/* 1 when this instance holds the lease of row o's pair (lease.c). */
static int
outbox_held(const struct store_outbox *o)
{
	struct jid	 j;
	char		 buf[JID_BUFSZ];
	const char	*errstr;

	/* an address that does not parse fails wherever it is read */
	if (jid_parse_buf(o->to, &j, buf, sizeof(buf), &errstr) == -1)
		return 1;
	return lease_holds(o->domain, j.domain);
}

/* Tells lease.c the pair of row o, routed (lease_note()). */
static void
outbox_note(const struct store_outbox *o)
{
	struct jid	 j;
	char		 buf[JID_BUFSZ];
	const char	*errstr;

	if (jid_parse_buf(o->to, &j, buf, sizeof(buf), &errstr) == 0)
		lease_note(o->domain, j.domain);
}

static int
outbox_wake_row(void *arg, const struct store_outbox *o)
{
	/* sent, failed or changed meanwhile, or another instance's now:
	 * nothing to do */
	if (o->state != STORE_OUT_QUEUED || !outbox_held(o))
		return 0;
	return outbox_row(arg, o);
}

void
outbox_wake(int64_t id)
{
	struct outbox_read	 r = { 0, 0, 0, 1, 0 };

	if (id < 0) {
		presence_owed_wake(id);
		return;
	}
	if (server->stopping || batch_failing() || outbox_find(id) != NULL)
		return;
	outbox_reading = 1;
	if (store_outbox_get(server->store, id, outbox_wake_row, &r) == -1 &&
	    store_errcode(server->store) != STORE_E_NOTFOUND)
		log_warnx("outbox: row %lld: %s", (long long)id,
		    store_errstr(server->store));
	outbox_reading = 0;
	outbox_replay();
}

void
outbox_kick(void)
{
	struct outbox_read	 r = { 0, 0, 0, 0, 0 };
	int			 rc;

	outbox_more = 0;
	if (server->stopping || batch_failing())
		return;
	if (outbox_n >= OUTBOX_BATCH) {
		outbox_more = 1;	/* after the next commit */
		return;
	}
	/* a pair whose first row was just queued: its lease now */
	lease_claim_kick();
	if (batch_failing() || !lease_fresh())
		return;		/* the tick renews, then kicks */
	outbox_reading = 1;
	rc = store_outbox_due_held(server->store, lease_name(),
	    (int64_t)time(NULL), OUTBOX_BATCH, outbox_row, &r);
	outbox_reading = 0;
	outbox_replay();	/* the marks made during the read */
	lease_claim_noted();
	if (rc == -1) {
		log_warnx("outbox: %s", store_errstr(server->store));
		return;
	}
	if (r.stale) {
		log_info("outbox: leases not renewed in time: reading stops "
		    "after %d rows until they are", r.routed);
		return;		/* the tick renews, then kicks */
	}
	/* rows all in flight already: their verdicts come first */
	outbox_more = r.full || (r.rows == OUTBOX_BATCH && r.routed > 0);
	if (outbox_more && outbox_n < OUTBOX_BATCH)
		event_active(outbox_more_ev, EV_TIMEOUT, 0);
}

static void
outbox_more_cb(evutil_socket_t fd, short what, void *arg)
{
	outbox_kick();
}

/* Builds the error stanza a failed row keeps (RFC 6120 8.3). */
static char *
outbox_error_xml(int64_t id, const char *cond, const char *text)
{
	struct el	*e, *err, *t;
	char		*xml, sid[32];
	int		 wait = strcmp(cond, "remote-server-timeout") == 0;

	snprintf(sid, sizeof(sid), OUTBOX_ID_PREFIX "%lld", (long long)id);
	e = el_new(EL_NS_SERVER, "message");
	el_set_attr(e, "type", "error");
	el_set_attr(e, "id", sid);
	err = el_add(e, EL_NS_SERVER, "error");
	el_set_attr(err, "type", wait ? "wait" : "cancel");
	el_add(err, "urn:ietf:params:xml:ns:xmpp-stanzas", cond);
	if (text != NULL) {
		t = el_add(err, "urn:ietf:params:xml:ns:xmpp-stanzas", "text");
		el_add_text(t, text, strlen(text));
	}
	xml = el_to_string(e, NULL, NULL);
	el_free(e);
	return xml;
}

static void
outbox_fail(int64_t id, const char *stage, const char *cond, const char *text)
{
	char	*xml = outbox_error_xml(id, cond, text);

	log_info("outbox: row %lld failed: %s: %s (%s)", (long long)id, stage,
	    text, cond);
	outbox_mark(id, STORE_OUT_FAILED, 0, stage, text, xml);
	free(xml);
}

/* 1 when a mark of row id waits for its commit. */
static int
outbox_has_mark(int64_t id)
{
	size_t	 i;

	for (i = 0; i < outbox_nmarks; i++)
		if (outbox_marks[i].id == id)
			return 1;
	return 0;
}

/* What became of a row handed to the router. */
enum outbox_verdict {
	OUTBOX_SENT,		/* written to an authenticated stream, flushed */
	OUTBOX_DELIVERED,	/* acknowledged by the peer, or hosted here */
	OUTBOX_RETRY,		/* not now: try again at 'next' */
	OUTBOX_FAILED,		/* permanent: f says why */
};

static void
outbox_done(int64_t id, enum outbox_verdict res, int64_t next,
    const struct s2s_failure *f)
{
	struct outbox_slot	*s = outbox_find(id);
	int64_t			 created = -1, deadline;
	int			 due = 0;

	if (s != NULL && s->verdict_due) {
		/* the peer's wait error came first: the row goes again */
		s->verdict_due = 0;
		if (!outbox_has_mark(id))	/* the requeue is committed */
			outbox_remove(id);
		if (res == OUTBOX_SENT || res == OUTBOX_DELIVERED) {
			log_debug("outbox: row %lld %s after a wait error: "
			    "stays queued", (long long)id, res == OUTBOX_SENT ?
			    "sent" : "delivered");
			return;
		}
		s = outbox_find(id);
		due = 1;
	}
	if (s != NULL && !s->marked)
		created = s->created;
	else if (res != OUTBOX_DELIVERED && !due)
		log_warnx("outbox: verdict for row %lld, which is not in flight",
		    (long long)id);
	switch (res) {
	case OUTBOX_SENT:
	case OUTBOX_DELIVERED:
		/* DELIVERED: acknowledged by the peer's server (XEP-0198), or
		 * stored for a hosted domain by the same commit */
		log_debug("outbox: row %lld %s", (long long)id,
		    res == OUTBOX_SENT ? "sent" : "delivered");
		outbox_mark(id, res == OUTBOX_SENT ? STORE_OUT_SENT :
		    STORE_OUT_DELIVERED, 0, NULL, NULL, NULL);
		break;
	case OUTBOX_RETRY:
		deadline = created + server->conf->outbound_retry_for;
		if (created != -1 && next > deadline) {
			/* the last try is at the deadline, not a backoff early */
			if ((int64_t)time(NULL) >= deadline) {
				outbox_fail(id, f->stage, f->cond, f->text);
				break;
			}
			next = deadline;
		}
		outbox_mark(id, STORE_OUT_QUEUED, next, f->stage, f->text, NULL);
		break;
	case OUTBOX_FAILED:
		outbox_fail(id, f->stage, f->cond, f->text);
		break;
	}
}

int
outbox_may_write(int64_t id)
{
	struct outbox_slot	*s;

	if (id < 0 || lease_fresh())
		return 1;
	if ((s = outbox_find(id)) != NULL && !s->marked) {
		outbox_remove(id);
		outbox_nflight--;
	}
	return 0;
}

void
outbox_sent(int64_t id)
{
	if (id < 0)	/* presence owed to a contact (presence.h) */
		presence_owed_done(id);
	else
		outbox_done(id, OUTBOX_SENT, 0, NULL);
}

void
outbox_failed(int64_t id, int64_t retry_at, const struct s2s_failure *f)
{
	if (id < 0)
		presence_owed_failed(id, retry_at);
	else
		outbox_done(id, retry_at == 0 ? OUTBOX_FAILED : OUTBOX_RETRY,
		    retry_at, f);
}

void
outbox_delivered(int64_t id)
{
	if (id < 0)
		presence_owed_done(id);
	else
		outbox_done(id, OUTBOX_DELIVERED, 0, NULL);
}

void
outbox_invalid(int64_t id, const char *cond, const char *text)
{
	if (id < 0)
		presence_owed_failed(id, 0);
	else
		outbox_fail(id, "address", cond, text);
}

void
outbox_blocked(int64_t id, const char *text)
{
	if (id < 0) {
		presence_owed_failed(id, 0);
		return;
	}
	outbox_remove(id);
	outbox_fail(id, "blocked", "not-acceptable", text);
}

struct outbox_match {
	const char		*domain;
	int			 ok;
	enum store_out_state	 state;
	int			 attempts;
	int64_t			 created;
};

static int
outbox_match_row(void *arg, const struct store_outbox *o)
{
	struct outbox_match	*m = arg;
	struct jid		 j;
	char			 buf[JID_BUFSZ];
	const char		*errstr;

	m->ok = jid_parse_buf(o->to, &j, buf, sizeof(buf), &errstr) == 0 &&
	    strcmp(j.domain, m->domain) == 0;
	m->state = o->state;
	m->attempts = o->attempts;
	m->created = o->created;
	return 0;
}

/*
 * When a row the peer answered with a wait error goes again: after
 * outbound_backoff_min, doubled with each attempt it made, at most an
 * hour; -1 past created + outbound_retry_for, when it fails instead.
 */
static int64_t
outbox_wait_next(const struct outbox_match *m)
{
	int64_t	 now = time(NULL), secs = server->conf->outbound_backoff_min;
	int	 i;

	for (i = 1; i < m->attempts && secs < 3600; i++)
		secs *= 2;
	if (secs > 3600)
		secs = 3600;
	if (now + secs > m->created + server->conf->outbound_retry_for)
		return -1;
	return now + secs;
}

int
outbox_peer_error(const char *stanza_id, const char *domain,
    const char *etype, const char *cond, const char *xml)
{
	struct outbox_match	 m;
	struct outbox_slot	*s;
	char			*end, text[128];
	long long		 id;
	int64_t			 next;
	int			 due;

	if (stanza_id == NULL || strncmp(stanza_id, OUTBOX_ID_PREFIX,
	    strlen(OUTBOX_ID_PREFIX)) != 0)
		return 0;
	id = strtoll(stanza_id + strlen(OUTBOX_ID_PREFIX), &end, 10);
	if (*end != '\0' || id <= 0)
		return 0;
	/* only the domain the row went to may fail it */
	memset(&m, 0, sizeof(m));
	m.domain = domain;
	if (store_outbox_get(server->store, id, outbox_match_row, &m) == -1 ||
	    !m.ok)
		return 0;
	/*
	 * RFC 6120 8.3.2, S2S 5.14: type wait is "retry after waiting" (the
	 * peer's resource-constraint when its store fails or it stops): the
	 * row is queued again with a backoff, within outbound_retry_for,
	 * whatever state it reached meanwhile but failed. Any other type
	 * fails it.
	 */
	if (etype != NULL && strcmp(etype, "wait") == 0 &&
	    m.state != STORE_OUT_FAILED && m.state != STORE_OUT_DONE &&
	    (next = outbox_wait_next(&m)) != -1) {
		log_info("outbox: row %lld: %s answered %s (wait): queued "
		    "again, retry in %llds", id, domain, cond,
		    (long long)(next - time(NULL)));
		snprintf(text, sizeof(text), "%s answered %s (wait)", domain,
		    cond);
		/* in flight still (written, not yet flushed): the route's
		 * verdict comes later and must not undo this */
		s = outbox_find(id);
		due = s != NULL && !s->marked;
		outbox_mark(id, STORE_OUT_QUEUED, next, "remote", text, NULL);
		if ((s = outbox_find(id)) != NULL)
			s->verdict_due = due;
		return 1;
	}
	log_info("outbox: row %lld refused by %s: %s%s", id, domain, cond,
	    etype != NULL && strcmp(etype, "wait") == 0 ?
	    " (wait, past outbound_retry_for)" : "");
	if (store_outbox_failed(server->store, id, "remote", cond, xml) == -1)
		log_warnx("outbox: row %lld: %s", id,
		    store_errstr(server->store));
	return 0;
}
