/*
 * tests/unit/lease_test.c: instances and leases of remote domains
 * (store.h, "Several instances on one store"), on a real SQLite file and
 * on a real PostgreSQL 15 started for the run (tests/sh/pg.sh), or
 * XFED_TEST_PG when set. On PostgreSQL two connections play two
 * instances: a claimed lease is not taken by the other until it expired
 * and its grace (ttl / 2) passed, then it is, and each instance reads only the due rows of its own
 * pairs. On SQLite the one daemon takes every lease.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"
#include "tests/t.h"

static int
count_row(void *arg, const struct store_outbox *o)
{
	(*(int *)arg)++;
	return 0;
}

struct leases {
	int	 n;
	char	 holder[4][64], remote[4][64];
};

static int
lease_cb(void *arg, const struct store_lease *l)
{
	struct leases	*ls = arg;

	if (ls->n < 4) {
		snprintf(ls->holder[ls->n], 64, "%s", l->holder);
		snprintf(ls->remote[ls->n], 64, "%s", l->remote);
	}
	ls->n++;
	return 0;
}

struct insts {
	int	 n;
	char	 name[4][64];
	int64_t	 heartbeat[4];
};

static int
inst_cb(void *arg, const struct store_instance *in)
{
	struct insts	*is = arg;

	if (is->n < 4) {
		snprintf(is->name[is->n], 64, "%s", in->name);
		is->heartbeat[is->n] = in->heartbeat;
	}
	is->n++;
	return 0;
}

/* alice@a.example writes to b.example twice and c.example once. */
static void
queue_rows(struct store *st)
{
	struct store_outbox	 m;

	memset(&m, 0, sizeof(m));
	m.local = "alice";
	m.domain = "a.example";
	m.kind = STORE_KIND_MESSAGE;
	m.body = "hi";
	m.to = "romeo@b.example/balcony";
	CHECK(store_outbox_add(st, &m, NULL) == 0);
	m.to = "b.example";
	CHECK(store_outbox_add(st, &m, NULL) == 0);
	m.to = "juliet@c.example";
	CHECK(store_outbox_add(st, &m, NULL) == 0);
}

static void
instances_case(struct store *st)
{
	struct insts	 is;
	int64_t		 now = time(NULL);

	memset(&is, 0, sizeof(is));
	CHECK(store_instance_beat(st, "i1", now) == 0);
	CHECK(store_instance_beat(st, "i2", now) == 0);
	CHECK(store_instance_beat(st, "i1", now) == 0);
	CHECK(store_flush(st) == 0);
	CHECK(store_instance_list(st, inst_cb, &is) == 0);
	CHECK(is.n == 2);
	CHECK_STR(is.name[0], "i1");
	CHECK(is.heartbeat[0] >= now - 5 && is.heartbeat[0] <= now + 5);
	CHECK(store_instance_del(st, "i2") == 0);
	CHECK(store_flush(st) == 0);
	is.n = 0;
	CHECK(store_instance_list(st, inst_cb, &is) == 0 && is.n == 1);
}

static void
state_init_case(struct store *a, struct store *b)
{
	char	*v = NULL;

	CHECK(store_state_init(a, "dialback_secret", "first", &v) == 0);
	CHECK(v != NULL && strcmp(v, "first") == 0);
	free(v);
	v = NULL;
	CHECK(store_flush(a) == 0);
	CHECK(store_state_init(b, "dialback_secret", "second", &v) == 0);
	CHECK(v != NULL && strcmp(v, "first") == 0);
	free(v);
	CHECK(store_flush(b) == 0);
}

/* ---- SQLite ---- */

static char	 db_path[512];
static int	 ndb_sq;

static struct store *
sq_open(void)
{
	const char	*err = NULL;
	struct store	*st;

	snprintf(db_path, sizeof(db_path), "%s/lease%d.db", t_tmpdir(),
	    ++ndb_sq);
	if ((st = store_open(db_path, STORE_OPEN_CREATE, &err)) == NULL)
		printf("  open: %s\n", err);
	return st;
}

static void
test_sqlite_instances(void)
{
	struct store	*st = sq_open();

	REQUIRE(st != NULL);
	instances_case(st);
	state_init_case(st, st);
	store_close(st);
}

