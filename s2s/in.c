/*
 * s2s/in.c: one inbound S2S stream, from accept to close, as one switch
 * over its states (s2s_in_event) fed with stream.c's events. I/O, errors
 * and closing are stream.c's.
 *   HEADER  header checked: namespace jabber:server (else invalid-namespace),
 *           version major 1 (else unsupported-version), 'to' a hosted domain
 *           (else host-unknown), 'from' not blocked (else
 *           policy-violation, also for a db:result from a blocked domain,
 *           server/block.c); response header with a new id, then
 *           features -> OPEN, or AUTHENTICATED after the SASL restart
 *           (RFC 6120 4.7, 4.3.2; S2S 1.5, 1.13, 1.29): before TLS only
 *           STARTTLS (required unless require_encryption is off); after TLS
 *           SASL EXTERNAL when the peer's certificate verifies for its
 *           'from', and dialback (S2S 1.15)
 *   OPEN    <starttls/> -> <proceed/> -> TLS; <auth mechanism='EXTERNAL'/>
 *           -> <success/> and the pair (from, to) verified, restart ->
 *           HEADER, or <failure/> (XEP-0178, S2S 3.x); at most
 *           S2S_IN_MAX_SASL tries
 *           db:result -> the receiving role decides (dialback/pairs.c):
 *           pair pending, key checked with the sender's authoritative
 *           server (dialback/verify.c, which asks mgr.c for a stream;
 *           XEP-0220 2.1.2), verdict ->
 *           db:result valid/invalid (S2S 4.18-4.26), valid -> AUTHENTICATED;
 *           db:verify -> answered here as authoritative server, whatever
 *           the stream's state (S2S 4.27); stanzas -> not-authorized (S2S
 *           1.18)
 *   TLS     the handshake; done -> HEADER (RFC 6120 5.4.3.3)
 *   AUTHENTICATED  as OPEN, and stanzas: from a domain not verified ->
 *           invalid-from, to a domain not ours or not paired -> host-unknown,
 *           bad addresses -> improper-addressing (S2S 4.36, 5.1-5.3); else
 *           up through s2s_hooks.deliver; a domain over remote_stanza_rate
 *           -> reading paused (s2s_hooks.stanza_rate, S2S 10.9). xfed
 *           stopping -> our </stream> -> CLOSING
 *           XEP-0198 (S2S 7.5): <sm/> offered after the SASL restart;
 *           <enable/> once a pair is verified -> <enabled/> (no
 *           resumption), before -> <failed/>, a second -> stream error;
 *           each stanza counted; <r/> -> <a h/> once the store batches
 *           holding what the stanzas wrote are committed (sm.c); each
 *           commit covering stanzas of the stream -> <a h/> unasked
 *           Order across streams: while another authenticated inbound
 *           stream sharing a verified pair with this one still has bytes
 *           to read that came before this one's (a sender that died or
 *           handed its domains to another instance, whose last stanzas
 *           are still buffered here), this one is not read (s2s_in_hold():
 *           of a pair's streams with unread bytes, the one whose backlog
 *           began first is read; the others wait, at most
 *           S2S_IN_HOLD_SECS per wait), so that the pair's stanzas are
 *           taken in the order they were sent, also when this stream
 *           was read before or opened before the other (it carried
 *           presence before the other instance took the pair)
 *   CLOSING stanzas still delivered; with XEP-0198 they come after our
 *           last <a/> and stay unacknowledged, so a peer that sends them
 *           again (S2S 7.6) delivers them twice; none is lost; their
 *           </stream>, EOF or
 *           S2S_CLOSE_SECS -> closed (RFC 6120 4.4, S2S 1.23)
 *   stopping  a stream accepted while xfed stops only gets its db:verify
 *           requests answered (the peer checks our last outbound
 *           streams' keys that way): no EXTERNAL offered, <auth/> ->
 *           <temporary-auth-failure/>, db:result unanswered
 *   any     unknown first-level elements -> unsupported-stanza-type (S2S
 *           1.25); their </stream> -> ours, close (S2S 1.24); no pair
 *           verified within S2S_HANDSHAKE_SECS -> connection-timeout; xfed
 *           stopping before authentication -> system-shutdown
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <event2/event.h>

#include "conf.h"
#include "dialback.h"
#include "external.h"
#include "el.h"
#include "jid.h"
#include "key.h"
#include "metrics.h"
#include "mgr.h"
#include "pairs.h"
#include "rate.h"
#include "s2s.h"
#include "log.h"
#include "server.h"
#include "sources.h"
#include "in.h"
#include "sm.h"
#include "stream.h"
#include "strmap.h"
#include "tls.h"
#include "verify.h"
#include "xml.h"
#include "xmalloc.h"

#define S2S_IN_MAX_SASL		3	/* S2S 3.8: EXTERNAL attempts */
#define S2S_IN_HOLD_MS		20	/* waits for an older stream by */
#define S2S_IN_HOLD_SECS	60	/* and at most this long */

enum s2s_in_state {
	S2S_IN_HEADER,		/* waiting for the peer's stream header */
	S2S_IN_OPEN,		/* features sent: negotiation, no pair yet */
	S2S_IN_TLS,		/* <proceed/> sent: the TLS handshake */
	S2S_IN_AUTHED,		/* a pair verified: stanzas flow */
	S2S_IN_CLOSING,		/* our </stream> sent: reading until theirs */
};

static const char *const s2s_in_state_names[] = {
	"header", "open", "tls", "authenticated", "closing",
};

struct s2s_in {
	struct s2s_stream	 st;		/* first: freed with it */
	enum s2s_in_state	 state;
	int			 legacy;	/* no version: pre-1.0 peer */
	struct db_pairs		 pairs;		/* dialback/pairs.c */
	int			 sasl_tries;
	const char		*cert_why;	/* why the certificate failed */
	struct sm_in		 sm;		/* XEP-0198 */
	uint32_t		 sm_told;	/* h of our last <a/> */
	uint64_t		 sm_left;	/* stanzas after our close */
	int			 sm_told_any;	/* an <a/> went out */
	struct source		 src;		/* s2s/sources.c */
	int			 src_unauth;	/* counted unauthenticated */
	int			 header_seen;
	time_t			 held_since;	/* s2s_in_hold(), 0: not */
	int			 hold_spent;	/* this wait ran out: read */
	int			 twin;		/* another stream shares a
						 * verified pair: hold looks */
};

_Static_assert(offsetof(struct s2s_in, st) == 0,
    "the stream's memory is the direction's");

static void	 s2s_in_twins(struct s2s_stream *);

static struct s2s_in *
s2s_in_of(struct s2s_stream *st)
{
	return S2S_CONTAINER(st, struct s2s_in, st);
}

