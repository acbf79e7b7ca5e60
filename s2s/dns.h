/*
 * s2s/dns.h: finding a peer's S2S addresses (RFC 6120 3.2, XEP-0368) with
 * c-ares inside the libevent loop. The result is an ordered list of
 * candidates; connecting to them one after the other, caching and backoff
 * belong to the outbound side. Configured routes skip this module.
 */
#ifndef S2S_DNS_H
#define S2S_DNS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "conf.h"

#define DNS_PORT_DEFAULT	5269	/* RFC 6120 3.2.2: no SRV record */
#define DNS_TIMEOUT_MS		5000	/* first try; c-ares doubles it */
#define DNS_TRIES		2	/* S2S 6.13 */
#define DNS_MAX_SRV		16	/* SRV records used, both sets together */
#define DNS_MAX_ADDRS		8	/* addresses used per target host */

struct event_base;
struct dns;
struct dns_req;

/* One address to connect to, in the order to try them. */
struct dns_target {
	struct sockaddr_storage	 ss;		/* address, port included */
	socklen_t		 sslen;
	char			*host;		/* SRV target or the domain */
	int			 port;
	int			 direct_tls;	/* _xmpps-server: TLS first */
};

struct dns_targets {
	struct dns_target	*v;
	size_t			 n;		/* at least 1 */
	int			 srv;		/* 0: domain:5269 fallback */
};

/*
 * Called once per request, from the event loop, never from inside
 * dns_resolve_peer(). Success: targets non-NULL, errstr NULL, and the
 * callback takes targets (dns_targets_free()). Failure: targets NULL and
 * errstr names the stage ("DNS: SRV lookup for _xmpp-server._tcp.x:
 * timeout"); errstr lives until the callback returns. permanent is 1 only
 * when the domain says it has no XMPP service (an SRV target "."): retrying
 * will not help (S2S 6.2). The request handle is gone when this runs.
 */
typedef void	 dns_cb(void *arg, struct dns_targets *targets,
		    const char *errstr, int permanent);

/*
 * A resolver on base. resolvers (n of them, may be 0) replace the servers
 * of /etc/resolv.conf. NULL with errstr set when c-ares refuses.
 */
struct dns	*dns_new(struct event_base *, const struct conf_addr *resolvers,
		    size_t n, const char **errstr);
/*
 * Makes a c-ares channel ask the n resolvers (the `resolver` setting)
 * instead of those of /etc/resolv.conf; xfedctl check uses it too.
 */
struct ares_channeldata;
int		 dns_set_servers(struct ares_channeldata *,
		    const struct conf_addr *resolvers, size_t n,
		    const char **errstr);
/*
 * Sets the first try's timeout and the number of tries per server; only
 * while no request is pending (-1 otherwise, or when c-ares refuses).
 */
int		 dns_set_timeout(struct dns *, int timeout_ms, int tries);
/*
 * Cancels every pending request without calling its callback (their
 * handles become invalid), then frees the resolver. Callable from a
 * dns_cb.
 */
void		 dns_free(struct dns *);

/*
 * Starts resolving domain (an A-label, no trailing dot needed). The
 * handle stays valid until the callback starts or dns_cancel() returns.
 */
struct dns_req	*dns_resolve_peer(struct dns *, const char *domain,
		    dns_cb *cb, void *arg);
/* The callback will not be called; lookups still in flight are dropped
 * when c-ares finishes them. Not from the request's own callback. */
void		 dns_cancel(struct dns_req *);

void		 dns_targets_free(struct dns_targets *);
/* Peer lookups started and those that ended without an address. */
void		 dns_stats(const struct dns *, uint64_t *lookups,
		    uint64_t *failures);
/* "[2001:db8::1]:5269" or "192.0.2.1:5269" into buf. */
const char	*dns_target_addr(const struct dns_target *, char *buf,
		    size_t len);

/*
 * The pure parts, exposed for tests. An SRV record of either set:
 */
struct dns_srv {
	const char	*host;		/* "" or "." is the root */
	uint16_t	 priority;
	uint16_t	 weight;
	uint16_t	 port;
	int		 direct_tls;
};

/* How one SRV lookup ended. */
enum dns_q {
	DNS_Q_ANSWER,		/* records */
	DNS_Q_NONE,		/* NXDOMAIN or no SRV records (NODATA) */
	DNS_Q_FAIL,		/* timeout, SERVFAIL, refused...: unknown */
};

/* What to do with the two SRV answers. */
enum dns_plan {
	DNS_PLAN_SRV,		/* resolve the usable SRV targets */
	DNS_PLAN_FALLBACK,	/* resolve the domain itself, port 5269 */
	DNS_PLAN_NOSERVICE,	/* "." for _xmpp-server: permanent */
	DNS_PLAN_FAIL,		/* _xmpp-server failed: try again later */
};

/* 1 when the target is "." (or empty, as c-ares gives it). */
int		 dns_srv_is_root(const struct dns_srv *);
/*
 * Decides from the _xmpp-server answer (x, nx records) and the
 * _xmpps-server one (s, ns) per S2S 6.2, 6.5, 6.7, 6.8.
 */
enum dns_plan	 dns_srv_plan(enum dns_q qx, const struct dns_srv *x,
		    size_t nx, enum dns_q qs, const struct dns_srv *s,
		    size_t ns);
/*
 * Drops "." records and orders the rest in place (RFC 2782, S2S 6.3):
 * priority ascending, then weighted random inside a priority. rnd(arg,
 * max) returns a uniform integer in [0, max]; NULL uses the system's
 * CSPRNG. Returns the number of records kept.
 */
size_t		 dns_srv_order(struct dns_srv *, size_t n,
		    uint32_t (*rnd)(void *arg, uint32_t max), void *arg);

#endif
