/*
 * server/http_conn.c: the HTTP API's connections below evhttp: how many
 * may be open (in all and per client address), how long a client may take
 * to send a request, and JSON in place of evhttp's own HTML error pages
 * (a request's framing is followed as it comes, so that a malformed chunked
 * body is answered 400 where evhttp says 413).
 * What a request asks for is http.c's.
 *
 * libevent 2.1's evhttp tells nothing of a connection before its first
 * whole request. So the bufferevent evhttp asks for (http_conn_bev()) is
 * where a connection is seen: its socket is known once evhttp set it,
 * before any of its events ran (http_conn_admit(), same loop pass), and
 * its evhttp_connection is the bufferevent's callback argument. From then
 * on a connection is found by its descriptor, and forgotten in evhttp's
 * close callback (a long poll's own is called from there): admitting and
 * counting are O(1). A wrapping (filter) bufferevent would give a hook on
 * free, but it reports data written before the socket has it, and evhttp
 * closes right then after a "Connection: close" answer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include <openssl/ssl.h>

#include "conf.h"
#include "http_int.h"
#include "json.h"
#include "log.h"
#include "strmap.h"
#include "tls.h"
#include "xmalloc.h"

/* Connections over the caps that may still ask for /health (a liveness
 * probe must not fail because slow clients hold every connection). */
#define HTTP_CONN_RESERVE	2

#define HTTP_CONN_BUSY	"too many open connections (http_max_connections, " \
			"http_max_connections_per_source)"

struct http_conn {
	struct bufferevent	*bev;		/* only until admitted */
	struct evhttp_connection *evcon;	/* from then on */
	int			 fd;
	int			 tls;
	char			 source[INET6_ADDRSTRLEN + 3];	/* "": Unix;
						 * IPv6 by /64 */
	struct event		*deadline;
	int			 admitted;	/* known by its descriptor */
	int			 counted;	/* counted in the caps */
	int			 reserve;	/* over them: /health only */
	int			 busy;		/* a request is being served */
	/* the requests' framing as it comes, to tell a malformed chunked
	 * body from one too large (evhttp answers 413 to both) */
	struct evbuffer_cb_entry *in_cb, *out_cb;
	int			 pstate;
	long long		 pleft, plen_body;
	int			 pchunked;
	char			 pline[80];
	size_t			 plen;
	int			 corrupt;
	/* a long poll's, called when the connection goes */
	void			(*closecb)(struct evhttp_connection *, void *);
	void			*closearg;
};

/* Not admitted yet (the accepts of this loop pass). */
static struct http_conn		**http_conn_new;
static size_t			 http_conn_nnew, http_conn_capnew;
/* Admitted, by descriptor: found and forgotten in O(1). */
static struct http_conn		**http_conn_byfd;
static size_t			 http_conn_nfd;
static size_t			 http_conn_n;		/* counted */
static size_t			 http_conn_nreserve;
static struct strmap		 http_conn_sources;	/* source: size_t */
static struct event_base	*http_conn_base;
static struct event		*http_conn_admit_ev, *http_conn_resume_ev;
static struct evconnlistener	*http_conn_levs[16];
static size_t			 http_conn_nlevs;
static long long		 http_conn_max, http_conn_max_source;
static long long		 http_conn_timeout;
static size_t			 http_conn_inmax;	/* read high-watermark */

/*
 * One line per kind in 10 s at the most, saying how many were not logged:
 * a flood of refused connections or failed accepts must not fill the log.
 */
struct http_conn_quiet {
	time_t		 last;
	unsigned long	 unsaid;
};
static struct http_conn_quiet	 http_conn_q_refused, http_conn_q_accept,
				 http_conn_q_slow;

static int
http_conn_may_log(struct http_conn_quiet *q, unsigned long *unsaid)
{
	time_t	 now = time(NULL);

	if (q->last != 0 && now - q->last < 10) {
		q->unsaid++;
		return 0;
	}
	q->last = now;
	*unsaid = q->unsaid;
	q->unsaid = 0;
	return 1;
}

static void
http_conn_uncount(struct http_conn *c)
{
	size_t	*n;

	if (!c->counted)
		return;
	c->counted = 0;
	http_conn_n--;
	if (c->source[0] != '\0' && (n = strmap_get(&http_conn_sources,
	    c->source, 0)) != NULL && --*n == 0)
		strmap_del(&http_conn_sources, c->source);
}