static void
test_sqlite_leases(void)
{
	struct store	*st = sq_open();
	struct leases	 ls;
	int64_t		 n = -1;
	int		 rows = 0, held = 0;

	REQUIRE(st != NULL);
	REQUIRE(store_user_add(st, "alice", "a.example", NULL, NULL) == 0);
	queue_rows(st);
	CHECK(store_shared(st) == 0);	/* one daemon per file */
	CHECK(store_lease_claim(st, "old", 30, &n) == 0 && n == 2);
	CHECK(store_flush(st) == 0);
	/* one daemon per SQLite file: a new name takes what an old run held */
	CHECK(store_lease_claim(st, "new", 30, &n) == 0 && n == 2);
	CHECK(store_lease_claim(st, "new", 30, &n) == 0 && n == 0);
	memset(&ls, 0, sizeof(ls));
	CHECK(store_lease_list(st, NULL, lease_cb, &ls) == 0 && ls.n == 2);
	CHECK_STR(ls.remote[0], "b.example");
	CHECK_STR(ls.holder[0], "new");
	CHECK_STR(ls.remote[1], "c.example");
	CHECK(store_outbox_due_held(st, "new", time(NULL), 0, count_row,
	    &rows) == 0 && rows == 3);
	CHECK(store_lease_take(st, "new", "a.example", "d.example", 30,
	    &held) == 0 && held == 1);
	CHECK(store_lease_renew(st, "new", 30, &n) == 0 && n == 3);
	CHECK(store_lease_release(st, "new") == 0);
	ls.n = 0;
	CHECK(store_lease_list(st, NULL, lease_cb, &ls) == 0 && ls.n == 0);
	CHECK(store_flush(st) == 0);
	store_close(st);
}

/* A version 6 file (the step's tables dropped) is migrated to 7. */
static void
test_sqlite_migrate_5(void)
{
	struct store	*st = sq_open();
	const char	*err = NULL;
	char		 cmd[1200];

	REQUIRE(st != NULL);
	store_close(st);
	snprintf(cmd, sizeof(cmd), "sqlite3 %s 'DROP TABLE leases; "
	    "DROP TABLE instances; PRAGMA user_version = 6'", db_path);
	REQUIRE(system(cmd) == 0);
	REQUIRE((st = store_open(db_path, 0, &err)) != NULL);
	CHECK(store_version(st) == STORE_SCHEMA_VERSION);
	CHECK(store_instance_beat(st, "i1", 1) == 0);
	CHECK(store_lease_release(st, "i1") == 0);
	CHECK(store_flush(st) == 0);
	store_close(st);
}

#ifdef HAVE_LIBPQ

static char	 base_uri[1024];
static char	 uri[1100];
static int	 ndb;

#define raw_exec t_pg_exec

/* Two connections to a new database: two instances. */
static int
pg_two(struct store **a, struct store **b)
{
	const char	*err = NULL;
	char		 sql[64], *q;

	snprintf(sql, sizeof(sql), "CREATE DATABASE l%d", ++ndb);
	if (raw_exec(base_uri, sql) == -1)
		return -1;
	q = strchr(base_uri, '?');
	snprintf(uri, sizeof(uri), "postgresql:///l%d%s", ndb, q ? q : "");
	if ((*a = store_open(uri, STORE_OPEN_CREATE, &err)) == NULL ||
	    (*b = store_open(uri, 0, &err)) == NULL) {
		printf("  open: %s\n", err);
		return -1;
	}
	return 0;
}

static void
test_pg_instances(void)
{
	struct store	*a = NULL, *b = NULL;

	REQUIRE(pg_two(&a, &b) == 0);
	CHECK(store_version(a) == STORE_SCHEMA_VERSION);
	instances_case(a);
	state_init_case(a, b);
	store_close(a);
	store_close(b);
}

/* A version 6 database (the step's tables dropped) is migrated to 7. */
static void
test_pg_migrate_5(void)
{
	struct store	*a = NULL, *b = NULL;
	const char	*err = NULL;

	REQUIRE(pg_two(&a, &b) == 0);
	store_close(a);
	store_close(b);
	REQUIRE(raw_exec(uri, "DROP TABLE leases; DROP TABLE instances; "
	    "DROP INDEX outbox_pair; "
	    "DELETE FROM xfed_schema WHERE version >= 7") == 0);
	REQUIRE((a = store_open(uri, 0, &err)) != NULL);
	CHECK(store_version(a) == STORE_SCHEMA_VERSION);
	CHECK(store_instance_beat(a, "i1", 1) == 0);
	CHECK(store_lease_release(a, "i1") == 0);
	CHECK(store_flush(a) == 0);
	store_close(a);
}

