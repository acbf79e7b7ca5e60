/*
 * s2s/dns.c: a peer domain -> the addresses to try, in order (RFC 6120
 * 3.2, RFC 2782, XEP-0368), with c-ares driven by the libevent loop: one
 * event per c-ares socket, one timer from ares_timeout(), nothing blocks.
 * Connecting, caching answers and backing off are the outbound side's.
 *
 * A request goes through two stages:
 *   SRV    _xmpp-server._tcp.D and _xmpps-server._tcp.D in parallel; then
 *          dns_srv_plan(): usable targets -> ADDR on them (ordered by
 *          dns_srv_order()); nothing -> ADDR on D:5269; "." -> permanent
 *          error; a failed _xmpp-server lookup -> error
 *   ADDR   AAAA and A of each target (ares_getaddrinfo) in parallel; the
 *          candidates keep the target order; none at all -> error
 * The result goes to the caller from a zero timer, never from inside
 * c-ares, so a callback may start, cancel or free anything, dns included.
 *
 * Lifetime: c-ares calls every query's callback exactly once (answer,
 * error, or ARES_EDESTRUCTION from ares_destroy()), and each of those
 * points into its request. A request is therefore freed only when none of
 * its queries is in flight; dns_cancel() before that just marks it.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ares.h>
#include <arpa/nameser.h>
#include <event2/event.h>

#include "log.h"
#include "xmalloc.h"
#include "s2s/dns.h"

#define DNS_SRV_PARSED_MAX	256	/* records read from one answer */
#define DNS_NAME_MAX		253

struct dns_sock {
	TAILQ_ENTRY(dns_sock)	 entry;
	struct dns		*dns;
	ares_socket_t		 fd;
	struct event		*ev;
};

enum dns_stage {
	DNS_STAGE_SRV,
	DNS_STAGE_ADDR,
	DNS_STAGE_DONE,		/* result ready; the done timer delivers it */
};

struct dns_req;

/* One SRV query: [0] _xmpp-server, [1] _xmpps-server. */
struct dns_srvq {
	struct dns_req		*req;
	char			 name[DNS_NAME_MAX + 32];
	int			 status;
	enum dns_q		 q;
	struct ares_srv_reply	*reply;		/* ares_free_data() */
};

/* One address lookup, for one SRV target or the domain itself. */
struct dns_addrq {
	struct dns_req		*req;
	const char		*host;		/* in a reply or req->domain */
	int			 port;
	int			 direct_tls;
	int			 status;
	struct ares_addrinfo	*ai;		/* ares_freeaddrinfo() */
};

struct dns_req {
	TAILQ_ENTRY(dns_req)	 entry;
	struct dns		*dns;
	char			*domain;
	dns_cb			*cb;		/* NULL once cancelled */
	void			*arg;
	int			 pending;	/* queries in flight, + holds */
	enum dns_stage		 stage;
	struct dns_srvq		 srvq[2];
	struct dns_addrq	*addrq;
	size_t			 naddrq;
	int			 from_srv;

	struct dns_targets	*targets;	/* result: success */
	char			 err[512];	/* result: failure */
	int			 permanent;
	struct event		*done;
};

struct dns {
	struct event_base	*base;
	ares_channel		 chan;
	int			 chan_ok;
	struct event		*timer;
	TAILQ_HEAD(, dns_sock)	 socks;
	TAILQ_HEAD(, dns_req)	 reqs;
	struct conf_addr	*resolvers;
	size_t			 nresolvers;
	int			 timeout_ms;
	int			 tries;
	int			 freeing;
	uint64_t		 lookups;	/* dns_stats() */
	uint64_t		 failures;
};

static void	 dns_req_release(struct dns_req *);

/*
 * The pure part: the "." rule, the fallback decision, RFC 2782 order.
 */

int
dns_srv_is_root(const struct dns_srv *s)
{
	return s->host == NULL || s->host[0] == '\0' ||
	    strcmp(s->host, ".") == 0;
}

