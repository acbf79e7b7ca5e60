/*
 * s2s/out.c: one outbound S2S stream for a route (mgr.c), from finding the
 * peer to close. I/O, errors and closing are stream.c's.
 *   RESOLVE   configured route, else DNS SRV (dns.c) -> targets
 *   CONNECT   each target in turn, 10 s each; all failed -> route failed
 *   HEADER    our header sent (S2S 1.4); theirs -> FEATURES (pre-1.0 peer:
 *             straight to dialback, S2S 1.8)
 *   FEATURES  <stream:features/>: TLS required by them or by us and not
 *             available -> failed; else db:result -> AUTH (XEP-0220 2.1.1)
 *   AUTH      db:result valid -> READY; invalid -> failed, permanent;
 *             error -> failed (S2S 4.16)
 *   READY     stanzas flow; idle for idle_secs -> our close
 *   any       db:verify requests answered as authoritative server (S2S
 *             4.27); db:verify answers -> mgr; stream error -> failed with
 *             the peer's condition and text
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
#include "jid.h"
#include "log.h"
#include "mgr.h"
#include "out.h"
#include "server.h"
#include "stream.h"
#include "xml.h"
#include "xmalloc.h"

#define S2S_OUT_CONNECT_SECS	10
#define NS_TLS			"urn:ietf:params:xml:ns:xmpp-tls"

enum s2s_out_state {
	S2S_OUT_RESOLVE,
	S2S_OUT_CONNECT,
	S2S_OUT_HEADER,
	S2S_OUT_FEATURES,
	S2S_OUT_AUTH,
	S2S_OUT_READY,
};

static const char *const s2s_out_state_names[] = {
	"resolve", "connect", "header", "features", "auth", "ready",
};

struct s2s_out {
	enum s2s_out_state	 state;
	struct s2s_route	*route;
	struct dns_req		*dns;
	struct dns_targets	*targets;
	size_t			 next;		/* next target to try */
	char			 target_err[256];
	int			 failed;	/* reported to the route */
};

static struct dns	*s2s_out_dns;

static void	s2s_out_try_next(struct s2s_stream *);
static void	s2s_out_elem(struct s2s_stream *, struct el *);

void
s2s_out_set_dns(struct dns *d)
{
	s2s_out_dns = d;
}