static void
test_pg_leases(void)
{
	struct store	*a = NULL, *b = NULL;
	struct leases	 ls;
	int64_t		 n = -1;
	int		 rows, held = -1;

	REQUIRE(pg_two(&a, &b) == 0);
	REQUIRE(store_user_add(a, "alice", "a.example", NULL, NULL) == 0);
	queue_rows(a);
	CHECK(store_flush(a) == 0);
	CHECK(store_lease_claim(a, "A", 30, &n) == 0 && n == 2);
	CHECK(store_flush(a) == 0);
	/* held and unexpired: B gets nothing, reads nothing */
	CHECK(store_lease_claim(b, "B", 30, &n) == 0 && n == 0);
	rows = 0;
	CHECK(store_outbox_due_held(b, "B", time(NULL), 0, count_row,
	    &rows) == 0 && rows == 0);
	rows = 0;
	CHECK(store_outbox_due_held(a, "A", time(NULL), 0, count_row,
	    &rows) == 0 && rows == 3);
	CHECK(store_lease_take(b, "B", "a.example", "b.example", 30,
	    &held) == 0 && held == 0);
	CHECK(store_lease_take(b, "B", "a.example", "e.example", 30,
	    &held) == 0 && held == 1);
	CHECK(store_flush(b) == 0);
	CHECK(store_shared(a) == 1);
	/* expired but within the grace (ttl / 2): A reads nothing more, and
	 * B takes nothing yet (what A wrote may still be on its way) */
	CHECK(raw_exec(uri, "UPDATE leases SET expiry = "
	    "floor(extract(epoch FROM clock_timestamp()))::bigint - 2 "
	    "WHERE holder = 'A'") == 0);
	rows = 0;
	CHECK(store_outbox_due_held(a, "A", time(NULL), 0, count_row,
	    &rows) == 0 && rows == 0);
	CHECK(store_lease_claim(b, "B", 30, &n) == 0 && n == 0);
	CHECK(store_lease_take(b, "B", "a.example", "b.example", 30,
	    &held) == 0 && held == 0);
	CHECK(store_flush(b) == 0);
	/* A's leases expire (its renewals stopped): B takes them over */
	CHECK(raw_exec(uri, "UPDATE leases SET expiry = expiry - 100 "
	    "WHERE holder = 'A'") == 0);
	CHECK(store_lease_claim(b, "B", 30, &n) == 0 && n == 2);
	CHECK(store_flush(b) == 0);
	rows = 0;
	CHECK(store_outbox_due_held(a, "A", time(NULL), 0, count_row,
	    &rows) == 0 && rows == 0);
	rows = 0;
	CHECK(store_outbox_due_held(b, "B", time(NULL), 0, count_row,
	    &rows) == 0 && rows == 3);
	CHECK(store_lease_renew(a, "A", 30, &n) == 0 && n == 0);
	CHECK(store_lease_renew(b, "B", 30, &n) == 0 && n == 3);
	CHECK(store_flush(a) == 0 && store_flush(b) == 0);
	memset(&ls, 0, sizeof(ls));
	CHECK(store_lease_list(a, "B", lease_cb, &ls) == 0 && ls.n == 3);
	CHECK_STR(ls.holder[1], "B");
	/* a clean stop frees them at once */
	CHECK(store_lease_release(b, "B") == 0);
	CHECK(store_flush(b) == 0);
	CHECK(store_lease_claim(a, "A", 30, &n) == 0 && n == 2);
	CHECK(store_flush(a) == 0);
	store_close(a);
	store_close(b);
}

#endif	/* HAVE_LIBPQ */

static const struct t_case cases[] = {
	{ "sqlite_instances", test_sqlite_instances },
	{ "sqlite_leases", test_sqlite_leases },
	{ "sqlite_migrate_5", test_sqlite_migrate_5 },
#ifdef HAVE_LIBPQ
	{ "pg_instances", test_pg_instances },
	{ "pg_migrate_5", test_pg_migrate_5 },
	{ "pg_leases", test_pg_leases },
#endif
};

int
main(int argc, char **argv)
{
	int	 rc;

#ifdef HAVE_LIBPQ
	if (t_pg_start(base_uri, sizeof(base_uri)) == -1) {
		t_pg_stop();
		return 1;
	}
#endif
	rc = T_RUN(cases, argc, argv);
#ifdef HAVE_LIBPQ
	t_pg_stop();
#endif
	return rc;
}
