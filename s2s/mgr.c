/*
 * s2s/mgr.c: routes, one per (local, remote) domain pair (RFC 6120 10.1,
 * S2S 5.7, 5.8): what waits for the remote, the one outbound stream that
 * carries it, verifications asked of the remote's authoritative server, and
 * the backoff after failures. The stream itself is out.c's.
 *
 * Stanzas with an outbox id are the store's: on a failure they go back to
 * it with a retry time (S2S_RETRY) instead of being bounced, so an outage
 * costs delay, not messages. A stanza counts as sent once our buffers have
 * handed it to the kernel on an authenticated stream.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "ctl.h"
#include "control.h"
#include "el.h"
#include "in.h"
#include "key.h"
#include "log.h"
#include "mgr.h"
#include "out.h"
#include "server.h"
#include "stream.h"
#include "xmalloc.h"

#define S2S_MGR_MEM_QUEUE_MAX	256	/* stanzas xfed made, per route */
#define S2S_MGR_MAX_VERIFIES	1024	/* db:verify waiting, all routes */
#define S2S_MGR_REAP_SECS	3600	/* an idle route's backoff is kept */
#define S2S_MGR_DEFERRED_MAX	4096	/* rows woken early, per route */
#define S2S_MGR_HISTORY		8	/* attempts remembered, per route */

struct s2s_qitem {
	TAILQ_ENTRY(s2s_qitem)	 entry;
	struct el		*el;		/* NULL once written */
	int64_t			 outbox_id;
};
TAILQ_HEAD(s2s_qitems, s2s_qitem);

struct s2s_verify {
	TAILQ_ENTRY(s2s_verify)	 entry;
	struct s2s_route	*route;
	struct event		*timer;		/* the answer is overdue */
	uint64_t		 in_id;		/* inbound stream waiting */
	char			 sid[64];
	char			 key[DB_KEY_LEN + 1];
	int			 sent;
};

struct s2s_route {
	TAILQ_ENTRY(s2s_route)	 entry;
	char			*local, *remote;
	struct s2s_stream	*out;
	int			 ready;
	struct s2s_qitems	 queue;		/* waiting for a ready stream */
	struct s2s_qitems	 inflight;	/* written, not yet flushed */
	size_t			 nqueue, nmem;
	TAILQ_HEAD(, s2s_verify) verifies;
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
};

static TAILQ_HEAD(, s2s_route)	 s2s_routes = TAILQ_HEAD_INITIALIZER(s2s_routes);
static struct s2s_mgr_conf	 s2s_mgr;
static size_t			 s2s_mgr_nverifies;	/* all routes */

void
s2s_mgr_init(const struct s2s_mgr_conf *c)
{
	s2s_mgr = *c;
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

static struct s2s_route *
s2s_mgr_find(const char *local, const char *remote, int create)
{
	struct s2s_route	*r;

	TAILQ_FOREACH(r, &s2s_routes, entry)
		if (strcmp(r->remote, remote) == 0 && strcmp(r->local, local) == 0)
			return r;
	if (!create)
		return NULL;
	r = xcalloc(1, sizeof(*r));
	r->local = xstrdup(local);
	r->remote = xstrdup(remote);
	TAILQ_INIT(&r->queue);
	TAILQ_INIT(&r->inflight);
	TAILQ_INIT(&r->verifies);
	TAILQ_INSERT_TAIL(&s2s_routes, r, entry);
	return r;
}

static void
s2s_mgr_item_free(struct s2s_route *r, struct s2s_qitem *q)
{
	el_free(q->el);
	free(q);
}

/* Writes one item on the ready stream; outbox items wait for the flush. */
static void
s2s_mgr_write(struct s2s_route *r, struct s2s_qitem *q)
{
	s2s_out_write(r->out, q->el);
	el_free(q->el);
	q->el = NULL;
	if (q->outbox_id != 0)
		TAILQ_INSERT_TAIL(&r->inflight, q, entry);
	else
		free(q);
}

/* Remembers a row given back, so that it can go before its retry time. */
static void
s2s_mgr_defer(struct s2s_route *r, int64_t outbox_id)
{
	/* beyond the cap, rows simply wait for their retry time */
	if (s2s_mgr.wake == NULL || r->ndeferred >= S2S_MGR_DEFERRED_MAX)
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
		s2s_mgr.wake(ids[i]);
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
	if (r->out != NULL || server->stopping)
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
			s2s_mgr.done(outbox_id, S2S_RETRY, r->backoff_until, &f);
			s2s_mgr_defer(r, outbox_id);
		} else
			log_info("route %s -> %s: dropped a stanza while backing "
			    "off: %s", local, remote, r->last_error);
		return;
	}
	if (outbox_id == 0 && r->nmem >= S2S_MGR_MEM_QUEUE_MAX) {
		log_warnx("route %s -> %s: queue full, dropped a stanza",
		    local, remote);
		el_free(stanza);
		return;
	}
	q = xcalloc(1, sizeof(*q));
	q->el = stanza;
	q->outbox_id = outbox_id;
	if (r->ready && r->out != NULL) {
		s2s_mgr_write(r, q);
		return;
	}
	TAILQ_INSERT_TAIL(&r->queue, q, entry);
	r->nqueue++;
	if (outbox_id == 0)
		r->nmem++;
	s2s_mgr_connect(r);
}

