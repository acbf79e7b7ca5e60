/*
 * tests/unit/sources_test.c: per-source fairness (s2s/sources.c):
 * unauthenticated streams per IP, per IPv6 /64 and in all, pending
 * verifications per IP and per claimed domain, each at its limit and
 * back after a release; the negative cache per (IP or IPv6 /64, domain);
 * the verification rate per domain and per source network; outbound
 * verification connections per target address.
 */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "conf.h"
#include "server.h"
#include "rate.h"
#include "sources.h"
#include "tests/t.h"

static struct conf	sc;
static struct server	ss;

static void
setup(void)
{
	memset(&sc, 0, sizeof(sc));
	sc.max_unauth_streams = 5;
	sc.max_unauth_per_ip = 2;
	sc.max_unauth_per_net = 3;
	sc.max_pending_per_ip = 2;
	sc.max_pending_per_domain = 3;
	sc.max_pending_per_net = 0;
	sc.verify_failure_cache = 60;
	sc.max_verify_per_target = 2;
	ss.conf = &sc;
	server = &ss;
	sources_free();
}

static void
src4(struct source *s, const char *ip)
{
	struct sockaddr_in	 a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	inet_pton(AF_INET, ip, &a.sin_addr);
	source_of((struct sockaddr *)&a, s);
}

static void
src6(struct source *s, const char *ip)
{
	struct sockaddr_in6	 a;

	memset(&a, 0, sizeof(a));
	a.sin6_family = AF_INET6;
	inet_pton(AF_INET6, ip, &a.sin6_addr);
	source_of((struct sockaddr *)&a, s);
}

static void
test_source_of(void)
{
	struct source	 s;

	setup();
	src4(&s, "192.0.2.7");
	CHECK_STR(s.ip, "192.0.2.7");
	CHECK_STR(s.net, "");
	src6(&s, "2001:db8:1:2:3:4:5:6");
	CHECK_STR(s.ip, "2001:db8:1:2:3:4:5:6");
	CHECK_STR(s.net, "2001:db8:1:2::/64");
	CHECK_STR(s.net48, "2001:db8:1::/48");
	/* the network of verify_rate_per_source: defaults /24 and /48 */
	CHECK_STR(s.share, "2001:db8:1::/48");
	src4(&s, "192.0.2.7");
	CHECK_STR(s.share, "192.0.2.0/24");
	sc.verify_source_prefix4 = 20;
	sc.verify_source_prefix6 = 56;
	src4(&s, "192.0.31.7");
	CHECK_STR(s.share, "192.0.16.0/20");
	src6(&s, "2001:db8:1:2ff:3:4:5:6");
	CHECK_STR(s.share, "2001:db8:1:200::/56");
	sc.verify_source_prefix4 = 32;
	src4(&s, "192.0.2.7");
	CHECK_STR(s.share, "192.0.2.7/32");
	source_of(NULL, &s);
	CHECK_STR(s.ip, "");
}

static void
test_streams_per_ip(void)
{
	struct source	 a, b;
	const char	*why = NULL;

	setup();
	src4(&a, "192.0.2.1");
	src4(&b, "192.0.2.2");
	CHECK(sources_stream_take(&a, &why) == 0);
	CHECK(sources_stream_take(&a, &why) == 0);
	CHECK(sources_stream_take(&a, &why) == -1);
	CHECK(why != NULL && strstr(why, "from this address") != NULL);
	CHECK(sources_stream_take(&b, &why) == 0);	/* another IP */
	sources_stream_release(&a);
	CHECK(sources_stream_take(&a, &why) == 0);
	CHECK(sources_streams() == 3);
	sources_free();
}

static void
test_streams_per_net_and_total(void)
{
	struct source	 s;
	const char	*why = NULL;

	setup();
	src6(&s, "2001:db8::1");
	CHECK(sources_stream_take(&s, &why) == 0);
	src6(&s, "2001:db8::2");
	CHECK(sources_stream_take(&s, &why) == 0);
	src6(&s, "2001:db8::3");
	CHECK(sources_stream_take(&s, &why) == 0);
	src6(&s, "2001:db8::4");		/* the /64 is full */
	CHECK(sources_stream_take(&s, &why) == -1);
	CHECK(strstr(why, "/64") != NULL);
	src6(&s, "2001:db8:0:1::4");		/* another /64 */
	CHECK(sources_stream_take(&s, &why) == 0);
	src4(&s, "192.0.2.9");
	CHECK(sources_stream_take(&s, &why) == 0);	/* 5 in all */
	src4(&s, "192.0.2.10");
	CHECK(sources_stream_take(&s, &why) == -1);
	CHECK(strstr(why, "unauthenticated streams") != NULL);
	sc.max_unauth_streams = 0;			/* no limit */
	CHECK(sources_stream_take(&s, &why) == 0);
	sources_free();
}

