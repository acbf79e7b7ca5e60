/*
 * s2s/stream.c: one S2S connection's plumbing, whichever side opened it:
 * bytes in through the XML parser to the direction's ops, elements out
 * through the serializer, stream errors, the close handshake (RFC 6120 4.4)
 * and the free that happens later, from the loop (STYLE 5). What the
 * elements mean is decided in in.c and out.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "conf.h"
#include "el.h"
#include "log.h"
#include "s2s.h"
#include "server.h"
#include "stream.h"
#include "tls.h"
#include "xml.h"
#include "xmalloc.h"

/*
 * TLS bufferevents defer their callbacks: when the peer's last records and
 * its close arrive together (a stream error, then close_notify), libevent
 * reports the close before it hands over the decrypted bytes; deferred,
 * the read callback runs first and the peer's reason is not lost.
 */
#define S2S_TRIM_FREES		32	/* TLS streams freed per trim */
#define S2S_TLS_BEV_OPTS	(BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS)

struct s2s_streams	 s2s_streams = TAILQ_HEAD_INITIALIZER(s2s_streams);
struct s2s_hooks	 s2s_hooks;
static uint64_t		 s2s_next_id = 1;
static int		 s2s_stream_paused;	/* inbound reading stopped */
static int		 s2s_stream_stopped_dir[2];	/* S2S_EV_SHUTDOWN sent */

#define S2S_READ_MAX	(128 * 1024)	/* bytes taken per read callback */
#define S2S_FEED_MAX	(16 * 1024)	/* bytes parsed between pause checks */
#define S2S_BUDGET_TICK_MS 100		/* stream_read_rate refills this often */

static void	s2s_stream_free(struct s2s_stream *);
static void	s2s_stream_read(struct bufferevent *, void *);
static void	s2s_stream_write(struct bufferevent *, void *);
static void	s2s_stream_event(struct bufferevent *, short, void *);
static void	s2s_stream_tls_switch(struct s2s_stream *);
static void	s2s_stream_tls_done(struct s2s_stream *);
static void	s2s_stream_sock_drained(struct evbuffer *,
		    const struct evbuffer_cb_info *, void *);

void
s2s_init(const struct s2s_hooks *h)
{
	s2s_hooks = *h;
}

void
s2s_log(const struct s2s_stream *st, int level, const char *fmt, ...)
{
	char	 msg[1024], vis[1100];
	va_list	 ap;

	if (level > log_getlevel())
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_vis(vis, sizeof(vis), msg, sizeof(msg));
	log_at(level, "%s#%llu %s [%s]: %s", st->ops->name,
	    (unsigned long long)st->id, st->remote ? st->remote : "-", st->addr,
	    vis);
}

void
s2s_stream_set_state(struct s2s_stream *st, const char *name)
{
	s2s_log(st, LOG_L_DEBUG, "state %s -> %s", st->state_name, name);
	st->state_name = name;
}

int
s2s_stream_header_ns_ok(const struct el *hdr)
{
	const char	*ns = el_attr(hdr, "xmlns");

	return ns != NULL && strcmp(ns, NS_SERVER) == 0;
}

int
s2s_stream_dead(const struct s2s_stream *st)
{
	return (st->flags & S2S_F_DEAD) != 0;
}

int
s2s_stream_failing(const struct s2s_stream *st)
{
	return (st->flags & (S2S_F_DEAD | S2S_F_OVERFLOW)) != 0;
}

/*
 * The end of every outermost callback: a stream a send marked as
 * overflowing is closed here, never inside the send.
 */
static void
s2s_stream_settle(struct s2s_stream *st)
{
	if ((st->flags & S2S_F_OVERFLOW) && !s2s_stream_dead(st))
		s2s_stream_close(st, "peer does not read: output buffer full");
}

/* For a send made outside any stream callback (the outbox, a timer). */
static void
s2s_stream_settle_cb(evutil_socket_t fd, short what, void *arg)
{
	s2s_stream_settle(arg);
}

void
s2s_stream_input(struct s2s_stream *st, enum s2s_ev ev, struct el *el)
{
	if (s2s_stream_dead(st)) {
		el_free(el);
		return;
	}
	st->ops->event(st, ev, el);
	s2s_stream_settle(st);
}

int
s2s_stream_closing_event(struct s2s_stream *st, enum s2s_ev ev)
{
	switch (ev) {
	case S2S_EV_CLOSED:
		s2s_stream_close(st, "closed at both ends");
		return 1;
	case S2S_EV_TIMEOUT:
		s2s_stream_close(st, "no closing tag from the peer");
		return 1;
	case S2S_EV_EOF:
		s2s_stream_close(st, st->eof_why);
		return 1;
	case S2S_EV_SHUTDOWN:
		return 1;
	default:
		return 0;
	}
}

struct evbuffer *
s2s_stream_output(struct s2s_stream *st)
{
	return bufferevent_get_output(st->bev);
}