enum { HTTP_P_HEAD, HTTP_P_SIZE, HTTP_P_DATA, HTTP_P_TRAILER, HTTP_P_BODY,
    HTTP_P_DONE };

/* One whole line of the request's framing (CR LF or LF taken off). */
static void
http_conn_line(struct http_conn *c, char *l)
{
	char		*end;
	long long	 n;

	switch (c->pstate) {
	case HTTP_P_HEAD:
		if (*l != '\0') {
			if (strncasecmp(l, "transfer-encoding:", 18) == 0 &&
			    strcasestr(l + 18, "chunked") != NULL)
				c->pchunked = 1;
			else if (strncasecmp(l, "content-length:", 15) == 0)
				c->plen_body = strtoll(l + 15, NULL, 10);
			return;
		}
		if (c->pchunked)
			c->pstate = HTTP_P_SIZE;
		else if (c->plen_body > 0) {
			c->pstate = HTTP_P_BODY;
			c->pleft = c->plen_body;
		}
		c->pchunked = 0;
		c->plen_body = 0;
		return;
	case HTTP_P_SIZE:
		if (*l == '\0')
			return;		/* the CR LF after a chunk */
		/* as evhttp_handle_chunked_read() reads it */
		errno = 0;
		n = strtoll(l, &end, 16);
		if (errno != 0) {
			c->pstate = HTTP_P_DONE;	/* unsure: leave it */
			return;
		}
		if (*l == '\0' || (*end != '\0' && *end != ' ') || n < 0) {
			c->corrupt = 1;
			c->pstate = HTTP_P_DONE;
		} else if (n == 0)
			c->pstate = HTTP_P_TRAILER;
		else {
			c->pstate = HTTP_P_DATA;
			c->pleft = n;
		}
		return;
	case HTTP_P_TRAILER:
		if (*l == '\0')
			c->pstate = HTTP_P_HEAD;
		return;
	}
}

/* Bytes evhttp has not read yet: followed through the framing. */
static void
http_conn_in(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct http_conn	*c = arg;
	struct evbuffer_ptr	 at;
	char			 chunk[2048];
	ev_ssize_t		 n, i;
	long long		 skip;
	size_t			 len = evbuffer_get_length(buf), left;

	if (info->n_added == 0 || c->pstate == HTTP_P_DONE ||
	    info->n_added > len || evbuffer_ptr_set(buf, &at,
	    len - info->n_added, EVBUFFER_PTR_SET) == -1)
		return;
	for (left = info->n_added; left > 0 && c->pstate != HTTP_P_DONE;
	    left -= (size_t)n) {
		n = evbuffer_copyout_from(buf, &at, chunk, left < sizeof(chunk) ?
		    left : sizeof(chunk));
		if (n <= 0 || evbuffer_ptr_set(buf, &at, (size_t)n,
		    EVBUFFER_PTR_ADD) == -1)
			return;
		for (i = 0; i < n && c->pstate != HTTP_P_DONE; i++) {
			if (c->pstate == HTTP_P_DATA ||
			    c->pstate == HTTP_P_BODY) {
				skip = c->pleft < n - i ? c->pleft : n - i;
				c->pleft -= skip;
				i += skip - 1;
				if (c->pleft == 0)
					c->pstate = c->pstate == HTTP_P_DATA ?
					    HTTP_P_SIZE : HTTP_P_HEAD;
				continue;
			}
			if (chunk[i] != '\n') {
				if (c->plen < sizeof(c->pline) - 1)
					c->pline[c->plen++] = chunk[i];
				continue;
			}
			if (c->plen > 0 && c->pline[c->plen - 1] == '\r')
				c->plen--;
			c->pline[c->plen] = '\0';
			c->plen = 0;
			http_conn_line(c, c->pline);
		}
	}
}

static void
http_conn_unhook(struct http_conn *c, struct bufferevent *bev)
{
	if (bev == NULL)
		return;
	if (c->in_cb != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_input(bev), c->in_cb);
	if (c->out_cb != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_output(bev),
		    c->out_cb);
	c->in_cb = c->out_cb = NULL;
}

static void
http_conn_free(struct http_conn *c)
{
	http_conn_uncount(c);
	if (c->reserve) {
		c->reserve = 0;
		http_conn_nreserve--;
	}
	if (c->admitted && c->fd >= 0 && (size_t)c->fd < http_conn_nfd &&
	    http_conn_byfd[c->fd] == c)
		http_conn_byfd[c->fd] = NULL;
	event_free(c->deadline);
	free(c);
}

