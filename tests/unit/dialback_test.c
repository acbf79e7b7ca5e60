/*
 * tests/unit/dialback_test.c: dialback's roles outside the streams: the
 * pair table of an inbound stream (S2S 4.32-4.38) and the receiving role's
 * pending verifications with their caps (S2S 4.21, 4.24, 4.38); the
 * originating role's request and answer check (S2S 4.13, 4.15).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "conf.h"
#include "dialback.h"
#include "el.h"
#include "pairs.h"
#include "verify.h"
#include "../t.h"

static void
pairs_check(void)
{
	struct db_pairs	 t;
	struct db_pair	*p;
	const char	*text;
	int		 i;
	char		 d[32];

	memset(&t, 0, sizeof(t));
	CHECK_STR(db_pairs_check(&t, "a.test", "b.test", &text),
	    "not-authorized");			/* S2S 1.18 */
	p = db_pairs_add(&t, "a.test", "b.test", 0);
	REQUIRE(p != NULL);
	CHECK(t.cap == 1);			/* slots come with pairs */
	CHECK(db_pairs_find(&t, "a.test", "b.test") == p);
	CHECK_STR(db_pairs_check(&t, "a.test", "b.test", &text),
	    "not-authorized");			/* pending is not valid */
	db_pairs_validate(&t, p);
	db_pairs_validate(&t, p);
	CHECK(t.nvalid == 1);
	CHECK(db_pairs_check(&t, "a.test", "b.test", &text) == NULL);
	CHECK_STR(db_pairs_check(&t, "evil.test", "b.test", &text),
	    "invalid-from");			/* S2S 4.36 */
	CHECK_STR(db_pairs_check(&t, "a.test", "c.test", &text),
	    "host-unknown");
	/* S2S 4.38: a bounded table */
	for (i = 1; i < DB_PAIRS_MAX; i++) {
		snprintf(d, sizeof(d), "s%d.test", i);
		CHECK(db_pairs_add(&t, d, "b.test", i % 2) != NULL);
	}
	CHECK(db_pairs_add(&t, "one-more.test", "b.test", 0) == NULL);
	db_pairs_drop(&t, db_pairs_find(&t, "a.test", "b.test"));
	CHECK(t.n == DB_PAIRS_MAX - 1);
	CHECK(t.nvalid == DB_PAIRS_MAX / 2);	/* the odd ones */
	CHECK(t.cap == DB_PAIRS_MAX);
	db_pairs_clear(&t);
	CHECK(t.n == 0 && t.nvalid == 0);
	CHECK(t.v == NULL && t.cap == 0);
	CHECK(db_pairs_add(&t, "a.test", "b.test", 1) != NULL);
	CHECK(db_pairs_check(&t, "a.test", "b.test", &text) == NULL);
	db_pairs_clear(&t);
}

/* What the verification hooks saw. */
static int	 nwanted, nverdicts, last_valid, last_ours;
static uint64_t	 last_in;
static char	 last_cond[64], sent_sids[256];

static void
wanted(const char *local, const char *remote)
{
	nwanted++;
}

static void
verdict(uint64_t in_id, const char *local, const char *remote, int valid,
    const char *cond, int ours)
{
	nverdicts++;
	last_in = in_id;
	last_valid = valid;
	last_ours = ours;
	snprintf(last_cond, sizeof(last_cond), "%s", cond ? cond : "");
}

static void
send_one(void *arg, const char *sid, const char *key)
{
	strncat(sent_sids, sid, sizeof(sent_sids) - strlen(sent_sids) - 1);
	strncat(sent_sids, " ", sizeof(sent_sids) - strlen(sent_sids) - 1);
}

static void
verify_roles(void)
{
	struct event_base	*base = event_base_new();
	struct db_verify_hooks	 h = { wanted, verdict };
	const char		*cond = NULL;
	char			 sid[32];
	int			 i, n = 0;

	db_verify_init(base, &h);
	nwanted = nverdicts = 0;
	sent_sids[0] = '\0';
	CHECK(db_verify_request("b.test", "a.test", "sid1", "k1", 7,
	    &cond) == 0);
	CHECK(nwanted == 1);
	/* S2S 4.38: one per (stream, stream id) */
	CHECK(db_verify_request("b.test", "a.test", "sid1", "k1", 7,
	    &cond) == 0);
	CHECK(db_verify_pending("b.test", "a.test") == 1);
	CHECK(db_verify_request("b.test", "a.test", "sid2", "k2", 8,
	    &cond) == 0);
	db_verify_send("b.test", "a.test", send_one, NULL);
	CHECK_STR(sent_sids, "sid1 sid2 ");
	db_verify_send("b.test", "a.test", send_one, NULL);
	CHECK_STR(sent_sids, "sid1 sid2 ");	/* sent once */
	/* S2S 4.21: an answer nobody asked for */
	CHECK(db_verify_answer("b.test", "a.test", "nope", 1, NULL) == -1);
	CHECK(db_verify_answer("b.test", "c.test", "sid1", 1, NULL) == -1);
	CHECK(db_verify_answer("b.test", "a.test", "sid1", 1, NULL) == 0);
	CHECK(nverdicts == 1 && last_in == 7 && last_valid == 1);
	/* the stream carrying sid2 is gone: sent again on the next */
	db_verify_unsend("b.test", "a.test");
	db_verify_send("b.test", "a.test", send_one, NULL);
	CHECK_STR(sent_sids, "sid1 sid2 sid2 ");
	/* S2S 4.24: the authoritative server out of reach */
	db_verify_fail("b.test", "a.test", "remote-connection-failed");
	CHECK(nverdicts == 2 && last_in == 8 && last_valid == -1);
	CHECK_STR(last_cond, "remote-connection-failed");
	CHECK(last_ours == 0);
	CHECK(db_verify_pending("b.test", "a.test") == 0);
	/* a local limit (verification connections per target): ours, so
	 * the inbound side gives the rate token back */
	CHECK(db_verify_request("b.test", "a.test", "sid3", "k3", 9,
	    &cond) == 0);
	db_verify_refuse("b.test", "a.test");
	CHECK(nverdicts == 3 && last_in == 9 && last_valid == -1);
	CHECK_STR(last_cond, "resource-constraint");
	CHECK(last_ours == 1);
	CHECK(db_verify_pending("b.test", "a.test") == 0);
	/* S2S 4.38: at most DB_VERIFY_MAX in all */
	for (i = 0; i < DB_VERIFY_MAX + 1; i++) {
		snprintf(sid, sizeof(sid), "s%d", i);
		if (db_verify_request("b.test", "a.test", sid, "k", i,
		    &cond) == 0)
			n++;
	}
	CHECK(n == DB_VERIFY_MAX);
	CHECK_STR(cond, "resource-constraint");
	db_verify_free_all();
	CHECK(db_verify_pending("b.test", "a.test") == 0);
	event_base_free(base);
}

