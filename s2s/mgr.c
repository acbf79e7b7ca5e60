/*
 * s2s/mgr.c: routes, one per (local, remote) domain pair (RFC 6120 10.1,
 * S2S 5.7, 5.8): what waits for the remote, the one outbound stream that
 * carries it, verifications asked of the remote's authoritative server, and
 * the backoff after failures. The stream itself is out.c's.
 *
 * Stanzas with an outbox id are the store's: on a failure they go back to
 * it with a retry time instead of being bounced, so an outage
 * costs delay, not messages. A stanza counts as sent once our buffers have
 * handed it to the kernel on an authenticated stream; on a stream with
 * stream management (XEP-0198) it is delivered once the peer acknowledged
 * it, and goes back to the outbox if the stream dies first (out.c keeps
 * those, S2S 7.6).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "conf.h"
#include "el.h"
#include "in.h"
#include "key.h"
#include "log.h"
#include "mgr.h"
#include "out.h"
#include "server.h"
#include "stream.h"
#include "strmap.h"
#include "verify.h"
#include "xmalloc.h"

/*
 * Stanzas xfed made (presence, answers) waiting for a route, in bytes of
 * their trees: a broadcast to thousands of contacts on one domain waits
 * whole while the stream is set up, and a peer that stops reading while
 * it asks still costs no more than this.
 */
#define S2S_MGR_MEM_QUEUE_BYTES	(16 * 1024 * 1024)
/*
 * Routes with no stream, stanza, verification or deferred row: peers
 * choose the domains we verify, so these go after route_idle_time unused,
 * backoff with them (rows in backoff keep their route: their ids are
 * deferred), and at most max_idle_routes stay, the least recently used
 * going first (S2S 4.38). Without a config (tests), these.
 */
#define S2S_MGR_IDLE_SECS	60
#define S2S_MGR_IDLE_MAX	1024
#define S2S_MGR_DEFERRED_MAX	4096	/* rows woken early, per route */
#define S2S_MGR_HISTORY		8	/* attempts remembered, per route */
#define S2S_MGR_REFUSALS	32	/* inbound refusals remembered, all */
#define S2S_MGR_BUCKETS		1024	/* of the routes' map */

struct s2s_qitem {
	TAILQ_ENTRY(s2s_qitem)	 entry;
	struct el		*el;		/* NULL once written */
	int64_t			 outbox_id;
	size_t			 mem;		/* counted in the route's nmem */
};
TAILQ_HEAD(s2s_qitems, s2s_qitem);

struct s2s_route {
	TAILQ_ENTRY(s2s_route)	 entry;
	char			*local, *remote;
	struct s2s_stream	*out;
	int			 ready;
	struct s2s_qitems	 queue;		/* waiting for a ready stream */
	struct s2s_qitems	 inflight;	/* written, not yet flushed */
	size_t			 nqueue;
	size_t			 nmem;		/* bytes of queued made stanzas */
	int			 failures;
	int64_t			 backoff_until;
	char			 last_error[256];
	/* the failure that started the backoff, for rows deferred by it */
	char			 last_stage[16];
	char			 last_cond[48];
	char			 last_text[256];
	/* rows given back to retry later; woken when the remote is back */
	int64_t			*deferred;
	size_t			 ndeferred;
	/* how the last attempts ended, a ring: [hnext - 1] is the newest */
	struct s2s_attempt	 history[S2S_MGR_HISTORY];
	size_t			 hnext, nhistory;
	int64_t			 used;		/* last looked up */
};

static TAILQ_HEAD(, s2s_route)	 s2s_routes = TAILQ_HEAD_INITIALIZER(s2s_routes);

/* Inbound attempts refused: one ring for all remotes, so that domains a
 * peer makes up cost nothing beyond it (S2S 4.38). */