/* evhttp frees the connection: forgotten, and a long poll told. */
static void
http_conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct http_conn	*c = arg;

	if (c->closecb != NULL)
		c->closecb(evcon, c->closearg);
	http_conn_unhook(c, evhttp_connection_get_bufferevent(evcon));
	http_conn_free(c);
}

static void
http_conn_arm(struct http_conn *c, long long secs)
{
	struct timeval	 tv = { (time_t)secs, 0 };

	evtimer_add(c->deadline, &tv);
}

/* The 503 for a connection over a cap, as it is accepted (not over TLS),
 * written if the socket takes it now: the connection is closed next. */
static void
http_conn_refuse(struct http_conn *c)
{
	json_t	*o = json_object();
	char	*text, *msg;
	int	 n;

	json_put_str(o, "error", "busy");
	json_put_str(o, "message", HTTP_CONN_BUSY);
	text = json_text(o);
	json_decref(o);
	n = asprintf(&msg, "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n"
	    "Retry-After: 1\r\nConnection: close\r\n\r\n%s\n",
	    strlen(text) + 1, text);
	free(text);
	if (n == -1)
		return;
	/* a new socket's buffer takes it; what it does not is lost */
	(void)send(c->fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	free(msg);
}

/* A connection over a cap goes now: answered 503 if the socket takes it
 * (not over TLS), freed, its descriptor closed. */
static void
http_conn_drop(struct http_conn *c)
{
	struct evhttp_connection	*evcon = c->evcon;

	if (!c->tls)
		http_conn_refuse(c);
	evhttp_connection_set_closecb(evcon, NULL, NULL);
	http_conn_unhook(c, evhttp_connection_get_bufferevent(evcon));
	http_conn_free(c);
	evhttp_connection_free(evcon);
}

/*
 * No whole request in http_header_timeout: the socket is shut down, so
 * evhttp reads its end and frees the connection (a slow client gets no
 * answer: it may still be sending).
 */
static void
http_conn_expired(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn	*c = arg;
	unsigned long		 unsaid;

	if (c->busy)
		return;
	if (c->reserve) {
		http_conn_drop(c);
		return;
	}
	if (http_conn_may_log(&http_conn_q_slow, &unsaid))
		log_info("http: closing a connection%s%s: no whole request "
		    "in %llds (%lu more closed unlogged)", c->source[0] ?
		    " from " : "", c->source, http_conn_timeout, unsaid);
	shutdown(c->fd, SHUT_RDWR);
}

/* The caps' key of an address: itself, or its /64 for IPv6 (one host
 * commonly has a whole /64). */
static void
http_conn_source(struct http_conn *c)
{
	struct sockaddr_storage	 ss;
	struct in6_addr		 a6;
	socklen_t		 len = sizeof(ss);

	if (getpeername(c->fd, (struct sockaddr *)&ss, &len) != 0)
		return;
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
		    c->source, sizeof(c->source));
	else if (ss.ss_family == AF_INET6) {
		a6 = ((struct sockaddr_in6 *)&ss)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			inet_ntop(AF_INET, &a6.s6_addr[12], c->source,
			    sizeof(c->source));
			return;
		}
		memset(&a6.s6_addr[8], 0, 8);
		inet_ntop(AF_INET6, &a6, c->source, sizeof(c->source) - 3);
		strcat(c->source, "/64");
	}
}