/* XML parser callbacks: events for the direction, stop once dead. */
static int
s2s_stream_xml_open(void *arg, struct el *hdr)
{
	struct s2s_stream	*st = arg;

	s2s_stream_input(st, S2S_EV_OPENED, hdr);
	return s2s_stream_dead(st) ? -1 : 0;
}

static int
s2s_stream_xml_elem(void *arg, struct el *el)
{
	struct s2s_stream	*st = arg;

	s2s_stream_input(st, S2S_EV_ELEMENT, el);
	return s2s_stream_dead(st) ? -1 : 0;
}

static int
s2s_stream_xml_close(void *arg)
{
	struct s2s_stream	*st = arg;

	s2s_stream_input(st, S2S_EV_CLOSED, NULL);
	return s2s_stream_dead(st) ? -1 : 0;
}

static const struct xml_cb s2s_stream_xml_cb = {
	s2s_stream_xml_open, s2s_stream_xml_elem, s2s_stream_xml_close,
};

static void	s2s_stream_read_in(struct s2s_stream *, struct evbuffer *);

static void
s2s_stream_read(struct bufferevent *bev, void *arg)
{
	struct s2s_stream	*st = arg;

	s2s_stream_read_in(st, bufferevent_get_input(bev));
	s2s_stream_settle(st);
}

/*
 * 1 when st may read: neither the store's back-pressure (inbound streams,
 * s2s_stream_pause_reading()) nor its own pause (s2s_stream_pause())
 * holds it.
 */
static int
s2s_stream_reads(const struct s2s_stream *st)
{
	return !(st->flags & S2S_F_PAUSED) &&
	    !(s2s_stream_paused && st->dir == S2S_DIR_IN);
}

static void
s2s_stream_read_in(struct s2s_stream *st, struct evbuffer *in)
{
	struct evbuffer_iovec	 v[8];
	int			 i, n, rc;
	size_t			 used, len;

	/* libevent may hand over the first decrypted bytes before it
	 * reports the handshake as done */
	if (st->ssl != NULL && !(st->flags & S2S_F_TLS) &&
	    !s2s_stream_dead(st)) {
		s2s_stream_timer_stop(st);
		s2s_stream_tls_done(st);
	}

	/* what is not read stays in the buffer until reading resumes */
	while (!s2s_stream_dead(st) && s2s_stream_reads(st) &&
	    evbuffer_get_length(in) > 0) {
		if (st->ops->hold != NULL && (n = st->ops->hold(st)) > 0) {
			s2s_stream_pause(st, n);
			return;
		}
		n = evbuffer_peek(in, S2S_FEED_MAX, NULL, v, 8);
		if (n > 8)
			n = 8;
		for (i = 0, used = 0, rc = 0; i < n && rc == 0 &&
		    used < S2S_FEED_MAX; i++) {
			len = v[i].iov_len;
			if (len > S2S_FEED_MAX - used)
				len = S2S_FEED_MAX - used;
			rc = xml_feed(st->xml, v[i].iov_base, len);
			used += len;
			if (s2s_stream_dead(st))
				return;
		}
		/* XML_STOPPED: a restart; the bytes after it are for the new
		 * document, which this layer does not have yet (TLS) */
		evbuffer_drain(in, used);
		st->bytes_in += used;
		if (rc == -1) {
			s2s_stream_error(st, xml_err_condition(xml_error(st->xml)),
			    xml_errstr(st->xml));
			return;
		}
		if (st->tls_next != NULL) {
			/* what followed <starttls/> or <proceed/> is void */
			evbuffer_drain(in, evbuffer_get_length(in));
			s2s_stream_tls_switch(st);
			return;
		}
	}
	/* nothing buffered: libxml2's state goes until the next byte */
	if (!s2s_stream_dead(st))
		xml_compact(st->xml);
	/* all read: the next bytes start a new backlog */
	if (st->backlog != 0 && !s2s_stream_dead(st) &&
	    s2s_stream_unread(st) == 0)
		st->backlog = 0;
}

static void
s2s_stream_resume(evutil_socket_t fd, short what, void *arg)
{
	struct s2s_stream	*st = arg;

	st->flags &= ~S2S_F_PAUSED;
	if (s2s_stream_dead(st) || !s2s_stream_reads(st))
		return;
	bufferevent_enable(st->bev, EV_READ);
	s2s_stream_read(st->bev, st);	/* what waited in the buffer */
}

void
s2s_stream_pause(struct s2s_stream *st, int ms)
{
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };

	if (s2s_stream_dead(st) || (st->flags & S2S_F_PAUSED))
		return;
	if (st->pause_ev == NULL)
		st->pause_ev = evtimer_new(server->base, s2s_stream_resume, st);
	st->flags |= S2S_F_PAUSED;
	bufferevent_disable(st->bev, EV_READ);
	evtimer_add(st->pause_ev, &tv);
}

