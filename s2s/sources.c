/*
 * s2s/sources.c: the counters and the negative cache of sources.h, in
 * string maps keyed by IP, IPv6 /64 and /48, claimed domain, and "IP
 * domain" ("/64 domain" for IPv6). An entry
 * goes when its counts are back at zero, so memory follows what is under
 * way; the negative cache is capped at SOURCES_FAILED_MAX entries (expired
 * ones are swept first; when all are fresh, a new failure is not kept).
 * The verification rates: token buckets (rate.c) per claimed domain and
 * per "share-network domain", each table at most SOURCES_RATE_MAX (a new
 * key makes the least recently used bucket go, never a refusal), and
 * the exempt sources (IP, IPv6 /64) per claimed domain, at most
 * SOURCES_EXEMPT_PER_DOMAIN per domain (a domain's new one replaces its
 * own that ends first) and SOURCES_EXEMPT_MAX in all (the expired go
 * first, then one of the domain with the most): one domain's claims never
 * evict another domain's exemptions while it holds more of them. Claims
 * that found their domain's bucket empty wait in one list, oldest first,
 * at most one per (share network, domain) and SOURCES_WAIT_MAX in all.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/queue.h>
#include <arpa/inet.h>

#include "conf.h"
#include "jid.h"
#include "log.h"
#include "rate.h"
#include "server.h"
#include "sources.h"
#include "strmap.h"
#include "xmalloc.h"

#define SOURCES_BUCKETS		1024
#define SOURCES_FAILED_MAX	4096
#define SOURCES_RATE_MAX	8192
#define SOURCES_EXEMPT_MAX	4096	/* in all */
#define SOURCES_EXEMPT_PER_DOMAIN 8

/* One exempt source (an IPv4 address, an IPv6 /64) of a domain. */
struct sources_exemption {
	char		 key[INET6_ADDRSTRLEN + 4];
	time_t		 until;
};

struct sources_exempt_dom {
	int				 n;
	struct sources_exemption	 src[SOURCES_EXEMPT_PER_DOMAIN];
};

struct sources_count {
	long long	 streams;	/* unauthenticated */
	long long	 pending;	/* verifications */
};

struct sources_failure {
	time_t		 until;
	int		 valid;
	char		 cond[SOURCE_COND_MAX];
};

static struct strmap	 sources_ip, sources_net, sources_dom, sources_fail;
static struct strmap	 sources_tgt;	/* .streams: verification connections */
/* A verification rate bucket, in a table that keeps its least recently
 * used first. */
struct sources_rate_ent {
	struct rate_bucket		 b;
	TAILQ_ENTRY(sources_rate_ent)	 lru;
};

struct sources_rates {
	struct strmap				 m;
	TAILQ_HEAD(, sources_rate_ent)		 lru;
};

static struct sources_rates sources_rate;	/* per claimed domain */
static struct sources_rates sources_share;	/* per "network domain" */
static struct strmap	 sources_exempt; /* sources_exempt_dom per domain */
/* Claims waiting for a token of their domain's bucket, oldest first. */
struct sources_waiter {
	uint64_t			 id;
	int64_t				 until;
	int				 shared;	/* netkey: a share */
	int				 ended;		/* its stream */
	char				*local, *domain, *key;
	char				 netkey[INET6_ADDRSTRLEN + JID_PART_MAX + 6];
	TAILQ_ENTRY(sources_waiter)	 entry;
};
static TAILQ_HEAD(, sources_waiter) sources_waiters =
    TAILQ_HEAD_INITIALIZER(sources_waiters);
static size_t		 sources_waiters_n;
static int		 sources_wait_running;	/* in sources_wait_run */
static struct strmap	 sources_wait_dom;	/* int: claims waiting */
static struct strmap	 sources_wait_net;	/* "network domain": one */

static void	 sources_wait_drop(struct sources_waiter *);
static size_t		 sources_exempt_n; /* exemptions in it */
static size_t		 sources_total;