static void
http_conn_admit_one(struct http_conn *c)
{
	struct evhttp_connection	*evcon;
	void				*cbarg = NULL;
	size_t				*src, nsrc = 0, old;
	unsigned long			 unsaid;

	c->fd = bufferevent_getfd(c->bev);
	bufferevent_getcb(c->bev, NULL, NULL, NULL, &cbarg);
	c->bev = NULL;
	if (c->fd < 0 || (c->evcon = evcon = cbarg) == NULL) {
		http_conn_unhook(c, c->bev);
		http_conn_free(c);
		return;
	}
	if ((size_t)c->fd >= http_conn_nfd) {
		old = http_conn_nfd;
		http_conn_nfd = (size_t)c->fd + 64;
		http_conn_byfd = xreallocarray(http_conn_byfd, http_conn_nfd,
		    sizeof(*http_conn_byfd));
		memset(http_conn_byfd + old, 0,
		    (http_conn_nfd - old) * sizeof(*http_conn_byfd));
	}
	if (http_conn_byfd[c->fd] != NULL)	/* its close was missed */
		http_conn_free(http_conn_byfd[c->fd]);	/* (its buffers too) */
	http_conn_byfd[c->fd] = c;
	c->admitted = 1;
	evhttp_connection_set_closecb(evcon, http_conn_closed, c);
	http_conn_source(c);
	if (c->source[0] != '\0' && (src = strmap_get(&http_conn_sources,
	    c->source, 0)) != NULL)
		nsrc = *src;
	if ((long long)http_conn_n >= http_conn_max ||
	    (c->source[0] != '\0' && (long long)nsrc >= http_conn_max_source)) {
		if (http_conn_may_log(&http_conn_q_refused, &unsaid))
			log_warnx("http: refusing a connection%s%s: %zu open, "
			    "%zu from there (%lu more refused unlogged)",
			    c->source[0] ? " from " : "", c->source,
			    http_conn_n, nsrc, unsaid);
		/* a reserved slot for /health, a second; else closed now:
		 * a flood over a cap holds no more descriptors than that */
		if (http_conn_nreserve < HTTP_CONN_RESERVE) {
			c->reserve = 1;
			http_conn_nreserve++;
			http_conn_arm(c, 1);
			return;
		}
		http_conn_drop(c);
		return;
	}
	c->counted = 1;
	http_conn_n++;
	if (c->source[0] != '\0')
		(*(size_t *)strmap_get(&http_conn_sources, c->source,
		    sizeof(size_t)))++;
	http_conn_arm(c, http_conn_timeout);
}

/* Runs in the same loop pass as the accepts, before their sockets' events:
 * the bufferevents are still there, with their descriptors set. */
static void
http_conn_admit(evutil_socket_t fd, short what, void *arg)
{
	size_t	 i;

	for (i = 0; i < http_conn_nnew; i++)
		http_conn_admit_one(http_conn_new[i]);
	http_conn_nnew = 0;
}

/* Accepting again after running out of descriptors. */
static void
http_conn_resume(evutil_socket_t fd, short what, void *arg)
{
	size_t	 i;

	for (i = 0; i < http_conn_nlevs; i++)
		evconnlistener_enable(http_conn_levs[i]);
}

/*
 * accept() failed. Out of descriptors (or memory) the listening socket
 * stays readable: accepting pauses for a second, the connections wait in
 * the backlog, and the log gets one line in 10 s.
 */
static void
http_conn_accept_error(struct evconnlistener *lev, void *arg)
{
	struct timeval	 tv = { 1, 0 };
	unsigned long	 unsaid;
	int		 err = errno;

	if (err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM) {
		evconnlistener_disable(lev);
		evtimer_add(http_conn_resume_ev, &tv);
	}
	if (http_conn_may_log(&http_conn_q_accept, &unsaid))
		log_warnx("http: accept: %s%s (%lu more unlogged)",
		    strerror(err), err == EMFILE || err == ENFILE ?
		    "; accepting again in 1 s" : "", unsaid);
}

void
http_conn_listener(struct evconnlistener *lev)
{
	evconnlistener_set_error_cb(lev, http_conn_accept_error);
	if (http_conn_nlevs < sizeof(http_conn_levs) /
	    sizeof(http_conn_levs[0]))
		http_conn_levs[http_conn_nlevs++] = lev;
}

/*
 * evhttp's error pages (400 for what it cannot parse, 413 for a body over
 * http_max_body, 417, 501) are HTML written straight to the connection's
 * output: the page's body is the last thing added, after its status line
 * and headers, before any of it is sent. Replaced here by the API's JSON
 * error answer with the same status.
 */