/* Logs OpenSSL's reasons for a failed TLS stream. */
static void
s2s_stream_tls_errors(struct s2s_stream *st)
{
	unsigned long	 e;
	char		 buf[256];
	int		 n = 0;

	while ((e = bufferevent_get_openssl_error(st->bev)) != 0 && n++ < 4) {
		ERR_error_string_n(e, buf, sizeof(buf));
		s2s_log(st, LOG_L_INFO, "TLS: %s", buf);
	}
}

#ifdef __GLIBC__
static int		 s2s_trim_armed;
static unsigned int	 s2s_trim_frees;	/* TLS streams freed since */

static void
s2s_stream_trim_cb(evutil_socket_t fd, short what, void *arg)
{
	s2s_trim_armed = 0;
	s2s_trim_frees = 0;
	malloc_trim(0);
}
#endif

/*
 * A TLS handshake allocates about 50 KiB (records, transcript, key
 * shares, certificates) and frees it when it ends, an idle stream then
 * holding about 15 KiB. glibc keeps the freed pages inside the heap, among
 * the idle streams' chunks, so after a burst of handshakes the process
 * stays at the burst's size. Half a second after the last handshake of a
 * burst, give those pages back: at most one malloc_trim() a half second.
 * Closing TLS streams leaves the same holes: every S2S_TRIM_FREES freed
 * TLS streams arm the same trim.
 */
static void
s2s_stream_trim_later(void)
{
#ifdef __GLIBC__
	struct timeval	 tv = { 0, 500 * 1000 };

	if (s2s_trim_armed)
		return;
	if (event_base_once(server->base, -1, EV_TIMEOUT, s2s_stream_trim_cb,
	    NULL, &tv) == 0)
		s2s_trim_armed = 1;
#endif
}

static void
s2s_stream_tls_done(struct s2s_stream *st)
{
	char	 desc[64];

	if (st->flags & S2S_F_TLS)
		return;
	st->flags |= S2S_F_TLS;
	s2s_stream_trim_later();
	tls_info(st->ssl, desc, sizeof(desc));
	free(st->tls_desc);
	st->tls_desc = xstrdup(desc);
	s2s_log(st, LOG_L_INFO, "TLS up: %s", st->tls_desc);
	s2s_stream_input(st, S2S_EV_TLS_UP, NULL);
}

/*
 * stream_read_rate (issue 12): a token bucket on the bufferevent that
 * reads the socket, refilled every S2S_BUDGET_TICK_MS with one second
 * of burst. Out of tokens, libevent stops reading the socket until they
 * come back: the peer's bytes wait in the kernel and in TCP, not in xfed.
 * Under STARTTLS the filter reads from this same socket bufferevent, so
 * the budget counts bytes on the wire. A stream keeps the rate in force
 * when it opened. libevent keeps a pointer to the configuration, and a
 * freed bufferevent may be finalized later, so the configurations (one
 * per rate a reload brought) live until exit.
 */
struct s2s_budget {
	long long			 rate;
	struct ev_token_bucket_cfg	*cfg;
	struct s2s_budget		*next;
};
static struct s2s_budget	*s2s_budgets;

static void
s2s_stream_read_budget(struct s2s_stream *st)
{
	long long		 rate = server->conf->stream_read_rate;
	struct s2s_budget	*b;
	size_t			 tick;
	struct timeval		 tv = { 0, S2S_BUDGET_TICK_MS * 1000 };

	if (rate <= 0)
		return;
	for (b = s2s_budgets; b != NULL && b->rate != rate; b = b->next)
		;
	if (b == NULL) {
		tick = (size_t)(rate * S2S_BUDGET_TICK_MS / 1000);
		if (tick == 0)
			tick = 1;
		b = xcalloc(1, sizeof(*b));
		b->rate = rate;
		b->cfg = ev_token_bucket_cfg_new(tick, (size_t)rate,
		    EV_RATE_LIMIT_MAX, EV_RATE_LIMIT_MAX, &tv);
		if (b->cfg == NULL)
			fatalx("token bucket: out of memory");
		b->next = s2s_budgets;
		s2s_budgets = b;
	}
	if (bufferevent_set_rate_limit(st->bev, b->cfg) == -1)
		fatalx("bufferevent rate limit: out of memory");
}

static void
s2s_stream_setcb(struct s2s_stream *st)
{
	bufferevent_setcb(st->bev, s2s_stream_read, s2s_stream_write,
	    s2s_stream_event, st);
	/* a busy peer is read in large gulps: fewer syscalls and loop passes
	 * per stanza; an idle stream's buffers stay empty whatever this is */
	bufferevent_set_max_single_read(st->bev, S2S_READ_MAX);
	bufferevent_enable(st->bev, EV_READ | EV_WRITE);
	if (!s2s_stream_reads(st))
		bufferevent_disable(st->bev, EV_READ);
}

