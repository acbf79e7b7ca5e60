/*
 * s2s/out.c: one outbound S2S stream for a route (mgr.c), from finding the
 * peer to close, as one switch over its states (s2s_out_event) fed with
 * stream.c's events. I/O, errors and closing are stream.c's.
 *   RESOLVE   configured route, else DNS SRV (dns.c) -> targets
 *   CONNECT   each target in turn, 10 s each; all failed -> route failed.
 *             A connection only to verify keys, to an address already at
 *             max_verify_per_target: VWAIT first
 *   VWAIT     queued for that address (at most max_verify_wait_per_target
 *             streams), connects when one of its verification
 *             connections ends; the queue full or 30 s gone -> the
 *             verifications get resource-constraint, a local limit: no
 *             route failure, no backoff
 *   HEADER    our header sent (S2S 1.4); theirs -> FEATURES (pre-1.0 peer:
 *             straight to dialback, S2S 1.8)
 *   FEATURES  <stream:features/>: STARTTLS offered and we have TLS ->
 *             <starttls/> -> STARTTLS -> <proceed/> -> TLS handshake ->
 *             HEADER again (RFC 6120 5.4); TLS required by us and not had ->
 *             failed. Over TLS: EXTERNAL offered and not yet refused ->
 *             <auth/> -> SASL (XEP-0178); else db:result -> AUTH (XEP-0220
 *             2.1.1). After SASL success and the restart: <sm/> offered
 *             -> <enable/> -> ENABLING (XEP-0198, S2S 7.5), else READY
 *   SASL      <success/> -> restart -> HEADER; <failure/> -> its reason
 *             logged, dialback on the same stream (S2S 11.5)
 *   AUTH      db:result valid -> READY; invalid -> failed, permanent;
 *             error -> failed (S2S 4.16)
 *   ENABLING  <enabled/> -> READY with stream management; <failed/> ->
 *             READY without
 *   READY     stanzas flow; quiet for 5 min -> a whitespace keepalive;
 *             unused for idle_timeout -> our </stream> -> CLOSING. With
 *             stream management: <r/> every SM_REQUEST_EVERY stanzas and
 *             when the output drains; <a/> -> the rows it covers are
 *             delivered; an h beyond what was sent ->
 *             undefined-condition with <handled-count-too-high/>, below
 *             the last -> undefined-condition, not a plain number (sign,
 *             leading zero, over 2^32-1) -> bad-format (XEP-0198 4; h
 *             wraps at 2^32); no <a/> within idle_timeout (at most
 *             S2S_OUT_ACK_SECS) -> failed; rows not acknowledged when the
 *             stream ends go back to the outbox (S2S 7.6)
 *             xfed stopping -> once what the route holds is written
 *             (and acked) <system-shutdown/>; a connected stream still
 *             negotiating for stanzas that wait goes on until READY and
 *             then does the same (bounded by the stop)
 *   CLOSING   the route has let go; their </stream>, EOF or 5 s -> closed
 *             (RFC 6120 4.4, S2S 1.23); a last <a/> still counts
 *   any       db:verify requests answered as authoritative server (S2S
 *             4.27); db:verify answers -> mgr; stream error -> failed with
 *             the peer's condition and text; xfed stopping, nothing
 *             waiting -> system-shutdown
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "conf.h"
#include "dialback.h"
#include "dns.h"
#include "el.h"
#include "external.h"
#include "jid.h"
#include "log.h"
#include "metrics.h"
#include "mgr.h"
#include "out.h"
#include "server.h"
#include "sm.h"
#include "sources.h"
#include "stream.h"
#include "tls.h"
#include "verify.h"
#include "xml.h"
#include "xmalloc.h"

#define S2S_OUT_CONNECT_SECS	10
#define S2S_OUT_KEEPALIVE_SECS	300	/* S2S 1.20: not more often */
#define S2S_OUT_ACK_SECS	120	/* an <r/> unanswered this long: dead */
#define S2S_OUT_VWAIT_SECS	30	/* XEP-0220 2.5: what a verification waits */

enum s2s_out_state {
	S2S_OUT_RESOLVE,
	S2S_OUT_CONNECT,
	S2S_OUT_VWAIT,
	S2S_OUT_HEADER,
	S2S_OUT_FEATURES,
	S2S_OUT_STARTTLS,
	S2S_OUT_SASL,
	S2S_OUT_AUTH,
	S2S_OUT_ENABLING,
	S2S_OUT_READY,
	S2S_OUT_CLOSING,
};

static const char *const s2s_out_state_names[] = {
	"resolve", "connect", "vwait", "header", "features", "starttls", "sasl", "auth",
	"enabling", "ready", "closing",
};

struct s2s_out {
	struct s2s_stream	 st;		/* first: freed with it */
	enum s2s_out_state	 state;
	struct s2s_route	*route;
	struct dns_req		*dns;
	struct dns_targets	*targets;
	size_t			 next;		/* next target to try */
	char			 target_err[256];
	int			 failed;	/* reported to the route */
	int			 direct_tls;	/* this target: TLS first */
	int			 sasl_refused;	/* EXTERNAL failed: dialback */
	time_t			 last_used;	/* last stanza written */
	char			 peer_why[400];	/* peer's refusal, for errors */
	struct sm_out		 sm;		/* XEP-0198 */
	time_t			 r_sent;	/* our last <r/> */
	char			 vslot[INET6_ADDRSTRLEN]; /* counted target */
	int			 stopping;	/* xfed stops: close once
						 * what was written is out */
	/* VWAIT: queued for a verification connection to vwait_ip */
	TAILQ_ENTRY(s2s_out)	 vwait_entry;
	int			 vwaiting;
	char			 vwait_ip[INET6_ADDRSTRLEN];
	char			 vwait_addr[64];
	const struct dns_target	*vwait_t;
};