struct s2s_refusal {
	char			 local[256], remote[256];
	struct s2s_attempt	 a;
};
static struct s2s_refusal	 s2s_refusals[S2S_MGR_REFUSALS];
static size_t			 s2s_rnext, s2s_nrefusals;
/* "remote local" -> the route: a fan-out looks one up per stanza */
static struct strmap		 s2s_route_map;
static struct s2s_mgr_conf	 s2s_mgr;
/* routes in all; beyond s2s_trim_at, the loop trims the idle ones */
static size_t			 s2s_nroutes, s2s_trim_at = S2S_MGR_IDLE_MAX;
#define S2S_MGR_CONF(k, d)	(server->conf != NULL ? server->conf->k : (d))
static struct event		*s2s_trim_ev;

static void	s2s_mgr_verify_wanted(const char *, const char *);
static void	s2s_mgr_trim(evutil_socket_t, short, void *);

void
s2s_mgr_init(const struct s2s_mgr_conf *c)
{
	struct db_verify_hooks	 h = { s2s_mgr_verify_wanted, s2s_in_verified };

	s2s_mgr = *c;
	db_verify_init(server->base, &h);
	if (s2s_trim_ev != NULL)
		event_free(s2s_trim_ev);
	s2s_trim_ev = evtimer_new(server->base, s2s_mgr_trim, NULL);
	s2s_trim_at = (size_t)S2S_MGR_CONF(max_idle_routes, S2S_MGR_IDLE_MAX);
}

const char *
s2s_route_local(const struct s2s_route *r)
{
	return r->local;
}

const char *
s2s_route_remote(const struct s2s_route *r)
{
	return r->remote;
}

/* The map's key of a pair: domains hold no space. */
static char *
s2s_mgr_key(const char *local, const char *remote)
{
	char	*key;

	if (asprintf(&key, "%s %s", remote, local) == -1)
		fatal("asprintf");
	return key;
}

static struct s2s_route *
s2s_mgr_find(const char *local, const char *remote, int create)
{
	struct s2s_route	**rp, *r;
	char			 *key = s2s_mgr_key(local, remote);

	if (s2s_route_map.tab == NULL)
		strmap_init(&s2s_route_map, S2S_MGR_BUCKETS);
	rp = strmap_get(&s2s_route_map, key, create ? sizeof(*rp) : 0);
	free(key);
	if (rp == NULL)
		return NULL;
	if ((r = *rp) != NULL) {
		/* the list is in the order of use: the head is the oldest */
		TAILQ_REMOVE(&s2s_routes, r, entry);
		TAILQ_INSERT_TAIL(&s2s_routes, r, entry);
		r->used = (int64_t)time(NULL);
		return r;
	}
	r = *rp = xcalloc(1, sizeof(*r));
	r->local = xstrdup(local);
	r->remote = xstrdup(remote);
	r->used = (int64_t)time(NULL);
	TAILQ_INIT(&r->queue);
	TAILQ_INIT(&r->inflight);
	TAILQ_INSERT_TAIL(&s2s_routes, r, entry);
	/* trimmed from the loop, where no caller holds a route */
	if (++s2s_nroutes > s2s_trim_at && s2s_trim_ev != NULL)
		event_active(s2s_trim_ev, EV_TIMEOUT, 1);
	return r;
}

/* Takes the route out of the list and the map, and frees it. */
static void
s2s_mgr_forget(struct s2s_route *r)
{
	char	*key = s2s_mgr_key(r->local, r->remote);

	strmap_del(&s2s_route_map, key);
	free(key);
	/* the stream may outlive the route (stop): it must not report to it */
	if (r->out != NULL)
		s2s_out_detach(r->out);
	TAILQ_REMOVE(&s2s_routes, r, entry);
	s2s_nroutes--;
	free(r->deferred);
	free(r->local);
	free(r->remote);
	free(r);
}

static void
s2s_mgr_item_free(struct s2s_route *r, struct s2s_qitem *q)
{
	el_free(q->el);
	free(q);
}

/*
 * Writes one item on the ready stream; outbox items wait for the flush,
 * or, with stream management, for the peer's ack (out.c keeps them).
 * The write never closes the stream (a full output buffer only marks it,
 * and the loop closes it later, giving the inflight items back). A stanza
 * too large to ever go fails alone; the stream carries on.
 */