void
s2s_stream_pause_reading(int pause)
{
	struct s2s_stream	*st;

	if (s2s_stream_paused == pause)
		return;
	s2s_stream_paused = pause;
	TAILQ_FOREACH(st, &s2s_streams, entry) {
		if (st->dir != S2S_DIR_IN || s2s_stream_dead(st) ||
		    (st->flags & S2S_F_PAUSED))
			continue;	/* a paused one resumes on its timer */
		if (pause)
			bufferevent_disable(st->bev, EV_READ);
		else {
			bufferevent_enable(st->bev, EV_READ);
			/* bytes read before the pause: parse them from the
			 * loop, as if they had just come */
			bufferevent_trigger(st->bev, EV_READ,
			    BEV_TRIG_DEFER_CALLBACKS);
		}
	}
}

/*
 * TLS on the socket itself, in place of the plain bufferevent: one
 * bufferevent and one BIO fewer for the life of the stream than a filter
 * over it (about 1 KiB an idle stream). Only when nothing is left in the
 * plain one: the input was just voided, and what we queued (our
 * <proceed/>) is written now, which on a connection that has just carried
 * a few hundred bytes the kernel takes whole. NULL otherwise.
 */
static struct bufferevent *
s2s_stream_tls_socket(struct s2s_stream *st, SSL *ssl)
{
	struct bufferevent	*f;
	struct evbuffer		*out = bufferevent_get_output(st->bev);
	evutil_socket_t		 fd = bufferevent_getfd(st->bev);

	if (fd == -1 || bufferevent_get_underlying(st->bev) != NULL ||
	    evbuffer_get_length(bufferevent_get_input(st->bev)) != 0)
		return NULL;
	/* libevent keeps the front of a socket's output frozen outside its
	 * own writes */
	evbuffer_unfreeze(out, 1);
	while (evbuffer_get_length(out) > 0 && evbuffer_write(out, fd) > 0)
		;
	evbuffer_freeze(out, 1);
	if (evbuffer_get_length(out) != 0)
		return NULL;
	f = bufferevent_openssl_socket_new(server->base, fd, ssl,
	    st->tls_next_accept ? BUFFEREVENT_SSL_ACCEPTING :
	    BUFFEREVENT_SSL_CONNECTING, S2S_TLS_BEV_OPTS);
	if (f == NULL)
		return NULL;
	/* the fd now belongs to f: the plain one must not close it */
	bufferevent_setfd(st->bev, -1);
	bufferevent_free(st->bev);
	st->bev = f;
	s2s_stream_read_budget(st);
	return f;
}

/* Puts TLS under the stream, now that the read is done. */
static void
s2s_stream_tls_switch(struct s2s_stream *st)
{
	struct bufferevent	*f;
	SSL			*ssl = st->tls_next;

	st->tls_next = NULL;
	if ((f = s2s_stream_tls_socket(st, ssl)) == NULL) {
		/* else a filter over the plain one, which writes first */
		f = bufferevent_openssl_filter_new(server->base, st->bev, ssl,
		    st->tls_next_accept ? BUFFEREVENT_SSL_ACCEPTING :
		    BUFFEREVENT_SSL_CONNECTING, S2S_TLS_BEV_OPTS);
		if (f == NULL) {
			SSL_free(ssl);
			s2s_stream_close(st, "cannot start TLS");
			return;
		}
		st->sock_cb = evbuffer_add_cb(bufferevent_get_output(st->bev),
		    s2s_stream_sock_drained, st);
		st->bev = f;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(f, 1);
	st->ssl = ssl;
	s2s_stream_setcb(st);
	if (!(st->flags & S2S_F_AUTHED))
		s2s_stream_timer(st, S2S_HANDSHAKE_SECS);
}

void
s2s_stream_starttls(struct s2s_stream *st, struct ssl_st *ssl, int accepting)
{
	st->tls_next = ssl;
	st->tls_next_accept = accepting;
	xml_reset(st->xml);
}

void
s2s_stream_new_socket(struct s2s_stream *st, struct ssl_st *ssl)
{
	bufferevent_free(st->bev);
	st->ssl = ssl;
	if (ssl != NULL) {
		st->bev = bufferevent_openssl_socket_new(server->base, -1, ssl,
		    BUFFEREVENT_SSL_CONNECTING, S2S_TLS_BEV_OPTS);
		if (st->bev != NULL)
			bufferevent_openssl_set_allow_dirty_shutdown(st->bev, 1);
	} else
		st->bev = bufferevent_socket_new(server->base, -1,
		    BEV_OPT_CLOSE_ON_FREE);
	if (st->bev == NULL)
		fatalx("bufferevent: out of memory");
	s2s_stream_read_budget(st);
	xml_reset(st->xml);
	s2s_stream_setcb(st);
}

/*
 * Why a stream's connection ended. libevent hands a deferred event the
 * errno of its moment. TLS on the socket itself reports a reset as a dirty
 * shutdown (EOF with ECONNRESET), and a FIN without close_notify as an
 * error with no errno (OpenSSL 3: "unexpected eof while reading"): both
 * are the peer closing, as a plain socket's EOF and reset are.
 */
static const char *
s2s_stream_eof_why(struct s2s_stream *st, short what)
{
	int		 e = EVUTIL_SOCKET_ERROR();
	unsigned long	 ssl_e;
	char		 buf[256];

	if (what & BEV_EVENT_EOF)
		return (st->ssl != NULL && e == ECONNRESET) ? strerror(e) :
		    "connection closed by peer";
	if (st->ssl == NULL)
		return strerror(e);
	ssl_e = bufferevent_get_openssl_error(st->bev);
	if (ssl_e == 0 || ERR_GET_REASON(ssl_e) ==
	    SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		while (bufferevent_get_openssl_error(st->bev) != 0)
			;
		if (e != 0 && ssl_e == 0)
			return strerror(e);
		return "connection closed by peer without TLS close_notify";
	}
	ERR_error_string_n(ssl_e, buf, sizeof(buf));
	s2s_log(st, LOG_L_INFO, "TLS: %s", buf);
	s2s_stream_tls_errors(st);
	return "TLS error";
}

static void
s2s_stream_event(struct bufferevent *bev, short what, void *arg)
{
	struct s2s_stream	*st = arg;

	if (s2s_stream_dead(st))
		return;
	if (st->ssl != NULL && !(st->flags & S2S_F_TLS)) {
		/* a TLS handshake: done, or failed (no stream error, S2S 2.4) */
		if (what & BEV_EVENT_CONNECTED) {
			s2s_stream_timer_stop(st);
			s2s_stream_tls_done(st);
			return;
		}
		if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) {
			s2s_stream_tls_errors(st);
			st->eof_why = "TLS handshake failed";
			s2s_stream_input(st, S2S_EV_EOF, NULL);
			return;
		}
	}
	if (what & BEV_EVENT_CONNECTED)
		s2s_stream_input(st, S2S_EV_CONNECTED, NULL);
	else if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		st->eof_why = s2s_stream_eof_why(st, what);
		s2s_stream_input(st, S2S_EV_EOF, NULL);
	}
}

