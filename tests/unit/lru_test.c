/*
 * tests/unit/lru_test.c: the bounded table (server/lru.c): records made on
 * demand and kept, the count never over the bound however many keys come,
 * the least recently used evicted first (a use refreshes), peek changes
 * nothing, long keys, clear.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lru.h"
#include "tests/t.h"

struct rec {
	double	 tokens;
	int64_t	 n;
};

static void
test_get_keeps(void)
{
	struct lru	 l;
	struct rec	*r, *s;
	int		 created;

	lru_init(&l, 4, sizeof(*r));
	REQUIRE((r = lru_get(&l, "a:192.0.2.1", &created)) != NULL);
	CHECK(created && r->tokens == 0 && r->n == 0);
	CHECK((uintptr_t)r % _Alignof(double) == 0);
	r->n = 7;
	s = lru_get(&l, "a:192.0.2.1", &created);
	CHECK(s == r && !created && s->n == 7);
	CHECK(lru_count(&l) == 1);
	CHECK(lru_peek(&l, "a:192.0.2.2") == NULL);
	lru_clear(&l);
	CHECK(lru_count(&l) == 0);
}

static void
test_bounded_flood(void)
{
	struct lru	 l;
	struct rec	*r;
	char		 key[32];
	int		 i, created, over = 0;

	lru_init(&l, 100, sizeof(*r));
	for (i = 0; i < 100000; i++) {
		snprintf(key, sizeof(key), "a:10.%d.%d.%d", i >> 16,
		    (i >> 8) & 255, i & 255);
		r = lru_get(&l, key, &created);
		r->n = i;
		if (lru_count(&l) > 100)
			over = 1;
	}
	CHECK(!over);
	CHECK(lru_count(&l) == 100);
	CHECK(l.evicted == 100000 - 100);
	/* The last 100 are the ones kept. */
	snprintf(key, sizeof(key), "a:10.%d.%d.%d", 99999 >> 16,
	    (99999 >> 8) & 255, 99999 & 255);
	CHECK((r = lru_peek(&l, key)) != NULL && r->n == 99999);
	CHECK(lru_peek(&l, "a:10.0.0.0") == NULL);
	lru_clear(&l);
}

static void
test_least_recent_goes(void)
{
	struct lru	 l;
	struct rec	*r;
	int		 created;

	lru_init(&l, 3, sizeof(*r));
	lru_get(&l, "t:1", &created);
	lru_get(&l, "t:2", &created);
	lru_get(&l, "t:3", &created);
	/* t:1 used again: t:2 is now the least recent. */
	r = lru_get(&l, "t:1", &created);
	CHECK(!created);
	r->n = 1;
	/* peek is not a use: t:2 stays the least recent. */
	CHECK(lru_peek(&l, "t:2") != NULL);
	lru_get(&l, "a:203.0.113.9", &created);
	CHECK(created);
	CHECK(lru_peek(&l, "t:2") == NULL);
	CHECK((r = lru_peek(&l, "t:1")) != NULL && r->n == 1);
	CHECK(lru_peek(&l, "t:3") != NULL);
	CHECK(lru_count(&l) == 3 && l.evicted == 1);
	/* Now t:3 is the least recent. */
	lru_get(&l, "a:203.0.113.10", &created);
	CHECK(lru_peek(&l, "t:3") == NULL && lru_peek(&l, "t:1") != NULL);
	lru_clear(&l);
}

static void
test_long_keys(void)
{
	struct lru	 l;
	char		 a[200], b[200];
	int		 created;

	memset(a, 'x', sizeof(a) - 1);
	a[sizeof(a) - 1] = '\0';
	memcpy(b, a, sizeof(b));
	b[sizeof(b) - 2] = 'y';		/* differs past LRU_KEY_MAX: same */
	lru_init(&l, 2, sizeof(int));
	lru_get(&l, a, &created);
	CHECK(created);
	lru_get(&l, b, &created);
	CHECK(!created && lru_count(&l) == 1);
	lru_clear(&l);
}

static const struct t_case cases[] = {
	{ "get_keeps", test_get_keeps },
	{ "bounded_flood", test_bounded_flood },
	{ "least_recent_goes", test_least_recent_goes },
	{ "long_keys", test_long_keys },
};

int
main(int argc, char **argv)
{
	return T_RUN(cases, argc, argv);
}
