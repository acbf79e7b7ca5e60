/*
 * tests/unit/sm_test.c: XEP-0198 bookkeeping (s2s/sm.c) without sockets:
 * the receiver's h covers only settled batches (S2S 7.5), the sender's
 * acks release outbox ids in order, bad h values are refused, counters
 * wrap modulo 2^32, the unacknowledged come back when a stream dies
 * (S2S 7.6).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/t.h"
#include "s2s/sm.h"

/* Collects the ids an ack or a take hands back. */
struct ids {
	int64_t	 v[256];
	size_t	 n;
};

static void
ids_add(void *arg, int64_t id)
{
	struct ids	*ids = arg;

	if (ids->n < sizeof(ids->v) / sizeof(ids->v[0]))
		ids->v[ids->n] = id;
	ids->n++;
}

static void
test_in_enable_once(void)
{
	struct sm_in	 sm;

	sm_in_init(&sm);
	CHECK(!sm.enabled);
	CHECK(sm.open == NULL);		/* nothing held until enabled */
	CHECK(sm_in_enable(&sm) == 0);
	CHECK(sm.enabled && sm.open != NULL);
	/* S2S 7.5: a second <enable/> is refused */
	CHECK(sm_in_enable(&sm) == -1);
	sm_in_free(&sm);
}

static void
test_in_nothing_waits_answers_now(void)
{
	struct sm_in	 sm;
	uint32_t	 h = 99;

	sm_in_init(&sm);
	sm_in_enable(&sm);
	CHECK(sm_in_request(&sm, &h) == 1);
	CHECK(h == 0);
	/* stanzas that wrote nothing are settled as they are handled */
	sm_in_handled(&sm, 0);
	sm_in_handled(&sm, 0);
	CHECK(sm_in_request(&sm, &h) == 1);
	CHECK(h == 2);
	sm_in_free(&sm);
}

static void
test_in_waits_for_commit(void)
{
	struct sm_in	 sm;
	uint32_t	 h = 99;

	sm_in_init(&sm);
	sm_in_enable(&sm);
	sm_in_handled(&sm, 7);
	sm_in_handled(&sm, 7);
	sm_in_handled(&sm, 7);
	CHECK(sm_in_request(&sm, &h) == 0);
	CHECK(h == 99);
	/* an older batch settling says nothing about batch 7 */
	CHECK(sm_in_settled(&sm, 6, &h) == 0);
	CHECK(h == 99);
	CHECK(sm_in_settled(&sm, 7, &h) == 1);
	CHECK(h == 3);
	/* the next commit is acknowledged unasked (XEP-0198 4), so that
	 * what it covered is not sent again after a crash */
	sm_in_handled(&sm, 8);
	CHECK(sm_in_settled(&sm, 8, &h) == 1);
	CHECK(h == 4);
	/* a commit of other streams' stanzas says nothing here */
	h = 99;
	CHECK(sm_in_settled(&sm, 9, &h) == 0);
	CHECK(h == 99);
	CHECK(sm_in_request(&sm, &h) == 1);
	CHECK(h == 4);
	sm_in_free(&sm);
}

static void
test_in_covers_per_batch(void)
{
	struct sm_in	 sm;
	uint32_t	 h = 0;

	sm_in_init(&sm);
	sm_in_enable(&sm);
	sm_in_handled(&sm, 3);
	sm_in_handled(&sm, 3);
	sm_in_handled(&sm, 4);
	CHECK(sm_in_request(&sm, &h) == 0);
	CHECK(sm_in_settled(&sm, 3, &h) == 1);
	CHECK(h == 2);		/* not the stanza in batch 4 */
	CHECK(sm.covered == 2);
	CHECK(sm_in_request(&sm, &h) == 0);
	CHECK(sm_in_settled(&sm, 4, &h) == 1);
	CHECK(h == 3);
	sm_in_free(&sm);
}

static void
test_in_unwritten_after_waiting(void)
{
	struct sm_in	 sm;
	uint32_t	 h = 0;

	sm_in_init(&sm);
	sm_in_enable(&sm);
	sm_in_handled(&sm, 5);
	/* a ping answered from memory after a stanza still uncommitted: h
	 * covers a prefix, so it waits for batch 5 too */
	sm_in_handled(&sm, 0);
	CHECK(sm_in_request(&sm, &h) == 0);
	CHECK(sm.covered == 0);
	CHECK(sm_in_settled(&sm, 5, &h) == 1);
	CHECK(h == 2);
	sm_in_free(&sm);
}

