/*
 * s2s/sources.h: fairness between the sources of inbound streams
 * (issue 12; S2S 4.38, 10.8). A source is a peer IP address, and for IPv6
 * also its /64. Counted here: unauthenticated streams per IP, per /64 and
 * in all; dialback verifications pending per IP, per IPv6 /64 and /48
 * and per claimed domain; and, per (IP or IPv6 /64, claimed domain), the
 * verifications that failed lately (a
 * negative cache, so that one source cannot make xfed ask the same
 * authoritative server again and again); the verifications asked of a
 * claimed domain's server, per domain and per source network's share of
 * that, with the sources that verified the domain lately exempt, and the
 * claims waiting their turn when the domain's budget is spent.
 * Outbound, the connections made
 * only for verifications, per target address (so that claimed domains
 * pointing at one victim cannot make xfed open many connections to it).
 * Limits come from the config;
 * the streams (s2s/, dialback/) take and release.
 */
#ifndef SOURCES_H
#define SOURCES_H

#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

#define SOURCE_COND_MAX	40

struct source {
	char	 ip[INET6_ADDRSTRLEN];		/* "" when unknown */
	char	 net[INET6_ADDRSTRLEN + 4];	/* IPv6: "prefix::/64", else "" */
	char	 net48[INET6_ADDRSTRLEN + 4];	/* IPv6: "prefix::/48", else "" */
	/* its network for the shares of verify_rate_per_domain: IPv4
	 * /verify_source_prefix4, IPv6 /verify_source_prefix6 */
	char	 share[INET6_ADDRSTRLEN + 4];
};

/* Pending verifications from one IPv6 /48: this many times
 * max_pending_per_net (a /48 holds 65536 /64s). */
#define SOURCES_PER48_FACTOR	4

/* The source of a peer address (AF_INET, AF_INET6; others count as one
 * unknown source). */
void	 source_of(const struct sockaddr *, struct source *);
/* Its IP, or for IPv6 its /64 (one host owns a /64): the source of the
 * negative cache and of verify_exempt_time. */
const char *source_key(const struct source *);

/*
 * One more unauthenticated stream from src: 0 counted, -1 over a limit
 * (nothing counted) with *why saying which.
 */
int	 sources_stream_take(const struct source *, const char **why);
/* The stream authenticated or ended: no longer counted. */
void	 sources_stream_release(const struct source *);

/* One more pending verification from src for domain: 0 or -1, as above. */
int	 sources_pending_take(const struct source *, const char *domain,
	    const char **why);
void	 sources_pending_release(const struct source *, const char *domain);
/*
 * A slot of max_pending_per_domain for a verification of domain about to
 * be asked (not while a claim waits its turn): 1 taken, 0 none needed
 * (no cap, or src is exempt for domain: verify_exempt_time; the per-IP
 * and per-net pending caps bound it), -1 full (*why says so).
 */
int	 sources_domain_slot_take(const struct source *, const char *domain,
	    const char **why);
void	 sources_domain_slot_release(const char *domain);

/* A verification from src for domain failed: valid 0 (invalid key) or -1
 * (a dialback error cond). Remembered for verify_failure_cache. */
void	 sources_failed(const struct source *, const char *domain, int valid,
	    const char *cond);
/* 1 with the remembered verdict when one failed lately, else 0. */
int	 sources_failed_recently(const struct source *, const char *domain,
	    int *valid, char cond[SOURCE_COND_MAX]);

/*
 * One more outbound connection, opened only to verify dialback keys, to
 * the address ip (max_verify_per_target): 0 counted, -1 at the limit
 * (nothing counted). Released once the stream is authenticated or gone.
 */
int	 sources_target_take(const char *ip, const char **why);
void	 sources_target_release(const char *ip);

/*
 * One more verification asked of domain's authoritative server for a
 * claim from src. Two token buckets (two seconds of burst each): the
 * domain's, verify_rate_per_domain a second whatever the sources, and
 * the share of src's network (src->share) in it, verify_rate_per_source
 * a second, so that one network cannot spend the domain's budget for
 * everyone. A source (IP, IPv6 /64) that had a claim of domain verified
 * valid within verify_exempt_time takes no token: the domain's real
 * server gets through a flood that claims it. 1 tokens taken, 0 exempt
 * (nothing taken), -1 over the network's share (nothing taken) with *why,
 * -2 the domain's bucket is empty or claims of the domain wait (nothing
 * taken): the claim may wait its turn (sources_wait).
 */
int	 sources_domain_rate_take(const struct source *, const char *domain,
	    const char **why);
/*
 * The tokens of a take that returned 1 come back: the verification came
 * back valid (the buckets run out on failures and floods, not on a
 * domain's real streams), or xfed refused it for its own reasons (a
 * local limit, stopping).
 */
void	 sources_domain_rate_refund(const struct source *, const char *domain);
/* A claim of domain from src was verified valid: src is exempt from the
 * buckets above for that domain for verify_exempt_time. At most 8 sources
 * per domain (its new one replaces its own that ends first) and 4096 in
 * all (the domain holding the most loses one), in memory only. */
void	 sources_verified(const struct source *, const char *domain);

/*
 * A claim (stream id, local, claimed domain, its key) from src waits for a
 * token of domain's bucket: at most one per (network of the shares,
 * domain), SOURCES_WAIT_MAX in all, SOURCES_WAIT_MS each. 0 queued, -1
 * refused with *why. sources_wait_run hands refilled tokens to the oldest
 * claims first; as a network has at most one claim waiting per domain,
 * that is round-robin across the networks waiting for it: a claim is
 * served within about (networks waiting / verify_rate_per_domain)
 * seconds. The callback gets granted 1 with the tokens taken (returning
 * -1, the stream gone, gives them back) or 0 when the wait is over. Returns
 * the claims still waiting.
 */
#define SOURCES_WAIT_MAX	1024
#define SOURCES_WAIT_MS		10000
typedef int (*sources_wait_cb)(uint64_t id, const char *local,
	    const char *domain, const char *key, int granted);
int	 sources_wait(const struct source *, uint64_t id, const char *local,
	    const char *domain, const char *key, int64_t now, const char **why);
size_t	 sources_wait_run(int64_t now, sources_wait_cb);
/* The stream id ended: its claims no longer wait (no token was taken). */
void	 sources_wait_cancel(uint64_t id);
size_t	 sources_waiting(void);

/* Counts, for status and tests. */
size_t	 sources_streams(void);
void	 sources_free(void);

#endif