static void
test_pending(void)
{
	struct source	 a, b, c;
	const char	*why = NULL;

	setup();
	src4(&a, "192.0.2.1");
	src4(&b, "192.0.2.2");
	src4(&c, "192.0.2.3");
	CHECK(sources_pending_take(&a, "x.example", &why) == 0);
	CHECK(sources_pending_take(&a, "y.example", &why) == 0);
	CHECK(sources_pending_take(&a, "z.example", &why) == -1);
	CHECK(strstr(why, "from this address") != NULL);
	CHECK(sources_pending_take(&b, "x.example", &why) == 0);
	CHECK(sources_pending_take(&c, "x.example", &why) == 0);
	sources_pending_release(&a, "x.example");
	CHECK(sources_pending_take(&a, "z.example", &why) == 0);
	/* the domain's cap counts only the verifications asked (issue 12:
	 * claims waiting their turn hold no slot), taken apart */
	CHECK(sources_domain_slot_take(&a, "x.example", &why) == 1);
	CHECK(sources_domain_slot_take(&b, "x.example", &why) == 1);
	CHECK(sources_domain_slot_take(&c, "x.example", &why) == 1);
	why = NULL;
	CHECK(sources_domain_slot_take(&c, "x.example", &why) == -1);
	CHECK(why != NULL && strstr(why, "for this domain") != NULL);
	CHECK(sources_domain_slot_take(&c, "y.example", &why) == 1);
	/* an exempt source is not held by the domain's cap */
	sc.verify_exempt_time = 60;
	sources_verified(&b, "x.example");
	CHECK(sources_domain_slot_take(&b, "x.example", &why) == 0);
	CHECK(sources_domain_slot_take(&c, "x.example", &why) == -1);
	sources_domain_slot_release("x.example");
	CHECK(sources_domain_slot_take(&c, "x.example", &why) == 1);
	sources_free();
}

/*
 * Issue 12 review: one /64 (or a few) rotating addresses must not take
 * the global DB_VERIFY_MAX. Per IPv6 /64 max_pending_per_net, per /48
 * SOURCES_PER48_FACTOR times that, whatever the addresses inside.
 */
static void
test_pending_per_net(void)
{
	struct source	 s;
	const char	*why = NULL;
	char		 ip[64], dom[32];
	int		 i;

	setup();
	sc.max_pending_per_ip = 1;
	sc.max_pending_per_domain = 0;
	sc.max_pending_per_net = 3;
	for (i = 0; i < 3; i++) {	/* one address each, one /64 */
		snprintf(ip, sizeof(ip), "fd00:0:0:64::%d", i + 1);
		snprintf(dom, sizeof(dom), "d%d.example", i);
		src6(&s, ip);
		CHECK(sources_pending_take(&s, dom, &why) == 0);
	}
	src6(&s, "fd00:0:0:64::99");
	CHECK(sources_pending_take(&s, "d9.example", &why) == -1);
	CHECK(why != NULL && strstr(why, "from this /64") != NULL);
	/* the other /64s of the /48 fill it up to 4 x 3 = 12 */
	for (i = 0; i < 9; i++) {
		snprintf(ip, sizeof(ip), "fd00:0:0:%x::%d", 0x65 + i / 3,
		    i % 3 + 1);
		snprintf(dom, sizeof(dom), "e%d.example", i);
		src6(&s, ip);
		CHECK(sources_pending_take(&s, dom, &why) == 0);
	}
	src6(&s, "fd00:0:0:99::1");	/* a fresh /64, same /48 */
	CHECK(sources_pending_take(&s, "f.example", &why) == -1);
	CHECK(why != NULL && strstr(why, "from this /48") != NULL);
	src6(&s, "fd00:1::1");		/* another /48 */
	CHECK(sources_pending_take(&s, "f.example", &why) == 0);
	src4(&s, "192.0.2.1");		/* IPv4 has no /64 */
	CHECK(sources_pending_take(&s, "g.example", &why) == 0);
	/* a release frees the /64 and the /48 */
	src6(&s, "fd00:0:0:64::1");
	sources_pending_release(&s, "d0.example");
	src6(&s, "fd00:0:0:64::99");
	CHECK(sources_pending_take(&s, "d9.example", &why) == 0);
	sources_free();
}