static void
s2s_mgr_verify_free(struct s2s_route *r, struct s2s_verify *v)
{
	s2s_mgr_nverifies--;
	TAILQ_REMOVE(&r->verifies, v, entry);
	event_free(v->timer);
	free(v);
}

/* XEP-0220 2.5: a verification the authoritative server never answers. */
static void
s2s_mgr_verify_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct s2s_verify	*v = arg;
	struct s2s_route	*r = v->route;
	uint64_t		 in_id = v->in_id;

	log_info("route %s -> %s: no answer to db:verify in %d s", r->local,
	    r->remote, S2S_HANDSHAKE_SECS);
	s2s_mgr_verify_free(r, v);
	s2s_in_verified(in_id, r->local, r->remote, -1, "remote-server-timeout");
}

int
s2s_mgr_verify(const char *local, const char *remote, const char *sid,
    const char *key, uint64_t in_id, const char **cond)
{
	struct s2s_route	*r;
	struct s2s_verify	*v;
	struct timeval		 tv = { S2S_HANDSHAKE_SECS, 0 };

	/* S2S 4.38: each verification costs a connection we did not choose */
	if (s2s_mgr_nverifies >= S2S_MGR_MAX_VERIFIES) {
		*cond = "resource-constraint";
		return -1;
	}
	/* even while backing off: a stream from remote says it may be back,
	 * and it is what ends the backoff early (s2s_mgr_remote_alive) */
	r = s2s_mgr_find(local, remote, 1);

	TAILQ_FOREACH(v, &r->verifies, entry)
		if (v->in_id == in_id && strcmp(v->sid, sid) == 0)
			return 0;	/* S2S 4.38: one per stream id */
	v = xcalloc(1, sizeof(*v));
	v->route = r;
	v->timer = evtimer_new(server->base, s2s_mgr_verify_timeout, v);
	evtimer_add(v->timer, &tv);
	v->in_id = in_id;
	snprintf(v->sid, sizeof(v->sid), "%s", sid);
	snprintf(v->key, sizeof(v->key), "%s", key);
	TAILQ_INSERT_TAIL(&r->verifies, v, entry);
	s2s_mgr_nverifies++;
	if (r->out != NULL)
		s2s_mgr_stream_open(r);	/* sends it if the stream can */
	else
		s2s_mgr_connect(r);
	return 0;
}