/* The streams in VWAIT, oldest first, all targets together (at most
 * DB_VERIFY_MAX: each waits for a verification). */
static TAILQ_HEAD(, s2s_out) s2s_out_vwaits =
    TAILQ_HEAD_INITIALIZER(s2s_out_vwaits);

static struct dns	*s2s_out_dns;

static void	s2s_out_try_next(struct s2s_stream *);
static void	s2s_out_features(struct s2s_stream *, struct el *);
static void	s2s_out_ready(struct s2s_stream *, const char *);
static int	s2s_out_stop_done(struct s2s_stream *);
static void	s2s_out_report(struct s2s_stream *, const char *, const char *,
		    int, const char *, ...) __attribute__((format(printf, 5, 6)));

void
s2s_out_set_dns(struct dns *d)
{
	s2s_out_dns = d;
}

_Static_assert(offsetof(struct s2s_out, st) == 0,
    "the stream's memory is the direction's");

static struct s2s_out *
s2s_out(const struct s2s_stream *st)
{
	return S2S_CONTAINER(st, struct s2s_out, st);
}

static void
s2s_out_enter(struct s2s_stream *st, enum s2s_out_state state)
{
	s2s_out(st)->state = state;
	s2s_stream_set_state(st, s2s_out_state_names[state]);
}

