/*
 * server/http_conn.c: the HTTP API's connections below evhttp: how many
 * may be open (in all and per client address), how long a client may take
 * to send a request, and JSON in place of evhttp's own HTML error pages.
 * What a request asks for is http.c's.
 *
 * libevent 2.1's evhttp tells nothing of a connection before its first
 * whole request, and nothing when one goes. So the bufferevent evhttp asks
 * for (http_conn_bev()) is where a connection is seen: its socket is known
 * once evhttp set it, before any of its events ran, and a connection is
 * named by its descriptor and the socket's inode from then on; one whose
 * descriptor no longer names that socket is gone. A wrapping (filter)
 * bufferevent would give a hook on free, but it reports data written
 * before the socket has it, and evhttp closes right then after a
 * "Connection: close" answer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>

#include <openssl/ssl.h>

#include "conf.h"
#include "http_int.h"
#include "json.h"
#include "log.h"
#include "tls.h"
#include "xmalloc.h"

struct http_conn {
	TAILQ_ENTRY(http_conn)	 entry;
	struct bufferevent	*bev;		/* only until admitted */
	int			 fd;
	ino_t			 ino;
	char			 source[INET6_ADDRSTRLEN];	/* "": Unix */
	struct event		*deadline;
	int			 admitted;	/* counted in the caps */
	int			 refused;	/* over a cap: 503 */
	int			 busy;		/* a request is being served */
};

static TAILQ_HEAD(, http_conn) http_conns = TAILQ_HEAD_INITIALIZER(http_conns);
static struct event_base	*http_conn_base;
static struct event		*http_conn_admit_ev;
static long long		 http_conn_max, http_conn_max_source;
static long long		 http_conn_timeout;

static void
http_conn_free(struct http_conn *c)
{
	TAILQ_REMOVE(&http_conns, c, entry);
	event_free(c->deadline);
	free(c);
}

/* The connection's socket is still the one it was admitted with. */
static int
http_conn_alive(const struct http_conn *c)
{
	struct stat	 sb;

	return c->fd != -1 && fstat(c->fd, &sb) == 0 && S_ISSOCK(sb.st_mode) &&
	    sb.st_ino == c->ino;
}

static void
http_conn_arm(struct http_conn *c)
{
	struct timeval	 tv = { (time_t)http_conn_timeout, 0 };

	evtimer_add(c->deadline, &tv);
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

	if (!http_conn_alive(c)) {
		http_conn_free(c);
		return;
	}
	if (c->busy)
		return;
	log_info("http: closing a connection%s%s: no whole request in %llds",
	    c->source[0] ? " from " : "", c->source, http_conn_timeout);
	shutdown(c->fd, SHUT_RDWR);
}

/* Counts the open connections (dropping those gone) and those from src. */
static void
http_conn_count(const struct http_conn *self, size_t *all, size_t *src)
{
	struct http_conn	*c, *next;

	*all = *src = 0;
	for (c = TAILQ_FIRST(&http_conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c == self || !c->admitted)
			continue;
		if (!http_conn_alive(c) || c->fd == self->fd) {
			http_conn_free(c);
			continue;
		}
		if (c->refused)
			continue;
		(*all)++;
		if (self->source[0] != '\0' &&
		    strcmp(c->source, self->source) == 0)
			(*src)++;
	}
}

static void
http_conn_admit_one(struct http_conn *c)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	struct stat		 sb;
	size_t			 all, src;

	c->fd = bufferevent_getfd(c->bev);
	c->bev = NULL;
	if (c->fd == -1 || fstat(c->fd, &sb) == -1) {
		http_conn_free(c);
		return;
	}
	c->ino = sb.st_ino;
	if (getpeername(c->fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->
			    sin_addr, c->source, sizeof(c->source));
		else if (ss.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->
			    sin6_addr, c->source, sizeof(c->source));
	}
	http_conn_count(c, &all, &src);
	if ((long long)all >= http_conn_max ||
	    (c->source[0] != '\0' && (long long)src >= http_conn_max_source)) {
		log_warnx("http: refusing a connection%s%s: %zu open, %zu "
		    "from there", c->source[0] ? " from " : "", c->source,
		    all, src);
		c->refused = 1;
	}
	c->admitted = 1;
	http_conn_arm(c);
}

/* Runs in the same loop pass as the accepts, before their sockets' events:
 * the bufferevents are still there, with their descriptors set. */
static void
http_conn_admit(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn	*c, *next;

	for (c = TAILQ_FIRST(&http_conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (!c->admitted && c->bev != NULL)
			http_conn_admit_one(c);
	}
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
	evbuffer_add_cb(bufferevent_get_output(bev), http_conn_out, NULL);
	c = xcalloc(1, sizeof(*c));
	c->bev = bev;
	c->fd = -1;
	c->deadline = evtimer_new(base, http_conn_expired, c);
	TAILQ_INSERT_TAIL(&http_conns, c, entry);
	event_active(http_conn_admit_ev, EV_TIMEOUT, 0);
	return bev;
}

static struct http_conn *
http_conn_of(struct evhttp_request *req)
{
	struct evhttp_connection	*evcon;
	struct bufferevent		*bev;
	struct http_conn		*c;
	int				 fd;

	if ((evcon = evhttp_request_get_connection(req)) == NULL ||
	    (bev = evhttp_connection_get_bufferevent(evcon)) == NULL ||
	    (fd = bufferevent_getfd(bev)) == -1)
		return NULL;
	TAILQ_FOREACH(c, &http_conns, entry)
		if (c->admitted && c->fd == fd && http_conn_alive(c))
			return c;
	return NULL;
}

int
http_conn_request(struct http_req *r)
{
	struct http_conn	*c = http_conn_of(r->req);

	if (c == NULL)
		return 0;
	event_del(c->deadline);
	c->busy = 1;
	if (c->refused) {
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "Connection", "close");
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "Retry-After", "1");
		http_error(r, 503, "busy", "too many open connections "
		    "(http_max_connections, http_max_connections_per_source)");
		return -1;
	}
	return 0;
}

void
http_conn_replied(struct evhttp_request *req)
{
	struct http_conn	*c = http_conn_of(req);

	if (c == NULL)
		return;
	c->busy = 0;
	http_conn_arm(c);
}

void
http_conn_init(struct event_base *base, const struct conf *cf)
{
	http_conn_base = base;
	http_conn_limits(cf);
	if (http_conn_admit_ev == NULL &&
	    (http_conn_admit_ev = event_new(base, -1, 0, http_conn_admit,
	    NULL)) == NULL)
		fatalx("http: event_new failed");
}

void
http_conn_limits(const struct conf *cf)
{
	http_conn_max = cf->http_max_conns;
	http_conn_max_source = cf->http_max_conns_source;
	http_conn_timeout = cf->http_header_timeout;
}

size_t
http_conn_open(void)
{
	struct http_conn	 self;
	size_t			 all, src;

	memset(&self, 0, sizeof(self));
	self.fd = -1;
	http_conn_count(&self, &all, &src);
	return all;
}

void
http_conn_free_all(void)
{
	struct http_conn	*c;

	while ((c = TAILQ_FIRST(&http_conns)) != NULL)
		http_conn_free(c);
	if (http_conn_admit_ev != NULL)
		event_free(http_conn_admit_ev);
	http_conn_admit_ev = NULL;
}
