/*
 * tests/unit/dns_test.c: peer resolution. The pure parts (RFC 2782 order,
 * the "." rule, the fallback decision) with a scripted random source; the
 * rest against a real dnsmasq this test starts on loopback, and against
 * resolvers that never answer or refuse.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ares.h>
#include <event2/event.h>

#include "tests/t.h"
#include "s2s/dns.h"

#define DNSMASQ		"/usr/sbin/dnsmasq"

/*
 * Pure parts.
 */

struct script {
	const uint32_t	*v;
	size_t		 n, i;
	uint32_t	 max[16];	/* the bounds asked for */
};

static uint32_t
script_rnd(void *arg, uint32_t max)
{
	struct script	*s = arg;
	uint32_t	 r = s->i < s->n ? s->v[s->i] : 0;

	if (s->i < 16)
		s->max[s->i] = max;
	s->i++;
	return r > max ? max : r;
}

#define SRV(h, p, w, port)	{ h, p, w, port, 0 }

static void
test_order_priority(void)
{
	struct dns_srv	 v[] = {
		SRV("c", 30, 0, 1), SRV("a", 10, 0, 2), SRV("d", 30, 0, 3),
		SRV("b", 20, 0, 4), SRV("a2", 10, 0, 5),
	};
	struct script	 s = { NULL, 0, 0, { 0 } };
	size_t		 n;

	n = dns_srv_order(v, 5, script_rnd, &s);
	REQUIRE(n == 5);
	/* All weights 0: every draw is 0 and keeps the order they came in. */
	CHECK_STR(v[0].host, "a");
	CHECK_STR(v[1].host, "a2");
	CHECK_STR(v[2].host, "b");
	CHECK_STR(v[3].host, "c");
	CHECK_STR(v[4].host, "d");
}

static void
test_order_weighted_script(void)
{
	struct dns_srv	 v[] = {
		SRV("b", 1, 10, 0), SRV("zero", 1, 0, 0), SRV("c", 1, 30, 0),
		SRV("first", 0, 5, 0),
	};
	static const uint32_t	 draws[] = { 40, 0 };
	struct script	 s = { draws, 2, 0, { 0 } };
	size_t		 n;

	/* Priority 1 runs zero, b, c (weight 0 first); running sums 0, 10,
	 * 40. Draw 40 -> c; then zero, b with sums 0, 10: draw 0 -> zero. */
	n = dns_srv_order(v, 4, script_rnd, &s);
	REQUIRE(n == 4);
	CHECK_STR(v[0].host, "first");
	CHECK_STR(v[1].host, "c");
	CHECK_STR(v[2].host, "zero");
	CHECK_STR(v[3].host, "b");
	/* A lone record needs no draw; then [0,40], then [0,10]. */
	CHECK(s.i == 2);
	CHECK(s.max[0] == 40);
	CHECK(s.max[1] == 10);
}

static void
test_order_weighted_middle(void)
{
	struct dns_srv	 v[] = {
		SRV("a", 0, 10, 0), SRV("b", 0, 10, 0), SRV("c", 0, 10, 0),
	};
	static const uint32_t	 draws[] = { 11, 10 };
	struct script	 s = { draws, 2, 0, { 0 } };

	/* Sums 10, 20, 30: 11 -> b; then a, c with 10, 20: 10 -> a. */
	REQUIRE(dns_srv_order(v, 3, script_rnd, &s) == 3);
	CHECK_STR(v[0].host, "b");
	CHECK_STR(v[1].host, "a");
	CHECK_STR(v[2].host, "c");
}