static void
test_failed_cache(void)
{
	struct source	 a, b;
	char		 cond[SOURCE_COND_MAX];
	int		 valid = 1;

	setup();
	src4(&a, "192.0.2.1");
	src4(&b, "192.0.2.2");
	CHECK(!sources_failed_recently(&a, "x.example", &valid, cond));
	sources_failed(&a, "x.example", -1, "remote-connection-failed");
	CHECK(sources_failed_recently(&a, "x.example", &valid, cond));
	CHECK(valid == -1);
	CHECK_STR(cond, "remote-connection-failed");
	/* another address is not answered from a's failures */
	CHECK(!sources_failed_recently(&b, "x.example", &valid, cond));
	/* IPv6: the whole /64 shares its failures (rotating addresses) */
	src6(&b, "2001:db8:1:2::1");
	sources_failed(&b, "x.example", 0, NULL);
	src6(&b, "2001:db8:1:2::ffff");
	CHECK(sources_failed_recently(&b, "x.example", &valid, cond));
	src6(&b, "2001:db8:1:3::1");
	CHECK(!sources_failed_recently(&b, "x.example", &valid, cond));
	sources_failed(&a, "y.example", 0, NULL);
	CHECK(sources_failed_recently(&a, "y.example", &valid, cond));
	CHECK(valid == 0 && cond[0] == '\0');
	sc.verify_failure_cache = 0;
	CHECK(!sources_failed_recently(&a, "x.example", &valid, cond));
	sources_free();
}

static void
test_verify_targets(void)
{
	const char	*why = NULL;

	setup();
	CHECK(sources_target_take("192.0.2.9", &why) == 0);
	CHECK(sources_target_take("192.0.2.9", &why) == 0);
	CHECK(sources_target_take("192.0.2.9", &why) == -1);
	CHECK(why != NULL && strstr(why, "verification connections") != NULL);
	/* another target has its own count */
	CHECK(sources_target_take("2001:db8::9", &why) == 0);
	sources_target_release("192.0.2.9");
	CHECK(sources_target_take("192.0.2.9", &why) == 0);
	sc.max_verify_per_target = 0;	/* no limit */
	CHECK(sources_target_take("192.0.2.9", &why) == 0);
	sources_free();
}

/* Issue 12: verifications per claimed domain whatever the sources, the
 * share of one network in it, the refund, and the sources exempt after a
 * valid verdict (token buckets; no refill is waited for here) */
static void
test_domain_rate(void)
{
	struct source	 a, b, c;
	const char	*why = NULL;
	int		 i;

	setup();
	src4(&a, "192.0.2.7");
	src4(&b, "198.51.100.7");
	src4(&c, "203.0.113.7");
	sc.verify_rate_per_domain = 2;		/* 2 s of burst: 4 */
	for (i = 0; i < 4; i++)
		CHECK(sources_domain_rate_take(i < 2 ? &a : &b, "r1.example",
		    &why) == 1);
	CHECK(sources_domain_rate_take(&c, "r1.example", &why) == -2);
	CHECK(why != NULL && strstr(why, "for this domain lately") != NULL);
	/* another domain has its own bucket */
	CHECK(sources_domain_rate_take(&c, "r2.example", &why) == 1);
	/* a valid verdict (or our own refusal) gives its token back */
	sources_domain_rate_refund(&a, "r1.example");
	CHECK(sources_domain_rate_take(&c, "r1.example", &why) == 1);
	CHECK(sources_domain_rate_take(&c, "r1.example", &why) == -2);
	sc.verify_rate_per_domain = 0;		/* no limit */
	CHECK(sources_domain_rate_take(&a, "r1.example", &why) == 0);
	sources_free();
}