static size_t
dns_srv_usable(enum dns_q q, const struct dns_srv *v, size_t n)
{
	size_t	 i, k = 0;

	if (q != DNS_Q_ANSWER)
		return 0;
	for (i = 0; i < n; i++)
		if (!dns_srv_is_root(&v[i]))
			k++;
	return k;
}

enum dns_plan
dns_srv_plan(enum dns_q qx, const struct dns_srv *x, size_t nx, enum dns_q qs,
    const struct dns_srv *s, size_t ns)
{
	/* Both sets are one RFC 2782 set (S2S 6.7); an _xmpps "." only
	 * empties its own set (S2S 6.8). */
	if (dns_srv_usable(qx, x, nx) + dns_srv_usable(qs, s, ns) > 0)
		return DNS_PLAN_SRV;
	/* Only "." records for _xmpp-server: no service, no fallback. */
	if (qx == DNS_Q_ANSWER && nx > 0)
		return DNS_PLAN_NOSERVICE;
	/* We do not know whether SRV records exist: falling back could
	 * reach a host the domain never meant (S2S 6.5). */
	if (qx == DNS_Q_FAIL)
		return DNS_PLAN_FAIL;
	return DNS_PLAN_FALLBACK;
}

static uint32_t
dns_rnd_default(void *arg, uint32_t max)
{
	if (max == UINT32_MAX)
		return arc4random();
	return arc4random_uniform(max + 1);
}

/* Moves v[from] to v[to] (to <= from), keeping the others' order. */
static void
dns_srv_move(struct dns_srv *v, size_t to, size_t from)
{
	struct dns_srv	 t;

	if (to == from)
		return;
	t = v[from];
	memmove(&v[to + 1], &v[to], (from - to) * sizeof(*v));
	v[to] = t;
}

static void
dns_srv_order_group(struct dns_srv *v, size_t a, size_t b,
    uint32_t (*rnd)(void *, uint32_t), void *arg)
{
	size_t		 i, k, zero = a;
	uint32_t	 sum, run, draw;

	/* RFC 2782: weight 0 records first, so that they are picked only
	 * when the draw is 0. */
	for (i = a; i < b; i++)
		if (v[i].weight == 0)
			dns_srv_move(v, zero++, i);
	for (i = a; i + 1 < b; i++) {
		sum = 0;
		for (k = i; k < b; k++)
			sum += v[k].weight;
		draw = rnd(arg, sum);
		if (draw > sum)
			draw = sum;
		run = 0;
		for (k = i; k < b; k++) {
			run += v[k].weight;
			if (run >= draw)
				break;
		}
		if (k == b)
			k = b - 1;
		dns_srv_move(v, i, k);
	}
}

size_t
dns_srv_order(struct dns_srv *v, size_t n, uint32_t (*rnd)(void *, uint32_t),
    void *arg)
{
	size_t	 i, j, k = 0;

	if (rnd == NULL)
		rnd = dns_rnd_default;
	for (i = 0; i < n; i++)
		if (!dns_srv_is_root(&v[i]))
			v[k++] = v[i];
	n = k;
	/* Stable insertion sort by priority; n is small and bounded. */
	for (i = 1; i < n; i++) {
		for (j = i; j > 0 && v[j - 1].priority > v[i].priority; j--)
			;
		dns_srv_move(v, j, i);
	}
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && v[j].priority == v[i].priority; j++)
			;
		dns_srv_order_group(v, i, j, rnd, arg);
	}
	return n;
}

/*
 * Results.
 */

void
dns_targets_free(struct dns_targets *t)
{
	size_t	 i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++)
		free(t->v[i].host);
	free(t->v);
	free(t);
}

const char *
dns_target_addr(const struct dns_target *t, char *buf, size_t len)
{
	char	 a[INET6_ADDRSTRLEN];

	if (t->ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)&t->ss)->sin6_addr, a,
		    sizeof(a));
		snprintf(buf, len, "[%s]:%d", a, t->port);
	} else if (t->ss.ss_family == AF_INET) {
		inet_ntop(AF_INET,
		    &((const struct sockaddr_in *)&t->ss)->sin_addr, a,
		    sizeof(a));
		snprintf(buf, len, "%s:%d", a, t->port);
	} else
		snprintf(buf, len, "?:%d", t->port);
	return buf;
}