static void
test_order_weighted_random(void)
{
	struct dns_srv	 v[2];
	int		 i, light = 0;

	/* Weights 10 and 90, draws uniform in [0,100]: the light record
	 * wins draws 0..10, 11 of 101. */
	for (i = 0; i < 4000; i++) {
		v[0] = (struct dns_srv)SRV("light", 5, 10, 0);
		v[1] = (struct dns_srv)SRV("heavy", 5, 90, 0);
		REQUIRE(dns_srv_order(v, 2, NULL, NULL) == 2);
		if (strcmp(v[0].host, "light") == 0)
			light++;
	}
	CHECK(light > 4000 * 5 / 100);
	CHECK(light < 4000 * 18 / 100);
}

static void
test_order_drops_root(void)
{
	struct dns_srv	 v[] = {
		SRV(".", 0, 0, 0), SRV("x", 1, 0, 5269), SRV("", 0, 0, 0),
	};

	CHECK(dns_srv_is_root(&v[0]));
	CHECK(dns_srv_is_root(&v[2]));
	CHECK(!dns_srv_is_root(&v[1]));
	REQUIRE(dns_srv_order(v, 3, NULL, NULL) == 1);
	CHECK_STR(v[0].host, "x");
}

static void
test_plan(void)
{
	struct dns_srv	 root[] = { SRV(".", 0, 0, 0) };
	struct dns_srv	 two_roots[] = { SRV("", 0, 0, 0), SRV(".", 1, 0, 0) };
	struct dns_srv	 rec[] = { SRV("h.example", 0, 0, 5269) };

	/* S2S 6.2: "." for _xmpp-server, nothing else: no service. */
	CHECK(dns_srv_plan(DNS_Q_ANSWER, root, 1, DNS_Q_NONE, NULL, 0) ==
	    DNS_PLAN_NOSERVICE);
	CHECK(dns_srv_plan(DNS_Q_ANSWER, root, 1, DNS_Q_ANSWER, root, 1) ==
	    DNS_PLAN_NOSERVICE);
	CHECK(dns_srv_plan(DNS_Q_ANSWER, root, 1, DNS_Q_FAIL, NULL, 0) ==
	    DNS_PLAN_NOSERVICE);
	CHECK(dns_srv_plan(DNS_Q_ANSWER, two_roots, 2, DNS_Q_NONE, NULL, 0) ==
	    DNS_PLAN_NOSERVICE);
	/* Direct TLS records still serve a domain whose STARTTLS set is ".". */
	CHECK(dns_srv_plan(DNS_Q_ANSWER, root, 1, DNS_Q_ANSWER, rec, 1) ==
	    DNS_PLAN_SRV);
	/* S2S 6.8: an _xmpps "." only removes direct TLS. */
	CHECK(dns_srv_plan(DNS_Q_ANSWER, rec, 1, DNS_Q_ANSWER, root, 1) ==
	    DNS_PLAN_SRV);
	CHECK(dns_srv_plan(DNS_Q_NONE, NULL, 0, DNS_Q_ANSWER, root, 1) ==
	    DNS_PLAN_FALLBACK);
	/* S2S 6.5: no SRV at all -> the domain on 5269. */
	CHECK(dns_srv_plan(DNS_Q_NONE, NULL, 0, DNS_Q_NONE, NULL, 0) ==
	    DNS_PLAN_FALLBACK);
	CHECK(dns_srv_plan(DNS_Q_ANSWER, NULL, 0, DNS_Q_NONE, NULL, 0) ==
	    DNS_PLAN_FALLBACK);
	CHECK(dns_srv_plan(DNS_Q_NONE, NULL, 0, DNS_Q_FAIL, NULL, 0) ==
	    DNS_PLAN_FALLBACK);
	/* _xmpp-server unknown: neither fall back nor give up for good. */
	CHECK(dns_srv_plan(DNS_Q_FAIL, NULL, 0, DNS_Q_NONE, NULL, 0) ==
	    DNS_PLAN_FAIL);
	CHECK(dns_srv_plan(DNS_Q_FAIL, NULL, 0, DNS_Q_ANSWER, rec, 1) ==
	    DNS_PLAN_SRV);
	CHECK(dns_srv_plan(DNS_Q_ANSWER, rec, 1, DNS_Q_FAIL, NULL, 0) ==
	    DNS_PLAN_SRV);
}