/* Authenticated or gone: no longer one of its source's unauthenticated
 * streams (issue 12). */
static void
s2s_in_src_authed(struct s2s_in *in)
{
	if (in->src_unauth) {
		sources_stream_release(&in->src);
		in->src_unauth = 0;
	}
}

/* 0 when the server refuses the remote domain (blocked, not allowed). */
static int
s2s_domain_ok(const char *remote)
{
	return s2s_hooks.domain_ok == NULL || s2s_hooks.domain_ok(remote);
}

/* A pair leaves the pending state (valid, invalid, error or dropped). */
static void
s2s_in_pending_done(struct s2s_in *in, struct db_pair *p)
{
	if (!p->valid)
		sources_pending_release(&in->src, p->remote);
	if (p->domslot)
		sources_domain_slot_release(p->remote);
	p->domslot = 0;
}

static void	s2s_in_verdict(struct s2s_stream *, const char *, const char *,
		    int, const char *, int, int);

/* A pending pair ends without a verdict: refund 1 gives back the rate
 * tokens its verification took (xfed refused it for its own reasons). */
static void
s2s_in_pair_end(struct s2s_in *in, struct db_pair *p, int refund)
{
	if (p == NULL)
		return;
	s2s_in_pending_done(in, p);
	if (p->rated && refund)
		sources_domain_rate_refund(&in->src, p->remote);
	db_pairs_drop(&in->pairs, p);
}

#define S2S_IN_REFUSAL_LOG_MS	10000	/* one line per reason and domain */
#define S2S_IN_REFUSAL_MAX	1024	/* (reason, domain) pairs followed */

static struct strmap	 s2s_in_refusals;	/* log_every per "domain\twhy" */
static long long	 s2s_in_refusals_over;	/* beyond the table */
static struct event	*s2s_in_refusal_ev;

static void s2s_in_refusal_arm(void);

#define S2S_IN_WAIT_TICK_MS	50	/* claims waiting their turn */
static struct event	*s2s_in_wait_ev;
static void s2s_in_wait_arm(void);

/* The timer's pass over one entry: its count left out, written once its
 * interval is over; an entry quiet that long goes. */
static int
s2s_in_refusal_flush(void *data, void *arg)
{
	const char	*key = strmap_key(data), *tab = strchr(key, '\t');
	long long	 quiet;
	int		 r;

	(void)arg;
	if ((r = log_every_flush(data, S2S_IN_REFUSAL_LOG_MS, &quiet)) > 0)
		log_at(LOG_L_INFO, "dialback refused for %.*s: %s (%lld more "
		    "claims so in %d s)", (int)(tab - key), key, tab + 1,
		    quiet, S2S_IN_REFUSAL_LOG_MS / 1000);
	return r < 0;
}

static void
s2s_in_refusal_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	strmap_sweep(&s2s_in_refusals, s2s_in_refusal_flush, NULL);
	if (s2s_in_refusals_over > 0)
		log_at(LOG_L_INFO, "dialback refused %lld more claims of other "
		    "domains in %d s", s2s_in_refusals_over,
		    S2S_IN_REFUSAL_LOG_MS / 1000);
	s2s_in_refusals_over = 0;
	if (s2s_in_refusals.n > 0)
		s2s_in_refusal_arm();
}

static void
s2s_in_refusal_arm(void)
{
	struct timeval	 tv = { S2S_IN_REFUSAL_LOG_MS / 1000, 0 };

	if (s2s_in_refusal_ev == NULL)
		s2s_in_refusal_ev = evtimer_new(server->base,
		    s2s_in_refusal_timer, NULL);
	if (!evtimer_pending(s2s_in_refusal_ev, NULL))
		evtimer_add(s2s_in_refusal_ev, &tv);
}

/*
 * A claim refused by a fairness limit, logged at most once per reason
 * (why) and claimed domain per S2S_IN_REFUSAL_LOG_MS, with the count of
 * those left out since; a timer writes a count still pending when its
 * interval is over. At most S2S_IN_REFUSAL_MAX pairs are followed (beyond,
 * the claims are only counted, in one line per interval): a flood writes
 * a line every few seconds per domain, not one per claim, and cannot hide
 * the refusals of another domain.
 */
static void
s2s_in_refusal_log(struct s2s_stream *st, const char *remote,
    const char *why)
{
	struct log_every	*e;
	char			 key[JID_PART_MAX + 128];
	long long		 quiet;

	if (s2s_in_refusals.tab == NULL)
		strmap_init(&s2s_in_refusals, S2S_IN_REFUSAL_MAX);
	snprintf(key, sizeof(key), "%s\t%s", remote, why);
	if (strmap_get(&s2s_in_refusals, key, 0) == NULL &&
	    s2s_in_refusals.n >= S2S_IN_REFUSAL_MAX) {
		s2s_in_refusals_over++;
		s2s_in_refusal_arm();
		return;
	}
	e = strmap_get(&s2s_in_refusals, key, sizeof(*e));
	s2s_in_refusal_arm();
	if (!log_every_due(e, S2S_IN_REFUSAL_LOG_MS, &quiet))
		return;
	if (quiet > 0)
		s2s_log(st, LOG_L_INFO, "dialback refused for %s: %s (and %lld "
		    "more claims so in %d s)", remote, why, quiet,
		    S2S_IN_REFUSAL_LOG_MS / 1000);
	else
		s2s_log(st, LOG_L_INFO, "dialback refused for %s: %s", remote,
		    why);
}

void
s2s_in_refusals_free(void)
{
	if (s2s_in_refusal_ev != NULL)
		event_free(s2s_in_refusal_ev);
	s2s_in_refusal_ev = NULL;
	if (s2s_in_wait_ev != NULL)
		event_free(s2s_in_wait_ev);
	s2s_in_wait_ev = NULL;
	strmap_clear(&s2s_in_refusals);
	s2s_in_refusals_over = 0;
}

static void
s2s_in_enter(struct s2s_stream *st, enum s2s_in_state state)
{
	struct s2s_in	*in = s2s_in_of(st);

	in->state = state;
	s2s_stream_set_state(st, s2s_in_state_names[state]);
}

/* RFC 6120 4.7.5: "major.minor", integers, leading zeros ignored. */
static int
s2s_in_version(const char *v, int *major, int *minor)
{
	char	*end;
	long	 a, b;

	a = strtol(v, &end, 10);
	if (end == v || *end != '.' || a < 0)
		return -1;
	v = end + 1;
	b = strtol(v, &end, 10);
	if (end == v || *end != '\0' || b < 0)
		return -1;
	*major = a > 1000 ? 1000 : (int)a;
	*minor = b > 1000 ? 1000 : (int)b;
	return 0;
}

