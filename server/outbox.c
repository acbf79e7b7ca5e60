/*
 * server/outbox.c: outbox rows in and out of the daemon. A row is read
 * when due (state queued, next_attempt passed), turned into a stanza and
 * routed; the outbound manager later says sent, retry at a time, or
 * failed. A retry that would fall after created + outbound_retry_for is
 * moved to that deadline, and a failure at or after it fails the row, with
 * the stanza error of its last failure; so does a permanent failure at
 * once. A row waiting for its retry time goes at once when the outbound
 * manager wakes it (its domain is reachable again). Stanza ids we make are
 * "xfed-ROWID", which is how a peer's error stanza finds its row again.
 *
 * Rows are read OUTBOX_BATCH at a time. When a read came back full, more
 * are due: once half of those in flight are settled, the next batch is
 * read from the loop, so a long queue drains at the speed of the stream
 * rather than one batch per due-poll tick.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "conf.h"
#include "el.h"
#include "jid.h"
#include "log.h"
#include "outbox.h"
#include "presence.h"
#include "router.h"
#include "server.h"
#include "store.h"
#include "xmalloc.h"

#define OUTBOX_BATCH	512	/* rows read per kick */
#define OUTBOX_ID_PREFIX "xfed-"

/* Rows in flight: open addressing on the row id, created time kept. */
struct outbox_slot {
	int64_t		 id;		/* 0: empty */
	int64_t		 created;
};

static struct outbox_slot	*outbox_tab;
static size_t			 outbox_cap, outbox_n;
static struct event		*outbox_more_ev;	/* the next batch */
static int			 outbox_more;	/* last read was full */

static void	outbox_more_cb(evutil_socket_t, short, void *);
static void	outbox_settled(int);

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
			if (old[i].id != 0)
				outbox_insert(old[i].id, old[i].created);
		free(old);
	}
	for (i = outbox_hash(id, outbox_cap); outbox_tab[i].id != 0;
	    i = (i + 1) & (outbox_cap - 1))
		;
	outbox_tab[i].id = id;
	outbox_tab[i].created = created;
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
	return outbox_n;
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
	outbox_cap = outbox_n = 0;
}

static void
outbox_text(struct el *parent, const char *name, const char *text)
{
	struct el	*c;

	if (text == NULL)
		return;
	c = el_add(parent, EL_NS_SERVER, name);
	el_add_text(c, text, strlen(text));
}

/* The stanza for a row; NULL when the row cannot become one. */
static struct el *
outbox_stanza(const struct store_outbox *o)
{
	static const char *const ptype[] = {
		[STORE_KIND_SUBSCRIBE] = "subscribe",
		[STORE_KIND_SUBSCRIBED] = "subscribed",
		[STORE_KIND_UNSUBSCRIBE] = "unsubscribe",
		[STORE_KIND_UNSUBSCRIBED] = "unsubscribed",
	};
	struct el	*el;
	char		 from[2 * JID_PART_MAX + 2], id[32];

	snprintf(from, sizeof(from), "%s@%s", o->local, o->domain);
	snprintf(id, sizeof(id), OUTBOX_ID_PREFIX "%lld", (long long)o->id);
	switch (o->kind) {
	case STORE_KIND_MESSAGE:
		el = el_new(EL_NS_SERVER, "message");
		el_set_attr(el, "type", o->type ? o->type : "chat");
		break;
	case STORE_KIND_SUBSCRIBE:
	case STORE_KIND_SUBSCRIBED:
	case STORE_KIND_UNSUBSCRIBE:
	case STORE_KIND_UNSUBSCRIBED:
		el = el_new(EL_NS_SERVER, "presence");
		el_set_attr(el, "type", ptype[o->kind]);
		break;
	case STORE_KIND_PRESENCE:
		/* directed presence (RFC 6121 4.6), from the broadcasts' JID */
		if ((el = presence_stanza(o->local, o->domain, o->to)) == NULL)
			return NULL;
		el_set_attr(el, "id", o->stanza_id ? o->stanza_id : id);
		return el;
	default:
		return NULL;
	}
	el_set_attr(el, "from", from);
	el_set_attr(el, "to", o->to);
	el_set_attr(el, "id", o->stanza_id ? o->stanza_id : id);
	if (o->kind == STORE_KIND_MESSAGE) {
		outbox_text(el, "subject", o->subject);
		outbox_text(el, "body", o->body);
		outbox_text(el, "thread", o->thread);
	} else if (o->kind == STORE_KIND_SUBSCRIBE)
		outbox_text(el, "status", o->body);	/* the request text */
	return el;
}

struct outbox_read {
	int	 rows;		/* due rows read */
	int	 routed;	/* of which handed to the router */
};

static int
outbox_row(void *arg, const struct store_outbox *o)
{
	struct outbox_read	*r = arg;
	struct el		*el;

	r->rows++;
	if (outbox_find(o->id) != NULL)
		return 0;
	if ((el = outbox_stanza(o)) == NULL) {
		if (store_outbox_failed(server->store, o->id, "xfed",
		    "this row cannot be turned into a stanza", NULL) == -1)
			log_warnx("outbox: %s", store_errstr(server->store));
		return 0;
	}
	outbox_insert(o->id, o->created);
	log_debug("outbox: row %lld to %s, attempt %d", (long long)o->id, o->to,
	    o->attempts + 1);
	r->routed++;
	presence_outbox_before(o->local, o->domain, o->to, o->kind);
	router_send(el, o->id);
	presence_outbox_after(o->local, o->domain, o->to, o->kind);
	return 0;
}

static int
outbox_wake_row(void *arg, const struct store_outbox *o)
{
	/* sent, failed or changed meanwhile: nothing to do */
	if (o->state != STORE_OUT_QUEUED)
		return 0;
	return outbox_row(arg, o);
}