/*
 * A dnsmasq of our own on 127.0.0.1, started once for the real cases.
 */

static pid_t	 dm_pid = -1;
static int	 dm_port;

static const char *dm_records[] = {
	/* prio.test: _xmpps first (priority 5), then 10, then 20. */
	"--srv-host=_xmpp-server._tcp.prio.test,low.prio.test,5270,20,0",
	"--srv-host=_xmpp-server._tcp.prio.test,high.prio.test,5271,10,0",
	"--srv-host=_xmpps-server._tcp.prio.test,tls.prio.test,5223,5,0",
	"--host-record=low.prio.test,127.0.0.3",
	"--host-record=high.prio.test,127.0.0.2,::2",
	"--host-record=tls.prio.test,127.0.0.4",
	/* dot.test: "." target; its A record must not be used. */
	"--srv-host=_xmpp-server._tcp.dot.test",
	"--host-record=dot.test,127.0.0.9",
	/* notls.test: _xmpps "." and one _xmpp target. */
	"--srv-host=_xmpps-server._tcp.notls.test",
	"--srv-host=_xmpp-server._tcp.notls.test,h.notls.test,5999,0,0",
	"--host-record=h.notls.test,127.0.0.10",
	/* plain.test: no SRV at all. */
	"--host-record=plain.test,127.0.0.5,::5",
	/* noaddr.test: an SRV target without addresses. */
	"--srv-host=_xmpp-server._tcp.noaddr.test,gone.noaddr.test,5269,0,0",
	/* half.test: the first target has no address, the second has. */
	"--srv-host=_xmpp-server._tcp.half.test,gone.half.test,5269,1,0",
	"--srv-host=_xmpp-server._tcp.half.test,ok.half.test,5270,2,0",
	"--host-record=ok.half.test,127.0.0.6",
	"--host-record=ready.test,127.0.0.1",
};

static void
dm_stop(void)
{
	if (dm_pid > 0) {
		kill(dm_pid, SIGTERM);
		waitpid(dm_pid, NULL, 0);
		dm_pid = -1;
	}
}