/* S2S 1.15: what we offer depends on TLS, the certificate and SASL. */
static void
s2s_in_features(struct s2s_stream *st)
{
	struct el	*f, *c;

	f = el_new(EL_NS_STREAMS, "features");
	if (!(st->flags & S2S_F_TLS) && server->tls != NULL) {
		c = el_add(f, NS_TLS, "starttls");
		if (server->conf->require_encryption)
			el_add(c, NS_TLS, "required");
	}
	/* no pair is verified while xfed stops (s2s_in_dialback) */
	if ((st->flags & S2S_F_TLS) && (st->flags & S2S_F_CERT_OK) &&
	    !(st->flags & S2S_F_SASL) && !server->stopping) {
		c = el_add(f, NS_SASL, "mechanisms");
		c = el_add(c, NS_SASL, "mechanism");
		el_add_text(c, "EXTERNAL", 8);
	}
	/* S2S 7.5, 7.7: once stanzas may flow, i.e. after the SASL restart
	 * (a dialback peer sees no features after its db:result) */
	if (st->flags & S2S_F_SASL)
		el_add(f, NS_SM, "sm");
	/* S2S 4.26; dialback only where it may run (S2S 11.7) */
	if ((st->flags & S2S_F_TLS) || !server->conf->require_encryption) {
		c = el_add(f, NS_DIALBACK_FEATURE, "dialback");
		el_add(c, NS_DIALBACK_FEATURE, "errors");
	}
	s2s_stream_send_el_free(st, f);
}

static void
s2s_in_open(struct s2s_stream *st, struct el *hdr)
{
	struct s2s_in	*in = s2s_in_of(st);
	const char	*to, *from, *ver, *errstr;
	char		 dom[JID_PART_MAX + 1];
	int		 major = 0, minor = 0;

	if (st->sid == NULL)
		st->sid = xmalloc(S2S_SID_LEN + 1);
	if (db_stream_id(st->sid, S2S_SID_LEN + 1) == -1) {
		el_free(hdr);
		s2s_stream_error(st, "internal-server-error", NULL);
		return;
	}
	to = el_attr(hdr, "to");
	from = el_attr(hdr, "from");
	ver = el_attr(hdr, "version");
	/* a restart (after TLS or SASL) learns everything again, S2S 1.16 */
	free(st->local);
	free(st->remote);
	st->local = st->remote = NULL;
	if (to != NULL && jid_prep_domain(to, dom, sizeof(dom), &errstr) == 0 &&
	    conf_is_hosted(server->conf, dom))
		st->local = xstrdup(dom);
	if (from != NULL && jid_prep_domain(from, dom, sizeof(dom), &errstr) == 0)
		st->remote = xstrdup(dom);
	s2s_log(st, LOG_L_INFO, "stream header to=%s from=%s version=%s",
	    to ? to : "-", from ? from : "-", ver ? ver : "-");

	if (!s2s_stream_header_ns_ok(hdr)) {
		el_free(hdr);
		s2s_stream_error(st, "invalid-namespace",
		    "the default namespace must be jabber:server");
		return;
	}
	if (ver != NULL && (s2s_in_version(ver, &major, &minor) == -1 ||
	    major != 1)) {
		el_free(hdr);
		s2s_stream_error(st, "unsupported-version", NULL);
		return;
	}
	if (to == NULL) {
		el_free(hdr);
		s2s_stream_error(st, "improper-addressing", "no 'to' in the header");
		return;
	}
	if (st->local == NULL) {
		el_free(hdr);
		s2s_stream_error(st, "host-unknown", NULL);
		return;
	}
	if (st->remote != NULL && !s2s_domain_ok(st->remote)) {
		el_free(hdr);
		s2s_stream_error(st, "policy-violation", "domain blocked");
		return;
	}
	in->legacy = ver == NULL;
	/* RFC 6120 4.7.3: an initiator's id means nothing to the stream;
	 * xfedctl check's self-dial puts a nonce there (hooks.header_id) */
	if (el_attr(hdr, "id") != NULL && s2s_hooks.header_id != NULL)
		s2s_hooks.header_id(el_attr(hdr, "id"), st->sid,
		    (st->flags & S2S_F_TLS) != 0);
	el_free(hdr);
	if (!in->header_seen && !(st->flags & S2S_F_AUTHED)) {
		in->header_seen = 1;	/* header_timeout met */
		s2s_stream_timer(st, S2S_HANDSHAKE_SECS);
	}
	if ((st->flags & S2S_F_TLS) && st->remote != NULL) {
		if (tls_peer_verified(st->ssl, st->remote, &in->cert_why))
			st->flags |= S2S_F_CERT_OK;
		else
			st->flags &= ~S2S_F_CERT_OK;
		s2s_log(st, LOG_L_INFO, "peer certificate %s%s",
		    (st->flags & S2S_F_CERT_OK) ? "verified" : "not verified: ",
		    (st->flags & S2S_F_CERT_OK) ? "" : in->cert_why);
	}
	/* S2S 1.5: to = the initiator's from; version = the lower of both */
	s2s_stream_send_header(st, st->local, st->remote, st->sid, !in->legacy);
	if (!in->legacy)
		s2s_in_features(st);
	s2s_in_enter(st, in->pairs.nvalid > 0 ? S2S_IN_AUTHED : S2S_IN_OPEN);
}

/*
 * The verification of p is about to be asked: it takes a slot of
 * max_pending_per_domain then (a claim waiting its turn holds none, an
 * exempt source needs none). 0, or -1 with the refusal logged and *cond
 * set.
 */
static int
s2s_in_domain_slot(struct s2s_stream *st, struct db_pair *p,
    const char **cond)
{
	const char	*why;
	int		 r;

	if ((r = sources_domain_slot_take(&s2s_in_of(st)->src, p->remote,
	    &why)) == -1) {
		s2s_in_refusal_log(st, p->remote, why);
		*cond = "resource-constraint";
		return -1;
	}
	p->domslot = r;
	return 0;
}