static void
s2s_stream_write(struct bufferevent *bev, void *arg)
{
	struct s2s_stream	*st = arg;
	struct bufferevent	*sock = bufferevent_get_underlying(bev);

	/* a deferred callback may come after more was written; under a
	 * filter, the socket's own buffer must be empty too */
	if (s2s_stream_dead(st) ||
	    evbuffer_get_length(bufferevent_get_output(bev)) != 0 ||
	    (sock != NULL && evbuffer_get_length(bufferevent_get_output(sock))
	    != 0))
		return;
	s2s_stream_input(st, S2S_EV_DRAINED, NULL);
}

static void
s2s_stream_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct s2s_stream	*st = arg;

	if (s2s_stream_dead(st)) {
		s2s_stream_free(st);	/* the close wait ran out */
		return;
	}
	s2s_stream_input(st, S2S_EV_TIMEOUT, NULL);
}

void
s2s_stream_timer(struct s2s_stream *st, int secs)
{
	struct timeval	 tv = { secs, 0 };

	if (st->timer == NULL)
		st->timer = evtimer_new(server->base, s2s_stream_timer_cb, st);
	evtimer_add(st->timer, &tv);
}

void
s2s_stream_timer_stop(struct s2s_stream *st)
{
	if (st->timer != NULL) {
		event_free(st->timer);
		st->timer = NULL;
	}
}

/*
 * The largest element the parser takes: max_unauth_stanza_size until
 * the stream is authenticated, so that an unauthenticated peer cannot
 * make xfed hold a partial element of max_stanza_size (issue 12).
 */
static size_t
s2s_stream_max_element(int authed)
{
	const struct conf	*cf = server->conf;

	if (!authed && cf->max_unauth_stanza_size > 0 &&
	    cf->max_unauth_stanza_size < cf->max_stanza_size)
		return (size_t)cf->max_unauth_stanza_size;
	return (size_t)cf->max_stanza_size;
}

void
s2s_stream_set_authed(struct s2s_stream *st)
{
	st->flags |= S2S_F_AUTHED;
	xml_set_max_stanza_size(st->xml, s2s_stream_max_element(1));
}

struct s2s_stream *
s2s_stream_new(size_t size, int fd, enum s2s_dir dir,
    const struct s2s_ops *ops, const char *addr, struct ssl_st *ssl,
    int accepting)
{
	struct s2s_stream	*st;
	struct xml_limits	 lim;

	st = xcalloc(1, size < sizeof(*st) ? sizeof(*st) : size);
	st->ops = ops;
	st->dir = dir;
	st->id = s2s_next_id++;
	st->opened = time(NULL);
	st->state_name = "new";
	snprintf(st->addr, sizeof(st->addr), "%s", addr);
	if (ssl != NULL) {
		st->bev = bufferevent_openssl_socket_new(server->base, fd, ssl,
		    accepting ? BUFFEREVENT_SSL_ACCEPTING :
		    BUFFEREVENT_SSL_CONNECTING, S2S_TLS_BEV_OPTS);
		if (st->bev != NULL)
			bufferevent_openssl_set_allow_dirty_shutdown(st->bev, 1);
		st->ssl = ssl;
	} else
		st->bev = bufferevent_socket_new(server->base, fd,
		    BEV_OPT_CLOSE_ON_FREE);
	if (st->bev == NULL) {
		if (fd != -1)
			close(fd);
		if (ssl != NULL)
			SSL_free(ssl);
		free(st);
		return NULL;
	}
	s2s_stream_read_budget(st);
	memset(&lim, 0, sizeof(lim));
	lim.max_stanza_size = s2s_stream_max_element(0);
	st->xml = xml_new(&lim, &s2s_stream_xml_cb, st);
	s2s_stream_setcb(st);
	TAILQ_INSERT_TAIL(&s2s_streams, st, entry);
	return st;
}