static const char *
dns_status_str(int status)
{
	switch (status) {
	case ARES_ETIMEOUT:
		return "timeout";
	case ARES_ENOTFOUND:
		return "NXDOMAIN";
	case ARES_ENODATA:
		return "no records";
	case ARES_ESERVFAIL:
		return "SERVFAIL";
	case ARES_EREFUSED:
		return "REFUSED";
	case ARES_EFORMERR:
		return "FORMERR";
	case ARES_ENOTIMP:
		return "NOTIMP";
	case ARES_EBADRESP:
		return "bad response";
	case ARES_ECONNREFUSED:
		return "connection refused";
	case ARES_EBADNAME:
		return "bad name";
	default:
		return ares_strerror(status);
	}
}

/*
 * The loop: sockets and the timer.
 */

static void
dns_timer_update(struct dns *dns)
{
	struct timeval	 tv, *tvp;

	if (!dns->chan_ok)
		return;
	if ((tvp = ares_timeout(dns->chan, NULL, &tv)) == NULL)
		evtimer_del(dns->timer);
	else
		evtimer_add(dns->timer, tvp);
}

static void
dns_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns	*dns = arg;

	ares_process_fd(dns->chan, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	dns_timer_update(dns);
}

static void
dns_sock_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_sock	*s = arg;
	struct dns	*dns = s->dns;

	/* s may be freed inside: c-ares reports closed sockets through
	 * dns_sock_state(). */
	ares_process_fd(dns->chan,
	    (what & EV_READ) ? (ares_socket_t)fd : ARES_SOCKET_BAD,
	    (what & EV_WRITE) ? (ares_socket_t)fd : ARES_SOCKET_BAD);
	dns_timer_update(dns);
}

static void
dns_sock_drop(struct dns *dns, struct dns_sock *s)
{
	TAILQ_REMOVE(&dns->socks, s, entry);
	event_free(s->ev);
	free(s);
}

static void
dns_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns	*dns = data;
	struct dns_sock	*s;

	TAILQ_FOREACH(s, &dns->socks, entry)
		if (s->fd == fd)
			break;
	if (!readable && !writable) {
		if (s != NULL)
			dns_sock_drop(dns, s);
		return;
	}
	if (s == NULL) {
		s = xcalloc(1, sizeof(*s));
		s->dns = dns;
		s->fd = fd;
		TAILQ_INSERT_TAIL(&dns->socks, s, entry);
	} else
		event_free(s->ev);
	s->ev = event_new(dns->base, fd, EV_PERSIST |
	    (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0),
	    dns_sock_cb, s);
	if (s->ev == NULL || event_add(s->ev, NULL) == -1)
		fatalx("%s: cannot watch a DNS socket", __func__);
}

/*
 * The channel.
 */

static int
dns_chan_init(struct dns *dns, const char **errstr)
{
	struct ares_options	 o;
	int			 rc;

	memset(&o, 0, sizeof(o));
	o.sock_state_cb = dns_sock_state;
	o.sock_state_cb_data = dns;
	o.timeout = dns->timeout_ms;
	o.tries = dns->tries;
	/* Peer domains are absolute: no search list from resolv.conf. */
	o.domains = NULL;
	o.ndomains = 0;
	if ((rc = ares_init_options(&dns->chan, &o, ARES_OPT_SOCK_STATE_CB |
	    ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_DOMAINS)) !=
	    ARES_SUCCESS) {
		*errstr = ares_strerror(rc);
		return -1;
	}
	dns->chan_ok = 1;
	if (dns->nresolvers == 0 ||
	    dns_set_servers(dns->chan, dns->resolvers, dns->nresolvers,
	    errstr) == 0)
		return 0;
	ares_destroy(dns->chan);
	dns->chan_ok = 0;
	return -1;
}