/* db:result request: the receiving role (XEP-0220 2.1.2, S2S 4.18-4.26). */
static void
s2s_in_db_result(struct s2s_stream *st, const struct db_msg *m)
{
	struct s2s_in		*in = s2s_in_of(st);
	struct db_rx_ctx	 c;
	struct db_pair		*p;
	char			 remote[JID_PART_MAX + 1], local[JID_PART_MAX + 1];
	char			 text[256], fcond[SOURCE_COND_MAX];
	const char		*cond, *why;
	struct el		*e;
	int			 valid, rated;

	c.conf = server->conf;
	c.tls = (st->flags & S2S_F_TLS) != 0;
	c.cert_for = (st->flags & S2S_F_CERT_OK) ? st->remote : NULL;
	c.domain_ok = s2s_hooks.domain_ok;
	switch (db_receive(&in->pairs, m, &c, local, remote, &cond, &why)) {
	case DB_RX_ERROR:
		e = db_build(0, DB_ERROR, m->to, m->from, NULL, NULL, cond);
		if (why != NULL && strcmp(cond, "not-authorized") == 0) {
			/* the peer's operator sees why (xfedctl peers) */
			snprintf(text, sizeof(text), "%s (%s)", why,
			    in->cert_why ? in->cert_why :
			    "none for that domain");
			s2s_log(st, LOG_L_INFO, "dialback refused for %s: %s",
			    remote, text);
			db_error_text(e, text);
			s2s_mgr_refused(local, remote, "dialback", text);
		} else if (why != NULL) {
			s2s_log(st, LOG_L_WARN, "dialback refused for %s: %s",
			    remote, why);
			s2s_mgr_refused(local, remote, "dialback", why);
		}
		s2s_stream_send_el_free(st, e);
		return;
	case DB_RX_NO_TLS:
		s2s_mgr_refused(local, remote, "tls", "TLS is required before "
		    "dialback (require_encryption)");
		s2s_stream_error(st, "policy-violation",
		    "TLS is required before dialback");
		return;
	case DB_RX_VALID:
		s2s_stream_send_el_free(st, db_build(0, DB_VALID, local, remote,
		    NULL, NULL, NULL));
		return;
	case DB_RX_BLOCKED:
		s2s_log(st, LOG_L_INFO, "dialback refused for %s: blocked",
		    remote);
		s2s_mgr_refused(local, remote, "policy", "domain blocked");
		s2s_stream_error(st, "policy-violation", "domain blocked");
		return;
	case DB_RX_VERIFY:
		/* S2S 4.38: no source takes the whole budget of
		 * verifications */
		if (sources_pending_take(&in->src, remote, &why) == -1) {
			s2s_in_refusal_log(st, remote, why);
			db_pairs_drop(&in->pairs, db_pairs_find(&in->pairs,
			    remote, local));
			s2s_stream_send_el_free(st, db_build(0, DB_ERROR, m->to,
			    m->from, NULL, NULL, "resource-constraint"));
			return;
		}
		break;
	case DB_RX_PENDING:
		return;		/* one verification per pair */
	}
	if (st->remote == NULL)
		st->remote = xstrdup(remote);
	if (sources_failed_recently(&in->src, remote, &valid, fcond)) {
		s2s_log(st, LOG_L_INFO, "dialback pair=%s/%s answered from "
		    "memory: it failed lately from this source (%s)", local,
		    remote, source_key(&in->src));
		s2s_in_verdict(st, local, remote, valid, fcond, 0, 0);
		return;
	}
	p = db_pairs_find(&in->pairs, remote, local);
	/* the claimed domain's server is asked at most
	 * verify_rate_per_domain times a second, whatever the sources, and
	 * one network has its share of that (verify_rate_per_source) */
	rated = sources_domain_rate_take(&in->src, remote, &why);
	if (rated == -2 && sources_wait(&in->src, st->id, local, remote,
	    m->key, rate_now_ms(), &why) == 0) {
		/* its turn comes (round-robin across the networks waiting);
		 * the db:result is answered then, the handshake timer still
		 * bounds the stream */
		s2s_log(st, LOG_L_INFO, "dialback pair=%s/%s waits its turn "
		    "(verify_rate_per_domain)", local, remote);
		s2s_in_wait_arm();
		return;
	}
	if (rated < 0) {
		s2s_in_refusal_log(st, remote, why);
		cond = "resource-constraint";
	} else {
		p->rated = rated;
		if (s2s_in_domain_slot(st, p, &cond) == 0) {
			s2s_log(st, LOG_L_INFO, "dialback verifying "
			    "pair=%s/%s", local, remote);
			if (db_verify_request(local, remote, st->sid, m->key,
			    st->id, &cond) == 0)
				return;
			s2s_log(st, LOG_L_INFO, "dialback not checked "
			    "pair=%s/%s: %s", local, remote, cond);
		}
	}
	s2s_stream_send_el_free(st, db_build(0, DB_ERROR, local, remote, NULL,
	    NULL, cond));
	s2s_in_pair_end(in, p, 1);
}

/*
 * The verdict on a pending pair of st; a failure is remembered for the
 * source (verify_failure_cache) unless it was answered from memory or is
 * resource-constraint.
 */
static void
s2s_in_verdict(struct s2s_stream *st, const char *local, const char *remote,
    int valid, const char *cond, int remember, int ours)
{
	struct s2s_in	*in = s2s_in_of(st);
	struct db_pair	*p;

	if ((p = db_pairs_find(&in->pairs, remote, local)) == NULL || p->valid)
		return;		/* S2S 4.21: gone, drop it */
	s2s_in_pending_done(in, p);
	/* the rate counts failures, not valid claims nor our own refusals */
	if (p->rated && (valid == 1 || ours))
		sources_domain_rate_refund(&in->src, remote);
	p->rated = 0;
	metrics_dialback(METRICS_IN, valid);
	/* resource-constraint is a limit (ours or the peer's), not a
	 * failure of the claimed domain: not remembered */
	if (valid != 1 && remember && (cond == NULL ||
	    strcmp(cond, "resource-constraint") != 0))
		sources_failed(&in->src, remote, valid, cond);
	if (valid == 1) {
		sources_verified(&in->src, remote);	/* verify_exempt_time */
		s2s_in_src_authed(in);
		db_pairs_validate(&in->pairs, p);
		s2s_stream_set_authed(st);
		s2s_in_twins(st);
		s2s_stream_timer_stop(st);
		if (in->state == S2S_IN_OPEN)
			s2s_in_enter(st, S2S_IN_AUTHED);
		s2s_log(st, LOG_L_INFO, "dialback verified pair=%s/%s", local,
		    remote);
		s2s_stream_send_el_free(st, db_build(0, DB_VALID, local, remote,
		    NULL, NULL, NULL));
		s2s_mgr_remote_alive(local, remote);
		return;
	}
	if (valid == 0) {
		s2s_log(st, LOG_L_WARN, "dialback key refused by the "
		    "authoritative server pair=%s/%s", local, remote);
		s2s_mgr_refused(local, remote, "dialback", "its key is invalid: "
		    "the authoritative server for the domain refused it");
		s2s_stream_send_el_free(st, db_build(0, DB_INVALID, local, remote,
		    NULL, NULL, NULL));
		db_pairs_drop(&in->pairs, p);
		/* S2S 4.22: without another valid pair the stream ends */
		if (in->pairs.nvalid == 0)
			s2s_stream_close(st, "dialback key invalid");
		return;
	}
	s2s_log(st, LOG_L_INFO, "dialback could not be checked pair=%s/%s: %s",
	    local, remote, cond);
	s2s_stream_send_el_free(st, db_build(0, DB_ERROR, local, remote, NULL,
	    NULL, cond));
	db_pairs_drop(&in->pairs, p);
}