static int
free_port(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 s, port = -1;

	if ((s = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(s, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	close(s);
	return port;
}

/* 1 once dnsmasq answers an A query for ready.test. */
static int
dm_ready(int port)
{
	struct sockaddr_in	 sin;
	struct timeval		 tv = { 0, 100000 };
	unsigned char		*q, buf[512];
	int			 qlen, s, ok = 0;

	if (ares_create_query("ready.test", ns_c_in, ns_t_a, 4242, 1, &q,
	    &qlen, 0) != ARES_SUCCESS)
		return 0;
	if ((s = socket(AF_INET, SOCK_DGRAM, 0)) == -1) {
		ares_free_string(q);
		return 0;
	}
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (sendto(s, q, qlen, 0, (struct sockaddr *)&sin, sizeof(sin)) ==
	    qlen && recv(s, buf, sizeof(buf), 0) > 12)
		ok = 1;
	close(s);
	ares_free_string(q);
	return ok;
}

/* Starts dnsmasq once; the port it answers on, or -1. */
static int
dm_start(void)
{
	const char	*dir;
	char		*argv[64], portarg[32], logarg[300], pidarg[300];
	size_t		 i, k;
	int		 attempt, w, status;
	pid_t		 pid;

	if (dm_pid > 0)
		return dm_port;
	if (access(DNSMASQ, X_OK) == -1) {
		printf("  %s missing (package dnsmasq-base)\n", DNSMASQ);
		return -1;
	}
	dir = t_tmpdir();
	for (attempt = 0; attempt < 5; attempt++) {
		if ((dm_port = free_port()) == -1)
			return -1;
		k = 0;
		argv[k++] = DNSMASQ;
		argv[k++] = "--keep-in-foreground";
		argv[k++] = "--conf-file=/dev/null";
		argv[k++] = "--no-resolv";
		argv[k++] = "--no-hosts";
		argv[k++] = "--local=/test/";
		argv[k++] = "--listen-address=127.0.0.1";
		argv[k++] = "--bind-interfaces";
		argv[k++] = "--no-negcache";
		snprintf(portarg, sizeof(portarg), "--port=%d", dm_port);
		argv[k++] = portarg;
		snprintf(logarg, sizeof(logarg), "--log-facility=%s/dnsmasq.log",
		    dir);
		argv[k++] = logarg;
		argv[k++] = "--log-queries";
		snprintf(pidarg, sizeof(pidarg), "--pid-file=%s/dnsmasq.pid",
		    dir);
		argv[k++] = pidarg;
		for (i = 0; i < sizeof(dm_records) / sizeof(dm_records[0]); i++)
			argv[k++] = (char *)dm_records[i];
		argv[k] = NULL;

		if ((pid = fork()) == -1)
			return -1;
		if (pid == 0) {
			execv(DNSMASQ, argv);
			_exit(127);
		}
		dm_pid = pid;
		for (w = 0; w < 100; w++) {	/* 10 s */
			if (waitpid(pid, &status, WNOHANG) == pid) {
				dm_pid = -1;	/* port taken, probably */
				break;
			}
			if (dm_ready(dm_port)) {
				atexit(dm_stop);
				return dm_port;
			}
			usleep(100000);
		}
		if (dm_pid > 0)
			dm_stop();
	}
	printf("  dnsmasq did not start; see %s/dnsmasq.log\n", dir);
	return -1;
}

/*
 * Running the loop until an answer, with a deadline.
 */

struct answer {
	int			 called;
	struct dns_targets	*t;
	char			 err[600];
	int			 permanent;
	struct dns		*free_dns;	/* dns_free() it in the callback */
	struct dns_req		*cancel;	/* dns_cancel() it in the callback */
};

static void
answer_cb(void *arg, struct dns_targets *t, const char *errstr, int permanent)
{
	struct answer	*a = arg;

	a->called++;
	a->t = t;
	a->permanent = permanent;
	if (errstr != NULL)
		snprintf(a->err, sizeof(a->err), "%s", errstr);
	if (a->cancel != NULL)
		dns_cancel(a->cancel);
	if (a->free_dns != NULL)
		dns_free(a->free_dns);
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	*(int *)arg = 1;
}

static double
now_s(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs base until *flag is set or ms pass; 0 when the flag came. */
static int
run_until(struct event_base *base, const int *flag, int ms)
{
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };
	struct event	*ev;
	int		 expired = 0;

	ev = evtimer_new(base, deadline_cb, &expired);
	evtimer_add(ev, &tv);
	while (!*flag && !expired)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(ev);
	return *flag ? 0 : -1;
}

static struct dns *
dns_at(struct event_base *base, int port)
{
	struct conf_addr	 ca;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ca.ss;
	const char		*errstr = NULL;
	struct dns		*dns;

	memset(&ca, 0, sizeof(ca));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ca.len = sizeof(*sin);
	snprintf(ca.text, sizeof(ca.text), "127.0.0.1:%d", port);
	dns = dns_new(base, &ca, 1, &errstr);
	if (dns == NULL)
		printf("  dns_new: %s\n", errstr);
	return dns;
}

/* Resolves domain against our dnsmasq; fills a. */
static int
resolve(const char *domain, struct answer *a)
{
	struct event_base	*base;
	struct dns		*dns;
	int			 port, rc;

	memset(a, 0, sizeof(*a));
	if ((port = dm_start()) == -1)
		return -1;
	base = event_base_new();
	if ((dns = dns_at(base, port)) == NULL) {
		event_base_free(base);
		return -1;
	}
	dns_resolve_peer(dns, domain, answer_cb, a);
	rc = run_until(base, &a->called, 10000);
	dns_free(dns);
	event_base_free(base);
	if (rc == -1)
		printf("  no answer for %s\n", domain);
	return rc;
}

static const char *
taddr(const struct dns_target *t)
{
	static char	 buf[4][64];
	static int	 i;

	i = (i + 1) % 4;
	return dns_target_addr(t, buf[i], sizeof(buf[i]));
}

static void
test_real_srv_order(void)
{
	struct answer	 a;
	struct dns_targets *t;

	REQUIRE(resolve("prio.test", &a) == 0);
	CHECK(a.called == 1);
	REQUIRE(a.t != NULL);
	t = a.t;
	CHECK(t->srv == 1);
	REQUIRE(t->n == 4);
	/* _xmpps-server priority 5, direct TLS. */
	CHECK_STR(t->v[0].host, "tls.prio.test");
	CHECK_STR(taddr(&t->v[0]), "127.0.0.4:5223");
	CHECK(t->v[0].direct_tls == 1);
	/* Priority 10: both families of high.prio.test. */
	CHECK_STR(t->v[1].host, "high.prio.test");
	CHECK_STR(t->v[2].host, "high.prio.test");
	CHECK(t->v[1].direct_tls == 0 && t->v[2].direct_tls == 0);
	CHECK(t->v[1].ss.ss_family != t->v[2].ss.ss_family);
	CHECK(strcmp(taddr(&t->v[1]), "[::2]:5271") == 0 ||
	    strcmp(taddr(&t->v[2]), "[::2]:5271") == 0);
	CHECK(strcmp(taddr(&t->v[1]), "127.0.0.2:5271") == 0 ||
	    strcmp(taddr(&t->v[2]), "127.0.0.2:5271") == 0);
	CHECK(t->v[1].port == 5271);
	/* Priority 20. */
	CHECK_STR(t->v[3].host, "low.prio.test");
	CHECK_STR(taddr(&t->v[3]), "127.0.0.3:5270");
	CHECK(t->v[3].sslen == sizeof(struct sockaddr_in));
	dns_targets_free(t);
}

static void
test_real_dot_target(void)
{
	struct answer	 a;

	REQUIRE(resolve("dot.test", &a) == 0);
	CHECK(a.t == NULL);
	CHECK(a.permanent == 1);
	CHECK_STR(a.err,
	    "DNS: _xmpp-server._tcp.dot.test: no service (SRV target \".\")");
	dns_targets_free(a.t);
}

static void
test_real_xmpps_dot(void)
{
	struct answer	 a;

	REQUIRE(resolve("notls.test", &a) == 0);
	REQUIRE(a.t != NULL);
	REQUIRE(a.t->n == 1);
	CHECK_STR(taddr(&a.t->v[0]), "127.0.0.10:5999");
	CHECK(a.t->v[0].direct_tls == 0);
	CHECK(a.t->srv == 1);
	dns_targets_free(a.t);
}

static void
test_real_fallback(void)
{
	struct answer	 a;
	size_t		 i;
	int		 v4 = 0, v6 = 0;

	REQUIRE(resolve("plain.test", &a) == 0);
	REQUIRE(a.t != NULL);
	CHECK(a.t->srv == 0);
	REQUIRE(a.t->n == 2);
	for (i = 0; i < a.t->n; i++) {
		CHECK_STR(a.t->v[i].host, "plain.test");
		CHECK(a.t->v[i].port == DNS_PORT_DEFAULT);
		CHECK(a.t->v[i].direct_tls == 0);
		if (strcmp(taddr(&a.t->v[i]), "127.0.0.5:5269") == 0)
			v4++;
		if (strcmp(taddr(&a.t->v[i]), "[::5]:5269") == 0)
			v6++;
	}
	CHECK(v4 == 1 && v6 == 1);
	dns_targets_free(a.t);
}

static void
test_real_trailing_dot(void)
{
	struct answer	 a;

	REQUIRE(resolve("notls.test.", &a) == 0);
	REQUIRE(a.t != NULL);
	CHECK(a.t->n == 1);
	dns_targets_free(a.t);
}

static void
test_real_nxdomain(void)
{
	struct answer	 a;

	REQUIRE(resolve("nothere.test", &a) == 0);
	CHECK(a.t == NULL);
	CHECK(a.permanent == 0);
	CHECK_STR(a.err, "DNS: no SRV record for nothere.test; address "
	    "lookup for nothere.test: NXDOMAIN");
}

static void
test_real_target_without_address(void)
{
	struct answer	 a;

	REQUIRE(resolve("noaddr.test", &a) == 0);
	CHECK(a.t == NULL);
	CHECK(a.permanent == 0);
	CHECK_STR(a.err, "DNS: address lookup for gone.noaddr.test (SRV "
	    "target of noaddr.test): NXDOMAIN");
	dns_targets_free(a.t);
}

static void
test_real_skips_target_without_address(void)
{
	struct answer	 a;

	REQUIRE(resolve("half.test", &a) == 0);
	REQUIRE(a.t != NULL);
	REQUIRE(a.t->n == 1);
	CHECK_STR(a.t->v[0].host, "ok.half.test");
	CHECK_STR(taddr(&a.t->v[0]), "127.0.0.6:5270");
	dns_targets_free(a.t);
}

static void
test_bad_domain(void)
{
	struct event_base	*base = event_base_new();
	struct dns		*dns;
	struct answer		 a;
	const char		*errstr;

	memset(&a, 0, sizeof(a));
	/* No resolver is asked: the default servers will do. */
	dns = dns_new(base, NULL, 0, &errstr);
	REQUIRE(dns != NULL);
	dns_resolve_peer(dns, "bad domain.example", answer_cb, &a);
	CHECK(a.called == 0);		/* never from inside the call */
	CHECK(run_until(base, &a.called, 2000) == 0);
	CHECK(a.t == NULL);
	CHECK_STR(a.err, "DNS: bad domain name");
	a.called = 0;
	a.err[0] = '\0';
	dns_resolve_peer(dns, "", answer_cb, &a);
	CHECK(run_until(base, &a.called, 2000) == 0);
	CHECK_STR(a.err, "DNS: bad domain name");
	a.called = 0;
	dns_resolve_peer(dns, "a..example", answer_cb, &a);
	CHECK(run_until(base, &a.called, 2000) == 0);
	CHECK_STR(a.err, "DNS: bad domain name");
	dns_free(dns);
	event_base_free(base);
}

/* A UDP socket that reads nothing: queries to it time out. */
static int
blackhole(int *port)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 s;

	if ((s = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(s, (struct sockaddr *)&sin, &len) == -1) {
		close(s);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return s;
}

static void
test_dead_resolver_timeout(void)
{
	struct event_base	*base = event_base_new();
	struct dns		*dns;
	struct answer		 a;
	double			 t0;
	int			 s, port;

	memset(&a, 0, sizeof(a));
	REQUIRE((s = blackhole(&port)) != -1);
	REQUIRE((dns = dns_at(base, port)) != NULL);
	CHECK(dns_set_timeout(dns, 200, 2) == 0);
	t0 = now_s();
	dns_resolve_peer(dns, "x.test", answer_cb, &a);
	/* Can't change the timeout while a request runs. */
	CHECK(dns_set_timeout(dns, 100, 1) == -1);
	CHECK(run_until(base, &a.called, 5000) == 0);
	/* 200 ms, then 400 ms for the second try. */
	CHECK(now_s() - t0 < 2.0);
	CHECK(a.t == NULL);
	CHECK(a.permanent == 0);
	CHECK_STR(a.err, "DNS: SRV lookup for _xmpp-server._tcp.x.test: "
	    "timeout");
	dns_free(dns);
	event_base_free(base);
	close(s);
}

static void
test_refused_resolver(void)
{
	struct event_base	*base = event_base_new();
	struct dns		*dns;
	struct answer		 a;
	double			 t0;
	int			 port;

	memset(&a, 0, sizeof(a));
	REQUIRE((port = free_port()) != -1);
	REQUIRE((dns = dns_at(base, port)) != NULL);
	CHECK(dns_set_timeout(dns, 300, 2) == 0);
	t0 = now_s();
	dns_resolve_peer(dns, "x.test", answer_cb, &a);
	CHECK(run_until(base, &a.called, 5000) == 0);
	CHECK(now_s() - t0 < 3.0);
	CHECK(a.t == NULL);
	/* ICMP port unreachable comes back at once. */
	CHECK_STR(a.err, "DNS: SRV lookup for _xmpp-server._tcp.x.test: "
	    "connection refused");
	dns_free(dns);
	event_base_free(base);
}

static void
test_cancel(void)
{
	struct event_base	*base;
	struct dns		*dns;
	struct dns_req		*r1, *r2;
	struct answer		 a1, a2, a3;
	int			 port;

	memset(&a1, 0, sizeof(a1));
	memset(&a2, 0, sizeof(a2));
	memset(&a3, 0, sizeof(a3));
	REQUIRE((port = dm_start()) != -1);
	base = event_base_new();
	REQUIRE((dns = dns_at(base, port)) != NULL);
	/* Cancelled while its SRV queries are in flight. */
	r1 = dns_resolve_peer(dns, "prio.test", answer_cb, &a1);
	dns_cancel(r1);
	/* Cancelled with its answer ready but not delivered. */
	r2 = dns_resolve_peer(dns, "bad domain", answer_cb, &a2);
	dns_cancel(r2);
	/* A third still answers, after the cancelled ones are done. */
	dns_resolve_peer(dns, "prio.test", answer_cb, &a3);
	CHECK(run_until(base, &a3.called, 10000) == 0);
	dns_targets_free(a3.t);
	/* Let c-ares finish what it had for r1. */
	event_base_loop(base, EVLOOP_NONBLOCK);
	CHECK(a1.called == 0);
	CHECK(a2.called == 0);
	dns_free(dns);
	event_base_free(base);
}

static void
test_cancel_from_callback(void)
{
	struct event_base	*base;
	struct dns		*dns;
	struct answer		 a1, a2;
	int			 port;

	memset(&a1, 0, sizeof(a1));
	memset(&a2, 0, sizeof(a2));
	REQUIRE((port = dm_start()) != -1);
	base = event_base_new();
	REQUIRE((dns = dns_at(base, port)) != NULL);
	/* The bad name answers first and cancels the real lookup, wherever
	 * that one is. */
	a2.cancel = NULL;
	a1.cancel = dns_resolve_peer(dns, "prio.test", answer_cb, &a2);
	dns_resolve_peer(dns, "bad domain", answer_cb, &a1);
	CHECK(run_until(base, &a1.called, 5000) == 0);
	run_until(base, &a2.called, 1000);
	CHECK(a2.called == 0);
	dns_free(dns);
	event_base_free(base);
}

static void
test_free_with_pending(void)
{
	struct event_base	*base = event_base_new();
	struct dns		*dns;
	struct answer		 a;
	int			 s, port;

	memset(&a, 0, sizeof(a));
	REQUIRE((s = blackhole(&port)) != -1);
	REQUIRE((dns = dns_at(base, port)) != NULL);
	dns_resolve_peer(dns, "x.test", answer_cb, &a);
	dns_resolve_peer(dns, "y.test", answer_cb, &a);
	event_base_loop(base, EVLOOP_NONBLOCK);
	dns_free(dns);			/* no callback, nothing leaks */
	CHECK(a.called == 0);
	event_base_free(base);
	close(s);
}

static void
test_free_with_pending_addr_stage(void)
{
	struct event_base	*base;
	struct dns		*dns;
	struct answer		 a1, a2;
	int			 port, i;

	memset(&a1, 0, sizeof(a1));
	memset(&a2, 0, sizeof(a2));
	REQUIRE((port = dm_start()) != -1);
	base = event_base_new();
	REQUIRE((dns = dns_at(base, port)) != NULL);
	/* The first answer frees dns while the second request is in
	 * whichever stage: the loop must not touch anything after. */
	a1.free_dns = dns;
	dns_resolve_peer(dns, "plain.test", answer_cb, &a1);
	for (i = 0; i < 5; i++)
		dns_resolve_peer(dns, "prio.test", answer_cb, &a2);
	CHECK(run_until(base, &a1.called, 10000) == 0);
	dns_targets_free(a1.t);
	event_base_loop(base, EVLOOP_NONBLOCK);
	CHECK(a2.called == 0);
	event_base_free(base);
}

/*
 * Frees dns, or cancels the request, after k turns of the loop, for every
 * k until the answer would have come: each stage and each moment between
 * c-ares answers gets its turn under ASan.
 */
static void
test_stop_at_every_step(void)
{
	struct event_base	*base;
	struct dns		*dns;
	struct dns_req		*r;
	struct answer		 a;
	int			 port, k, i, how, answered;

	REQUIRE((port = dm_start()) != -1);
	for (how = 0; how < 2; how++) {
		for (k = 0; k < 40; k++) {
			memset(&a, 0, sizeof(a));
			base = event_base_new();
			REQUIRE((dns = dns_at(base, port)) != NULL);
			r = dns_resolve_peer(dns, "prio.test", answer_cb, &a);
			for (i = 0; i < k && !a.called; i++)
				if (event_base_loop(base, EVLOOP_ONCE) != 0)
					break;
			answered = a.called;
			if (answered)
				dns_targets_free(a.t);
			else if (how == 0)
				dns_free(dns);
			else
				dns_cancel(r);
			if (how == 1 || answered) {
				event_base_loop(base, EVLOOP_NONBLOCK);
				dns_free(dns);
			}
			event_base_free(base);
			CHECK(a.called == answered);
			if (answered)
				break;
		}
		/* The answer came within 40 turns. */
		CHECK(k < 40);
	}
}

static const struct t_case cases[] = {
	{ "dns_order_priority", test_order_priority },
	{ "dns_order_weighted_script", test_order_weighted_script },
	{ "dns_order_weighted_middle", test_order_weighted_middle },
	{ "dns_order_weighted_random", test_order_weighted_random },
	{ "dns_order_drops_root", test_order_drops_root },
	{ "dns_plan", test_plan },
	{ "dns_real_srv_order", test_real_srv_order },
	{ "dns_real_dot_target", test_real_dot_target },
	{ "dns_real_xmpps_dot", test_real_xmpps_dot },
	{ "dns_real_fallback", test_real_fallback },
	{ "dns_real_trailing_dot", test_real_trailing_dot },
	{ "dns_real_nxdomain", test_real_nxdomain },
	{ "dns_real_target_without_address",
	    test_real_target_without_address },
	{ "dns_real_skips_target_without_address",
	    test_real_skips_target_without_address },
	{ "dns_bad_domain", test_bad_domain },
	{ "dns_dead_resolver_timeout", test_dead_resolver_timeout },
	{ "dns_refused_resolver", test_refused_resolver },
	{ "dns_cancel", test_cancel },
	{ "dns_cancel_from_callback", test_cancel_from_callback },
	{ "dns_free_with_pending", test_free_with_pending },
	{ "dns_free_from_callback", test_free_with_pending_addr_stage },
	{ "dns_stop_at_every_step", test_stop_at_every_step },
};

int
main(int argc, char **argv)
{
	return T_RUN(cases, argc, argv);
}