/* Keeps the first bits of the n bytes at a, zeroes the rest. */
static void
sources_mask(unsigned char *a, size_t n, long long bits)
{
	size_t	 i;

	for (i = 0; i < n; i++, bits -= 8)
		if (bits <= 0)
			a[i] = 0;
		else if (bits < 8)
			a[i] &= (unsigned char)(0xff << (8 - bits));
}

/* src->share: the network sharing one verify_rate_per_source. */
static void
sources_share_of(const struct sockaddr *sa, struct source *src)
{
	const struct conf	*cf = server != NULL ? server->conf : NULL;
	struct in6_addr		 a6;
	struct in_addr		 a4;
	long long		 bits;
	char			 buf[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		bits = cf != NULL && cf->verify_source_prefix4 > 0 ?
		    cf->verify_source_prefix4 : 24;
		a4 = ((const struct sockaddr_in *)sa)->sin_addr;
		sources_mask((unsigned char *)&a4, sizeof(a4), bits);
		inet_ntop(AF_INET, &a4, buf, sizeof(buf));
	} else {
		bits = cf != NULL && cf->verify_source_prefix6 > 0 ?
		    cf->verify_source_prefix6 : 48;
		a6 = ((const struct sockaddr_in6 *)sa)->sin6_addr;
		sources_mask(a6.s6_addr, sizeof(a6.s6_addr), bits);
		inet_ntop(AF_INET6, &a6, buf, sizeof(buf));
	}
	snprintf(src->share, sizeof(src->share), "%s/%d", buf, (int)bits & 0xff);
}

void
source_of(const struct sockaddr *sa, struct source *src)
{
	const struct sockaddr_in6	*s6 = (const struct sockaddr_in6 *)sa;
	struct in6_addr			 net;
	char				 buf[INET6_ADDRSTRLEN];

	memset(src, 0, sizeof(*src));
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)
		sources_share_of(sa, src);
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    src->ip, sizeof(src->ip));
	else if (sa->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &s6->sin6_addr, src->ip, sizeof(src->ip));
		net = s6->sin6_addr;
		memset(net.s6_addr + 8, 0, 8);
		inet_ntop(AF_INET6, &net, buf, sizeof(buf));
		snprintf(src->net, sizeof(src->net), "%s/64", buf);
		memset(net.s6_addr + 6, 0, 2);
		inet_ntop(AF_INET6, &net, buf, sizeof(buf));
		snprintf(src->net48, sizeof(src->net48), "%s/48", buf);
	}
}

static void
sources_init(void)
{
	if (sources_ip.tab != NULL)
		return;
	strmap_init(&sources_ip, SOURCES_BUCKETS);
	strmap_init(&sources_net, SOURCES_BUCKETS);
	strmap_init(&sources_dom, SOURCES_BUCKETS);
	strmap_init(&sources_fail, SOURCES_BUCKETS);
	strmap_init(&sources_tgt, SOURCES_BUCKETS);
}

static struct sources_count *
sources_count(struct strmap *m, const char *key)
{
	return strmap_get(m, key, sizeof(struct sources_count));
}

/* Drops the entry of key when both its counts are zero. */
static void
sources_tidy(struct strmap *m, const char *key)
{
	struct sources_count	*c = strmap_get(m, key, 0);

	if (c != NULL && c->streams <= 0 && c->pending <= 0)
		strmap_del(m, key);
}