static void
http_conn_out(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	static const char	 page[] = "<HTML><HEAD>\n<TITLE>";
	struct http_conn	*c = arg;
	static int		 inside;
	struct evbuffer_ptr	 at, s, last;
	struct evbuffer		*keep;
	size_t			 len = evbuffer_get_length(buf);
	ev_ssize_t		 n;
	char			 line[128], *reason, *e;
	const char		*code;
	json_t			*o;
	char			*text;
	int			 status, frozen;

	if (inside || info->n_added < sizeof(page) - 1 ||
	    evbuffer_ptr_set(buf, &at, len - info->n_added,
	    EVBUFFER_PTR_SET) == -1)
		return;
	s = evbuffer_search(buf, page, sizeof(page) - 1, &at);
	if (s.pos != at.pos)
		return;
	last.pos = -1;
	for (s = evbuffer_search(buf, "HTTP/1.", 7, NULL);
	    s.pos != -1 && s.pos < at.pos;
	    s = evbuffer_search(buf, "HTTP/1.", 7, &s)) {
		last = s;
		if (evbuffer_ptr_set(buf, &s, 1, EVBUFFER_PTR_ADD) == -1)
			break;
	}
	if (last.pos == -1)
		return;
	/*
	 * A socket bufferevent keeps its output's start frozen (only its
	 * own write drains it); an answer written from evhttp's write
	 * callback, as the next request's error on a kept-alive or
	 * pipelined connection is, finds it so. Nothing is being sent
	 * meanwhile: thawed for the rewrite, frozen again after.
	 */
	if ((frozen = evbuffer_drain(buf, 0) == -1))
		evbuffer_unfreeze(buf, 1);
	n = evbuffer_copyout_from(buf, &last, line, sizeof(line) - 1);
	if (n <= 0)
		goto out;
	line[n] = '\0';
	if ((e = strstr(line, "\r\n")) != NULL)
		*e = '\0';
	if (sscanf(line, "HTTP/1.%*d %d", &status) != 1 ||
	    (reason = strchr(line, ' ')) == NULL)
		goto out;
	reason = strchr(reason + 1, ' ');
	reason = reason != NULL ? reason + 1 : "";
	/* evhttp's 413 for a chunk size it cannot read */
	if (status == 413 && c != NULL && c->corrupt) {
		status = 400;
		reason = "Bad Request";
	}
	switch (status) {
	case 400:	code = "bad_request"; break;
	case 413:	code = "too_large"; break;
	case 417:	code = "expectation_failed"; break;
	case 501:	code = "not_implemented"; break;
	default:	code = "http_error"; break;
	}
	o = json_object();
	json_put_str(o, "error", code);
	json_put_str(o, "message", status == 413 ? "the request body is "
	    "larger than http_max_body" : status == 400 ? "malformed request "
	    "(request line, headers or body)" : reason);
	text = json_text(o);
	json_decref(o);

	inside = 1;
	keep = evbuffer_new();
	evbuffer_remove_buffer(buf, keep, (size_t)last.pos);
	evbuffer_drain(buf, evbuffer_get_length(buf));
	evbuffer_add_buffer(buf, keep);
	evbuffer_add_printf(buf, "HTTP/1.1 %d %s\r\nContent-Type: "
	    "application/json\r\nContent-Length: %zu\r\nConnection: close\r\n"
	    "\r\n%s\n", status, reason, strlen(text) + 1, text);
	evbuffer_free(keep);
	inside = 0;
	free(text);
 out:
	if (frozen)
		evbuffer_freeze(buf, 1);
}