size_t
s2s_stream_queued(const struct s2s_stream *st)
{
	struct bufferevent	*sock;
	size_t			 queued;

	queued = evbuffer_get_length(bufferevent_get_output(st->bev));
	if ((sock = bufferevent_get_underlying(st->bev)) != NULL)
		queued += evbuffer_get_length(bufferevent_get_output(sock));
	return queued;
}

void
s2s_stream_send_raw(struct s2s_stream *st, const char *buf, size_t len)
{
	size_t			 queued;

	if (s2s_stream_failing(st) || (st->flags & S2S_F_CLOSE_SENT))
		return;
	if ((queued = s2s_stream_queued(st)) > S2S_OUT_MAX) {
		/* a peer that does not read costs us no more than this; the
		 * close comes from the loop, after whoever sent is done */
		s2s_log(st, LOG_L_INFO, "output buffer full (%zu bytes queued)",
		    queued);
		st->flags |= S2S_F_OVERFLOW;
		/* made here, as few streams ever need it; without it the
		 * close comes at the stream's next callback */
		if (st->settle_ev == NULL)
			st->settle_ev = event_new(server->base, -1, 0,
			    s2s_stream_settle_cb, st);
		if (st->settle_ev != NULL)
			event_active(st->settle_ev, EV_TIMEOUT, 0);
		return;
	}
	if (log_is_debug())
		s2s_log(st, LOG_L_DEBUG, "send %.*s", (int)len, buf);
	bufferevent_write(st->bev, buf, len);
}

int
s2s_stream_send(struct s2s_stream *st, const struct el *el)
{
	char	*s;
	size_t	 len;

	if (s2s_stream_failing(st) || (st->flags & S2S_F_CLOSE_SENT))
		return 0;
	s = el_to_string(el, NS_SERVER, &len);
	if (len > S2S_OUT_MAX) {
		s2s_log(st, LOG_L_WARN, "a stanza of %zu bytes is larger than "
		    "the output buffer: not sent", len);
		free(s);
		return -1;
	}
	s2s_stream_send_raw(st, s, len);
	free(s);
	return 0;
}

void
s2s_stream_send_el_free(struct s2s_stream *st, struct el *el)
{
	s2s_stream_send(st, el);
	el_free(el);
}

void
s2s_stream_send_header(struct s2s_stream *st, const char *from,
    const char *to, const char *id, int version)
{
	struct evbuffer	*out = evbuffer_new();
	size_t		 len;

	el_write_stream_header(out, from, to, id, version ? "1.0" : NULL, "en",
	    1);
	len = evbuffer_get_length(out);
	s2s_stream_send_raw(st, (const char *)evbuffer_pullup(out, -1), len);
	evbuffer_free(out);
	st->flags |= S2S_F_HDR_SENT;
}

static void
s2s_stream_free_cb(evutil_socket_t fd, short what, void *arg)
{
	s2s_stream_free(arg);
}

static void
s2s_stream_free_later(struct s2s_stream *st)
{
	st->flags |= S2S_F_FREEING;
	s2s_stream_timer_stop(st);
	event_base_once(server->base, -1, EV_TIMEOUT, s2s_stream_free_cb, st,
	    NULL);
}

/*
 * The socket under a STARTTLS filter wrote our last bytes: a closed stream
 * may go now; an open one has really flushed (the filter's own write
 * callback fires once data is encrypted, not once it left).
 */
static void
s2s_stream_sock_drained(struct evbuffer *buf,
    const struct evbuffer_cb_info *info, void *arg)
{
	struct s2s_stream	*st = arg;

	if (evbuffer_get_length(buf) != 0 || info->n_deleted == 0)
		return;
	if (s2s_stream_dead(st)) {
		if (!(st->flags & S2S_F_FREEING))
			s2s_stream_free_later(st);
	} else if (evbuffer_get_length(bufferevent_get_output(st->bev)) == 0)
		s2s_stream_input(st, S2S_EV_DRAINED, NULL);
}

/*
 * The connection failed while our last bytes waited (the peer is gone,
 * or TLS failed before, which fails every later write):
 * nothing more can leave, so free now, not at the close timer.
 */