int
sources_stream_take(const struct source *src, const char **why)
{
	const struct conf	*cf = server->conf;
	struct sources_count	*ip, *net = NULL;

	sources_init();
	if (cf->max_unauth_streams > 0 &&
	    (long long)sources_total >= cf->max_unauth_streams) {
		*why = "too many unauthenticated streams";
		return -1;
	}
	ip = sources_count(&sources_ip, src->ip);
	if (src->net[0] != '\0')
		net = sources_count(&sources_net, src->net);
	if (cf->max_unauth_per_ip > 0 &&
	    ip->streams >= cf->max_unauth_per_ip) {
		*why = "too many unauthenticated streams from this address";
		goto refused;
	}
	if (net != NULL && cf->max_unauth_per_net > 0 &&
	    net->streams >= cf->max_unauth_per_net) {
		*why = "too many unauthenticated streams from this /64";
		goto refused;
	}
	ip->streams++;
	if (net != NULL)
		net->streams++;
	sources_total++;
	return 0;
 refused:
	sources_tidy(&sources_ip, src->ip);
	if (net != NULL)
		sources_tidy(&sources_net, src->net);
	return -1;
}

void
sources_stream_release(const struct source *src)
{
	struct sources_count	*c;

	sources_init();
	if ((c = strmap_get(&sources_ip, src->ip, 0)) != NULL) {
		c->streams--;
		sources_tidy(&sources_ip, src->ip);
	}
	if (src->net[0] != '\0' &&
	    (c = strmap_get(&sources_net, src->net, 0)) != NULL) {
		c->streams--;
		sources_tidy(&sources_net, src->net);
	}
	if (sources_total > 0)
		sources_total--;
}

/*
 * The pending counts of src: its IP, and for IPv6 its /64 and /48 (in
 * sources_net, beside the stream counts of the /64s). S2S 4.38: one /64
 * holds as many addresses as its owner likes, so the IP alone is no
 * bound there.
 */
static void
sources_pending_add(const struct source *src, long long n)
{
	struct sources_count	*c;

	if ((c = strmap_get(&sources_ip, src->ip, 0)) != NULL) {
		c->pending += n;
		sources_tidy(&sources_ip, src->ip);
	}
	if (src->net[0] != '\0' &&
	    (c = strmap_get(&sources_net, src->net, 0)) != NULL) {
		c->pending += n;
		sources_tidy(&sources_net, src->net);
	}
	if (src->net48[0] != '\0' &&
	    (c = strmap_get(&sources_net, src->net48, 0)) != NULL) {
		c->pending += n;
		sources_tidy(&sources_net, src->net48);
	}
}

int
sources_pending_take(const struct source *src, const char *domain,
    const char **why)
{
	const struct conf	*cf = server->conf;
	struct sources_count	*ip, *net = NULL, *net48 = NULL;

	(void)domain;
	sources_init();
	ip = sources_count(&sources_ip, src->ip);
	if (src->net[0] != '\0')
		net = sources_count(&sources_net, src->net);
	if (src->net48[0] != '\0')
		net48 = sources_count(&sources_net, src->net48);
	if (cf->max_pending_per_ip > 0 &&
	    ip->pending >= cf->max_pending_per_ip)
		*why = "too many dialback verifications from this address";
	else if (net != NULL && cf->max_pending_per_net > 0 &&
	    net->pending >= cf->max_pending_per_net)
		*why = "too many dialback verifications from this /64";
	else if (net48 != NULL && cf->max_pending_per_net > 0 &&
	    net48->pending >= SOURCES_PER48_FACTOR * cf->max_pending_per_net)
		*why = "too many dialback verifications from this /48";
	else {
		sources_pending_add(src, 1);
		return 0;
	}
	sources_pending_add(src, 0);	/* tidies */
	return -1;
}

void
sources_pending_release(const struct source *src, const char *domain)
{
	(void)domain;
	sources_init();
	sources_pending_add(src, -1);
}

static int	sources_is_exempt(const struct source *, const char *);

int
sources_domain_slot_take(const struct source *src, const char *domain,
    const char **why)
{
	const struct conf	*cf = server->conf;
	struct sources_count	*dom;

	if (cf->max_pending_per_domain <= 0 || sources_is_exempt(src, domain))
		return 0;
	sources_init();
	dom = sources_count(&sources_dom, domain);
	if (dom->pending >= cf->max_pending_per_domain) {
		*why = "too many dialback verifications for this domain";
		sources_tidy(&sources_dom, domain);
		return -1;
	}
	dom->pending++;
	return 1;
}