static void
s2s_mgr_write(struct s2s_route *r, struct s2s_qitem *q)
{
	struct s2s_failure	 f;
	int			 rc;

	if ((rc = s2s_out_write(r->out, q->el, q->outbox_id)) == -1) {
		if (q->outbox_id != 0) {
			memset(&f, 0, sizeof(f));
			f.stage = "payload";
			f.cond = "policy-violation";
			f.text = "the stanza is larger than the output buffer";
			f.permanent = 1;
			s2s_hooks.failed(q->outbox_id, 0, &f);
		} else
			log_warnx("route %s -> %s: dropped a stanza larger than "
			    "the output buffer", r->local, r->remote);
		s2s_mgr_item_free(r, q);
		return;
	}
	el_free(q->el);
	q->el = NULL;
	if (q->outbox_id != 0 && rc == 0)
		TAILQ_INSERT_TAIL(&r->inflight, q, entry);
	else
		free(q);
}

/*
 * Writes queued stanzas while the ready stream stays below its high mark;
 * the rest waits for the flush (a peer reading slowly slows us down
 * instead of overflowing the stream).
 */
static void
s2s_mgr_pump(struct s2s_route *r)
{
	struct s2s_qitem	*q;
	int			 dropped = 0;

	while (r->ready && r->out != NULL && s2s_out_writable(r->out) &&
	    (q = TAILQ_FIRST(&r->queue)) != NULL) {
		TAILQ_REMOVE(&r->queue, q, entry);
		r->nqueue--;
		r->nmem -= q->mem;
		if (q->outbox_id != 0 && s2s_hooks.may_write != NULL &&
		    !s2s_hooks.may_write(q->outbox_id)) {
			dropped++;
			s2s_mgr_item_free(r, q);
			continue;
		}
		s2s_mgr_write(r, q);
	}
	if (dropped)
		log_info("route %s -> %s: %d queued row%s not written: left "
		    "queued for the pair's holder", r->local, r->remote,
		    dropped, dropped == 1 ? "" : "s");
}

/* Remembers a row given back, so that it can go before its retry time. */
static void
s2s_mgr_defer(struct s2s_route *r, int64_t outbox_id)
{
	/* beyond the cap, rows simply wait for their retry time */
	if (s2s_hooks.wake == NULL || r->ndeferred >= S2S_MGR_DEFERRED_MAX)
		return;
	if (r->deferred == NULL)
		r->deferred = xreallocarray(NULL, S2S_MGR_DEFERRED_MAX,
		    sizeof(*r->deferred));
	r->deferred[r->ndeferred++] = outbox_id;
}

/* The remote is reachable again: rows waiting for a retry may go now. */
static void
s2s_mgr_wake(struct s2s_route *r)
{
	int64_t		*ids = r->deferred;
	size_t		 i, n = r->ndeferred;

	if (n == 0)
		return;
	/* waking may defer rows again: they go to a fresh list */
	r->deferred = NULL;
	r->ndeferred = 0;
	log_info("route %s -> %s: retrying %zu deferred row%s now",
	    r->local, r->remote, n, n == 1 ? "" : "s");
	for (i = 0; i < n; i++)
		s2s_hooks.wake(ids[i]);
	free(ids);
}

/* Remembers how an attempt ended (f NULL: the pair got verified). */
static void
s2s_mgr_remember(struct s2s_route *r, const struct s2s_failure *f)
{
	struct s2s_attempt	*a = &r->history[r->hnext];

	memset(a, 0, sizeof(*a));
	a->when = (int64_t)time(NULL);
	a->ok = f == NULL;
	if (f != NULL) {
		snprintf(a->stage, sizeof(a->stage), "%s", f->stage);
		snprintf(a->text, sizeof(a->text), "%s", f->text);
	}
	r->hnext = (r->hnext + 1) % S2S_MGR_HISTORY;
	if (r->nhistory < S2S_MGR_HISTORY)
		r->nhistory++;
}