/* A waiting claim's turn (granted 1, the rate tokens taken) or the end of
 * its wait (granted 0: refused as over the rate). -1: the stream or the
 * pair is gone. */
static int
s2s_in_wait_turn(uint64_t id, const char *local, const char *remote,
    const char *key, int granted)
{
	struct s2s_stream	*st;
	struct s2s_in		*in;
	struct db_pair		*p;
	const char		*cond;

	TAILQ_FOREACH(st, &s2s_streams, entry)
		if (st->id == id && st->dir == S2S_DIR_IN)
			break;
	if (st == NULL || s2s_stream_dead(st))
		return -1;
	in = s2s_in_of(st);
	if ((p = db_pairs_find(&in->pairs, remote, local)) == NULL || p->valid)
		return -1;
	if (!granted) {
		s2s_in_refusal_log(st, remote, "too many dialback "
		    "verifications for this domain lately (waited its turn "
		    "too long)");
		cond = "resource-constraint";
	} else {
		p->rated = 1;
		if (s2s_in_domain_slot(st, p, &cond) == 0) {
			s2s_log(st, LOG_L_INFO, "dialback verifying "
			    "pair=%s/%s", local, remote);
			if (db_verify_request(local, remote, st->sid, key,
			    st->id, &cond) == 0)
				return 0;
			s2s_log(st, LOG_L_INFO, "dialback not checked "
			    "pair=%s/%s: %s", local, remote, cond);
		}
	}
	s2s_stream_send_el_free(st, db_build(0, DB_ERROR, local, remote, NULL,
	    NULL, cond));
	s2s_in_pair_end(in, p, 1);
	return 0;
}

void
s2s_in_waits_run(int64_t now)
{
	if (sources_wait_run(now, s2s_in_wait_turn) > 0)
		s2s_in_wait_arm();
}

static void
s2s_in_wait_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	s2s_in_waits_run(rate_now_ms());
}

static void
s2s_in_wait_arm(void)
{
	struct timeval	 tv = { 0, S2S_IN_WAIT_TICK_MS * 1000 };

	if (s2s_in_wait_ev == NULL)
		s2s_in_wait_ev = evtimer_new(server->base, s2s_in_wait_timer,
		    NULL);
	if (!evtimer_pending(s2s_in_wait_ev, NULL))
		evtimer_add(s2s_in_wait_ev, &tv);
}

void
s2s_in_verified(uint64_t in_id, const char *local, const char *remote,
    int valid, const char *cond, int ours)
{
	struct s2s_stream	*st;

	TAILQ_FOREACH(st, &s2s_streams, entry)
		if (st->id == in_id && st->dir == S2S_DIR_IN)
			break;
	if (st == NULL || s2s_stream_dead(st))
		return;		/* S2S 4.21: gone, drop it */
	s2s_in_verdict(st, local, remote, valid, cond, 1, ours);
}

static void
s2s_in_dialback(struct s2s_stream *st, const struct el *el)
{
	struct db_msg	 m;
	const char	*errstr;

	if (db_parse(el, &m, &errstr) == -1) {
		s2s_stream_error(st, "bad-format", errstr);
		return;
	}
	if (m.type != DB_REQUEST) {
		/* S2S 4.29: typed dialback elements inbound are unsolicited */
		s2s_log(st, LOG_L_INFO, "unsolicited typed db:%s ignored",
		    m.verify ? "verify" : "result");
		return;
	}
	if (m.verify) {
		/* S2S 4.27: the authoritative answer, on this connection */
		s2s_stream_send_el_free(st, db_authoritative(&m,
		    conf_is_hosted(server->conf, m.to)));
		return;
	}
	if (server->stopping) {
		/*
		 * A stream accepted while xfed stops is there to verify the
		 * keys of our last outbound streams (db:verify above): no
		 * pair is verified any more. Left unanswered rather than
		 * refused: an error could end the peer's stream before it
		 * reads our db:verify answer after it; xfed's exit ends it.
		 */
		s2s_log(st, LOG_L_INFO, "dialback request for %s left "
		    "unanswered: xfed is stopping", m.from);
		return;
	}
	s2s_in_db_result(st, &m);
}

/* S2S 4.36, 5.1-5.3: may this stanza come over this stream? */
static const char *
s2s_in_check_stanza(struct s2s_stream *st, const struct el *el,
    struct jid *tj, char *tbuf, struct jid *fj, char *fbuf, const char **text)
{
	struct s2s_in	*in = s2s_in_of(st);
	const char	*to = el_attr(el, "to"), *from = el_attr(el, "from");
	const char	*errstr;

	if (in->pairs.nvalid == 0) {
		*text = "stanza before the sending domain was verified";
		return "not-authorized";
	}
	if (to == NULL || from == NULL ||
	    jid_parse_buf(to, tj, tbuf, JID_BUFSZ, &errstr) == -1 ||
	    jid_parse_buf(from, fj, fbuf, JID_BUFSZ, &errstr) == -1) {
		*text = "stanza without valid 'to' and 'from'";
		return "improper-addressing";
	}
	return db_pairs_check(&in->pairs, fj->domain, tj->domain, text);
}

static int
s2s_in_is_stanza(const struct el *el)
{
	return el_is(el, EL_NS_SERVER, "message") ||
	    el_is(el, EL_NS_SERVER, "presence") || el_is(el, EL_NS_SERVER, "iq");
}

/* RFC 6120 5.4.2.3: <proceed/>, then TLS; the stream restarts after it. */
static void
s2s_in_starttls(struct s2s_stream *st)
{
	SSL		*ssl;
	const char	*errstr;

	if ((st->flags & S2S_F_TLS) || server->tls == NULL) {
		s2s_stream_send_raw(st, "<failure xmlns='" NS_TLS "'/>",
		    sizeof("<failure xmlns='" NS_TLS "'/>") - 1);
		s2s_stream_close(st, "STARTTLS not offered");
		return;
	}
	if ((ssl = tls_server_new(server->tls, st->local, &errstr)) == NULL) {
		s2s_log(st, LOG_L_WARN, "TLS: %s", errstr);
		s2s_stream_send_raw(st, "<failure xmlns='" NS_TLS "'/>",
		    sizeof("<failure xmlns='" NS_TLS "'/>") - 1);
		s2s_stream_close(st, "TLS failed");
		return;
	}
	s2s_stream_send_raw(st, "<proceed xmlns='" NS_TLS "'/>",
	    sizeof("<proceed xmlns='" NS_TLS "'/>") - 1);
	s2s_stream_starttls(st, ssl, 1);
	s2s_in_enter(st, S2S_IN_TLS);
}