int
dns_set_servers(struct ares_channeldata *chan,
    const struct conf_addr *resolvers, size_t n, const char **errstr)
{
	struct ares_addr_port_node	*nodes;
	const struct sockaddr_storage	*ss;
	size_t				 i;
	int				 rc;

	nodes = xcalloc(n, sizeof(*nodes));
	for (i = 0; i < n; i++) {
		ss = &resolvers[i].ss;
		if (i + 1 < n)
			nodes[i].next = &nodes[i + 1];
		nodes[i].family = ss->ss_family;
		if (ss->ss_family == AF_INET) {
			const struct sockaddr_in *sin = (const void *)ss;

			nodes[i].addr.addr4 = sin->sin_addr;
			nodes[i].udp_port = ntohs(sin->sin_port);
		} else if (ss->ss_family == AF_INET6) {
			const struct sockaddr_in6 *sin6 = (const void *)ss;

			memcpy(&nodes[i].addr.addr6, &sin6->sin6_addr,
			    sizeof(nodes[i].addr.addr6));
			nodes[i].udp_port = ntohs(sin6->sin6_port);
		} else {
			*errstr = "resolver: not an IP address";
			goto fail;
		}
		nodes[i].tcp_port = nodes[i].udp_port;
	}
	if ((rc = ares_set_servers_ports(chan, nodes)) != ARES_SUCCESS) {
		*errstr = ares_strerror(rc);
		goto fail;
	}
	free(nodes);
	return 0;
 fail:
	free(nodes);
	return -1;
}

static void
dns_chan_destroy(struct dns *dns)
{
	struct dns_sock	*s;

	if (dns->chan_ok) {
		/* Calls every pending query's callback (ARES_EDESTRUCTION)
		 * and reports each socket closed. */
		ares_destroy(dns->chan);
		dns->chan_ok = 0;
	}
	while ((s = TAILQ_FIRST(&dns->socks)) != NULL)
		dns_sock_drop(dns, s);
	evtimer_del(dns->timer);
}