int
s2s_mgr_busy(const struct s2s_route *r)
{
	return r != NULL && (!TAILQ_EMPTY(&r->verifies) ||
	    !TAILQ_EMPTY(&r->inflight) || !TAILQ_EMPTY(&r->queue));
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

void
s2s_mgr_stream_open(struct s2s_route *r)
{
	struct s2s_verify	*v;

	if (r->out == NULL || !s2s_out_can_verify(r->out))
		return;
	TAILQ_FOREACH(v, &r->verifies, entry) {
		if (v->sent)
			continue;
		s2s_out_send_verify(r->out, r->local, r->remote, v->sid, v->key);
		v->sent = 1;
	}
}

void
s2s_mgr_stream_ready(struct s2s_route *r)
{
	struct s2s_qitem	*q;

	r->ready = 1;
	r->failures = 0;
	r->backoff_until = 0;
	r->last_error[0] = '\0';
	s2s_mgr_remember(r, NULL);
	while ((q = TAILQ_FIRST(&r->queue)) != NULL) {
		TAILQ_REMOVE(&r->queue, q, entry);
		r->nqueue--;
		if (q->outbox_id == 0)
			r->nmem--;
		s2s_mgr_write(r, q);
	}
	s2s_mgr_wake(r);
}

void
s2s_mgr_stream_flushed(struct s2s_route *r)
{
	struct s2s_qitem	*q;

	while ((q = TAILQ_FIRST(&r->inflight)) != NULL) {
		TAILQ_REMOVE(&r->inflight, q, entry);
		s2s_mgr.done(q->outbox_id, S2S_SENT, 0, NULL);
		s2s_mgr_item_free(r, q);
	}
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
		s2s_mgr.done(q->outbox_id, S2S_RETRY, (int64_t)time(NULL), f);
		s2s_mgr_item_free(r, q);
	}
	while ((q = TAILQ_FIRST(&r->queue)) != NULL) {
		TAILQ_REMOVE(&r->queue, q, entry);
		if (q->outbox_id != 0) {
			s2s_mgr.done(q->outbox_id, f->permanent ? S2S_FAILED :
			    S2S_RETRY, next, f);
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
	struct s2s_verify	*v;
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
	while ((v = TAILQ_FIRST(&r->verifies)) != NULL) {
		uint64_t	 in_id = v->in_id;

		s2s_mgr_verify_free(r, v);
		s2s_in_verified(in_id, r->local, r->remote, -1,
		    strcmp(f->stage, "dns") == 0 ? "remote-server-not-found" :
		    strcmp(f->stage, "connect") == 0 ? "remote-connection-failed" :
		    "remote-server-timeout");
	}
}

void
s2s_mgr_stream_gone(struct s2s_route *r)
{
	struct s2s_failure	 f;
	struct s2s_verify	*v;

	r->out = NULL;
	r->ready = 0;
	/* asked on a stream that is gone: ask again on the next one */
	TAILQ_FOREACH(v, &r->verifies, entry)
		v->sent = 0;
	/* closed without a failure report (idle, peer's close): what was
	 * written but not flushed goes back; anything new reconnects */
	memset(&f, 0, sizeof(f));
	f.stage = "stream";
	f.text = "stream closed before the data was flushed";
	f.cond = "remote-server-timeout";
	if (!TAILQ_EMPTY(&r->inflight))
		s2s_mgr_give_back(r, &f, (int64_t)time(NULL));
	if ((!TAILQ_EMPTY(&r->queue) || !TAILQ_EMPTY(&r->verifies)) &&
	    r->backoff_until <= time(NULL))
		s2s_mgr_connect(r);
}

void
s2s_mgr_verify_answer(struct s2s_route *r, const char *id, int valid,
    const char *cond)
{
	struct s2s_verify	*v;
	uint64_t		 in_id;

	TAILQ_FOREACH(v, &r->verifies, entry)
		if (v->sent && strcmp(v->sid, id) == 0)
			break;
	if (v == NULL) {
		/* S2S 4.21: no such request on this stream: drop it */
		log_info("route %s -> %s: unsolicited db:verify answer id=%s",
		    r->local, r->remote, id);
		return;
	}
	in_id = v->in_id;
	s2s_mgr_verify_free(r, v);
	s2s_in_verified(in_id, r->local, r->remote, valid, cond);
}

void
s2s_mgr_status(struct evbuffer *out)
{
	struct s2s_route	*r;
	struct s2s_attempt	 h[S2S_MGR_HISTORY];
	struct ctl_msg		 m;
	int64_t			 now = time(NULL);
	size_t			 i, n;

	TAILQ_FOREACH(r, &s2s_routes, entry) {
		ctl_msg_begin(&m, CTL_T_ROUTE);
		ctl_put_str(&m, CTL_F_LOCAL, r->local);
		ctl_put_str(&m, CTL_F_REMOTE, r->remote);
		ctl_put_u64(&m, CTL_F_QUEUE, r->nqueue);
		ctl_put_u64(&m, CTL_F_BACKOFF, r->backoff_until > now ?
		    (uint64_t)(r->backoff_until - now) : 0);
		ctl_put_str(&m, CTL_F_TEXT, r->last_error);
		ctl_put_u64(&m, CTL_F_FAILURES, (uint64_t)r->failures);
		control_emit(out, &m);
		n = s2s_route_history(r, h, S2S_MGR_HISTORY);
		for (i = 0; i < n; i++) {
			ctl_msg_begin(&m, CTL_T_ATTEMPT);
			ctl_put_str(&m, CTL_F_LOCAL, r->local);
			ctl_put_str(&m, CTL_F_REMOTE, r->remote);
			ctl_put_u64(&m, CTL_F_TIME, (uint64_t)h[i].when);
			ctl_put_str(&m, CTL_F_RESULT, h[i].ok ? "ok" : "failed");
			ctl_put_str(&m, CTL_F_STAGE, h[i].stage);
			ctl_put_str(&m, CTL_F_TEXT, h[i].text);
			control_emit(out, &m);
		}
	}
}

/*
 * Forgets routes with nothing to do: no stream, stanza, verification or
 * deferred row, and no backoff for the last S2S_MGR_REAP_SECS. Peers choose
 * the domains we verify, so routes must not pile up (S2S 4.38).
 */
void
s2s_mgr_reap(void)
{
	struct s2s_route	*r, *next;
	int64_t			 now = time(NULL);

	for (r = TAILQ_FIRST(&s2s_routes); r != NULL; r = next) {
		next = TAILQ_NEXT(r, entry);
		if (r->out != NULL || s2s_mgr_busy(r) || r->ndeferred > 0 ||
		    r->backoff_until + S2S_MGR_REAP_SECS > now)
			continue;
		log_debug("route %s -> %s: idle, forgotten", r->local,
		    r->remote);
		TAILQ_REMOVE(&s2s_routes, r, entry);
		free(r->deferred);
		free(r->local);
		free(r->remote);
		free(r);
	}
}

void
s2s_mgr_shutdown(void)
{
	struct s2s_route	*r;
	struct s2s_verify	*v;
	struct s2s_failure	 f;

	memset(&f, 0, sizeof(f));
	f.stage = "shutdown";
	f.text = "xfed is stopping";
	f.cond = "remote-server-timeout";
	while ((r = TAILQ_FIRST(&s2s_routes)) != NULL) {
		TAILQ_REMOVE(&s2s_routes, r, entry);
		s2s_mgr_give_back(r, &f, (int64_t)time(NULL));
		while ((v = TAILQ_FIRST(&r->verifies)) != NULL)
			s2s_mgr_verify_free(r, v);
		free(r->deferred);
		free(r->local);
		free(r->remote);
		free(r);
	}
}