static void
s2s_in_sasl_failure(struct s2s_stream *st, enum sasl_cond cond,
    const char *text)
{
	struct el	*f, *t;

	f = el_new(NS_SASL, "failure");
	el_add(f, NS_SASL, sasl_cond_name(cond));
	if (text != NULL) {
		t = el_add(f, NS_SASL, "text");
		el_add_text(t, text, strlen(text));
	}
	s2s_stream_send_el_free(st, f);
}

/* XEP-0178 as receiving server; S2S 3.x. */
static void
s2s_in_sasl(struct s2s_stream *st, const struct el *el)
{
	struct s2s_in	*in = s2s_in_of(st);
	struct db_pair	*p;
	enum sasl_cond	 cond;
	const char	*reason = NULL;

	if (el_is(el, NS_SASL, "abort")) {
		s2s_in_sasl_failure(st, SASL_C_ABORTED, NULL);
		return;
	}
	if (!el_is(el, NS_SASL, "auth") || (st->flags & S2S_F_SASL)) {
		s2s_stream_error(st, "policy-violation", "unexpected SASL element");
		return;
	}
	if (++in->sasl_tries > S2S_IN_MAX_SASL) {
		s2s_stream_error(st, "policy-violation", "too many SASL attempts");
		return;
	}
	if (server->stopping) {
		/* RFC 6120 6.5.12: try again later, once xfed is back */
		s2s_in_sasl_failure(st, SASL_C_TEMPORARY_AUTH_FAILURE,
		    "xfed is stopping");
		return;
	}
	cond = sasl_ext_receive(el_attr(el, "mechanism"), el_text(el),
	    st->remote, (st->flags & S2S_F_TLS) != 0,
	    (st->flags & S2S_F_CERT_OK) != 0, &reason);
	if (cond != SASL_C_NONE) {
		s2s_log(st, LOG_L_INFO, "SASL EXTERNAL refused: %s: %s",
		    sasl_cond_name(cond), reason ? reason : "-");
		{
			char	 t[256];

			snprintf(t, sizeof(t), "SASL EXTERNAL: %s%s%s",
			    sasl_cond_name(cond), reason ? ": " : "",
			    reason ? reason : "");
			s2s_mgr_refused(st->local, st->remote, "sasl", t);
		}
		metrics_sasl(METRICS_IN, 0);
		s2s_in_sasl_failure(st, cond, reason);
		return;
	}
	s2s_log(st, LOG_L_INFO, "SASL EXTERNAL verified pair=%s/%s", st->local,
	    st->remote);
	metrics_sasl(METRICS_IN, 1);
	s2s_stream_send_raw(st, "<success xmlns='" NS_SASL "'/>",
	    sizeof("<success xmlns='" NS_SASL "'/>") - 1);
	st->flags |= S2S_F_SASL;
	s2s_stream_set_authed(st);
	s2s_stream_timer_stop(st);
	s2s_in_src_authed(in);
	if ((p = db_pairs_find(&in->pairs, st->remote, st->local)) != NULL) {
		s2s_in_pending_done(in, p);
		db_pairs_validate(&in->pairs, p);	/* a pending dialback */
	} else
		db_pairs_add(&in->pairs, st->remote, st->local, 1);
	s2s_in_twins(st);
	s2s_mgr_remote_alive(st->local, st->remote);
	/* RFC 6120 6.4.6: the stream restarts; no features learned survive */
	st->flags &= ~S2S_F_HDR_SENT;
	xml_reset(st->xml);
	s2s_in_enter(st, S2S_IN_HEADER);
}

static void
s2s_in_sm_ack(struct s2s_stream *st, uint32_t h)
{
	struct s2s_in	*in = s2s_in_of(st);
	char		 buf[64];
	int		 n;

	in->sm_told = h;
	in->sm_told_any = 1;
	n = snprintf(buf, sizeof(buf), "<a xmlns='" NS_SM "' h='%lu'/>",
	    (unsigned long)h);
	s2s_stream_send_raw(st, buf, (size_t)n);
}

/* XEP-0198 as the receiving side (S2S 7.5). */
static void
s2s_in_sm(struct s2s_stream *st, const struct el *el)
{
	struct s2s_in	*in = s2s_in_of(st);
	uint32_t	 h;

	if (el_is(el, NS_SM, "enable")) {
		if (in->pairs.nvalid == 0) {
			/* XEP-0198 3: not before authentication */
			s2s_stream_send_raw(st, "<failed xmlns='" NS_SM "'>"
			    "<unexpected-request xmlns='" NS_XMPP_STANZAS "'/>"
			    "</failed>", sizeof("<failed xmlns='" NS_SM "'>"
			    "<unexpected-request xmlns='" NS_XMPP_STANZAS "'/>"
			    "</failed>") - 1);
			return;
		}
		if (sm_in_enable(&in->sm) == -1) {
			s2s_stream_error(st, "undefined-condition",
			    "stream management is enabled already");
			return;
		}
		s2s_log(st, LOG_L_INFO, "stream management enabled");
		/* no id: this stream cannot be resumed (S2S 7.7) */
		s2s_stream_send_raw(st, "<enabled xmlns='" NS_SM "'/>",
		    sizeof("<enabled xmlns='" NS_SM "'/>") - 1);
	} else if (el_is(el, NS_SM, "r")) {
		if (!in->sm.enabled)
			s2s_log(st, LOG_L_INFO, "<r/> without stream management "
			    "ignored");
		else if (sm_in_request(&in->sm, &h))
			s2s_in_sm_ack(st, h);
	} else
		/* <a/>: nothing is sent on an inbound stream to be acked */
		s2s_log(st, LOG_L_INFO, "unexpected <%s/> in " NS_SM
		    " ignored", el->name);
}

void
s2s_in_settled(uint64_t batch)
{
	struct s2s_stream	*st;
	struct s2s_in		*in;
	uint32_t		 h;

	/* nothing after our </stream:stream>: what came after it is sent
	 * again by the peer (s2s_in_shutdown) */
	TAILQ_FOREACH(st, &s2s_streams, entry)
		if (st->dir == S2S_DIR_IN && !s2s_stream_dead(st) &&
		    !(st->flags & S2S_F_CLOSE_SENT) &&
		    (in = s2s_in_of(st))->sm.enabled &&
		    sm_in_settled(&in->sm, batch, &h))
			s2s_in_sm_ack(st, h);
}

