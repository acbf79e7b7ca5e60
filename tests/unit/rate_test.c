/*
 * tests/unit/rate_test.c: the per-remote-domain token bucket
 * (server/rate.c): two seconds of burst, then a wait that grows with the
 * debt, buckets per domain, and no limit at 0. And the lines a flood
 * would repeat, logged once per interval with a count (log_every_due).
 */
#include <string.h>

#include "conf.h"
#include "log.h"
#include "rate.h"
#include "server.h"
#include "tests/t.h"

static struct conf	rate_conf;
static struct server	rate_server;

static void
rate_setup(long long per_sec)
{
	memset(&rate_conf, 0, sizeof(rate_conf));
	rate_conf.remote_stanza_rate = per_sec;
	rate_server.conf = &rate_conf;
	server = &rate_server;
	rate_free();
}

static void
test_burst_then_wait(void)
{
	int	 i, ms = 0;

	rate_setup(1);
	CHECK(rate_stanza("busy.example") == 0);	/* 2 s of burst */
	CHECK(rate_stanza("busy.example") == 0);
	ms = rate_stanza("busy.example");
	CHECK(ms > 0 && ms <= 1001);		/* one token: 1 s */
	for (i = 0; i < 9; i++)
		ms = rate_stanza("busy.example");
	CHECK(ms > 5000 && ms <= 10001);	/* ten in debt: 10 s */
	rate_free();
}

static void
test_domains_apart(void)
{
	int	 i;

	rate_setup(1);
	CHECK(rate_stanza("a.example") == 0);
	CHECK(rate_stanza("a.example") == 0);
	CHECK(rate_stanza("a.example") > 0);
	for (i = 0; i < 2; i++)
		CHECK(rate_stanza("b.example") == 0);
	rate_free();
}

static void
test_no_limit(void)
{
	int	 i;

	rate_setup(0);
	for (i = 0; i < 100000; i++)
		if (rate_stanza("any.example") != 0)
			break;
	CHECK(i == 100000);
	rate_free();
}

/* Many domains: full buckets are forgotten; a long debt is capped. */
static void
test_many_domains(void)
{
	char	 d[32];
	int	 i, ms = 0;

	rate_setup(1000000);
	for (i = 0; i < 10000; i++) {
		snprintf(d, sizeof(d), "d%d.example", i);
		CHECK(rate_stanza(d) == 0);
	}
	rate_setup(1);
	for (i = 0; i < 100000; i++)
		ms = rate_stanza("flood.example");
	CHECK(ms == 60000);
	rate_free();
}

static void
test_log_every(void)
{
	struct log_every	 e;
	long long		 quiet = -1;
	int			 i;

	memset(&e, 0, sizeof(e));
	CHECK(log_every_due(&e, 3600000, &quiet) == 1 && quiet == 0);
	for (i = 0; i < 5; i++)
		CHECK(log_every_due(&e, 3600000, &quiet) == 0);
	/* due again (interval 0): the five left out are counted */
	CHECK(log_every_due(&e, 0, &quiet) == 1 && quiet == 5);
	CHECK(log_every_due(&e, 0, &quiet) == 1 && quiet == 0);
}

static const struct t_case cases[] = {
	{ "log_every", test_log_every },
	{ "burst_then_wait", test_burst_then_wait },
	{ "domains_apart", test_domains_apart },
	{ "no_limit", test_no_limit },
	{ "many_domains", test_many_domains },
};

int
main(int argc, char **argv)
{
	return T_RUN(cases, argc, argv);
}