void
sources_domain_slot_release(const char *domain)
{
	struct sources_count	*c;

	sources_init();
	if ((c = strmap_get(&sources_dom, domain, 0)) != NULL) {
		c->pending--;
		sources_tidy(&sources_dom, domain);
	}
}

static int
sources_expired(void *data, void *arg)
{
	return ((struct sources_failure *)data)->until <= *(time_t *)arg;
}

const char *
source_key(const struct source *src)
{
	return src->net[0] != '\0' ? src->net : src->ip;
}

void
sources_failed(const struct source *src, const char *domain, int valid,
    const char *cond)
{
	struct sources_failure	*f;
	char			 key[INET6_ADDRSTRLEN + JID_PART_MAX + 6];
	time_t			 now = time(NULL);

	if (server->conf->verify_failure_cache == 0)
		return;
	sources_init();
	snprintf(key, sizeof(key), "%s %s", source_key(src), domain);
	if (strmap_get(&sources_fail, key, 0) == NULL &&
	    sources_fail.n >= SOURCES_FAILED_MAX) {
		strmap_sweep(&sources_fail, sources_expired, &now);
		if (sources_fail.n >= SOURCES_FAILED_MAX)
			return;
	}
	f = strmap_get(&sources_fail, key, sizeof(*f));
	f->until = now + server->conf->verify_failure_cache;
	f->valid = valid;
	snprintf(f->cond, sizeof(f->cond), "%s", cond != NULL ? cond : "");
}

int
sources_failed_recently(const struct source *src, const char *domain,
    int *valid, char cond[SOURCE_COND_MAX])
{
	struct sources_failure	*f;
	char			 key[INET6_ADDRSTRLEN + JID_PART_MAX + 6];

	if (server->conf->verify_failure_cache == 0)
		return 0;
	sources_init();
	snprintf(key, sizeof(key), "%s %s", source_key(src), domain);
	if ((f = strmap_get(&sources_fail, key, 0)) == NULL)
		return 0;
	if (f->until <= time(NULL)) {
		strmap_del(&sources_fail, key);
		return 0;
	}
	*valid = f->valid;
	memcpy(cond, f->cond, SOURCE_COND_MAX);
	return 1;
}

int
sources_target_take(const char *ip, const char **why)
{
	long long		 max = server->conf->max_verify_per_target;
	struct sources_count	*t;

	sources_init();
	t = sources_count(&sources_tgt, ip);
	if (max > 0 && t->streams >= max) {
		*why = "too many verification connections to this address";
		return -1;	/* the entry has a count: nothing to tidy */
	}
	t->streams++;
	return 0;
}

void
sources_target_release(const char *ip)
{
	struct sources_count	*c;

	sources_init();
	if ((c = strmap_get(&sources_tgt, ip, 0)) != NULL) {
		c->streams--;
		sources_tidy(&sources_tgt, ip);
	}
}

/* The key "SOURCE domain" of src's entry for domain, the source being
 * pfx when set, else the negative cache's source. */
static void
sources_key(char *key, size_t size, const struct source *src,
    const char *pfx, const char *domain)
{
	snprintf(key, size, "%s %s", pfx != NULL ? pfx : source_key(src),
	    domain);
}

/* The exemption of src in domain's entry e, NULL when none. */
static struct sources_exemption *
sources_exemption(struct sources_exempt_dom *e, const struct source *src)
{
	int	 i;

	for (i = 0; i < e->n; i++)
		if (strcmp(e->src[i].key, source_key(src)) == 0)
			return &e->src[i];
	return NULL;
}

/* Drops exemption i of e. */
static void
sources_exemption_drop(struct sources_exempt_dom *e, int i)
{
	e->src[i] = e->src[--e->n];
	sources_exempt_n--;
}