static void
test_in_many_batches_merge_later(void)
{
	struct sm_in	 sm;
	uint32_t	 h = 0;
	uint64_t	 b;

	sm_in_init(&sm);
	sm_in_enable(&sm);
	for (b = 1; b <= SM_IN_BATCHES + 4; b++)
		sm_in_handled(&sm, b);
	CHECK(sm.nopen == SM_IN_BATCHES);
	CHECK(sm_in_request(&sm, &h) == 0);
	/* the first batches each cover their own stanza ... */
	CHECK(sm_in_settled(&sm, 1, &h) == 1);
	CHECK(h == 1);
	/* ... the merged tail is covered only when its newest batch is */
	CHECK(sm_in_settled(&sm, SM_IN_BATCHES - 1, &h) == 1);
	CHECK(h == SM_IN_BATCHES - 1);
	CHECK(sm_in_settled(&sm, SM_IN_BATCHES + 3, &h) == 0);
	CHECK(sm.covered == SM_IN_BATCHES - 1);
	CHECK(sm_in_request(&sm, &h) == 0);
	CHECK(sm_in_settled(&sm, SM_IN_BATCHES + 4, &h) == 1);
	CHECK(h == SM_IN_BATCHES + 4);
	CHECK(sm.nopen == 0);
	sm_in_free(&sm);
}

static void
test_in_h_wraps(void)
{
	struct sm_in	 sm;
	uint32_t	 h = 0;

	sm_in_init(&sm);
	sm_in_enable(&sm);
	sm.handled = sm.covered = UINT32_MAX - 1;
	sm_in_handled(&sm, 2);
	sm_in_handled(&sm, 2);
	sm_in_handled(&sm, 2);
	CHECK(sm_in_request(&sm, &h) == 0);
	CHECK(sm_in_settled(&sm, 2, &h) == 1);
	CHECK(h == 1);		/* (2^32 - 2 + 3) mod 2^32 */
	sm_in_free(&sm);
}

static void
send_ids(struct sm_out *sm, int64_t first, int n)
{
	int	 i;

	for (i = 0; i < n; i++)
		sm_out_sent(sm, first + i);
}

static void
test_out_ack_releases_in_order(void)
{
	struct sm_out	 sm;
	struct ids	 ids;
	const char	*cond = NULL;
	char		 text[128];

	sm_out_init(&sm);
	sm.enabled = 1;
	sm_out_sent(&sm, 10);
	sm_out_sent(&sm, 0);	/* one of xfed's own: counted, not reported */
	sm_out_sent(&sm, 11);
	sm_out_sent(&sm, 12);
	memset(&ids, 0, sizeof(ids));
	CHECK(sm_out_ack(&sm, "2", ids_add, &ids, &cond, text,
	    sizeof(text)) == 2);
	CHECK(ids.n == 1 && ids.v[0] == 10);
	CHECK(sm_out_unacked(&sm) == 2);
	/* the same h again releases nothing */
	CHECK(sm_out_ack(&sm, "2", ids_add, &ids, &cond, text,
	    sizeof(text)) == 0);
	CHECK(ids.n == 1);
	CHECK(sm_out_ack(&sm, "4", ids_add, &ids, &cond, text,
	    sizeof(text)) == 2);
	CHECK(ids.n == 3 && ids.v[1] == 11 && ids.v[2] == 12);
	CHECK(sm_out_unacked(&sm) == 0);
	sm_out_free(&sm);
}

static void
test_out_ack_too_high(void)
{
	struct sm_out	 sm;
	struct ids	 ids;
	const char	*cond = NULL;
	char		 text[128];

	sm_out_init(&sm);
	sm.enabled = 1;
	send_ids(&sm, 1, 3);
	memset(&ids, 0, sizeof(ids));
	/* XEP-0198 4: h beyond what was sent is a stream error */
	CHECK(sm_out_ack(&sm, "4", ids_add, &ids, &cond, text,
	    sizeof(text)) == SM_ACK_TOO_HIGH);
	CHECK_STR(cond, "undefined-condition");
	CHECK(strstr(text, "more") != NULL);
	CHECK(ids.n == 0);
	CHECK(sm_out_unacked(&sm) == 3);
	sm_out_free(&sm);
}

static void
test_out_ack_backwards(void)
{
	struct sm_out	 sm;
	struct ids	 ids;
	const char	*cond = NULL;
	char		 text[128];

	sm_out_init(&sm);
	sm.enabled = 1;
	send_ids(&sm, 1, 5);
	memset(&ids, 0, sizeof(ids));
	CHECK(sm_out_ack(&sm, "3", ids_add, &ids, &cond, text,
	    sizeof(text)) == 3);
	CHECK(sm_out_ack(&sm, "2", ids_add, &ids, &cond, text,
	    sizeof(text)) == -1);
	CHECK_STR(cond, "undefined-condition");
	CHECK(strstr(text, "below") != NULL);
	CHECK(ids.n == 3);
	CHECK(sm_out_unacked(&sm) == 2);
	sm_out_free(&sm);
}