void
s2s_mgr_refused(const char *local, const char *remote, const char *stage,
    const char *text)
{
	struct s2s_refusal	*f = &s2s_refusals[s2s_rnext];

	memset(f, 0, sizeof(*f));
	snprintf(f->local, sizeof(f->local), "%s", local ? local : "-");
	snprintf(f->remote, sizeof(f->remote), "%s", remote ? remote : "-");
	f->a.when = (int64_t)time(NULL);
	snprintf(f->a.stage, sizeof(f->a.stage), "%s", stage);
	snprintf(f->a.text, sizeof(f->a.text), "%s", text ? text : "");
	s2s_rnext = (s2s_rnext + 1) % S2S_MGR_REFUSALS;
	if (s2s_nrefusals < S2S_MGR_REFUSALS)
		s2s_nrefusals++;
}

void
s2s_refused_foreach(void (*cb)(void *, const char *, const char *,
    const struct s2s_attempt *), void *arg)
{
	const struct s2s_refusal *f;
	size_t			 i;

	for (i = 0; i < s2s_nrefusals; i++) {
		f = &s2s_refusals[(s2s_rnext + S2S_MGR_REFUSALS - 1 - i) %
		    S2S_MGR_REFUSALS];
		cb(arg, f->local, f->remote, &f->a);
	}
}

size_t
s2s_route_history(const struct s2s_route *r, struct s2s_attempt *out,
    size_t max)
{
	size_t	 i;

	for (i = 0; i < r->nhistory && i < max; i++)
		out[i] = r->history[(r->hnext + S2S_MGR_HISTORY - 1 - i) %
		    S2S_MGR_HISTORY];
	return i;
}

static void
s2s_mgr_connect(struct s2s_route *r)
{
	/* while xfed stops, routes still connect until the outbound
	 * streams are stopped: the answers to what the inbound streams
	 * read last go out that way (S2S 1.19) */
	if (r->out != NULL || s2s_stream_stopped(S2S_DIR_OUT))
		return;
	r->ready = 0;
	r->out = s2s_out_start(r);
	/* it may have failed at once (an unroutable address): gone then */
	if (r->out != NULL && s2s_stream_dead(r->out))
		r->out = NULL;
}

static int64_t
s2s_mgr_backoff(struct s2s_route *r)
{
	int64_t		 secs = s2s_mgr.backoff_min_secs;
	int		 i;

	for (i = 1; i < r->failures && secs < s2s_mgr.backoff_max_secs; i++)
		secs *= 2;
	if (secs > s2s_mgr.backoff_max_secs)
		secs = s2s_mgr.backoff_max_secs;
	/* up to a quarter more, so routes that failed together spread out */
	secs += arc4random_uniform((uint32_t)(secs / 4 + 1));
	return (int64_t)time(NULL) + secs;
}

void
s2s_mgr_send(const char *local, const char *remote, struct el *stanza,
    int64_t outbox_id)
{
	struct s2s_route	*r = s2s_mgr_find(local, remote, 1);
	struct s2s_qitem	*q;
	struct s2s_failure	 f;

	if (r->backoff_until > time(NULL) && r->out == NULL) {
		/* S2S issue: no DNS and connect per stanza while backing off */
		el_free(stanza);
		if (outbox_id != 0) {
			/* the row shows the failure that holds it back */
			memset(&f, 0, sizeof(f));
			f.stage = r->last_stage;
			f.text = r->last_text;
			f.cond = r->last_cond;
			s2s_hooks.failed(outbox_id, r->backoff_until, &f);
			s2s_mgr_defer(r, outbox_id);
		} else
			log_info("route %s -> %s: dropped a stanza while backing "
			    "off: %s", local, remote, r->last_error);
		return;
	}
	if (outbox_id == 0 &&
	    r->nmem + el_mem(stanza) > S2S_MGR_MEM_QUEUE_BYTES) {
		log_warnx("route %s -> %s: queue full, dropped a stanza",
		    local, remote);
		el_free(stanza);
		return;
	}
	q = xcalloc(1, sizeof(*q));
	q->el = stanza;
	q->outbox_id = outbox_id;
	if (r->ready && r->out != NULL && TAILQ_EMPTY(&r->queue) &&
	    s2s_out_writable(r->out)) {
		s2s_mgr_write(r, q);
		return;
	}
	TAILQ_INSERT_TAIL(&r->queue, q, entry);
	r->nqueue++;
	if (outbox_id == 0)
		r->nmem += q->mem = el_mem(stanza);
	s2s_mgr_connect(r);
}