/* The index of e's exemption that ends first (e->n > 0). */
static int
sources_exemption_first(const struct sources_exempt_dom *e)
{
	int	 i, first = 0;

	for (i = 1; i < e->n; i++)
		if (e->src[i].until < e->src[first].until)
			first = i;
	return first;
}

static int
sources_is_exempt(const struct source *src, const char *domain)
{
	struct sources_exempt_dom	*e;
	struct sources_exemption	*x;

	if (server->conf->verify_exempt_time == 0 || sources_exempt.tab == NULL)
		return 0;
	if ((e = strmap_get(&sources_exempt, domain, 0)) == NULL ||
	    (x = sources_exemption(e, src)) == NULL)
		return 0;
	if (x->until > time(NULL))
		return 1;
	sources_exemption_drop(e, (int)(x - e->src));
	if (e->n == 0)
		strmap_del(&sources_exempt, domain);
	return 0;
}

/*
 * The bucket of key in r, refilled to now. A new key starts full; when r
 * holds SOURCES_RATE_MAX, the bucket used least recently goes (the one
 * most likely full again): table pressure never refuses a new key.
 */
static struct rate_bucket *
sources_bucket(struct sources_rates *r, const char *key, double rate,
    int64_t now)
{
	struct sources_rate_ent	*e;

	if (r->m.tab == NULL) {
		strmap_init(&r->m, SOURCES_RATE_MAX);
		TAILQ_INIT(&r->lru);
	}
	if ((e = strmap_get(&r->m, key, 0)) != NULL) {
		rate_bucket_refill(&e->b, rate, now);
		TAILQ_REMOVE(&r->lru, e, lru);
	} else {
		if (r->m.n >= SOURCES_RATE_MAX) {
			e = TAILQ_FIRST(&r->lru);
			TAILQ_REMOVE(&r->lru, e, lru);
			strmap_del(&r->m, strmap_key(e));
		}
		e = strmap_get(&r->m, key, sizeof(*e));
		e->b.tokens = rate * RATE_BURST_SECS;
		e->b.last_ms = now;
	}
	TAILQ_INSERT_TAIL(&r->lru, e, lru);
	return &e->b;
}

static void
sources_rates_free(struct sources_rates *r)
{
	strmap_clear(&r->m);
	TAILQ_INIT(&r->lru);
}

int
sources_domain_rate_take(const struct source *src, const char *domain,
    const char **why)
{
	const struct conf	*cf = server->conf;
	struct rate_bucket	*b, *share = NULL;
	char			 key[INET6_ADDRSTRLEN + JID_PART_MAX + 6];
	double			 rate = (double)cf->verify_rate_per_domain;
	double			 srate = (double)cf->verify_rate_per_source;
	int64_t			 now = rate_now_ms();

	if (rate <= 0 || sources_is_exempt(src, domain))
		return 0;
	if (srate > 0 && src->share[0] != '\0') {
		sources_key(key, sizeof(key), src, src->share, domain);
		share = sources_bucket(&sources_share, key, srate, now);
		if (share->tokens < 1) {
			*why = "too many dialback verifications for this domain "
			    "from this network lately";
			return -1;
		}
	}
	b = sources_bucket(&sources_rate, domain, rate, now);
	/* claims already waiting for this domain go first */
	if (b->tokens < 1 || (sources_wait_dom.tab != NULL &&
	    strmap_get(&sources_wait_dom, domain, 0) != NULL)) {
		*why = "too many dialback verifications for this domain lately";
		return -2;
	}
	b->tokens -= 1;
	if (share != NULL)
		share->tokens -= 1;
	return 1;
}

/* One token back in r's bucket of key, if it is still there. */
static void
sources_refund(struct sources_rates *r, const char *key, double rate)
{
	struct rate_bucket	*b;

	if (rate <= 0 || r->m.tab == NULL || strmap_get(&r->m, key, 0) == NULL)
		return;
	b = sources_bucket(r, key, rate, rate_now_ms());
	/* up to the burst: the bucket refilled meanwhile */
	b->tokens += 1;
	if (b->tokens > rate * RATE_BURST_SECS)
		b->tokens = rate * RATE_BURST_SECS;
}