void
outbox_wake(int64_t id)
{
	struct outbox_read	 r = { 0, 0 };

	if (server->stopping || outbox_find(id) != NULL)
		return;
	if (store_outbox_get(server->store, id, outbox_wake_row, &r) == -1 &&
	    store_errcode(server->store) != STORE_E_NOTFOUND)
		log_warnx("outbox: row %lld: %s", (long long)id,
		    store_errstr(server->store));
}

void
outbox_kick(void)
{
	struct outbox_read	 r = { 0, 0 };

	outbox_more = 0;
	if (server->stopping)
		return;
	if (store_outbox_due(server->store, (int64_t)time(NULL), OUTBOX_BATCH,
	    outbox_row, &r) == -1) {
		log_warnx("outbox: %s", store_errstr(server->store));
		return;
	}
	/* rows all in flight already: their verdicts come first */
	outbox_more = r.rows == OUTBOX_BATCH && r.routed > 0;
	/* verdicts given during the read (hosted targets, bad addresses,
	 * a route backing off) settled rows already */
	outbox_settled(1);
}

static void
outbox_more_cb(evutil_socket_t fd, short what, void *arg)
{
	outbox_kick();
}

/* A row left the flight: read the next batch when half of it is back. */
static void
outbox_settled(int stored)
{
	if (!stored)
		outbox_more = 0;	/* no busy loop on a failing store */
	else if (outbox_more && outbox_n <= OUTBOX_BATCH / 2 &&
	    outbox_more_ev != NULL)
		event_active(outbox_more_ev, EV_TIMEOUT, 0);
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

static int
outbox_fail(int64_t id, const char *stage, const char *cond, const char *text)
{
	char	*xml = outbox_error_xml(id, cond, text);
	int	 rc;

	log_info("outbox: row %lld failed: %s: %s (%s)", (long long)id, stage,
	    text, cond);
	if ((rc = store_outbox_failed(server->store, id, stage, text,
	    xml)) == -1)
		log_warnx("outbox: row %lld: %s", (long long)id,
		    store_errstr(server->store));
	free(xml);
	return rc;
}

/* What became of a row handed to the router. */
enum outbox_verdict {
	OUTBOX_SENT,		/* written to an authenticated stream, flushed */
	OUTBOX_RETRY,		/* not now: try again at 'next' */
	OUTBOX_FAILED,		/* permanent: f says why */
};

static void
outbox_done(int64_t id, enum outbox_verdict res, int64_t next,
    const struct s2s_failure *f)
{
	int64_t	 created = outbox_remove(id), deadline;
	int	 rc = 0;

	if (created == -1)
		log_warnx("outbox: verdict for row %lld, which is not in flight",
		    (long long)id);
	switch (res) {
	case OUTBOX_SENT:
		log_debug("outbox: row %lld sent", (long long)id);
		if ((rc = store_outbox_sent(server->store, id)) == -1)
			log_warnx("outbox: row %lld: %s", (long long)id,
			    store_errstr(server->store));
		break;
	case OUTBOX_RETRY:
		deadline = created + server->conf->outbound_retry_for;
		if (created != -1 && next > deadline) {
			/* the last try is at the deadline, not a backoff early */
			if ((int64_t)time(NULL) >= deadline) {
				rc = outbox_fail(id, f->stage, f->cond, f->text);
				break;
			}
			next = deadline;
		}
		if ((rc = store_outbox_retry(server->store, id, next, f->stage,
		    f->text)) == -1)
			log_warnx("outbox: row %lld: %s", (long long)id,
			    store_errstr(server->store));
		break;
	case OUTBOX_FAILED:
		rc = outbox_fail(id, f->stage, f->cond, f->text);
		break;
	}
	outbox_settled(rc == 0);
}

void
outbox_sent(int64_t id)
{
	outbox_done(id, OUTBOX_SENT, 0, NULL);
}

void
outbox_failed(int64_t id, int64_t retry_at, const struct s2s_failure *f)
{
	outbox_done(id, retry_at == 0 ? OUTBOX_FAILED : OUTBOX_RETRY, retry_at,
	    f);
}

void
outbox_delivered(int64_t id)
{
	outbox_done(id, OUTBOX_SENT, 0, NULL);
}

void
outbox_invalid(int64_t id, const char *cond, const char *text)
{
	outbox_remove(id);
	outbox_fail(id, "address", cond, text);
}

void
outbox_blocked(int64_t id, const char *text)
{
	outbox_remove(id);
	outbox_fail(id, "blocked", "not-acceptable", text);
}

struct outbox_match {
	const char	*domain;
	int		 ok;
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
	return 0;
}

void
outbox_peer_error(const char *stanza_id, const char *domain, const char *cond,
    const char *xml)
{
	struct outbox_match	 m = { domain, 0 };
	char			*end;
	long long		 id;

	if (stanza_id == NULL || strncmp(stanza_id, OUTBOX_ID_PREFIX,
	    strlen(OUTBOX_ID_PREFIX)) != 0)
		return;
	id = strtoll(stanza_id + strlen(OUTBOX_ID_PREFIX), &end, 10);
	if (*end != '\0' || id <= 0)
		return;
	/* only the domain the row went to may fail it */
	if (store_outbox_get(server->store, id, outbox_match_row, &m) == -1 ||
	    !m.ok)
		return;
	log_info("outbox: row %lld refused by %s: %s", id, domain, cond);
	if (store_outbox_failed(server->store, id, "remote", cond, xml) == -1)
		log_warnx("outbox: row %lld: %s", id,
		    store_errstr(server->store));
}