static void
test_domain_rate_share(void)
{
	struct source	 a1, a2, b, v6a, v6b, v6c;
	const char	*why = NULL;
	int		 i;

	setup();
	sc.verify_rate_per_domain = 5;		/* burst 10 */
	sc.verify_rate_per_source = 1;		/* burst 2 per network */
	src4(&a1, "192.0.2.7");
	src4(&a2, "192.0.2.200");		/* the same /24 */
	src4(&b, "198.51.100.7");
	src6(&v6a, "2001:db8:1:1::1");
	src6(&v6b, "2001:db8:1:ff::1");		/* the same /48 */
	src6(&v6c, "2001:db8:2::1");
	CHECK(sources_domain_rate_take(&a1, "v.example", &why) == 1);
	CHECK(sources_domain_rate_take(&a2, "v.example", &why) == 1);
	CHECK(sources_domain_rate_take(&a1, "v.example", &why) == -1);
	CHECK(why != NULL && strstr(why, "from this network") != NULL);
	/* the share is per domain */
	CHECK(sources_domain_rate_take(&a1, "w.example", &why) == 1);
	/* other networks still have theirs, and the domain's budget */
	CHECK(sources_domain_rate_take(&b, "v.example", &why) == 1);
	for (i = 0; i < 2; i++)
		CHECK(sources_domain_rate_take(&v6a, "v.example", &why) == 1);
	CHECK(sources_domain_rate_take(&v6b, "v.example", &why) == -1);
	CHECK(sources_domain_rate_take(&v6c, "v.example", &why) == 1);
	/* a refused share took no token of the domain: 10 - 6 left */
	sc.verify_rate_per_source = 0;		/* no share */
	for (i = 0; i < 4; i++)
		CHECK(sources_domain_rate_take(&b, "v.example", &why) == 1);
	CHECK(sources_domain_rate_take(&b, "v.example", &why) == -2);
	CHECK(why != NULL && strstr(why, "for this domain lately") != NULL);
	/* the refund reaches the share too */
	sc.verify_rate_per_source = 1;
	sources_domain_rate_refund(&a1, "v.example");
	CHECK(sources_domain_rate_take(&a2, "v.example", &why) == 1);
	sources_free();
}

/* A table full of busy share buckets (8192) never refuses a new key: the
 * least recently used goes, the new one is counted fresh, the recent ones
 * stay. */
static void
test_domain_rate_share_full(void)
{
	struct source	 s, real;
	char		 ip[32];
	const char	*why = NULL;
	int		 i, n;

	setup();
	sc.verify_rate_per_domain = 100000;
	sc.verify_rate_per_source = 1;		/* burst 2 per network */
	for (n = 0; n < 9000; n++) {
		snprintf(ip, sizeof(ip), "10.%d.%d.1", n / 250, n % 250);
		src4(&s, ip);
		for (i = 0; i < 2; i++)
			CHECK(sources_domain_rate_take(&s, "v.example",
			    &why) == 1);
	}
	/* the last network's share is kept: still empty */
	CHECK(sources_domain_rate_take(&s, "v.example", &why) == -1);
	CHECK(why != NULL && strstr(why, "from this network") != NULL);
	/* the real server's first claim is not refused for the table */
	src6(&real, "2001:db8:5::1");
	CHECK(sources_domain_rate_take(&real, "v.example", &why) == 1);
	CHECK(sources_domain_rate_take(&real, "v.example", &why) == 1);
	CHECK(sources_domain_rate_take(&real, "v.example", &why) == -1);
	sources_free();
}

static void
test_domain_rate_exempt(void)
{
	struct source	 real, near, flood;
	const char	*why = NULL;
	int		 i;

	setup();
	sc.verify_rate_per_domain = 1;		/* burst 2 */
	sc.verify_rate_per_source = 1;
	sc.verify_exempt_time = 3600;
	src6(&real, "2001:db8:5::1");
	src6(&near, "2001:db8:5:0:1::1");	/* the same /64 */
	src6(&flood, "2001:db8:6::1");
	for (i = 0; i < 2; i++)
		CHECK(sources_domain_rate_take(&flood, "v.example", &why) == 1);
	CHECK(sources_domain_rate_take(&real, "v.example", &why) == -2);
	/* the domain's real server verified once: exempt, takes nothing */
	sources_verified(&real, "v.example");
	for (i = 0; i < 5; i++)
		CHECK(sources_domain_rate_take(&real, "v.example", &why) == 0);
	CHECK(sources_domain_rate_take(&near, "v.example", &why) == 0);
	/* for that domain only, and not for the flood */
	CHECK(sources_domain_rate_take(&real, "w.example", &why) == 1);
	CHECK(sources_domain_rate_take(&flood, "v.example", &why) == -1);
	sc.verify_exempt_time = 0;		/* never exempt */
	CHECK(sources_domain_rate_take(&real, "v.example", &why) == -2);
	sources_free();
}