void
sources_domain_rate_refund(const struct source *src, const char *domain)
{
	const struct conf	*cf = server->conf;
	char			 key[INET6_ADDRSTRLEN + JID_PART_MAX + 6];

	sources_refund(&sources_rate, domain,
	    (double)cf->verify_rate_per_domain);
	if (src->share[0] != '\0') {
		sources_key(key, sizeof(key), src, src->share, domain);
		sources_refund(&sources_share, key,
		    (double)cf->verify_rate_per_source);
	}
}

/* Sweeps the expired exemptions out; drops the domains left with none. */
static int
sources_exempt_expire(void *data, void *arg)
{
	struct sources_exempt_dom	*e = data;
	int				 i;

	for (i = 0; i < e->n; )
		if (e->src[i].until <= *(time_t *)arg)
			sources_exemption_drop(e, i);
		else
			i++;
	return e->n == 0;
}

/* Finds the domain with the most exemptions. */
static int
sources_exempt_most(void *data, void *arg)
{
	struct sources_exempt_dom	*e = data, **most = arg;

	if (*most == NULL || e->n > (*most)->n)
		*most = e;
	return 0;
}

static int
sources_exempt_empty(void *data, void *arg)
{
	(void)arg;
	return ((struct sources_exempt_dom *)data)->n == 0;
}

void
sources_verified(const struct source *src, const char *domain)
{
	struct sources_exempt_dom	*e, *most = NULL;
	struct sources_exemption	*x;
	time_t				 now = time(NULL);
	long long			 secs = server->conf->verify_exempt_time;

	if (secs == 0 || src->ip[0] == '\0')
		return;
	if (sources_exempt.tab == NULL)
		strmap_init(&sources_exempt, SOURCES_BUCKETS);
	e = strmap_get(&sources_exempt, domain, 0);
	if (e == NULL || (x = sources_exemption(e, src)) == NULL) {
		if (e != NULL && e->n >= SOURCES_EXEMPT_PER_DOMAIN)
			/* the domain's own exemption that ends first goes */
			sources_exemption_drop(e, sources_exemption_first(e));
		else if (sources_exempt_n >= SOURCES_EXEMPT_MAX) {
			strmap_sweep(&sources_exempt, sources_exempt_expire,
			    &now);
			if (sources_exempt_n >= SOURCES_EXEMPT_MAX) {
				/* the domain with the most loses one */
				strmap_sweep(&sources_exempt,
				    sources_exempt_most, &most);
				sources_exemption_drop(most,
				    sources_exemption_first(most));
				strmap_sweep(&sources_exempt,
				    sources_exempt_empty, NULL);
			}
		}
		e = strmap_get(&sources_exempt, domain, sizeof(*e));
		x = &e->src[e->n++];
		sources_exempt_n++;
		snprintf(x->key, sizeof(x->key), "%s", source_key(src));
	}
	x->until = now + secs;
}