/*
 * dialback/verify.c has verifications waiting for the pair: send them on
 * its stream once it can carry them, or start one. Even while backing
 * off: a stream from remote says it may be back, and it is what ends the
 * backoff early (s2s_mgr_remote_alive).
 */
static void
s2s_mgr_verify_wanted(const char *local, const char *remote)
{
	struct s2s_route	*r = s2s_mgr_find(local, remote, 1);

	if (r->out != NULL)
		s2s_mgr_stream_open(r);
	else
		s2s_mgr_connect(r);
}

static int
s2s_mgr_verifying(const struct s2s_route *r)
{
	return db_verify_pending(r->local, r->remote) > 0;
}

int
s2s_mgr_verify_only(const struct s2s_route *r)
{
	return r != NULL && s2s_mgr_verifying(r) &&
	    TAILQ_EMPTY(&r->inflight) && TAILQ_EMPTY(&r->queue);
}

int
s2s_mgr_busy(const struct s2s_route *r)
{
	return r != NULL && (s2s_mgr_verifying(r) ||
	    !TAILQ_EMPTY(&r->inflight) || !TAILQ_EMPTY(&r->queue));
}

int
s2s_mgr_waiting(const struct s2s_route *r)
{
	return r != NULL && !TAILQ_EMPTY(&r->queue);
}

void
s2s_mgr_remote_alive(const char *local, const char *remote)
{
	struct s2s_route	*r = s2s_mgr_find(local, remote, 0);

	if (r != NULL && r->backoff_until != 0) {
		log_info("route %s -> %s: remote is back, backoff ended",
		    local, remote);
		r->backoff_until = 0;
		r->failures = 0;
	}
	if (r != NULL)
		s2s_mgr_wake(r);
}

int
s2s_mgr_backing_off(const char *local, const char *remote, int64_t *until)
{
	struct s2s_route	*r = s2s_mgr_find(local, remote, 0);

	if (r == NULL || r->backoff_until <= time(NULL))
		return 0;
	*until = r->backoff_until;
	return 1;
}

uint64_t
s2s_mgr_queued(void)
{
	struct s2s_route	*r;
	uint64_t		 n = 0;

	TAILQ_FOREACH(r, &s2s_routes, entry)
		n += r->nqueue;
	return n;
}

static void
s2s_mgr_send_verify(void *arg, const char *sid, const char *key)
{
	struct s2s_route	*r = arg;

	s2s_out_send_verify(r->out, r->local, r->remote, sid, key);
}

void
s2s_mgr_stream_open(struct s2s_route *r)
{
	if (r == NULL)		/* a stream without a route (tests) */
		return;
	if (r->out == NULL || !s2s_out_can_verify(r->out))
		return;
	db_verify_send(r->local, r->remote, s2s_mgr_send_verify, r);
}

void
s2s_mgr_stream_ready(struct s2s_route *r)
{
	if (r == NULL)		/* a stream without a route (tests) */
		return;
	r->ready = 1;
	r->failures = 0;
	r->backoff_until = 0;
	r->last_error[0] = '\0';
	s2s_mgr_remember(r, NULL);
	s2s_mgr_pump(r);
	s2s_mgr_wake(r);
}

void
s2s_mgr_stream_flushed(struct s2s_route *r)
{
	struct s2s_qitem	*q;

	if (r == NULL)		/* a stream without a route (tests) */
		return;
	while ((q = TAILQ_FIRST(&r->inflight)) != NULL) {
		TAILQ_REMOVE(&r->inflight, q, entry);
		s2s_hooks.sent(q->outbox_id);
		s2s_mgr_item_free(r, q);
	}
	s2s_mgr_pump(r);
}

