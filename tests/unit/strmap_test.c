/*
 * tests/unit/strmap_test.c: the string map (server/strmap.c): create on
 * demand, lookup only, data kept and aligned, delete, sweep, clear, a
 * sweep that empties the map.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "strmap.h"
#include "tests/t.h"

struct val {
	double	 d;
	int64_t	 n;
};

static void
test_get_del(void)
{
	struct strmap	 m;
	struct val	*v, *w;

	strmap_init(&m, 4);
	CHECK(strmap_get(&m, "a.example", 0) == NULL);
	REQUIRE((v = strmap_get(&m, "a.example", sizeof(*v))) != NULL);
	CHECK(v->d == 0 && v->n == 0);
	CHECK((uintptr_t)v % _Alignof(double) == 0);
	v->n = 42;
	CHECK((w = strmap_get(&m, "a.example", 0)) == v && w->n == 42);
	CHECK(strmap_get(&m, "a.example", sizeof(*v)) == v);
	CHECK(m.n == 1);
	CHECK(strcmp(strmap_key(v), "a.example") == 0);
	strmap_del(&m, "b.example");
	strmap_del(&m, "a.example");
	CHECK(m.n == 0 && strmap_get(&m, "a.example", 0) == NULL);
	strmap_clear(&m);
	CHECK(strmap_get(&m, "a.example", 0) == NULL);	/* cleared: empty */
}

static int
drop_odd(void *data, void *arg)
{
	return ((struct val *)data)->n % 2 == 1;
}

static void
test_many_and_sweep(void)
{
	struct strmap	 m;
	struct val	*v;
	char		 key[32];
	int		 i, ok = 1;

	strmap_init(&m, 16);
	for (i = 0; i < 10000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		v = strmap_get(&m, key, sizeof(*v));
		v->n = i;
	}
	CHECK(m.n == 10000);
	strmap_sweep(&m, drop_odd, NULL);
	CHECK(m.n == 5000);
	for (i = 0; i < 10000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		v = strmap_get(&m, key, 0);
		if ((i % 2 == 0) != (v != NULL && v->n == i))
			ok = 0;
	}
	CHECK(ok);
	strmap_clear(&m);
	CHECK(m.n == 0);
}

static int
drop_all_count(void *data, void *arg)
{
	(*(int *)arg)++;
	return 1;
}

/*
 * A sweep stops once the map is empty (no bucket visited after the last
 * entry, none at all on an empty map) yet drops every entry on the way;
 * the map stays usable after it.
 */
static void
test_sweep_to_empty(void)
{
	struct strmap	 m;
	struct val	*v;
	char		 key[32];
	int		 i, calls = 0;

	strmap_init(&m, 1024);
	strmap_sweep(&m, drop_all_count, &calls);
	CHECK(calls == 0 && m.n == 0);
	for (i = 0; i < 3; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		REQUIRE((v = strmap_get(&m, key, sizeof(*v))) != NULL);
	}
	strmap_sweep(&m, drop_all_count, &calls);
	CHECK(calls == 3 && m.n == 0);
	for (i = 0; i < 3; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		CHECK(strmap_get(&m, key, 0) == NULL);
	}
	REQUIRE((v = strmap_get(&m, "k0", sizeof(*v))) != NULL);
	CHECK(m.n == 1 && strmap_get(&m, "k0", 0) == v);
	strmap_clear(&m);
	CHECK(m.n == 0 && strmap_get(&m, "k0", 0) == NULL);
	strmap_clear(&m);	/* twice: nothing left to free */
	CHECK(m.n == 0);
}

static const struct t_case cases[] = {
	{ "get_del", test_get_del },
	{ "many_and_sweep", test_many_and_sweep },
	{ "sweep_to_empty", test_sweep_to_empty },
};

int
main(int argc, char **argv)
{
	return T_RUN(cases, argc, argv);
}