static struct s2s_out *
s2s_out(const struct s2s_stream *st)
{
	return st->dir_state;
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
	struct s2s_out		*out = s2s_out(st);
	struct s2s_failure	 f;
	char			 text[512];
	va_list			 ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (!out->failed && out->route != NULL) {
		out->failed = 1;
		memset(&f, 0, sizeof(f));
		f.stage = stage;
		f.text = text;
		f.cond = cond;
		f.permanent = permanent;
		s2s_log(st, LOG_L_INFO, "failed stage=%s: %s", stage, text);
		s2s_mgr_stream_failed(out->route, &f);
	}
	s2s_stream_close(st, text);
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

/* The connection to one target failed: the next one, or the route fails. */
static void
s2s_out_try_next(struct s2s_stream *st)
{
	struct s2s_out		*out = s2s_out(st);
	struct dns_target	*t;
	char			 addr[64];
	int			 fd;

	if ((fd = bufferevent_getfd(st->bev)) != -1) {
		bufferevent_setfd(st->bev, -1);
		close(fd);
	}
	if (out->targets == NULL || out->next >= out->targets->n) {
		s2s_out_fail(st, "connect", "remote-server-timeout", 0, "%s",
		    out->target_err[0] ? out->target_err : "no address to try");
		return;
	}
	t = &out->targets->v[out->next++];
	if (t->direct_tls) {
		/* XEP-0368 targets need TLS from the first byte */
		snprintf(out->target_err, sizeof(out->target_err),
		    "%s: direct TLS target skipped", t->host);
		s2s_out_try_next(st);
		return;
	}
	dns_target_addr(t, addr, sizeof(addr));
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

/* A configured route: one target, no DNS (RFC 6120 3.2.3, S2S 6.10). */
static int
s2s_out_static(struct s2s_stream *st, const char *remote)
{
	struct s2s_out		*out = s2s_out(st);
	struct conf_route	*r;
	struct dns_target	*t;
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;
	size_t			 i;

	for (i = 0; i < server->conf->routes.n; i++) {
		r = CONF_ROUTE(server->conf, i);
		if (strcmp(r->domain, remote) != 0)
			continue;
		out->targets = xcalloc(1, sizeof(*out->targets));
		out->targets->v = t = xcalloc(1, sizeof(*t));
		out->targets->n = 1;
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
		s2s_out_try_next(st);
		return 1;
	}
	return 0;
}

static void
s2s_out_open(struct s2s_stream *st, struct el *hdr)
{
	struct s2s_out	*out = s2s_out(st);
	const char	*id = el_attr(hdr, "id"), *ver = el_attr(hdr, "version");

	if (out->state != S2S_OUT_HEADER) {
		el_free(hdr);
		s2s_out_fail(st, "stream", "remote-server-timeout", 0,
		    "unexpected stream header");
		return;
	}
	if (!s2s_stream_header_ns_ok(hdr)) {
		el_free(hdr);
		s2s_stream_error(st, "invalid-namespace", NULL);
		s2s_out_fail(st, "stream", "remote-server-timeout", 0,
		    "peer's stream is not in jabber:server");
		return;
	}
	if (id == NULL || *id == '\0' || strlen(id) >= sizeof(st->sid)) {
		el_free(hdr);
		s2s_out_fail(st, "stream", "remote-server-timeout", 0,
		    "peer's stream header has no usable id");
		return;
	}
	snprintf(st->sid, sizeof(st->sid), "%s", id);
	s2s_log(st, LOG_L_DEBUG, "stream header id=%s version=%s", id,
	    ver ? ver : "-");
	el_free(hdr);
	s2s_out_enter(st, S2S_OUT_FEATURES);
	s2s_mgr_stream_open(out->route);
	if (ver == NULL) {
		/* S2S 1.8: a pre-1.0 peer sends no features */
		struct el	*f = el_new(EL_NS_STREAMS, "features");

		s2s_out_elem(st, f);
	}
}

static void
s2s_out_features(struct s2s_stream *st, struct el *features)
{
	struct el	*tls = el_child(features, NS_TLS, "starttls");
	struct el	*req;
	char		 key[DB_KEY_LEN + 1];

	if (tls != NULL && (req = el_child(tls, NS_TLS, "required")) != NULL) {
		s2s_out_fail(st, "tls", "remote-server-timeout", 0,
		    "peer requires STARTTLS, which is not available here");
		return;
	}
	if (server->conf->require_encryption && !(st->flags & S2S_F_TLS)) {
		s2s_out_fail(st, "tls", "remote-server-timeout", 0,
		    "require_encryption is on and this stream is not encrypted");
		return;
	}
	db_make_key(st->remote, st->local, st->sid, key);
	s2s_stream_send_el_free(st, db_build(0, DB_REQUEST, st->local,
	    st->remote, NULL, key, NULL));
	s2s_out_enter(st, S2S_OUT_AUTH);
	s2s_stream_timer(st, S2S_HANDSHAKE_SECS);
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
		s2s_mgr_verify_answer(out->route, m.id, m.type == DB_VALID ? 1 :
		    m.type == DB_INVALID ? 0 : -1, m.cond);
		return;
	}
	/* S2S 4.15: only the answer to our own request counts */
	if (m.type == DB_REQUEST || out->state != S2S_OUT_AUTH ||
	    strcmp(m.from, st->remote) != 0 || strcmp(m.to, st->local) != 0) {
		s2s_log(st, LOG_L_INFO, "unsolicited db:result ignored");
		return;
	}
	switch (m.type) {
	case DB_VALID:
		st->flags |= S2S_F_AUTHED;
		evtimer_del(st->timer);
		s2s_log(st, LOG_L_INFO, "dialback verified pair=%s/%s", st->local,
		    st->remote);
		s2s_out_enter(st, S2S_OUT_READY);
		s2s_stream_timer(st, (int)server->conf->idle_timeout);
		s2s_mgr_stream_ready(out->route);
		break;
	case DB_INVALID:
		s2s_out_fail(st, "dialback", "remote-server-not-found", 1,
		    "%s refused our dialback key", st->remote);
		break;
	default:
		s2s_out_fail(st, "dialback", "remote-server-timeout", 0,
		    "%s answered dialback with error %s", st->remote, m.cond);
		break;
	}
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

static void
s2s_out_elem(struct s2s_stream *st, struct el *el)
{
	struct s2s_out	*out = s2s_out(st);

	if (el_is(el, EL_NS_STREAMS, "error"))
		s2s_out_stream_error(st, el);
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

static void
s2s_out_close_cb(struct s2s_stream *st)
{
	struct s2s_out	*out = s2s_out(st);

	if (out->state != S2S_OUT_READY)
		s2s_out_fail(st, "stream", "remote-server-timeout", 0,
		    "peer closed the stream during %s",
		    s2s_out_state_names[out->state]);
	else
		s2s_stream_close(st, "peer closed the stream");
}

static void
s2s_out_timeout(struct s2s_stream *st)
{
	struct s2s_out	*out = s2s_out(st);

	switch (out->state) {
	case S2S_OUT_CONNECT:
		snprintf(out->target_err, sizeof(out->target_err),
		    "connect %s: timed out", st->addr);
		s2s_out_try_next(st);
		break;
	case S2S_OUT_READY:
		s2s_out_close(st, "idle");
		break;
	default:
		s2s_out_fail(st, "timeout", "remote-server-timeout", 0,
		    "no answer from the peer during %s",
		    s2s_out_state_names[out->state]);
		break;
	}
}

static int
s2s_out_io_event(struct s2s_stream *st, short what)
{
	struct s2s_out	*out = s2s_out(st);

	if (out->state == S2S_OUT_CONNECT) {
		if (what & BEV_EVENT_CONNECTED) {
			s2s_log(st, LOG_L_INFO, "connected");
			bufferevent_enable(st->bev, EV_READ | EV_WRITE);
			s2s_stream_send_header(st, st->local, st->remote, NULL, 1);
			s2s_out_enter(st, S2S_OUT_HEADER);
			s2s_stream_timer(st, S2S_HANDSHAKE_SECS);
			return 1;
		}
		snprintf(out->target_err, sizeof(out->target_err),
		    "connect %s: %s", st->addr,
		    strerror(EVUTIL_SOCKET_ERROR()));
		s2s_out_try_next(st);
		return 1;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		if (out->state == S2S_OUT_READY)
			return 0;	/* stream.c closes; gone() requeues */
		s2s_out_fail(st, "stream", "remote-server-timeout", 0,
		    "connection lost during %s: %s",
		    s2s_out_state_names[out->state], (what & BEV_EVENT_EOF) ?
		    "closed by peer" : strerror(EVUTIL_SOCKET_ERROR()));
		return 1;
	}
	return 0;
}

static void
s2s_out_drained(struct s2s_stream *st)
{
	struct s2s_out	*out = s2s_out(st);

	if (out->state == S2S_OUT_READY && out->route != NULL)
		s2s_mgr_stream_flushed(out->route);
}

static void
s2s_out_gone(struct s2s_stream *st)
{
	struct s2s_out	*out = s2s_out(st);

	if (out->dns != NULL)
		dns_cancel(out->dns);
	if (out->targets != NULL)
		dns_targets_free(out->targets);
	if (out->route != NULL)
		s2s_mgr_stream_gone(out->route);
	free(out);
	st->dir_state = NULL;
}

static void
s2s_out_open_cb(struct s2s_stream *st, struct el *hdr)
{
	s2s_out_open(st, hdr);
}

static const struct s2s_ops s2s_out_ops = {
	"out", s2s_out_open_cb, s2s_out_elem, s2s_out_close_cb, s2s_out_gone,
	s2s_out_timeout, s2s_out_io_event, s2s_out_drained,
};

struct s2s_stream *
s2s_out_start(struct s2s_route *route)
{
	struct s2s_stream	*st;
	struct s2s_out		*out;
	char			 alabel[JID_PART_MAX + 1];
	const char		*dname;

	if ((st = s2s_stream_new(-1, S2S_DIR_OUT, &s2s_out_ops, "-")) == NULL)
		return NULL;
	st->dir_state = out = xcalloc(1, sizeof(*out));
	out->route = route;
	st->local = xstrdup(s2s_route_local(route));
	st->remote = xstrdup(s2s_route_remote(route));
	s2s_out_enter(st, S2S_OUT_RESOLVE);
	if (s2s_out_static(st, st->remote))
		return st;
	if ((dname = jid_domain_alabel(st->remote, alabel,
	    sizeof(alabel))) == NULL) {
		s2s_out_fail(st, "dns", "remote-server-not-found", 1,
		    "%s has no DNS form", st->remote);
		return st;
	}
	out->dns = dns_resolve_peer(s2s_out_dns, dname, s2s_out_resolved, st);
	return st;
}

void
s2s_out_write(struct s2s_stream *st, const struct el *el)
{
	s2s_stream_send(st, el);
	st->nout++;
	/* idle means nothing sent for a while */
	s2s_stream_timer(st, (int)server->conf->idle_timeout);
}

int
s2s_out_can_verify(const struct s2s_stream *st)
{
	return s2s_out(st)->state >= S2S_OUT_FEATURES;
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
	s2s_stream_close(st, reason);
}