void
s2s_mgr_acked(int64_t outbox_id)
{
	if (s2s_hooks.delivered != NULL)
		s2s_hooks.delivered(outbox_id);
	else
		s2s_hooks.sent(outbox_id);
}

void
s2s_mgr_unacked(int64_t outbox_id)
{
	struct s2s_failure	 f;

	memset(&f, 0, sizeof(f));
	f.stage = "stream";
	f.text = "stream closed before the peer acknowledged the stanza";
	f.cond = "remote-server-timeout";
	s2s_hooks.failed(outbox_id, (int64_t)time(NULL), &f);
}

void
s2s_mgr_stream_writable(struct s2s_route *r)
{
	s2s_mgr_pump(r);
}

/* Hands every queued and unflushed stanza back (outbox) or drops it. */
static void
s2s_mgr_give_back(struct s2s_route *r, const struct s2s_failure *f,
    int64_t next)
{
	struct s2s_qitem	*q;
	int			 dropped = 0;

	while ((q = TAILQ_FIRST(&r->inflight)) != NULL) {
		TAILQ_REMOVE(&r->inflight, q, entry);
		s2s_hooks.failed(q->outbox_id, (int64_t)time(NULL), f);
		s2s_mgr_item_free(r, q);
	}
	while ((q = TAILQ_FIRST(&r->queue)) != NULL) {
		TAILQ_REMOVE(&r->queue, q, entry);
		if (q->outbox_id != 0) {
			s2s_hooks.failed(q->outbox_id, f->permanent ? 0 : next,
			    f);
			if (!f->permanent)
				s2s_mgr_defer(r, q->outbox_id);
		} else
			dropped++;
		s2s_mgr_item_free(r, q);
	}
	r->nqueue = r->nmem = 0;
	if (dropped)
		log_info("route %s -> %s: dropped %d stanza%s xfed made: %s",
		    r->local, r->remote, dropped, dropped == 1 ? "" : "s",
		    f->text);
}

void
s2s_mgr_stream_failed(struct s2s_route *r, const struct s2s_failure *f)
{
	int64_t			 next;

	r->failures++;
	s2s_mgr_remember(r, f);
	next = s2s_mgr_backoff(r);
	r->backoff_until = next;
	snprintf(r->last_error, sizeof(r->last_error), "%s: %s", f->stage,
	    f->text);
	snprintf(r->last_stage, sizeof(r->last_stage), "%s", f->stage);
	snprintf(r->last_cond, sizeof(r->last_cond), "%s", f->cond);
	snprintf(r->last_text, sizeof(r->last_text), "%s", f->text);
	log_info("route %s -> %s: %s (failure %d, retry in %llds)", r->local,
	    r->remote, r->last_error, r->failures,
	    (long long)(next - time(NULL)));
	s2s_mgr_give_back(r, f, next);
	/* S2S 4.24: the inbound streams waiting hear it as a dialback error */
	db_verify_fail(r->local, r->remote,
	    strcmp(f->cond, "resource-constraint") == 0 ? f->cond :
	    strcmp(f->stage, "dns") == 0 ? "remote-server-not-found" :
	    strcmp(f->stage, "connect") == 0 ? "remote-connection-failed" :
	    "remote-server-timeout");
}

void
s2s_mgr_stream_gone(struct s2s_route *r)
{
	struct s2s_failure	 f;

	r->out = NULL;
	r->ready = 0;
	/* asked on a stream that is gone: ask again on the next one */
	db_verify_unsend(r->local, r->remote);
	/* closed without a failure report (idle, peer's close): what was
	 * written but not flushed goes back; anything new reconnects */
	memset(&f, 0, sizeof(f));
	f.stage = "stream";
	f.text = "stream closed before the data was flushed";
	f.cond = "remote-server-timeout";
	if (!TAILQ_EMPTY(&r->inflight))
		s2s_mgr_give_back(r, &f, (int64_t)time(NULL));
	if ((!TAILQ_EMPTY(&r->queue) || s2s_mgr_verifying(r)) &&
	    r->backoff_until <= time(NULL))
		s2s_mgr_connect(r);
}