/* Reports the failure to the route once, then closes the stream. */
static void
s2s_out_fail(struct s2s_stream *st, const char *stage, const char *cond,
    int permanent, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
s2s_out_fail(struct s2s_stream *st, const char *stage, const char *cond,
    int permanent, const char *fmt, ...)
{
	char			 text[512];
	va_list			 ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	s2s_out_report(st, stage, cond, permanent, "%s", text);
	s2s_stream_close(st, text);
}

/* Tells the route once why this attempt failed (backoff, outbox). */
static void
s2s_out_report(struct s2s_stream *st, const char *stage, const char *cond,
    int permanent, const char *fmt, ...)
{
	struct s2s_out		*out = s2s_out(st);
	struct s2s_failure	 f;
	char			 text[512];
	va_list			 ap;

	if (out->failed || out->route == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	out->failed = 1;
	memset(&f, 0, sizeof(f));
	f.stage = stage;
	f.text = text;
	f.cond = cond;
	f.permanent = permanent;
	s2s_log(st, LOG_L_INFO, "failed stage=%s: %s", stage, text);
	s2s_mgr_stream_failed(out->route, &f);
}

static void
s2s_out_connect(struct s2s_stream *st, const struct sockaddr *sa,
    socklen_t len, const char *addr)
{
	snprintf(st->addr, sizeof(st->addr), "%s", addr);
	s2s_out_enter(st, S2S_OUT_CONNECT);
	s2s_log(st, LOG_L_DEBUG, "connecting");
	s2s_stream_timer(st, S2S_OUT_CONNECT_SECS);
	if (bufferevent_socket_connect(st->bev, (struct sockaddr *)sa,
	    (int)len) == -1) {
		snprintf(s2s_out(st)->target_err, sizeof(s2s_out(st)->target_err),
		    "connect %s: %s", addr, strerror(errno));
		s2s_out_try_next(st);
	}
}

static void
s2s_out_vwait_leave(struct s2s_out *out)
{
	if (out->vwaiting) {
		TAILQ_REMOVE(&s2s_out_vwaits, out, vwait_entry);
		out->vwaiting = 0;
	}
}

/*
 * A local limit stops this verification connection: not the peer's
 * failure, so no report to the route (no backoff, no outbox row
 * deferred) and nothing for the negative cache; the verifications
 * waiting on it get the dialback error resource-constraint (S2S 4.24).
 */
static void
s2s_out_refuse_here(struct s2s_stream *st, const char *why)
{
	struct s2s_out	*out = s2s_out(st);

	s2s_out_vwait_leave(out);
	out->failed = 1;
	s2s_log(st, LOG_L_INFO, "verification connection not opened: %s", why);
	if (st->local != NULL && st->remote != NULL)
		db_verify_refuse(st->local, st->remote);
	s2s_stream_close(st, why);
}

/* A verification connection to ip ended: the oldest stream waiting for
 * that address connects. */
static void
s2s_out_vwait_wake(const char *ip)
{
	struct s2s_out	*w;
	const char	*why;

	TAILQ_FOREACH(w, &s2s_out_vwaits, vwait_entry)
		if (strcmp(w->vwait_ip, ip) == 0)
			break;
	if (w == NULL || sources_target_take(ip, &why) == -1)
		return;
	s2s_out_vwait_leave(w);
	snprintf(w->vslot, sizeof(w->vslot), "%s", ip);
	s2s_log(&w->st, LOG_L_DEBUG, "verification connection to %s free",
	    ip);
	s2s_out_connect(&w->st, (const struct sockaddr *)&w->vwait_t->ss,
	    w->vwait_t->sslen, w->vwait_addr);
}

/* The stream no longer counts as a verification connection. */
static void
s2s_out_vslot_release(struct s2s_out *out)
{
	char	 ip[INET6_ADDRSTRLEN];

	if (out->vslot[0] != '\0') {
		snprintf(ip, sizeof(ip), "%s", out->vslot);
		sources_target_release(ip);
		out->vslot[0] = '\0';
		s2s_out_vwait_wake(ip);
	}
}

/*
 * A stream opened only to verify dialback keys counts against its target
 * address until it is authenticated or gone (max_verify_per_target):
 * domains an attacker claims may all point at one victim. At the limit
 * the stream waits its turn (VWAIT, max_verify_wait_per_target per
 * address): a real server hosting many domains at one address gets all
 * its verifications, in turn. 0 connect now, 1 waiting, -1 refused (the
 * queue is full).
 */
static int
s2s_out_vslot_take(struct s2s_stream *st, const struct dns_target *t,
    const char *addr)
{
	struct s2s_out	*out = s2s_out(st), *w;
	struct source	 src;
	const char	*why;
	long long	 n = 0;
	char		 text[200];

	if (out->route == NULL || !s2s_mgr_verify_only(out->route))
		return 0;
	source_of((const struct sockaddr *)&t->ss, &src);
	if (sources_target_take(src.ip, &why) == 0) {
		snprintf(out->vslot, sizeof(out->vslot), "%s", src.ip);
		return 0;
	}
	TAILQ_FOREACH(w, &s2s_out_vwaits, vwait_entry)
		if (strcmp(w->vwait_ip, src.ip) == 0)
			n++;
	if (n >= server->conf->max_verify_wait_per_target) {
		snprintf(text, sizeof(text), "%s: %s, and %lld wait already",
		    addr, why, n);
		s2s_out_refuse_here(st, text);
		return -1;
	}
	snprintf(out->vwait_ip, sizeof(out->vwait_ip), "%s", src.ip);
	snprintf(out->vwait_addr, sizeof(out->vwait_addr), "%s", addr);
	out->vwait_t = t;
	out->vwaiting = 1;
	TAILQ_INSERT_TAIL(&s2s_out_vwaits, out, vwait_entry);
	s2s_out_enter(st, S2S_OUT_VWAIT);
	s2s_stream_timer(st, S2S_OUT_VWAIT_SECS);
	s2s_log(st, LOG_L_INFO, "waiting for a verification connection to "
	    "%s (%lld before)", addr, n);
	return 1;
}

/* The connection to one target failed: the next one, or the route fails. */
static void
s2s_out_try_next(struct s2s_stream *st)
{
	struct s2s_out		*out = s2s_out(st);
	struct dns_target	*t;
	char			 addr[64];

	s2s_out_vslot_release(out);

	if (out->targets == NULL || out->next >= out->targets->n) {
		s2s_out_fail(st, "connect", "remote-server-timeout", 0, "%s",
		    out->target_err[0] ? out->target_err : "no address to try");
		return;
	}
	t = &out->targets->v[out->next++];
	out->direct_tls = 0;
	if (t->direct_tls) {
		/* XEP-0368: TLS from the first byte */
		SSL		*ssl;
		const char	*errstr;

		if (server->tls == NULL || (ssl = tls_client_new(server->tls,
		    st->local, st->remote, &errstr)) == NULL) {
			snprintf(out->target_err, sizeof(out->target_err),
			    "%s: direct TLS target skipped: no TLS here", t->host);
			s2s_out_try_next(st);
			return;
		}
		out->direct_tls = 1;
		s2s_stream_new_socket(st, ssl);
	} else if (st->ssl != NULL || out->next > 1)
		s2s_stream_new_socket(st, NULL);
	st->flags &= ~(S2S_F_TLS | S2S_F_CERT_OK | S2S_F_HDR_SENT);
	free(st->tls_desc);
	st->tls_desc = NULL;
	dns_target_addr(t, addr, sizeof(addr));
	if (s2s_out_vslot_take(st, t, addr) != 0)
		return;
	s2s_out_connect(st, (struct sockaddr *)&t->ss, t->sslen, addr);
}

static void
s2s_out_resolved(void *arg, struct dns_targets *targets, const char *errstr,
    int permanent)
{
	struct s2s_stream	*st = arg;
	struct s2s_out		*out = s2s_out(st);

	out->dns = NULL;
	if (targets == NULL) {
		s2s_out_fail(st, "dns", "remote-server-not-found", permanent,
		    "%s", errstr);
		return;
	}
	out->targets = targets;
	out->next = 0;
	s2s_out_try_next(st);
}

/*
 * Configured routes: no DNS (RFC 6120 3.2.3, S2S 6.10). Several routes
 * for one domain are its targets in the config's order, tried one after
 * the other as SRV targets are (several instances of one domain).
 */
static int
s2s_out_static(struct s2s_stream *st, const char *remote)
{
	struct s2s_out		*out = s2s_out(st);
	struct conf_route	*r;
	struct dns_target	*t;
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;
	size_t			 i, n = 0;

	for (i = 0; i < server->conf->routes.n; i++)
		if (strcmp(CONF_ROUTE(server->conf, i)->domain, remote) == 0)
			n++;
	if (n == 0)
		return 0;
	out->targets = xcalloc(1, sizeof(*out->targets));
	out->targets->v = xcalloc(n, sizeof(*out->targets->v));
	for (i = 0; i < server->conf->routes.n; i++) {
		r = CONF_ROUTE(server->conf, i);
		if (strcmp(r->domain, remote) != 0)
			continue;
		t = &out->targets->v[out->targets->n++];
		t->host = xstrdup(r->host);
		t->port = r->port;
		sin = (struct sockaddr_in *)&t->ss;
		sin6 = (struct sockaddr_in6 *)&t->ss;
		if (inet_pton(AF_INET, r->host, &sin->sin_addr) == 1) {
			sin->sin_family = AF_INET;
			sin->sin_port = htons(r->port);
			t->sslen = sizeof(*sin);
		} else if (inet_pton(AF_INET6, r->host, &sin6->sin6_addr) == 1) {
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons(r->port);
			t->sslen = sizeof(*sin6);
		} else {
			s2s_out_fail(st, "connect", "remote-server-not-found", 0,
			    "route %s: %s is not an IP address", remote, r->host);
			return 1;
		}
	}
	s2s_out_try_next(st);
	return 1;
}

static void
s2s_out_open(struct s2s_stream *st, struct el *hdr)
{
	struct s2s_out	*out = s2s_out(st);
	const char	*id = el_attr(hdr, "id"), *ver = el_attr(hdr, "version");

	if (!s2s_stream_header_ns_ok(hdr)) {
		el_free(hdr);
		/* the route hears of it before the stream is gone */
		s2s_out_report(st, "stream", "remote-server-timeout", 0,
		    "peer's stream is not in jabber:server");
		s2s_stream_error(st, "invalid-namespace", NULL);
		return;
	}
	if (id == NULL || *id == '\0' || strlen(id) > S2S_SID_MAX) {
		el_free(hdr);
		s2s_out_fail(st, "stream", "remote-server-timeout", 0,
		    "peer's stream header has no usable id");
		return;
	}
	free(st->sid);
	st->sid = xstrdup(id);
	s2s_log(st, LOG_L_DEBUG, "stream header id=%s version=%s", id,
	    ver ? ver : "-");
	el_free(hdr);
	s2s_out_enter(st, S2S_OUT_FEATURES);
	s2s_mgr_stream_open(out->route);
	if (ver == NULL) {
		/* S2S 1.8: a pre-1.0 peer sends no features */
		struct el	*f = el_new(EL_NS_STREAMS, "features");

		s2s_out_features(st, f);
		el_free(f);
	}
}

/* 1 when the features list mechanism name (SASL). */
static int
s2s_out_has_mech(const struct el *features, const char *name)
{
	struct el	*m = el_child(features, NS_SASL, "mechanisms"), *c;

	if (m == NULL)
		return 0;
	EL_FOREACH(c, m)
		if (el_is(c, NS_SASL, "mechanism") && strcmp(el_text(c), name) == 0)
			return 1;
	return 0;
}

static void
s2s_out_dialback_start(struct s2s_stream *st)
{
	s2s_stream_send_el_free(st, db_originate(st->local, st->remote,
	    st->sid));
	s2s_out_enter(st, S2S_OUT_AUTH);
	s2s_stream_timer(st, S2S_HANDSHAKE_SECS);
	s2s_mgr_stream_open(s2s_out(st)->route);	/* db:verify may go now */
}

static void
s2s_out_features(struct s2s_stream *st, struct el *features)
{
	struct s2s_out	*out = s2s_out(st);
	struct el	*tls = el_child(features, NS_TLS, "starttls");
	char		 text[SASL_EXT_TEXT_MAX];
	struct el	*auth;

	if (st->flags & S2S_F_SASL) {
		/* RFC 6120 6.4.6: features after the SASL restart; S2S 7.5:
		 * stream management is offered there or not at all */
		if (el_child(features, NS_SM, "sm") != NULL) {
			s2s_stream_send_raw(st, "<enable xmlns='" NS_SM "'/>",
			    sizeof("<enable xmlns='" NS_SM "'/>") - 1);
			s2s_out_enter(st, S2S_OUT_ENABLING);
			return;
		}
		s2s_out_ready(st, "SASL EXTERNAL");
		return;
	}
	if (!(st->flags & S2S_F_TLS)) {
		if (tls != NULL && server->tls != NULL) {
			s2s_stream_send_raw(st, "<starttls xmlns='" NS_TLS "'/>",
			    sizeof("<starttls xmlns='" NS_TLS "'/>") - 1);
			s2s_out_enter(st, S2S_OUT_STARTTLS);
			return;
		}
		if (server->conf->require_encryption) {
			s2s_out_fail(st, "tls", "remote-server-timeout", 0,
			    "%s offers no STARTTLS and require_encryption is on",
			    st->remote);
			return;
		}
		if (tls != NULL && el_child(tls, NS_TLS, "required") != NULL) {
			s2s_out_fail(st, "tls", "remote-server-timeout", 0,
			    "%s requires STARTTLS and no tls_certificate is set "
			    "here", st->remote);
			return;
		}
		s2s_out_dialback_start(st);
		return;
	}
	if (server->conf->secure_auth && !(st->flags & S2S_F_CERT_OK)) {
		s2s_out_fail(st, "tls", "remote-server-timeout", 0,
		    "secure_auth: %s", out->peer_why);
		return;
	}
	if (!out->sasl_refused && s2s_out_has_mech(features, "EXTERNAL") &&
	    sasl_ext_auth_text(st->local, text, sizeof(text)) == 0) {
		/* S2S 11.13: base64 of our domain, never empty */
		auth = el_new(NS_SASL, "auth");
		el_set_attr(auth, "mechanism", "EXTERNAL");
		el_add_text(auth, text, strlen(text));
		s2s_stream_send_el_free(st, auth);
		s2s_out_enter(st, S2S_OUT_SASL);
		return;
	}
	s2s_out_dialback_start(st);
}

static void
s2s_out_dialback(struct s2s_stream *st, const struct el *el)
{
	struct s2s_out	*out = s2s_out(st);
	struct db_msg	 m;
	const char	*errstr;

	if (db_parse(el, &m, &errstr) == -1) {
		s2s_log(st, LOG_L_INFO, "bad dialback element: %s", errstr);
		return;
	}
	if (m.verify && m.type == DB_REQUEST) {
		/* S2S 4.27: authoritative, on any stream */
		s2s_stream_send_el_free(st, db_authoritative(&m,
		    conf_is_hosted(server->conf, m.to)));
		return;
	}
	if (m.verify) {
		if (strcmp(m.from, st->remote) != 0 ||
		    strcmp(m.to, st->local) != 0) {
			s2s_log(st, LOG_L_INFO, "db:verify answer for another "
			    "pair ignored");
			return;
		}
		if (out->route == NULL)
			return;		/* closing: the route let go */
		s2s_mgr_verify_answer(out->route, m.id, m.type == DB_VALID ? 1 :
		    m.type == DB_INVALID ? 0 : -1, m.cond);
		return;
	}
	/* S2S 4.15: only the answer to our own request counts */
	if (out->state != S2S_OUT_AUTH ||
	    !db_answers_ours(&m, st->local, st->remote)) {
		s2s_log(st, LOG_L_INFO, "unsolicited db:result ignored");
		return;
	}
	metrics_dialback(METRICS_OUT, m.type == DB_VALID ? 1 :
	    m.type == DB_INVALID ? 0 : -1);
	switch (m.type) {
	case DB_VALID:
		s2s_out_ready(st, "dialback");
		break;
	case DB_INVALID:
		s2s_out_fail(st, "dialback", "remote-server-not-found", 1,
		    "%s refused our dialback key", st->remote);
		break;
	default:
		s2s_out_fail(st, "dialback", "remote-server-timeout", 0,
		    "%s answered dialback with error %s%s%s", st->remote, m.cond,
		    m.text ? ": " : "", m.text ? m.text : "");
		break;
	}
}

/* READY: wake for the next keepalive or the idle close, whichever first. */
static void
s2s_out_ready_timer(struct s2s_stream *st)
{
	long long	 idle = server->conf->idle_timeout;

	s2s_stream_timer(st, idle < S2S_OUT_KEEPALIVE_SECS ? (int)idle :
	    S2S_OUT_KEEPALIVE_SECS);
}

static void
s2s_out_ready(struct s2s_stream *st, const char *how)
{
	s2s_stream_set_authed(st);
	s2s_stream_timer_stop(st);
	s2s_out_vslot_release(s2s_out(st));
	s2s_log(st, LOG_L_INFO, "%s verified pair=%s/%s%s%s", how, st->local,
	    st->remote, st->tls_desc ? " tls=" : "",
	    st->tls_desc ? st->tls_desc : "");
	s2s_out_enter(st, S2S_OUT_READY);
	s2s_out(st)->last_used = time(NULL);
	s2s_out_ready_timer(st);
	s2s_mgr_stream_open(s2s_out(st)->route);
	s2s_mgr_stream_ready(s2s_out(st)->route);	/* pumps */
	(void)s2s_out_stop_done(st);
}

/* <proceed/> or <failure/> for our <starttls/> (RFC 6120 5.4.2). */
static void
s2s_out_tls_answer(struct s2s_stream *st, const struct el *el)
{
	SSL		*ssl;
	const char	*errstr;

	if (s2s_out(st)->state != S2S_OUT_STARTTLS ||
	    !el_is(el, NS_TLS, "proceed")) {
		s2s_out_fail(st, "tls", "remote-server-timeout", 0,
		    "%s refused STARTTLS", st->remote);
		return;
	}
	if ((ssl = tls_client_new(server->tls, st->local, st->remote,
	    &errstr)) == NULL) {
		s2s_out_fail(st, "tls", "remote-server-timeout", 0, "TLS: %s",
		    errstr);
		return;
	}
	s2s_stream_starttls(st, ssl, 0);
	s2s_stream_timer(st, S2S_HANDSHAKE_SECS);
}

/* <success/> or <failure/> for our EXTERNAL (XEP-0178, S2S 11.5). */
static void
s2s_out_sasl_answer(struct s2s_stream *st, const struct el *el)
{
	struct s2s_out		*out = s2s_out(st);
	const struct el		*c, *t = NULL;
	const char		*condname = NULL;
	enum sasl_cond		 cond;
	enum sasl_ext_res	 res;
	char			 why[256];

	if (out->state != S2S_OUT_SASL) {
		s2s_log(st, LOG_L_INFO, "unexpected SASL <%s/> ignored",
		    el->name);
		return;
	}
	EL_FOREACH(c, el) {
		if (el_is(c, NS_SASL, "text"))
			t = c;
		else if (condname == NULL)
			condname = c->name;
	}
	res = sasl_ext_answer(el->name, condname, t ? el_text(t) : NULL, &cond,
	    why, sizeof(why));
	metrics_sasl(METRICS_OUT, res == SASL_EXT_OK);
	if (res == SASL_EXT_OK) {
		st->flags |= S2S_F_SASL;
		/* RFC 6120 6.4.6: restart: a new header, new features */
		xml_reset(st->xml);
		st->flags &= ~S2S_F_HDR_SENT;
		s2s_stream_send_header(st, st->local, st->remote, NULL, 1);
		s2s_out_enter(st, S2S_OUT_HEADER);
		return;
	}
	if (res == SASL_EXT_ABORT)
		s2s_stream_send_raw(st, "<abort xmlns='" NS_SASL "'/>",
		    sizeof("<abort xmlns='" NS_SASL "'/>") - 1);
	/* S2S 11.5: the peer refused our certificate: dialback here */
	s2s_log(st, LOG_L_INFO, "SASL EXTERNAL refused by %s: %s; trying "
	    "dialback", st->remote, why);
	snprintf(out->peer_why, sizeof(out->peer_why), "SASL EXTERNAL "
	    "refused: %s", why);
	out->sasl_refused = 1;
	s2s_out_dialback_start(st);
}

static void
s2s_out_sm_request(struct s2s_stream *st, int drained)
{
	struct s2s_out	*out = s2s_out(st);

	if (sm_out_want_request(&out->sm, drained)) {
		out->r_sent = time(NULL);
		s2s_stream_send_raw(st, "<r xmlns='" NS_SM "'/>",
		    sizeof("<r xmlns='" NS_SM "'/>") - 1);
	}
}

/*
 * xfed stops: once what the route held is written (and, with stream
 * management, acknowledged), the stream ends with <system-shutdown/>.
 * 1 when it did.
 */
static int
s2s_out_stop_done(struct s2s_stream *st)
{
	struct s2s_out	*out = s2s_out(st);

	if (!out->stopping || sm_out_unacked(&out->sm) > 0 ||
	    s2s_stream_queued(st) > 0 || s2s_mgr_waiting(out->route))
		return 0;
	s2s_stream_error(st, "system-shutdown", NULL);
	return 1;
}

static void
s2s_out_sm_acked(void *arg, int64_t outbox_id)
{
	s2s_mgr_acked(outbox_id);
}

static void
s2s_out_sm_unacked(void *arg, int64_t outbox_id)
{
	s2s_mgr_unacked(outbox_id);
}

/* XEP-0198 as the sending side (S2S 7.5, 7.6). */
static void
s2s_out_sm(struct s2s_stream *st, const struct el *el)
{
	struct s2s_out	*out = s2s_out(st);
	const char	*cond;
	char		 text[128], buf[64];
	struct el	*app;
	long		 rc;
	int		 n, was_full;

	if (el_is(el, NS_SM, "enabled") || el_is(el, NS_SM, "failed")) {
		if (out->state != S2S_OUT_ENABLING) {
			s2s_log(st, LOG_L_INFO, "unexpected <%s/> ignored",
			    el->name);
			return;
		}
		out->sm.enabled = el_is(el, NS_SM, "enabled");
		s2s_log(st, LOG_L_INFO, "stream management %s",
		    out->sm.enabled ? "enabled" : "refused by the peer");
		s2s_out_ready(st, "SASL EXTERNAL");
	} else if (el_is(el, NS_SM, "a")) {
		if (!out->sm.enabled) {
			s2s_log(st, LOG_L_INFO, "<a/> without stream management "
			    "ignored");
			return;
		}
		was_full = sm_out_full(&out->sm);
		if ((rc = sm_out_ack(&out->sm, el_attr(el, "h"),
		    s2s_out_sm_acked, st, &cond, text, sizeof(text))) < 0) {
			/* XEP-0198 4; what it did not cover goes again,
			 * after a backoff */
			s2s_out_report(st, "stream", "remote-server-timeout", 0,
			    "stream management: %s", text);
			app = NULL;
			if (rc == SM_ACK_TOO_HIGH) {
				app = el_new(NS_SM, "handled-count-too-high");
				el_set_attr(app, "h", el_attr(el, "h"));
				snprintf(buf, sizeof(buf), "%lu",
				    (unsigned long)out->sm.sent);
				el_set_attr(app, "send-count", buf);
			}
			s2s_stream_error_app(st, cond, text, app);
			return;
		}
		if (s2s_out_stop_done(st))
			return;
		if (out->state == S2S_OUT_READY)
			s2s_out_sm_request(st, 1);
		if (was_full && out->route != NULL)
			s2s_mgr_stream_writable(out->route);
	} else if (el_is(el, NS_SM, "r")) {
		/* nothing flows to us on this stream: we handled none */
		n = snprintf(buf, sizeof(buf), "<a xmlns='" NS_SM "' h='0'/>");
		s2s_stream_send_raw(st, buf, (size_t)n);
	} else
		s2s_log(st, LOG_L_INFO, "unexpected <%s/> in " NS_SM
		    " ignored", el->name);
}

static void
s2s_out_stream_error(struct s2s_stream *st, const struct el *err)
{
	const struct el	*c;
	const char	*cond = "undefined-condition", *text = "";

	EL_FOREACH(c, err) {
		if (strcmp(c->ns, NS_XMPP_STREAMS) != 0)
			continue;
		if (strcmp(c->name, "text") == 0)
			text = el_text(c);
		else
			cond = c->name;
	}
	s2s_out_fail(st, "stream", "remote-server-timeout", 0,
	    "peer sent stream error <%s/>%s%s", cond, *text ? ": " : "", text);
}

/* A depth-1 element, in any state after the header. */
static void
s2s_out_elem(struct s2s_stream *st, struct el *el)
{
	struct s2s_out	*out = s2s_out(st);

	if (el_is(el, EL_NS_STREAMS, "error"))
		s2s_out_stream_error(st, el);
	else if (el_is(el, NS_TLS, NULL))
		s2s_out_tls_answer(st, el);
	else if (el_is(el, NS_SASL, NULL))
		s2s_out_sasl_answer(st, el);
	else if (el_is(el, NS_SM, NULL))
		s2s_out_sm(st, el);
	else if (el_is(el, EL_NS_STREAMS, "features")) {
		if (out->state == S2S_OUT_FEATURES)
			s2s_out_features(st, el);
		else
			s2s_log(st, LOG_L_INFO, "unexpected features ignored");
	} else if (el_is(el, EL_NS_DIALBACK, NULL))
		s2s_out_dialback(st, el);
	else
		/* S2S 1.19: nothing but negotiation flows this way */
		s2s_log(st, LOG_L_INFO, "unexpected <%s/> on an outbound "
		    "stream ignored", el->name);
	el_free(el);
}

/* TCP is up (no TLS yet): our header (S2S 1.4). */
static void
s2s_out_connected(struct s2s_stream *st)
{
	s2s_log(st, LOG_L_INFO, "connected");
	bufferevent_enable(st->bev, EV_READ | EV_WRITE);
	s2s_stream_send_header(st, st->local, st->remote, NULL, 1);
	s2s_out_enter(st, S2S_OUT_HEADER);
	s2s_stream_timer(st, S2S_HANDSHAKE_SECS);
}

/* READY's timer: a keepalive, or the idle close. */
static void
s2s_out_ready_timeout(struct s2s_stream *st)
{
	struct s2s_out	*out = s2s_out(st);
	long long	 ackwait;

	/* the peer may take as long as a stream may stay idle, at most
	 * S2S_OUT_ACK_SECS; checked at the keepalive ticks */
	ackwait = server->conf->idle_timeout < S2S_OUT_ACK_SECS ?
	    server->conf->idle_timeout : S2S_OUT_ACK_SECS;
	if (out->sm.awaiting && time(NULL) - out->r_sent >= ackwait) {
		s2s_out_fail(st, "stream", "remote-server-timeout", 0,
		    "no <a/> for our <r/> in %lld s", ackwait);
		return;
	}
	if (time(NULL) - out->last_used >= server->conf->idle_timeout &&
	    !s2s_mgr_busy(out->route) && sm_out_unacked(&out->sm) == 0) {
		s2s_out_close(st, "idle");
		return;
	}
	/* S2S 1.20: one space between elements keeps NATs and peers from
	 * dropping a quiet stream */
	s2s_stream_send_raw(st, " ", 1);
	s2s_out_ready_timer(st);
}

/* TLS is up (STARTTLS or direct): check the peer, open the stream anew. */
static void
s2s_out_tls_up(struct s2s_stream *st)
{
	struct s2s_out	*out = s2s_out(st);
	const char	*why = NULL;

	if (tls_peer_verified(st->ssl, st->remote, &why))
		st->flags |= S2S_F_CERT_OK;
	else
		snprintf(out->peer_why, sizeof(out->peer_why), "certificate of "
		    "%s not verified: %s", st->remote, why);
	s2s_log(st, LOG_L_INFO, "peer certificate %s%s", (st->flags &
	    S2S_F_CERT_OK) ? "verified" : "not verified: ", (st->flags &
	    S2S_F_CERT_OK) ? "" : why);
	if (out->direct_tls)
		s2s_log(st, LOG_L_INFO, "connected (direct TLS)");
	st->flags &= ~S2S_F_HDR_SENT;
	s2s_stream_send_header(st, st->local, st->remote, NULL, 1);
	s2s_out_enter(st, S2S_OUT_HEADER);
	s2s_stream_timer(st, S2S_HANDSHAKE_SECS);
}

/* The one switch: what each event does in each state. */
static void
s2s_out_event(struct s2s_stream *st, enum s2s_ev ev, struct el *el)
{
	struct s2s_out	*out = s2s_out(st);

	switch (out->state) {
	case S2S_OUT_RESOLVE:
		break;
	case S2S_OUT_CONNECT:
		switch (ev) {
		case S2S_EV_CONNECTED:
			if (!out->direct_tls)	/* else TLS_UP follows */
				s2s_out_connected(st);
			return;
		case S2S_EV_TLS_UP:
			s2s_out_tls_up(st);
			return;
		case S2S_EV_EOF:
			snprintf(out->target_err, sizeof(out->target_err),
			    "connect %s: %s", st->addr, st->eof_why);
			s2s_out_try_next(st);
			return;
		case S2S_EV_TIMEOUT:
			snprintf(out->target_err, sizeof(out->target_err),
			    "connect %s: timed out", st->addr);
			s2s_out_try_next(st);
			return;
		default:
			break;
		}
		break;
	case S2S_OUT_VWAIT:
		if (ev == S2S_EV_TIMEOUT) {
			s2s_out_refuse_here(st, "no verification connection "
			    "to its address became free in time");
			return;
		}
		break;
	case S2S_OUT_HEADER:
		if (ev == S2S_EV_OPENED) {
			s2s_out_open(st, el);
			return;
		}
		break;
	case S2S_OUT_STARTTLS:
		if (ev == S2S_EV_TLS_UP) {
			s2s_out_tls_up(st);
			return;
		}
		break;
	case S2S_OUT_FEATURES:
	case S2S_OUT_SASL:
	case S2S_OUT_AUTH:
	case S2S_OUT_ENABLING:
		break;
	case S2S_OUT_READY:
		switch (ev) {
		case S2S_EV_DRAINED:
			s2s_mgr_stream_flushed(out->route);	/* pumps */
			if (s2s_out_stop_done(st))
				return;
			s2s_out_sm_request(st, 1);
			return;
		case S2S_EV_SHUTDOWN:
			/* what xfed wrote last (its unavailable presence, the
			 * answers to what its inbound streams read last) is
			 * out, and acked with stream management, before the
			 * stream ends: then it counts as sent */
			out->stopping = 1;
			if (s2s_out_stop_done(st))
				return;
			if (sm_out_unacked(&out->sm) > 0)
				s2s_stream_send_raw(st, "<r xmlns='" NS_SM "'/>",
				    sizeof("<r xmlns='" NS_SM "'/>") - 1);
			return;
		case S2S_EV_TIMEOUT:
			s2s_out_ready_timeout(st);
			return;
		case S2S_EV_CLOSED:
			s2s_stream_close(st, "peer closed the stream");
			return;
		case S2S_EV_EOF:
			s2s_stream_close(st, st->eof_why);	/* gone() requeues */
			return;
		default:
			break;
		}
		break;
	case S2S_OUT_CLOSING:
		if (s2s_stream_closing_event(st, ev))
			return;
		break;
	}
	/* the same in every state */
	switch (ev) {
	case S2S_EV_OPENED:
		el_free(el);
		s2s_out_fail(st, "stream", "remote-server-timeout", 0,
		    "unexpected stream header");
		break;
	case S2S_EV_ELEMENT:
		s2s_out_elem(st, el);
		break;
	case S2S_EV_CLOSED:
		s2s_out_fail(st, "stream", "remote-server-timeout", 0,
		    "peer closed the stream during %s",
		    s2s_out_state_names[out->state]);
		break;
	case S2S_EV_EOF:
		s2s_out_fail(st, "stream", "remote-server-timeout", 0,
		    "connection lost during %s: %s",
		    s2s_out_state_names[out->state], st->eof_why);
		break;
	case S2S_EV_TIMEOUT:
		s2s_out_fail(st, "timeout", "remote-server-timeout", 0,
		    "no answer from the peer during %s",
		    s2s_out_state_names[out->state]);
		break;
	case S2S_EV_SHUTDOWN:
		/* connected, still negotiating, with stanzas waiting for
		 * it (answers xfed owes): it goes on, bounded by the stop,
		 * and ends once they are written (READY); a peer not even
		 * connected yet is not waited for */
		if (out->state >= S2S_OUT_HEADER && out->route != NULL &&
		    s2s_mgr_waiting(out->route)) {
			out->stopping = 1;
			break;
		}
		s2s_stream_error(st, "system-shutdown", NULL);
		break;
	case S2S_EV_TLS_UP:
	case S2S_EV_CONNECTED:
	case S2S_EV_DRAINED:
		break;
	}
}

static void
s2s_out_gone(struct s2s_stream *st)
{
	struct s2s_out	*out = s2s_out(st);

	s2s_out_vwait_leave(out);
	s2s_out_vslot_release(out);
	/* closed before it was usable, for any reason not yet reported (a
	 * parser error, our stream error): backoff applies all the same */
	if (out->state != S2S_OUT_READY && out->state != S2S_OUT_CLOSING)
		s2s_out_report(st, "stream", "remote-server-timeout", 0,
		    "stream closed during %s", s2s_out_state_names[out->state]);
	/* S2S 7.6: no resumption; what the peer did not ack goes again */
	if (sm_out_unacked(&out->sm) > 0) {
		s2s_log(st, LOG_L_INFO, "%zu stanza%s not acknowledged: outbox "
		    "rows go again", sm_out_unacked(&out->sm),
		    sm_out_unacked(&out->sm) == 1 ? "" : "s");
		sm_out_take(&out->sm, s2s_out_sm_unacked, st);
	}
	if (out->dns != NULL) {
		dns_cancel(out->dns);
		out->dns = NULL;
	}
	if (out->route != NULL) {
		s2s_mgr_stream_gone(out->route);
		out->route = NULL;
	}
}

static void
s2s_out_release(struct s2s_stream *st)
{
	struct s2s_out	*out = s2s_out(st);

	s2s_out_vwait_leave(out);
	if (out->targets != NULL)
		dns_targets_free(out->targets);
	sm_out_free(&out->sm);
}

static const struct s2s_ops s2s_out_ops = {
	"out", s2s_out_event, s2s_out_gone, s2s_out_release, NULL,
};

void
s2s_out_detach(struct s2s_stream *st)
{
	s2s_out(st)->route = NULL;
}

struct s2s_stream *
s2s_out_new(struct s2s_route *route, const char *local, const char *remote)
{
	struct s2s_stream	*st;
	struct s2s_out		*out;

	if ((st = s2s_stream_new(sizeof(*out), -1, S2S_DIR_OUT, &s2s_out_ops,
	    "-", NULL, 0)) == NULL)
		return NULL;
	out = s2s_out(st);
	out->route = route;
	st->local = xstrdup(local);
	st->remote = xstrdup(remote);
	s2s_out_enter(st, S2S_OUT_CONNECT);
	return st;
}

struct s2s_stream *
s2s_out_start(struct s2s_route *route)
{
	struct s2s_stream	*st;
	char			 alabel[JID_PART_MAX + 1];
	const char		*name;

	if ((st = s2s_out_new(route, s2s_route_local(route),
	    s2s_route_remote(route))) == NULL)
		return NULL;
	s2s_out_enter(st, S2S_OUT_RESOLVE);
	if (s2s_out_static(st, st->remote))
		return st;
	/* an ASCII domain comes back as is, without touching alabel */
	if ((name = jid_domain_alabel(st->remote, alabel, sizeof(alabel))) ==
	    NULL) {
		s2s_out_fail(st, "dns", "remote-server-not-found", 1,
		    "%s has no DNS form", st->remote);
		return st;
	}
	s2s_out(st)->dns = dns_resolve_peer(s2s_out_dns, name,
	    s2s_out_resolved, st);
	return st;
}

int
s2s_out_write(struct s2s_stream *st, const struct el *el, int64_t outbox_id)
{
	struct s2s_out	*out = s2s_out(st);

	log_stanza("out", st->id, el);
	if (s2s_stream_send(st, el) == -1)
		return -1;
	st->nout++;
	out->last_used = time(NULL);
	if (!out->sm.enabled)
		return 0;
	sm_out_sent(&out->sm, outbox_id);
	s2s_out_sm_request(st, 0);
	return 1;
}

int
s2s_out_writable(const struct s2s_stream *st)
{
	return s2s_out(st)->state == S2S_OUT_READY && !s2s_stream_failing(st) &&
	    s2s_stream_queued(st) < S2S_OUT_HIGH && !sm_out_full(&s2s_out(st)->sm);
}

int
s2s_out_can_verify(const struct s2s_stream *st)
{
	/* S2S 4.31: after TLS and our own db:result or SASL, never in the
	 * middle of STARTTLS or SASL, never a key in the clear before TLS */
	return s2s_out(st)->state == S2S_OUT_AUTH ||
	    s2s_out(st)->state == S2S_OUT_ENABLING ||
	    s2s_out(st)->state == S2S_OUT_READY;
}

void
s2s_out_send_verify(struct s2s_stream *st, const char *local,
    const char *remote, const char *sid, const char *key)
{
	s2s_stream_send_el_free(st, db_build(1, DB_REQUEST, local, remote, sid,
	    key, NULL));
}

void
s2s_out_close(struct s2s_stream *st, const char *reason)
{
	struct s2s_out	*out = s2s_out(st);
	struct s2s_route *r = out->route;

	if (out->state != S2S_OUT_READY) {
		s2s_stream_close(st, reason);
		return;
	}
	/* RFC 6120 4.4: our close tag, then theirs before the socket goes;
	 * new stanzas for the route meanwhile go to a new stream */
	s2s_log(st, LOG_L_INFO, "closing: %s", reason);
	/* a last chance for the peer to ack what it has (XEP-0198) */
	s2s_out_sm_request(st, 1);
	s2s_stream_send_raw(st, "</stream:stream>", 16);
	st->flags |= S2S_F_CLOSE_SENT;
	out->route = NULL;
	if (r != NULL)
		s2s_mgr_stream_gone(r);
	s2s_out_enter(st, S2S_OUT_CLOSING);
	s2s_stream_timer(st, S2S_CLOSE_SECS);
}