static void
s2s_in_elem(struct s2s_stream *st, struct el *el)
{
	struct s2s_in	*in = s2s_in_of(st);
	const char	*cond, *text;
	uint64_t	 batch;
	struct jid	 tj, fj;
	char		 tbuf[JID_BUFSZ], fbuf[JID_BUFSZ];
	int		 ms;

	if (s2s_in_is_stanza(el)) {
		/* the JIDs are parsed once, here, and handed on */
		if ((cond = s2s_in_check_stanza(st, el, &tj, tbuf, &fj, fbuf,
		    &text)) != NULL) {
			el_free(el);
			s2s_stream_error(st, cond, text);
			return;
		}
		st->nin++;
		log_stanza("in", st->id, el);
		batch = s2s_hooks.deliver(el, &tj, &fj);	/* takes el */
		if (in->sm.enabled)
			sm_in_handled(&in->sm, batch);
		if ((ms = s2s_hooks.stanza_rate != NULL ?
		    s2s_hooks.stanza_rate(fj.domain) : 0) > 0)
			s2s_stream_pause(st, ms);	/* S2S 10.9 */
		return;
	}
	if (el_is(el, EL_NS_DIALBACK, NULL))
		s2s_in_dialback(st, el);
	else if (el_is(el, NS_TLS, "starttls"))
		s2s_in_starttls(st);
	else if (el_is(el, NS_SASL, NULL))
		s2s_in_sasl(st, el);
	else if (el_is(el, NS_SM, NULL))
		s2s_in_sm(st, el);
	else if (el_is(el, EL_NS_STREAMS, "error"))
		/* S2S 1.28: the receiver of a stream error closes, silently */
		s2s_stream_close(st, "peer sent a stream error");
	else
		s2s_stream_error(st, "unsupported-stanza-type", NULL);
	el_free(el);
}

/*
 * xfed is stopping (RFC 6120 4.4, S2S 1.23): an authenticated stream gets
 * our </stream:stream> and is read on, its stanzas delivered, until the
 * peer's closing tag, EOF or S2S_CLOSE_SECS, so that nothing the peer
 * wrote before it saw our close is lost. Others: <system-shutdown/>.
 * With XEP-0198, a last <a/> before our close covers every stanza whose
 * batch is committed (the server commits the open batch before it stops
 * the streams), so the peer need not send those again; what comes after
 * our close is stored but never acknowledged here: a peer that sends it
 * again on its next stream (XEP-0198 4, S2S 7.6) delivers it twice.
 */
static void
s2s_in_shutdown(struct s2s_stream *st)
{
	struct s2s_in	*in = s2s_in_of(st);

	s2s_log(st, LOG_L_INFO, "closing: xfed is stopping");
	/* not again when the last commit's unasked <a/> said it already */
	if (in->sm.enabled && (!in->sm_told_any ||
	    in->sm_told != in->sm.covered))
		s2s_in_sm_ack(st, in->sm.covered);
	s2s_stream_send_raw(st, "</stream:stream>", 16);
	st->flags |= S2S_F_CLOSE_SENT;
	s2s_in_enter(st, S2S_IN_CLOSING);
	s2s_stream_timer(st, S2S_CLOSE_SECS);
}

/* The one switch: what each event does in each state. */
static void
s2s_in_event(struct s2s_stream *st, enum s2s_ev ev, struct el *el)
{
	struct s2s_in	*in = s2s_in_of(st);

	switch (in->state) {
	case S2S_IN_HEADER:
		if (ev == S2S_EV_OPENED) {
			s2s_in_open(st, el);
			return;
		}
		break;
	case S2S_IN_OPEN:
	case S2S_IN_AUTHED:
		switch (ev) {
		case S2S_EV_OPENED:
			el_free(el);
			s2s_stream_error(st, "not-well-formed",
			    "second stream header");
			return;
		case S2S_EV_ELEMENT:
			s2s_in_elem(st, el);
			return;
		case S2S_EV_SHUTDOWN:
			if (in->state == S2S_IN_AUTHED &&
			    (st->flags & S2S_F_HDR_SENT)) {
				s2s_in_shutdown(st);
				return;
			}
			break;
		default:
			break;
		}
		break;
	case S2S_IN_TLS:
		if (ev == S2S_EV_TLS_UP) {
			/* RFC 6120 5.4.3.3: the peer opens a new stream */
			st->flags &= ~S2S_F_HDR_SENT;
			s2s_in_enter(st, S2S_IN_HEADER);
			if (!(st->flags & S2S_F_AUTHED))
				s2s_stream_timer(st, S2S_HANDSHAKE_SECS);
			return;
		}
		break;
	case S2S_IN_CLOSING:
		if (ev == S2S_EV_ELEMENT && in->sm.enabled &&
		    s2s_in_is_stanza(el))
			/*
			 * After our last <a/> nothing more is acknowledged,
			 * yet the stanza is stored: a peer that sends it
			 * again (XEP-0198 4, S2S 7.6) delivers it twice, one
			 * that does not (Prosody's smacks_s2s_resend false
			 * bounces it) loses nothing. Nothing lost first.
			 */
			in->sm_left++;
		if (ev == S2S_EV_ELEMENT) {
			s2s_in_elem(st, el);	/* still delivered */
			return;
		}
		if (s2s_stream_closing_event(st, ev))
			return;
		break;
	}
	/* the same in every state */
	switch (ev) {
	case S2S_EV_OPENED:
	case S2S_EV_ELEMENT:
		el_free(el);
		s2s_stream_error(st, "not-well-formed", NULL);
		break;
	case S2S_EV_CLOSED:
		s2s_stream_close(st, "peer closed the stream");
		break;
	case S2S_EV_EOF:
		s2s_stream_close(st, st->eof_why);
		break;
	case S2S_EV_TIMEOUT:
		if (st->flags & S2S_F_AUTHED)
			break;
		s2s_stream_error(st, "connection-timeout",
		    "authentication not completed in time");
		break;
	case S2S_EV_SHUTDOWN:
		s2s_stream_error(st, "system-shutdown", NULL);
		break;
	case S2S_EV_TLS_UP:
	case S2S_EV_CONNECTED:
	case S2S_EV_DRAINED:
		break;
	}
}

static void
s2s_in_release(struct s2s_stream *st)
{
	struct s2s_in	*in = s2s_in_of(st);
	int		 i;

	if (in->sm_left > 0)
		s2s_log(st, LOG_L_INFO, "%llu stanza%s after our close stored "
		    "but not acknowledged: a peer that sends them again "
		    "delivers them twice",
		    (unsigned long long)in->sm_left, in->sm_left == 1 ? "" :
		    "s");
	for (i = 0; i < in->pairs.n; i++) {
		s2s_in_pending_done(in, &in->pairs.v[i]);
		/* xfed stops: the verifications under way are never sent */
		if (in->pairs.v[i].rated && server->stopping)
			sources_domain_rate_refund(&in->src,
			    in->pairs.v[i].remote);
	}
	sources_wait_cancel(st->id);	/* its claims waiting their turn */
	s2s_in_src_authed(in);
	db_pairs_clear(&in->pairs);
	sm_in_free(&in->sm);
}