void
s2s_mgr_verify_answer(struct s2s_route *r, const char *id, int valid,
    const char *cond)
{
	if (db_verify_answer(r->local, r->remote, id, valid, cond) == -1)
		/* S2S 4.21: no such request on this stream: drop it */
		log_info("route %s -> %s: unsolicited db:verify answer id=%s",
		    r->local, r->remote, id);
}

void
s2s_route_foreach(void (*cb)(void *, const struct s2s_route_info *),
    void *arg)
{
	struct s2s_route	*r;
	struct s2s_route_info	 ri;
	struct s2s_attempt	 h[S2S_MGR_HISTORY];

	TAILQ_FOREACH(r, &s2s_routes, entry) {
		ri.local = r->local;
		ri.remote = r->remote;
		ri.queued = r->nqueue;
		ri.backoff_until = r->backoff_until;
		ri.last_error = r->last_error;
		ri.failures = r->failures;
		ri.nattempts = s2s_route_history(r, h, S2S_MGR_HISTORY);
		ri.attempts = h;
		cb(arg, &ri);
	}
}

static int
s2s_mgr_idle(const struct s2s_route *r)
{
	return r->out == NULL && !s2s_mgr_busy(r) && r->ndeferred == 0;
}

/*
 * Forgets idle routes unused for route_idle_time, then the least recently
 * used idle ones beyond max_idle_routes.
 */
void
s2s_mgr_reap(void)
{
	struct s2s_route	*r, *next;
	int64_t			 now = time(NULL);
	int64_t			 secs = S2S_MGR_CONF(route_idle_time,
				    S2S_MGR_IDLE_SECS);
	size_t			 max = (size_t)S2S_MGR_CONF(max_idle_routes,
				    S2S_MGR_IDLE_MAX);
	size_t			 nidle = 0, before = s2s_nroutes;

	for (r = TAILQ_FIRST(&s2s_routes); r != NULL; r = next) {
		next = TAILQ_NEXT(r, entry);
		if (!s2s_mgr_idle(r))
			continue;
		if (r->used + secs > now) {
			nidle++;
			continue;
		}
		log_debug("route %s -> %s: idle, forgotten", r->local,
		    r->remote);
		s2s_mgr_forget(r);
	}
	for (r = TAILQ_FIRST(&s2s_routes); r != NULL &&
	    nidle > max; r = next) {
		next = TAILQ_NEXT(r, entry);
		if (!s2s_mgr_idle(r))
			continue;
		s2s_mgr_forget(r);
		nidle--;
	}
	/* the next trim once a quarter of the cap more was made: a scan per
	 * max / 4 routes, not one per route */
	s2s_trim_at = s2s_nroutes + max / 4;
	if (s2s_trim_at < max)
		s2s_trim_at = max;
	if (before != s2s_nroutes)
		log_debug("routes: %zu idle forgotten, %zu left, %zu of them "
		    "idle", before - s2s_nroutes, s2s_nroutes, nidle);
}

static void
s2s_mgr_trim(evutil_socket_t fd, short what, void *arg)
{
	s2s_mgr_reap();
}

void
s2s_mgr_shutdown(void)
{
	struct s2s_route	*r;
	struct s2s_failure	 f;

	db_verify_free_all();
	memset(&f, 0, sizeof(f));
	f.stage = "shutdown";
	f.text = "xfed is stopping";
	f.cond = "remote-server-timeout";
	while ((r = TAILQ_FIRST(&s2s_routes)) != NULL) {
		s2s_mgr_give_back(r, &f, (int64_t)time(NULL));
		s2s_mgr_forget(r);
	}
	strmap_clear(&s2s_route_map);
	if (s2s_trim_ev != NULL)
		event_free(s2s_trim_ev);
	s2s_trim_ev = NULL;
}