/*
 * The exempt table stays bounded, and one domain's claims never evict
 * another domain's exemptions: at most 8 sources per domain (a new one
 * replaces the domain's own), 4096 in all (the domain with the most loses
 * one).
 */
static void
test_domain_rate_exempt_bounded(void)
{
	struct source	 s, victim;
	char		 ip[32], dom[32];
	const char	*why = NULL;
	int		 i, kept;

	setup();
	sc.verify_rate_per_domain = 1;		/* burst 2 */
	sc.verify_rate_per_source = 0;
	sc.verify_exempt_time = 3600;
	src6(&victim, "2001:db8:5::1");
	sources_verified(&victim, "victim.example");
	/* one domain verified from 5000 sources keeps its last 8 */
	for (i = 0; i < 5000; i++) {
		snprintf(ip, sizeof(ip), "2001:db8:%x:%x::1", i / 250 + 16,
		    i % 250);
		src6(&s, ip);
		sources_verified(&s, "evil.example");
	}
	for (i = 0; i < 2; i++)		/* the domain's bucket runs out */
		CHECK(sources_domain_rate_take(&s, "other.example", &why) == 1);
	CHECK(sources_domain_rate_take(&victim, "victim.example", &why) == 0);
	CHECK(sources_domain_rate_take(&s, "evil.example", &why) == 0);
	for (kept = 0, i = 0; i < 5000; i++) {
		snprintf(ip, sizeof(ip), "2001:db8:%x:%x::1", i / 250 + 16,
		    i % 250);
		src6(&s, ip);
		kept += sources_domain_rate_take(&s, "evil.example", &why) == 0;
	}
	CHECK(kept == 8);
	/* 600 domains of 8 fill the table (4800 > 4096): the victim's one
	 * exemption stays, the domains with 8 lose theirs */
	for (i = 0; i < 600 * 8; i++) {
		snprintf(dom, sizeof(dom), "e%d.example", i / 8);
		snprintf(ip, sizeof(ip), "10.%d.%d.1", i / 250, i % 250);
		src4(&s, ip);
		sources_verified(&s, dom);
	}
	CHECK(sources_domain_rate_take(&victim, "victim.example", &why) == 0);
	src4(&s, "10.19.49.1");			/* the last one is kept */
	CHECK(sources_domain_rate_take(&s, "e599.example", &why) == 0);
	sources_free();
}

/* The turns handed out by sources_wait_run, in order. */
static uint64_t	 wait_order[64];
static int	 wait_granted[64];
static int	 wait_n;
static uint64_t	 wait_gone;	/* id + 1: the callback says its stream is
				 * gone */

static int
wait_cb(uint64_t id, const char *local, const char *domain, const char *key,
    int granted)
{
	CHECK(strcmp(local, "a.example") == 0);
	CHECK(strcmp(key, "k") == 0);
	(void)domain;
	if (wait_n < 64) {
		wait_order[wait_n] = id;
		wait_granted[wait_n++] = granted;
	}
	return wait_gone == id + 1 ? -1 : 0;
}

/*
 * An empty domain bucket: claims wait, at most one per (network, domain);
 * refilled tokens go to the oldest first, so round-robin across the
 * networks; a new claim does not jump ahead of those waiting; after
 * SOURCES_WAIT_MS a claim is refused (granted 0).
 */