/* 1 when a and b share a verified pair. */
static int
s2s_in_same_pair(struct s2s_in *a, struct s2s_in *b)
{
	struct db_pair	*p, *q;
	int		 i;

	for (i = 0; i < a->pairs.n; i++) {
		p = &a->pairs.v[i];
		if (p->valid && (q = db_pairs_find(&b->pairs, p->remote,
		    p->local)) != NULL && q->valid)
			return 1;
	}
	return 0;
}

/* Order of the inbound streams' backlogs (s2s_stream.backlog). */
static uint64_t	 s2s_in_backlogs;

/* 1 when o's unread bytes came before st's (ties: the older stream). */
static int
s2s_in_before(const struct s2s_stream *o, const struct s2s_stream *st)
{
	return o->backlog < st->backlog ||
	    (o->backlog == st->backlog && o->id < st->id);
}

/*
 * A pair was verified on st: both of two authenticated inbound streams
 * sharing a verified pair are marked (either may have to wait for the
 * other), so that s2s_in_hold() walks the streams only for those (rare:
 * a peer's instance took over, or it reconnected while its old stream
 * still drains) and not on every read.
 */
static void
s2s_in_twins(struct s2s_stream *st)
{
	struct s2s_in		*in = s2s_in_of(st);
	struct s2s_stream	*o;

	TAILQ_FOREACH(o, &s2s_streams, entry) {
		if (o == st || o->dir != S2S_DIR_IN || s2s_stream_dead(o) ||
		    !(o->flags & S2S_F_AUTHED) ||
		    !s2s_in_same_pair(in, s2s_in_of(o)))
			continue;
		s2s_in_of(o)->twin = 1;
		in->twin = 1;
	}
}

/*
 * Milliseconds st waits before reading: while another authenticated
 * inbound stream of one of its pairs has bytes to read that came before
 * st's, what st brings comes after (see the top). Checked before every
 * read, not only the first: the stream that takes over a pair has often
 * been read before, and may have been opened before the one it takes
 * over from (it carried presence earlier), so the streams' ages do not
 * tell the order: the unread bytes' do. A stream's backlog starts when
 * its unread bytes are first seen here and ends once it is all read
 * (s2s_stream_read_in()); two seen at once go by the streams' ages.
 * A wait lasts until no stream of the pair has unread bytes from before,
 * and never longer than S2S_IN_HOLD_SECS, so that a peer keeping two
 * streams busy is slowed at most that long each time; only streams
 * sharing a verified pair wait for each other, so one domain never holds
 * another's. No allocation: one pass over the streams.
 */
static int
s2s_in_hold(struct s2s_stream *st)
{
	struct s2s_in		*in = s2s_in_of(st);
	struct s2s_stream	*o;
	time_t			 now;
	int			 fresh = st->backlog == 0;

	if (!(st->flags & S2S_F_AUTHED) || !in->twin)
		return 0;
	if (fresh)
		st->backlog = ++s2s_in_backlogs;
	TAILQ_FOREACH(o, &s2s_streams, entry) {
		if (o == st || o->dir != S2S_DIR_IN ||
		    s2s_stream_dead(o) || !(o->flags & S2S_F_AUTHED) ||
		    !s2s_in_same_pair(in, s2s_in_of(o)))
			continue;
		if (s2s_stream_unread(o) == 0) {
			o->backlog = 0;
			continue;
		}
		/* unread bytes not seen before came after st's, unless
		 * st's are new too: then the streams' ages decide */
		if (o->backlog == 0)
			o->backlog = fresh ? st->backlog : ++s2s_in_backlogs;
		if (!s2s_in_before(o, st))
			continue;
		if (in->hold_spent)
			return 0;
		now = time(NULL);
		if (in->held_since == 0) {
			in->held_since = now;
			s2s_log(st, LOG_L_INFO, "waits for in#%llu of the same "
			    "pair to be read first", (unsigned long long)o->id);
		}
		if (now - in->held_since >= S2S_IN_HOLD_SECS) {
			s2s_log(st, LOG_L_INFO, "read after %ds although in#%llu "
			    "of the same pair is not read yet", S2S_IN_HOLD_SECS,
			    (unsigned long long)o->id);
			in->hold_spent = 1;
			return 0;
		}
		return S2S_IN_HOLD_MS;
	}
	/* no earlier bytes left to read: the wait is over */
	in->held_since = 0;
	in->hold_spent = 0;
	return 0;
}

static const struct s2s_ops s2s_in_ops = {
	"in", s2s_in_event, NULL, s2s_in_release, s2s_in_hold,
};

struct s2s_stream *
s2s_in_accept(int fd, const struct sockaddr *sa, socklen_t salen, int direct)
{
	SSL			*ssl = NULL;
	const char		*errstr, *why;
	char			 host[INET6_ADDRSTRLEN], addr[64];
	struct s2s_stream	*st;
	struct s2s_in		*in;
	int			 port = 0;

	host[0] = '\0';
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		port = ntohs(sin->sin_port);
		snprintf(addr, sizeof(addr), "%s:%d", host, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		port = ntohs(sin6->sin6_port);
		snprintf(addr, sizeof(addr), "[%s]:%d", host, port);
	} else
		snprintf(addr, sizeof(addr), "unix");
	/* XEP-0368: TLS from the first byte; the certificate by SNI */
	if (direct && (ssl = tls_server_new(server->tls, NULL, &errstr)) ==
	    NULL) {
		log_warnx("direct TLS from %s: %s", addr, errstr);
		close(fd);
		return NULL;
	}
	if ((st = s2s_stream_new(sizeof(struct s2s_in), fd, S2S_DIR_IN,
	    &s2s_in_ops, addr, ssl, 1)) == NULL)
		return NULL;
	in = s2s_in_of(st);
	source_of(sa, &in->src);
	s2s_in_enter(st, S2S_IN_HEADER);
	/* S2S 10.8: per source and in all, before anything else is spent */
	if (sources_stream_take(&in->src, &why) == -1) {
		s2s_log(st, LOG_L_INFO, "refused: %s", why);
		s2s_stream_error(st, "policy-violation", why);
		return st;
	}
	in->src_unauth = 1;
	s2s_log(st, LOG_L_INFO, "connected");
	/* minimum progress: the header first, then the whole handshake */
	s2s_stream_timer(st, (int)server->conf->header_timeout);
	return st;
}