static void
test_out_ack_bad_h(void)
{
	/* XEP-0198 4: h is a count; a sign, a space, a leading zero or
	 * more than 2^32-1 is not one */
	static const char *const bad[] = { NULL, "", "-1", "1a", " 1",
	    "4294967296", "99999999999", "0x10", "+1", "01", "00", "007",
	    "0000000001", "1 ", "1.0", "1e3", "\xd9\xa1" };
	struct sm_out	 sm;
	struct ids	 ids;
	const char	*cond;
	char		 text[128];
	uint32_t	 h;
	size_t		 i;

	sm_out_init(&sm);
	sm.enabled = 1;
	send_ids(&sm, 1, 2);
	memset(&ids, 0, sizeof(ids));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cond = NULL;
		CHECK(sm_out_ack(&sm, bad[i], ids_add, &ids, &cond, text,
		    sizeof(text)) == -1);
		CHECK_STR(cond, "bad-format");
	}
	CHECK(ids.n == 0);
	CHECK(sm_out_unacked(&sm) == 2);
	CHECK(sm_parse_h("4294967295", &h) == 0 && h == UINT32_MAX);
	CHECK(sm_parse_h("0", &h) == 0 && h == 0);
	CHECK(sm_parse_h("10", &h) == 0 && h == 10);
	CHECK(sm_parse_h("007", &h) == -1);
	CHECK(sm_parse_h("4294967296", &h) == -1);
	sm_out_free(&sm);
}

static void
test_out_counters_wrap(void)
{
	struct sm_out	 sm;
	struct ids	 ids;
	const char	*cond = NULL;
	char		 text[128];

	sm_out_init(&sm);
	sm.enabled = 1;
	sm.sent = sm.acked = sm.requested = UINT32_MAX - 1;
	send_ids(&sm, 100, 4);
	CHECK(sm.sent == 2);
	memset(&ids, 0, sizeof(ids));
	CHECK(sm_out_ack(&sm, "4294967295", ids_add, &ids, &cond, text,
	    sizeof(text)) == 1);
	CHECK(ids.n == 1 && ids.v[0] == 100);
	CHECK(sm_out_ack(&sm, "1", ids_add, &ids, &cond, text,
	    sizeof(text)) == 2);
	CHECK(ids.n == 3 && ids.v[1] == 101 && ids.v[2] == 102);
	CHECK(sm_out_ack(&sm, "3", ids_add, &ids, &cond, text,
	    sizeof(text)) == SM_ACK_TOO_HIGH);
	CHECK(sm_out_ack(&sm, "4294967295", ids_add, &ids, &cond, text,
	    sizeof(text)) == -1);
	CHECK(strstr(text, "below") != NULL);
	CHECK(sm_out_ack(&sm, "2", ids_add, &ids, &cond, text,
	    sizeof(text)) == 1);
	CHECK(ids.n == 4 && ids.v[3] == 103);
	sm_out_free(&sm);
}

/* XEP-0198 4: h wraps to 0 after 2^32-1; an ack of exactly 0 then
 * covers the stanza that took the count there. */
static void
test_out_wraps_to_zero(void)
{
	struct sm_out	 sm;
	struct ids	 ids;
	const char	*cond = NULL;
	char		 text[128];

	sm_out_init(&sm);
	sm.enabled = 1;
	sm.sent = sm.acked = sm.requested = UINT32_MAX - 1;
	send_ids(&sm, 7, 2);
	CHECK(sm.sent == 0);
	CHECK(sm_out_want_request(&sm, 1) == 1);
	memset(&ids, 0, sizeof(ids));
	CHECK(sm_out_ack(&sm, "0", ids_add, &ids, &cond, text,
	    sizeof(text)) == 2);
	CHECK(ids.n == 2 && ids.v[0] == 7 && ids.v[1] == 8);
	CHECK(sm.acked == 0 && sm_out_unacked(&sm) == 0);
	/* nothing more was sent: 1 is too high, 4294967295 backwards */
	CHECK(sm_out_ack(&sm, "1", ids_add, &ids, &cond, text,
	    sizeof(text)) == SM_ACK_TOO_HIGH);
	CHECK(sm_out_ack(&sm, "4294967295", ids_add, &ids, &cond, text,
	    sizeof(text)) == -1);
	CHECK(ids.n == 2);
	sm_out_free(&sm);
}