int
sources_wait(const struct source *src, uint64_t id, const char *local,
    const char *domain, const char *key, int64_t now, const char **why)
{
	struct sources_waiter	*w;
	int			*n;
	char			 netkey[sizeof(w->netkey)];

	sources_key(netkey, sizeof(netkey), src, src->share[0] != '\0' ?
	    src->share : NULL, domain);
	if (sources_wait_net.tab == NULL) {
		strmap_init(&sources_wait_net, SOURCES_BUCKETS);
		strmap_init(&sources_wait_dom, SOURCES_BUCKETS);
	}
	if (strmap_get(&sources_wait_net, netkey, 0) != NULL) {
		*why = "too many dialback verifications for this domain lately "
		    "(a claim from this network already waits)";
		return -1;
	}
	if (sources_waiters_n >= SOURCES_WAIT_MAX) {
		*why = "too many dialback verifications for this domain lately "
		    "(too many claims waiting)";
		return -1;
	}
	w = xcalloc(1, sizeof(*w));
	w->id = id;
	w->until = now + SOURCES_WAIT_MS;
	w->shared = src->share[0] != '\0';
	w->local = xstrdup(local);
	w->domain = xstrdup(domain);
	w->key = xstrdup(key);
	snprintf(w->netkey, sizeof(w->netkey), "%s", netkey);
	strmap_get(&sources_wait_net, netkey, 1);
	n = strmap_get(&sources_wait_dom, domain, sizeof(*n));
	(*n)++;
	TAILQ_INSERT_TAIL(&sources_waiters, w, entry);
	sources_waiters_n++;
	return 0;
}

static void
sources_wait_drop(struct sources_waiter *w)
{
	int	*n;

	TAILQ_REMOVE(&sources_waiters, w, entry);
	sources_waiters_n--;
	strmap_del(&sources_wait_net, w->netkey);
	if ((n = strmap_get(&sources_wait_dom, w->domain, 0)) != NULL &&
	    --(*n) <= 0)
		strmap_del(&sources_wait_dom, w->domain);
	free(w->local);
	free(w->domain);
	free(w->key);
	free(w);
}

/*
 * At most one claim per (network, domain) waits, so the oldest first is
 * round-robin across the networks: a network served again queues behind
 * all the others.
 */
size_t
sources_wait_run(int64_t now, sources_wait_cb cb)
{
	const struct conf	*cf = server->conf;
	struct sources_waiter	*w, *next;
	struct rate_bucket	*b = NULL;
	double			 rate = (double)cf->verify_rate_per_domain;
	double			 srate = (double)cf->verify_rate_per_source;
	int			 granted;

	sources_wait_running = 1;
	for (w = TAILQ_FIRST(&sources_waiters); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		granted = 0;
		if (now < w->until && rate > 0) {
			b = sources_bucket(&sources_rate, w->domain, rate, now);
			if (b->tokens < 1)
				continue;
			b->tokens -= 1;
			if (srate > 0 && w->shared)
				sources_bucket(&sources_share, w->netkey,
				    srate, now)->tokens -= 1;
			granted = 1;
		} else if (now < w->until)
			granted = 1;	/* no rate */
		if ((w->ended || cb(w->id, w->local, w->domain, w->key,
		    granted) == -1) && granted && rate > 0) {
			b = sources_bucket(&sources_rate, w->domain, rate, now);
			b->tokens += 1;
			if (srate > 0 && w->shared)
				sources_bucket(&sources_share, w->netkey,
				    srate, now)->tokens += 1;
		}
		sources_wait_drop(w);
	}
	sources_wait_running = 0;
	return sources_waiters_n;
}

void
sources_wait_cancel(uint64_t id)
{
	struct sources_waiter	*w, *next;

	for (w = TAILQ_FIRST(&sources_waiters); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		if (w->id != id || w->ended)
			continue;
		if (sources_wait_running)
			w->ended = 1;	/* a run has it: dropped there */
		else
			sources_wait_drop(w);
	}
}

size_t
sources_waiting(void)
{
	return sources_waiters_n;
}

size_t
sources_streams(void)
{
	return sources_total;
}

void
sources_free(void)
{
	strmap_clear(&sources_ip);
	strmap_clear(&sources_net);
	strmap_clear(&sources_dom);
	strmap_clear(&sources_fail);
	strmap_clear(&sources_tgt);
	sources_rates_free(&sources_rate);
	sources_rates_free(&sources_share);
	strmap_clear(&sources_exempt);
	sources_exempt_n = 0;
	while (!TAILQ_EMPTY(&sources_waiters))
		sources_wait_drop(TAILQ_FIRST(&sources_waiters));
	sources_total = 0;
}