struct dns *
dns_new(struct event_base *base, const struct conf_addr *resolvers, size_t n,
    const char **errstr)
{
	struct dns	*dns;
	int		 rc;

	if ((rc = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
		*errstr = ares_strerror(rc);
		return NULL;
	}
	dns = xcalloc(1, sizeof(*dns));
	dns->base = base;
	TAILQ_INIT(&dns->socks);
	TAILQ_INIT(&dns->reqs);
	dns->timeout_ms = DNS_TIMEOUT_MS;
	dns->tries = DNS_TRIES;
	if (n > 0) {
		dns->resolvers = xreallocarray(NULL, n, sizeof(*resolvers));
		memcpy(dns->resolvers, resolvers, n * sizeof(*resolvers));
		dns->nresolvers = n;
	}
	if ((dns->timer = evtimer_new(base, dns_timer_cb, dns)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	if (dns_chan_init(dns, errstr) == -1) {
		event_free(dns->timer);
		free(dns->resolvers);
		free(dns);
		ares_library_cleanup();
		return NULL;
	}
	return dns;
}

int
dns_set_timeout(struct dns *dns, int timeout_ms, int tries)
{
	const char	*errstr;
	int		 old_ms = dns->timeout_ms, old_tries = dns->tries;

	if (!TAILQ_EMPTY(&dns->reqs) || timeout_ms <= 0 || tries <= 0)
		return -1;
	/* c-ares 1.18 cannot change options on a live channel. */
	dns_chan_destroy(dns);
	dns->timeout_ms = timeout_ms;
	dns->tries = tries;
	if (dns_chan_init(dns, &errstr) == -1) {
		log_warnx("dns: %s", errstr);
		dns->timeout_ms = old_ms;
		dns->tries = old_tries;
		if (dns_chan_init(dns, &errstr) == -1)
			fatalx("dns: %s", errstr);
		return -1;
	}
	return 0;
}

static void
dns_req_destroy(struct dns_req *req)
{
	size_t	 i;

	TAILQ_REMOVE(&req->dns->reqs, req, entry);
	for (i = 0; i < 2; i++)
		if (req->srvq[i].reply != NULL)
			ares_free_data(req->srvq[i].reply);
	for (i = 0; i < req->naddrq; i++)
		if (req->addrq[i].ai != NULL)
			ares_freeaddrinfo(req->addrq[i].ai);
	free(req->addrq);
	dns_targets_free(req->targets);
	if (req->done != NULL)
		event_free(req->done);
	free(req->domain);
	free(req);
}

void
dns_free(struct dns *dns)
{
	struct dns_req	*req, *next;

	if (dns == NULL)
		return;
	dns->freeing = 1;
	for (req = TAILQ_FIRST(&dns->reqs); req != NULL; req = next) {
		next = TAILQ_NEXT(req, entry);
		req->cb = NULL;
		if (req->pending == 0)
			dns_req_destroy(req);
	}
	/* The rest go as c-ares calls back with ARES_EDESTRUCTION. */
	dns_chan_destroy(dns);
	while ((req = TAILQ_FIRST(&dns->reqs)) != NULL) {
		log_warnx("%s: request for %s outlived its queries", __func__,
		    req->domain);
		dns_req_destroy(req);
	}
	event_free(dns->timer);
	free(dns->resolvers);
	free(dns);
	ares_library_cleanup();
}

/*
 * Requests.
 */

static void
dns_req_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_req		*req = arg;
	struct dns_targets	*t = req->targets;
	dns_cb			*cb = req->cb;
	void			*cbarg = req->arg;
	int			 permanent = req->permanent;
	char			 err[sizeof(req->err)];

	/* Free the request first: the callback may free dns itself. */
	req->targets = NULL;
	memcpy(err, req->err, sizeof(err));
	dns_req_destroy(req);
	if (cb != NULL)
		cb(cbarg, t, t == NULL ? err : NULL, permanent);
	else
		dns_targets_free(t);
}

static void
dns_req_finish(struct dns_req *req)
{
	static const struct timeval	 zero = { 0, 0 };

	req->stage = DNS_STAGE_DONE;
	if (req->targets == NULL)
		req->dns->failures++;
	if (req->targets == NULL && req->err[0] == '\0')
		snprintf(req->err, sizeof(req->err), "DNS: %s: no address",
		    req->domain);
	if ((req->done = evtimer_new(req->dns->base, dns_req_done_cb,
	    req)) == NULL || evtimer_add(req->done, &zero) == -1)
		fatalx("%s: cannot schedule a DNS answer", __func__);
}

static void
dns_addr_cb(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
	struct dns_addrq	*q = arg;

	q->status = status;
	q->ai = ai;
	dns_req_release(q->req);
}

static void
dns_req_start_addr(struct dns_req *req, const struct dns_srv *v, size_t n)
{
	struct ares_addrinfo_hints	 hints;
	size_t				 i;

	req->stage = DNS_STAGE_ADDR;
	req->addrq = xcalloc(n, sizeof(*req->addrq));
	req->naddrq = n;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	req->pending++;			/* hold: answers may come at once */
	for (i = 0; i < n; i++) {
		req->addrq[i].req = req;
		req->addrq[i].host = v[i].host;
		req->addrq[i].port = v[i].port;
		req->addrq[i].direct_tls = v[i].direct_tls;
		req->pending++;
		ares_getaddrinfo(req->dns->chan, v[i].host, NULL, &hints,
		    dns_addr_cb, &req->addrq[i]);
	}
	dns_req_release(req);
}

/* After the SRV stage: what to resolve next, or the error. */
static void
dns_req_srv_done(struct dns_req *req)
{
	struct dns_srv		 v[2 * DNS_SRV_PARSED_MAX], *x, *s;
	struct ares_srv_reply	*r;
	size_t			 nx = 0, ns = 0, n;
	struct dns_srvq		*qx = &req->srvq[0], *qs = &req->srvq[1];

	x = v;
	for (r = qx->reply; r != NULL && nx < DNS_SRV_PARSED_MAX; r = r->next)
		x[nx++] = (struct dns_srv){ r->host, r->priority, r->weight,
		    r->port, 0 };
	s = v + nx;
	for (r = qs->reply; r != NULL && ns < DNS_SRV_PARSED_MAX; r = r->next)
		s[ns++] = (struct dns_srv){ r->host, r->priority, r->weight,
		    r->port, 1 };

	switch (dns_srv_plan(qx->q, x, nx, qs->q, s, ns)) {
	case DNS_PLAN_SRV:
		/* x and s are adjacent in v: one set (S2S 6.7). */
		n = dns_srv_order(v, nx + ns, NULL, NULL);
		if (n > DNS_MAX_SRV)
			n = DNS_MAX_SRV;
		req->from_srv = 1;
		dns_req_start_addr(req, v, n);
		break;
	case DNS_PLAN_FALLBACK:
		v[0] = (struct dns_srv){ req->domain, 0, 0, DNS_PORT_DEFAULT,
		    0 };
		dns_req_start_addr(req, v, 1);
		break;
	case DNS_PLAN_NOSERVICE:
		snprintf(req->err, sizeof(req->err),
		    "DNS: %s: no service (SRV target \".\")", qx->name);
		req->permanent = 1;
		dns_req_finish(req);
		break;
	case DNS_PLAN_FAIL:
		snprintf(req->err, sizeof(req->err),
		    "DNS: SRV lookup for %s: %s", qx->name,
		    dns_status_str(qx->status));
		dns_req_finish(req);
		break;
	}
}

/* After the ADDR stage: the candidates, in target order. */
static void
dns_req_addr_done(struct dns_req *req)
{
	struct dns_targets		*t;
	struct dns_target		*d;
	struct dns_addrq		*q, *firstbad = NULL;
	struct ares_addrinfo_node	*ai;
	size_t				 i, k, cap = 0, bad = 0;

	for (i = 0; i < req->naddrq; i++)
		cap += DNS_MAX_ADDRS;
	t = xcalloc(1, sizeof(*t));
	t->v = xcalloc(cap, sizeof(*t->v));
	t->srv = req->from_srv;
	for (i = 0; i < req->naddrq; i++) {
		q = &req->addrq[i];
		k = 0;
		for (ai = q->ai ? q->ai->nodes : NULL; ai != NULL &&
		    k < DNS_MAX_ADDRS; ai = ai->ai_next) {
			if ((ai->ai_family != AF_INET &&
			    ai->ai_family != AF_INET6) ||
			    ai->ai_addrlen > sizeof(d->ss))
				continue;
			d = &t->v[t->n++];
			memcpy(&d->ss, ai->ai_addr, ai->ai_addrlen);
			d->sslen = ai->ai_addrlen;
			if (ai->ai_family == AF_INET)
				((struct sockaddr_in *)&d->ss)->sin_port =
				    htons(q->port);
			else
				((struct sockaddr_in6 *)&d->ss)->sin6_port =
				    htons(q->port);
			d->host = xstrdup(q->host);
			d->port = q->port;
			d->direct_tls = q->direct_tls;
			k++;
		}
		if (k == 0 && bad++ == 0)
			firstbad = q;
	}
	if (t->n > 0) {
		req->targets = t;
		dns_req_finish(req);
		return;
	}
	dns_targets_free(t);
	if (firstbad == NULL)
		snprintf(req->err, sizeof(req->err), "DNS: %s: no SRV target",
		    req->domain);
	else if (!req->from_srv)
		snprintf(req->err, sizeof(req->err), "DNS: no SRV record for "
		    "%s; address lookup for %s: %s", req->domain,
		    firstbad->host, firstbad->status == ARES_SUCCESS ?
		    "no address" : dns_status_str(firstbad->status));
	else
		snprintf(req->err, sizeof(req->err), "DNS: address lookup for "
		    "%s (SRV target of %s): %s%s", firstbad->host, req->domain,
		    firstbad->status == ARES_SUCCESS ? "no address" :
		    dns_status_str(firstbad->status),
		    bad > 1 ? "; no other target has an address either" : "");
	dns_req_finish(req);
}

/* Drops a hold or an answered query; the last one moves the stage on. */
static void
dns_req_release(struct dns_req *req)
{
	if (--req->pending > 0)
		return;
	if (req->cb == NULL || req->dns->freeing) {
		dns_req_destroy(req);
		return;
	}
	switch (req->stage) {
	case DNS_STAGE_SRV:
		dns_req_srv_done(req);
		break;
	case DNS_STAGE_ADDR:
		dns_req_addr_done(req);
		break;
	case DNS_STAGE_DONE:
		break;
	}
}

static void
dns_srv_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_srvq	*q = arg;

	q->status = status;
	if (status == ARES_SUCCESS) {
		q->status = ares_parse_srv_reply(abuf, alen, &q->reply);
		if (q->status != ARES_SUCCESS)
			q->reply = NULL;
	}
	switch (q->status) {
	case ARES_SUCCESS:
		q->q = DNS_Q_ANSWER;
		break;
	case ARES_ENOTFOUND:
	case ARES_ENODATA:
		q->q = DNS_Q_NONE;
		break;
	default:
		q->q = DNS_Q_FAIL;
		break;
	}
	dns_req_release(q->req);
}

/* Letters, digits, '-', '_' and dots between labels (S2S 6.1: the
 * caller converts to A-labels first). */
static int
dns_domain_ok(const char *d, size_t len)
{
	size_t	 i;

	if (len == 0 || len > DNS_NAME_MAX || d[0] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		if (d[i] == '.' && i > 0 && d[i - 1] == '.')
			return 0;
		if (!isascii((unsigned char)d[i]) ||
		    !(isalnum((unsigned char)d[i]) || d[i] == '-' ||
		    d[i] == '_' || d[i] == '.'))
			return 0;
	}
	return 1;
}

struct dns_req *
dns_resolve_peer(struct dns *dns, const char *domain, dns_cb *cb, void *arg)
{
	static const char	*svc[2] = { "_xmpp-server", "_xmpps-server" };
	struct dns_req		*req;
	size_t			 len = strlen(domain), i;

	dns->lookups++;
	req = xcalloc(1, sizeof(*req));
	req->dns = dns;
	req->cb = cb;
	req->arg = arg;
	TAILQ_INSERT_TAIL(&dns->reqs, req, entry);
	if (len > 0 && domain[len - 1] == '.')
		len--;
	req->domain = xstrndup(domain, len);
	if (!dns_domain_ok(req->domain, len)) {
		snprintf(req->err, sizeof(req->err), "DNS: bad domain name");
		dns_req_finish(req);
		return req;
	}

	req->stage = DNS_STAGE_SRV;
	req->pending++;			/* hold: answers may come at once */
	for (i = 0; i < 2; i++) {
		req->srvq[i].req = req;
		snprintf(req->srvq[i].name, sizeof(req->srvq[i].name),
		    "%s._tcp.%s", svc[i], req->domain);
		req->pending++;
		ares_query(dns->chan, req->srvq[i].name, ns_c_in, ns_t_srv,
		    dns_srv_cb, &req->srvq[i]);
	}
	dns_req_release(req);
	dns_timer_update(dns);
	return req;
}

void
dns_stats(const struct dns *dns, uint64_t *lookups, uint64_t *failures)
{
	*lookups = dns->lookups;
	*failures = dns->failures;
}

void
dns_cancel(struct dns_req *req)
{
	if (req == NULL)
		return;
	if (req->pending == 0) {	/* answer ready, not delivered */
		dns_req_destroy(req);
		return;
	}
	req->cb = NULL;			/* freed when c-ares lets go */
}