static void
s2s_stream_close_event(struct bufferevent *bev, short what, void *arg)
{
	struct s2s_stream	*st = arg;

	/* not a read's EOF: a peer that only shut its side may still read
	 * our stream error (S2S 1.28); a write's EOF is TLS's dirty shutdown */
	if (!((what & BEV_EVENT_ERROR) || ((what & BEV_EVENT_EOF) &&
	    (what & BEV_EVENT_WRITING))) || (st->flags & S2S_F_FREEING))
		return;
	bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
	s2s_stream_free_later(st);
}

/* Called once the output is flushed after our close: free from the loop. */
static void
s2s_stream_flushed(struct bufferevent *bev, void *arg)
{
	struct s2s_stream	*st = arg;
	struct bufferevent	*sock;
	struct evbuffer		*out;

	/* a write callback deferred from before the close */
	if (evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		return;
	bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
	/* TLS close_notify after our </stream:stream> (S2S 1.23) */
	if ((st->flags & S2S_F_TLS) &&
	    !(SSL_get_shutdown(st->ssl) & SSL_SENT_SHUTDOWN)) {
		SSL_shutdown(st->ssl);
		ERR_clear_error();
	}
	/*
	 * Over STARTTLS the records are still in the socket's bufferevent
	 * under the filter: freeing now would drop them, and with them our
	 * stream error (S2S 1.28). Wait for them, bounded by the close timer.
	 */
	if ((sock = bufferevent_get_underlying(bev)) != NULL &&
	    evbuffer_get_length(out = bufferevent_get_output(sock)) > 0) {
		if (st->timer == NULL || !evtimer_pending(st->timer, NULL))
			s2s_stream_timer(st, S2S_CLOSE_SECS);
		return;		/* s2s_stream_sock_drained() frees it */
	}
	s2s_stream_free_later(st);
}

/* Bytes the peer sent that were not parsed: buffered, and in the kernel. */
size_t
s2s_stream_unread(struct s2s_stream *st)
{
	size_t	 n = evbuffer_get_length(bufferevent_get_input(st->bev));
	int	 k = 0;

	if (bufferevent_getfd(st->bev) != -1 &&
	    ioctl(bufferevent_getfd(st->bev), FIONREAD, &k) == 0 && k > 0)
		n += (size_t)k;
	return n;
}

void
s2s_stream_close(struct s2s_stream *st, const char *reason)
{
	size_t	 unread;

	if (s2s_stream_dead(st))
		return;
	st->flags |= S2S_F_DEAD;
	s2s_log(st, LOG_L_INFO, "closed reason=\"%s\" in=%llu out=%llu "
	    "secs=%lld bytes=%llu", reason ? reason : "done",
	    (unsigned long long)st->nin, (unsigned long long)st->nout,
	    (long long)(time(NULL) - st->opened),
	    (unsigned long long)st->bytes_in);
	/* an inbound stream closed while its reading is paused (the store
	 * failing, then xfed stopped) with its peer's bytes unread: a peer
	 * without XEP-0198 counts those stanzas delivered; said, not left
	 * silent. (Not while reading: the bytes of the stanza that closed
	 * it are still in the buffer then.) */
	if (st->dir == S2S_DIR_IN && !s2s_stream_reads(st) &&
	    (unread = s2s_stream_unread(st)) > 0)
		s2s_log(st, LOG_L_WARN, "closed with %zu bytes unread: the "
		    "stanzas in them were neither stored nor answered", unread);
	if (st->ops->gone != NULL)
		st->ops->gone(st);
	if ((st->flags & S2S_F_HDR_SENT) && !(st->flags & S2S_F_CLOSE_SENT)) {
		bufferevent_write(st->bev, "</stream:stream>", 16);
		st->flags |= S2S_F_CLOSE_SENT;
	}
	/* no more reading: flush what we wrote, bounded, then free */
	s2s_stream_timer_stop(st);
	bufferevent_disable(st->bev, EV_READ);
	bufferevent_setwatermark(st->bev, EV_WRITE, 0, 0);
	bufferevent_setcb(st->bev, NULL, s2s_stream_flushed,
	    s2s_stream_close_event, st);
	if (evbuffer_get_length(bufferevent_get_output(st->bev)) == 0)
		s2s_stream_flushed(st->bev, st);
	else
		s2s_stream_timer(st, S2S_CLOSE_SECS);
}

void
s2s_stream_error(struct s2s_stream *st, const char *cond, const char *text)
{
	s2s_stream_error_app(st, cond, text, NULL);
}

void
s2s_stream_error_app(struct s2s_stream *st, const char *cond,
    const char *text, struct el *app)
{
	struct evbuffer	*out;
	struct el	*err, *t;
	const char	*dom;
	size_t		 len;

	if (s2s_stream_dead(st)) {
		el_free(app);
		return;
	}
	s2s_log(st, LOG_L_INFO, "stream error %s%s%s", cond,
	    text ? ": " : "", text ? text : "");
	out = evbuffer_new();
	if (!(st->flags & S2S_F_HDR_SENT)) {
		/* S2S 1.29: a full response header first */
		dom = st->local;
		if (dom == NULL && server->conf->domains.n > 0)
			dom = CONF_DOMAIN(server->conf, 0);
		el_write_stream_header(out, dom, NULL,
		    st->sid != NULL && st->sid[0] ? st->sid : NULL, "1.0", "en",
		    1);
		st->flags |= S2S_F_HDR_SENT;
	}
	err = el_new(EL_NS_STREAMS, "error");
	el_add(err, NS_XMPP_STREAMS, cond);
	if (text != NULL) {
		t = el_add(err, NS_XMPP_STREAMS, "text");
		el_set_attr(t, "xml:lang", "en");
		el_add_text(t, text, strlen(text));
	}
	if (app != NULL) {
		el_add_copy(err, app);
		el_free(app);
	}
	el_write(out, err, EL_NS_SERVER);
	el_free(err);
	evbuffer_add(out, "</stream:stream>", 16);
	len = evbuffer_get_length(out);
	s2s_stream_send_raw(st, (const char *)evbuffer_pullup(out, -1), len);
	st->flags |= S2S_F_CLOSE_SENT;
	evbuffer_free(out);
	s2s_stream_close(st, cond);
}

static void
s2s_stream_free(struct s2s_stream *st)
{
	struct bufferevent	*sock;

	TAILQ_REMOVE(&s2s_streams, st, entry);
	if (st->ops->release != NULL)
		st->ops->release(st);
	s2s_stream_timer_stop(st);
#ifdef __GLIBC__
	if (st->ssl != NULL && ++s2s_trim_frees >= S2S_TRIM_FREES)
		s2s_stream_trim_later();
#endif
	if (st->settle_ev != NULL)
		event_free(st->settle_ev);
	if (st->pause_ev != NULL)
		event_free(st->pause_ev);
	if (st->sock_cb != NULL &&
	    (sock = bufferevent_get_underlying(st->bev)) != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_output(sock),
		    st->sock_cb);
	bufferevent_free(st->bev);
	if (st->tls_next != NULL)
		SSL_free(st->tls_next);
	xml_free(st->xml);
	free(st->local);
	free(st->remote);
	free(st->sid);
	free(st->tls_desc);
	free(st);
}

void
s2s_stream_shutdown(enum s2s_dir dir)
{
	struct s2s_stream	*st, *next;

	s2s_stream_stopped_dir[dir] = 1;
	for (st = TAILQ_FIRST(&s2s_streams); st != NULL; st = next) {
		next = TAILQ_NEXT(st, entry);
		if (st->dir == dir)
			s2s_stream_input(st, S2S_EV_SHUTDOWN, NULL);
	}
}

int
s2s_stream_stopped(enum s2s_dir dir)
{
	return s2s_stream_stopped_dir[dir];
}

size_t
s2s_stream_count(enum s2s_dir dir, unsigned int flags)
{
	struct s2s_stream	*st;
	size_t			 n = 0;

	TAILQ_FOREACH(st, &s2s_streams, entry)
		if (st->dir == dir && !s2s_stream_dead(st) &&
		    (st->flags & flags) == flags)
			n++;
	return n;
}

void
s2s_stream_close_all(const char *reason)
{
	struct s2s_stream	*st;

	TAILQ_FOREACH(st, &s2s_streams, entry)
		if (!s2s_stream_dead(st))
			s2s_stream_close(st, reason);
}

void
s2s_stream_free_all(void)
{
	struct s2s_stream	*st;

	while ((st = TAILQ_FIRST(&s2s_streams)) != NULL) {
		if (!s2s_stream_dead(st))
			s2s_stream_close(st, "shutdown");
		s2s_stream_free(st);
	}
	/* nothing stopped any more (unit tests run case after case) */
	memset(s2s_stream_stopped_dir, 0, sizeof(s2s_stream_stopped_dir));
}

void
s2s_stream_foreach(void (*cb)(void *, const struct s2s_stream_info *),
    void *arg)
{
	struct s2s_stream	*st;
	struct s2s_stream_info	 si;
	char			 subject[256];
	time_t			 when;

	TAILQ_FOREACH(st, &s2s_streams, entry) {
		if (s2s_stream_dead(st))
			continue;
		si.id = st->id;
		si.dir = st->dir == S2S_DIR_IN ? "in" : "out";
		si.local = st->local ? st->local : "-";
		si.remote = st->remote ? st->remote : "-";
		si.addr = st->addr;
		si.state = st->state_name;
		si.auth = (st->flags & S2S_F_SASL) ? "sasl-external" :
		    (st->flags & S2S_F_AUTHED) ? "dialback" : "none";
		si.tls = st->tls_desc ? st->tls_desc : "";
		si.opened = st->opened;
		si.nin = st->nin;
		si.nout = st->nout;
		si.cert_subject = NULL;
		si.cert_expiry = 0;
		if (st->ssl != NULL && st->tls_desc != NULL) {
			if (tls_peer_subject(st->ssl, subject,
			    sizeof(subject)) == 0)
				si.cert_subject = subject;
			if (tls_peer_expiry(st->ssl, &when) == 0)
				si.cert_expiry = when;
		}
		cb(arg, &si);
	}
}