static void
test_domain_rate_wait(void)
{
	struct source	 net[4], net0b, real;
	char		 ip[32];
	const char	*why = NULL;
	int64_t		 now = rate_now_ms();
	int		 i;

	setup();
	sc.verify_rate_per_domain = 1;		/* burst 2 */
	sc.verify_rate_per_source = 1;
	wait_n = 0;
	wait_gone = 0;
	for (i = 0; i < 4; i++) {
		snprintf(ip, sizeof(ip), "192.0.%d.1", i + 2);
		src4(&net[i], ip);
	}
	src4(&net0b, "192.0.2.99");		/* net[0]'s /24 */
	src6(&real, "2001:db8:5::1");
	CHECK(sources_domain_rate_take(&net[0], "v.example", &why) == 1);
	CHECK(sources_domain_rate_take(&net[1], "v.example", &why) == 1);
	CHECK(sources_domain_rate_take(&net[2], "v.example", &why) == -2);
	for (i = 2; i < 4; i++)
		CHECK(sources_wait(&net[i], (uint64_t)i, "a.example",
		    "v.example", "k", now, &why) == 0);
	CHECK(sources_wait(&net[0], 0, "a.example", "v.example", "k", now,
	    &why) == 0);
	/* one per (network, domain) */
	CHECK(sources_wait(&net0b, 9, "a.example", "v.example", "k", now,
	    &why) == -1);
	CHECK(why != NULL && strstr(why, "already waits") != NULL);
	CHECK(sources_wait(&real, 4, "a.example", "v.example", "k", now,
	    &why) == 0);
	CHECK(sources_waiting() == 4);
	/* nothing refilled yet: nobody served, nobody refused */
	CHECK(sources_wait_run(now, wait_cb) == 4);
	CHECK(wait_n == 0);
	/* claims wait: a new one does not take a refilled token first */
	CHECK(sources_domain_rate_take(&real, "v.example", &why) == -2);
	/* one token a second, to the oldest first (half a second more:
	 * the takes above ran at the clock's now) */
	CHECK(sources_wait_run(now + 1500, wait_cb) == 3);
	CHECK(wait_n == 1 && wait_order[0] == 2 && wait_granted[0] == 1);
	/* served, net[2] queues again: behind the others */
	CHECK(sources_wait(&net[2], 2, "a.example", "v.example", "k",
	    now + 1000, &why) == 0);
	for (i = 2; i <= 4; i++)
		CHECK(sources_wait_run(now + i * 1000 + 500, wait_cb) ==
		    (size_t)(5 - i));
	CHECK(wait_n == 4 && wait_order[1] == 3 && wait_order[2] == 0 &&
	    wait_order[3] == 4);
	CHECK(sources_wait(&net[3], 3, "a.example", "v.example", "k",
	    now + 4000, &why) == 0);
	/* the stream gone: its token goes to the next one */
	wait_gone = 2 + 1;
	CHECK(sources_wait_run(now + 5500, wait_cb) == 0);
	wait_gone = 0;
	CHECK(wait_n == 6 && wait_order[4] == 2 && wait_order[5] == 3 &&
	    wait_granted[5] == 1);
	/* another domain's bucket is not this one's */
	CHECK(sources_domain_rate_take(&net[0], "w.example", &why) == 1);
	/* waited too long: refused */
	CHECK(sources_wait(&net[1], 1, "a.example", "v.example", "k",
	    now + 5000, &why) == 0);
	CHECK(sources_wait_run(now + 5000 + SOURCES_WAIT_MS, wait_cb) == 0);
	CHECK(wait_n == 7 && wait_order[6] == 1 && wait_granted[6] == 0);
	CHECK(sources_waiting() == 0);
	sources_free();
}

/* SOURCES_WAIT_MAX claims wait in all; one more is refused at once. */
static void
test_domain_rate_wait_bounded(void)
{
	struct source	 s;
	char		 ip[32];
	const char	*why = NULL;
	int		 i;

	setup();
	sc.verify_rate_per_domain = 1;
	for (i = 0; i < SOURCES_WAIT_MAX; i++) {
		snprintf(ip, sizeof(ip), "10.%d.%d.1", i / 250, i % 250);
		src4(&s, ip);
		CHECK(sources_wait(&s, (uint64_t)i, "a.example", "v.example",
		    "k", 0, &why) == 0);
	}
	src4(&s, "10.200.0.1");
	CHECK(sources_wait(&s, 99999, "a.example", "w.example", "k", 0,
	    &why) == -1);
	CHECK(why != NULL && strstr(why, "too many claims waiting") != NULL);
	CHECK(sources_waiting() == SOURCES_WAIT_MAX);
	sources_free();
	CHECK(sources_waiting() == 0);
}

static const struct t_case cases[] = {
	{ "source_of", test_source_of },
	{ "streams_per_ip", test_streams_per_ip },
	{ "streams_per_net_and_total", test_streams_per_net_and_total },
	{ "pending", test_pending },
	{ "pending_per_net", test_pending_per_net },
	{ "failed_cache", test_failed_cache },
	{ "verify_targets", test_verify_targets },
	{ "domain_rate", test_domain_rate },
	{ "domain_rate_share", test_domain_rate_share },
	{ "domain_rate_share_full", test_domain_rate_share_full },
	{ "domain_rate_exempt", test_domain_rate_exempt },
	{ "domain_rate_exempt_bounded", test_domain_rate_exempt_bounded },
	{ "domain_rate_wait", test_domain_rate_wait },
	{ "domain_rate_wait_bounded", test_domain_rate_wait_bounded },
};

int
main(int argc, char **argv)
{
	return T_RUN(cases, argc, argv);
}