static void
originating(void)
{
	struct el	*e, *ans;
	struct db_msg	 m;
	const char	*errstr;
	char		 key[DB_KEY_LEN + 1];

	db_set_secret("0123456789abcdef0123456789abcdef");
	e = db_originate("b.test", "a.test", "peersid");
	REQUIRE(db_parse(e, &m, &errstr) == 0);
	CHECK(!m.verify && m.type == DB_REQUEST);
	CHECK_STR(m.from, "b.test");
	CHECK_STR(m.to, "a.test");
	db_make_key("a.test", "b.test", "peersid", key);	/* S2S 4.2 */
	CHECK_STR(m.key, key);
	CHECK(!db_answers_ours(&m, "b.test", "a.test"));	/* a request */
	el_free(e);
	ans = db_build(0, DB_VALID, "a.test", "b.test", NULL, NULL, NULL);
	REQUIRE(db_parse(ans, &m, &errstr) == 0);
	CHECK(db_answers_ours(&m, "b.test", "a.test"));
	CHECK(!db_answers_ours(&m, "b.test", "c.test"));	/* S2S 4.15 */
	el_free(ans);
}

static int
refuse_a(const char *remote)
{
	return strcmp(remote, "a.test") != 0;
}

/* The receiving role's decision on a db:result (S2S 4.18, 4.19, 4.25,
 * 4.38). */
static void
receiving(void)
{
	struct db_pairs		 t;
	struct db_rx_ctx	 c;
	struct db_msg		 m;
	struct conf		*cf;
	char			 path[512], local[JID_PART_MAX + 1];
	char			 remote[JID_PART_MAX + 1];
	const char		*cond, *why;
	FILE			*f;

	snprintf(path, sizeof(path), "%s/xfed.conf", t_tmpdir());
	REQUIRE((f = fopen(path, "w")) != NULL);
	fprintf(f, "domain b.test\nrequire_encryption no\nstore %s/x.db\n"
	    "control_socket %s/x.sock\n", t_tmpdir(), t_tmpdir());
	fclose(f);
	REQUIRE((cf = conf_load(path, NULL)) != NULL);
	memset(&t, 0, sizeof(t));
	memset(&m, 0, sizeof(m));
	memset(&c, 0, sizeof(c));
	c.conf = cf;
	c.tls = 1;
	m.from = "A.test";
	m.to = "c.test";
	CHECK(db_receive(&t, &m, &c, local, remote, &cond, &why) ==
	    DB_RX_ERROR);
	CHECK_STR(cond, "item-not-found");
	m.to = "b.test";
	m.from = "b.test";
	CHECK(db_receive(&t, &m, &c, local, remote, &cond, &why) ==
	    DB_RX_ERROR);
	CHECK_STR(cond, "not-acceptable");
	CHECK(why != NULL);
	m.from = "A.test";
	c.domain_ok = refuse_a;		/* blocked before anything else */
	CHECK(db_receive(&t, &m, &c, local, remote, &cond, &why) ==
	    DB_RX_BLOCKED);
	CHECK(db_pairs_find(&t, "a.test", "b.test") == NULL);
	c.domain_ok = NULL;
	c.tls = 0;
	cf->require_encryption = 1;
	CHECK(db_receive(&t, &m, &c, local, remote, &cond, &why) ==
	    DB_RX_NO_TLS);
	cf->secure_auth = 1;		/* no certificate verified */
	c.tls = 1;
	CHECK(db_receive(&t, &m, &c, local, remote, &cond, &why) ==
	    DB_RX_ERROR);
	CHECK_STR(cond, "not-authorized");
	c.cert_for = "a.test";
	CHECK(db_receive(&t, &m, &c, local, remote, &cond, &why) ==
	    DB_RX_VERIFY);
	CHECK_STR(remote, "a.test");	/* prepared */
	CHECK_STR(local, "b.test");
	CHECK(db_receive(&t, &m, &c, local, remote, &cond, &why) ==
	    DB_RX_PENDING);
	db_pairs_validate(&t, db_pairs_find(&t, "a.test", "b.test"));
	CHECK(db_receive(&t, &m, &c, local, remote, &cond, &why) ==
	    DB_RX_VALID);
	db_pairs_clear(&t);
	conf_free(cf);
}

static const struct t_case cases[] = {
	{ "pairs_check", pairs_check },
	{ "verify_roles", verify_roles },
	{ "originating", originating },
	{ "receiving", receiving },
};

int
main(int argc, char **argv)
{
	return T_RUN(cases, argc, argv);
}