static void
test_out_take_on_death(void)
{
	struct sm_out	 sm;
	struct ids	 ids;
	const char	*cond = NULL;
	char		 text[128];
	size_t		 i;

	sm_out_init(&sm);
	sm.enabled = 1;
	/* past the first ring size, with the head moved: order holds */
	send_ids(&sm, 1, 50);
	memset(&ids, 0, sizeof(ids));
	CHECK(sm_out_ack(&sm, "40", ids_add, &ids, &cond, text,
	    sizeof(text)) == 40);
	send_ids(&sm, 51, 100);
	sm_out_sent(&sm, 0);
	memset(&ids, 0, sizeof(ids));
	CHECK(sm_out_take(&sm, ids_add, &ids) == 1);
	REQUIRE(ids.n == 110);
	for (i = 0; i < ids.n; i++)
		CHECK(ids.v[i] == (int64_t)(41 + i));
	CHECK(sm_out_unacked(&sm) == 0);
	/* a late <a/> after the take releases nothing and is no error */
	memset(&ids, 0, sizeof(ids));
	CHECK(sm_out_ack(&sm, "151", ids_add, &ids, &cond, text,
	    sizeof(text)) == 0);
	CHECK(ids.n == 0);
	sm_out_free(&sm);
}

static void
test_out_requests(void)
{
	struct sm_out	 sm;
	struct ids	 ids;
	const char	*cond = NULL;
	char		 text[128];
	int		 i, asked = 0;

	sm_out_init(&sm);
	/* not enabled: never */
	sm_out_sent(&sm, 1);
	CHECK(sm_out_want_request(&sm, 1) == 0);
	sm_out_free(&sm);

	sm_out_init(&sm);
	sm.enabled = 1;
	CHECK(sm_out_want_request(&sm, 1) == 0);	/* nothing sent */
	for (i = 0; i < SM_REQUEST_EVERY - 1; i++) {
		sm_out_sent(&sm, i + 1);
		asked += sm_out_want_request(&sm, 0);
	}
	CHECK(asked == 0);
	sm_out_sent(&sm, SM_REQUEST_EVERY);
	CHECK(sm_out_want_request(&sm, 0) == 1);
	/* one <r/> at a time */
	sm_out_sent(&sm, SM_REQUEST_EVERY + 1);
	CHECK(sm_out_want_request(&sm, 1) == 0);
	memset(&ids, 0, sizeof(ids));
	CHECK(sm_out_ack(&sm, "256", ids_add, &ids, &cond, text,
	    sizeof(text)) == SM_REQUEST_EVERY);
	/* the ack came: what was sent since is asked for at once */
	CHECK(sm_out_want_request(&sm, 1) == 1);
	CHECK(sm_out_ack(&sm, "257", ids_add, &ids, &cond, text,
	    sizeof(text)) == 1);
	/* all acknowledged: nothing to ask */
	CHECK(sm_out_want_request(&sm, 1) == 0);
	sm_out_free(&sm);
}

static void
test_out_full(void)
{
	struct sm_out	 sm;
	int		 i;

	sm_out_init(&sm);
	sm.enabled = 1;
	for (i = 0; i < SM_OUT_MAX - 1; i++)
		sm_out_sent(&sm, i + 1);
	CHECK(!sm_out_full(&sm));
	sm_out_sent(&sm, SM_OUT_MAX);
	CHECK(sm_out_full(&sm));
	sm_out_free(&sm);
}

static const struct t_case cases[] = {
	{ "sm_in_enable_once", test_in_enable_once },
	{ "sm_out_wraps_to_zero", test_out_wraps_to_zero },
	{ "sm_in_nothing_waits_answers_now", test_in_nothing_waits_answers_now },
	{ "sm_in_waits_for_commit", test_in_waits_for_commit },
	{ "sm_in_covers_per_batch", test_in_covers_per_batch },
	{ "sm_in_unwritten_after_waiting", test_in_unwritten_after_waiting },
	{ "sm_in_many_batches_merge_later", test_in_many_batches_merge_later },
	{ "sm_in_h_wraps", test_in_h_wraps },
	{ "sm_out_ack_releases_in_order", test_out_ack_releases_in_order },
	{ "sm_out_ack_too_high", test_out_ack_too_high },
	{ "sm_out_ack_backwards", test_out_ack_backwards },
	{ "sm_out_ack_bad_h", test_out_ack_bad_h },
	{ "sm_out_counters_wrap", test_out_counters_wrap },
	{ "sm_out_take_on_death", test_out_take_on_death },
	{ "sm_out_requests", test_out_requests },
	{ "sm_out_full", test_out_full },
};

int
main(int argc, char **argv)
{
	return T_RUN(cases, argc, argv);
}