struct bufferevent *
http_conn_bev(struct event_base *base, void *arg)
{
	struct tls_ctx		*tls = arg;
	struct bufferevent	*bev;
	struct http_conn	*c;
	const char		*err;
	SSL			*ssl;

	if (tls == NULL)
		bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	else if ((ssl = tls_server_new(tls, NULL, &err)) == NULL) {
		log_warnx("http: TLS: %s", err);
		return NULL;
	} else
		bev = bufferevent_openssl_socket_new(base, -1, ssl,
		    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		return NULL;
	/*
	 * While it writes an answer evhttp leaves reading on (to see the
	 * client leave) with nothing taking the input: requests pipelined
	 * behind an answer the client does not read would pile up without
	 * end. Past one whole request, reading stops until evhttp takes some.
	 */
	bufferevent_setwatermark(bev, EV_READ, 0, http_conn_inmax);
	c = xcalloc(1, sizeof(*c));
	c->out_cb = evbuffer_add_cb(bufferevent_get_output(bev), http_conn_out,
	    c);
	c->in_cb = evbuffer_add_cb(bufferevent_get_input(bev), http_conn_in, c);
	c->bev = bev;
	c->fd = -1;
	c->tls = tls != NULL;
	c->deadline = evtimer_new(base, http_conn_expired, c);
	if (http_conn_nnew == http_conn_capnew) {
		http_conn_capnew = http_conn_capnew ? 2 * http_conn_capnew : 16;
		http_conn_new = xreallocarray(http_conn_new, http_conn_capnew,
		    sizeof(*http_conn_new));
	}
	http_conn_new[http_conn_nnew++] = c;
	event_active(http_conn_admit_ev, EV_TIMEOUT, 0);
	return bev;
}

static struct http_conn *
http_conn_of(struct evhttp_request *req)
{
	struct evhttp_connection	*evcon;
	struct bufferevent		*bev;
	int				 fd;

	if ((evcon = evhttp_request_get_connection(req)) == NULL ||
	    (bev = evhttp_connection_get_bufferevent(evcon)) == NULL ||
	    (fd = bufferevent_getfd(bev)) < 0 || (size_t)fd >= http_conn_nfd)
		return NULL;
	return http_conn_byfd[fd];
}

/* A long poll's close callback, called before the connection is freed. */
void
http_conn_set_closecb(struct evhttp_request *req,
    void (*cb)(struct evhttp_connection *, void *), void *arg)
{
	struct http_conn		*c = http_conn_of(req);
	struct evhttp_connection	*evcon;

	if (c != NULL) {
		c->closecb = cb;
		c->closearg = arg;
	} else if ((evcon = evhttp_request_get_connection(req)) != NULL)
		evhttp_connection_set_closecb(evcon, cb, arg);
}

int
http_conn_request(struct http_req *r)
{
	struct http_conn	*c = http_conn_of(r->req);
	struct evkeyvalq	*out = evhttp_request_get_output_headers(r->req);
	const char		*uri = evhttp_request_get_uri(r->req);

	if (c == NULL)
		return 0;
	event_del(c->deadline);
	c->busy = 1;
	if (!c->reserve)
		return 0;
	evhttp_add_header(out, "Connection", "close");
	if (uri != NULL && (strcmp(uri, "/health") == 0 ||
	    strncmp(uri, "/health?", 8) == 0))
		return 0;
	evhttp_add_header(out, "Retry-After", "1");
	http_error(r, 503, "busy", HTTP_CONN_BUSY);
	return -1;
}

void
http_conn_replied(struct evhttp_request *req)
{
	struct http_conn	*c = http_conn_of(req);

	if (c == NULL)
		return;
	c->busy = 0;
	http_conn_arm(c, c->reserve ? 1 : http_conn_timeout);
}

void
http_conn_init(struct event_base *base, const struct conf *cf)
{
	http_conn_base = base;
	http_conn_limits(cf);
	if (http_conn_admit_ev == NULL) {
		strmap_init(&http_conn_sources, 1024);
		if ((http_conn_admit_ev = event_new(base, -1, 0,
		    http_conn_admit, NULL)) == NULL ||
		    (http_conn_resume_ev = evtimer_new(base, http_conn_resume,
		    NULL)) == NULL)
			fatalx("http: event_new failed");
	}
}

void
http_conn_limits(const struct conf *cf)
{
	http_conn_max = cf->http_max_conns;
	http_conn_max_source = cf->http_max_conns_source;
	http_conn_timeout = cf->http_header_timeout;
	http_conn_inmax = (size_t)cf->http_max_body + HTTP_MAX_HEADERS + 4096;
}

size_t
http_conn_open(void)
{
	return http_conn_n;
}

/* Before evhttp_free(): the connections it frees then call nothing here. */
void
http_conn_free_all(void)
{
	struct http_conn	*c;
	size_t			 i;

	for (i = 0; i < http_conn_nnew; i++) {
		http_conn_unhook(http_conn_new[i], http_conn_new[i]->bev);
		http_conn_free(http_conn_new[i]);
	}
	http_conn_nnew = 0;
	free(http_conn_new);
	http_conn_new = NULL;
	http_conn_capnew = 0;
	for (i = 0; i < http_conn_nfd; i++) {
		if ((c = http_conn_byfd[i]) == NULL)
			continue;
		evhttp_connection_set_closecb(c->evcon, c->closecb,
		    c->closearg);
		http_conn_unhook(c, evhttp_connection_get_bufferevent(
		    c->evcon));
		http_conn_free(c);
	}
	free(http_conn_byfd);
	http_conn_byfd = NULL;
	http_conn_nfd = 0;
	strmap_clear(&http_conn_sources);
	if (http_conn_admit_ev != NULL)
		event_free(http_conn_admit_ev);
	if (http_conn_resume_ev != NULL)
		event_free(http_conn_resume_ev);
	http_conn_admit_ev = http_conn_resume_ev = NULL;
	http_conn_nlevs = 0;
}
