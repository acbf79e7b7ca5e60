/*
 * tests/unit/store_pg_test.c: the PostgreSQL store on a real PostgreSQL 15
 * started for the run (tests/sh/pg.sh, a temporary data directory, a Unix
 * socket, stopped by PID at exit), or on XFED_TEST_PG (a connection URI)
 * when set. Each case gets a database of its own. Covers what the daemon
 * and xfedctl use: open and the schema, users, presence, batching and
 * its errors, inbox, outbox and the subscription triggers, the journal
 * seen from a second connection through NOTIFY, S2S state, explicit
 * transactions, and reconnection after the server ended the session.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>

#ifdef HAVE_LIBPQ
#include <libpq-fe.h>
#endif

#include "store/store.h"
#include "tests/t.h"

#ifdef HAVE_LIBPQ

static char	 base_uri[1024];	/* the server's database xfed */
static char	 uri[1100];		/* this case's database */
static int	 ndb;

/* Runs sql on the database of u; 0 or -1 (printed). */
#define raw_exec t_pg_exec

static long long
raw_int(const char *u, const char *sql)
{
	PGconn		*c = PQconnectdb(u);
	PGresult	*r;
	long long	 v = -1;

	if (PQstatus(c) == CONNECTION_OK) {
		r = PQexec(c, sql);
		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
			v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
	}
	PQfinish(c);
	return v;
}

/* A new, empty database for this case; its URI in uri. */
static const char *
new_db(void)
{
	char	 sql[64];
	char	*q;

	snprintf(sql, sizeof(sql), "CREATE DATABASE t%d", ++ndb);
	if (raw_exec(base_uri, sql) == -1)
		return NULL;
	/* postgresql:///xfed?host=... -> postgresql:///tN?host=... */
	q = strchr(base_uri, '?');
	snprintf(uri, sizeof(uri), "postgresql:///t%d%s", ndb, q ? q : "");
	return uri;
}

static struct store *
open_new(void)
{
	const char	*err = NULL;
	struct store	*st;

	if (new_db() == NULL)
		return NULL;
	if ((st = store_open(uri, STORE_OPEN_CREATE, &err)) == NULL)
		printf("  open: %s\n", err);
	return st;
}

static struct store *
open_again(void)
{
	const char	*err = NULL;
	struct store	*st;

	if ((st = store_open(uri, 0, &err)) == NULL)
		printf("  open: %s\n", err);
	return st;
}

static void
test_open_creates_current(void)
{
	struct store	*st = open_new(), *b;

	REQUIRE(st != NULL);
	CHECK(store_version(st) == STORE_SCHEMA_VERSION);
	CHECK(raw_int(uri, "SELECT max(version) FROM xfed_schema") ==
	    STORE_SCHEMA_VERSION);
	CHECK(raw_int(uri, "SELECT count(*) FROM pg_tables WHERE "
	    "tablename IN ('users', 'presence', 'subscriptions', "
	    "'remote_presence', 'inbox', 'outbox', 's2s_state', 'changes', "
	    "'api_tokens', 'events', 'webhooks', 'directed', 'departed', "
	    "'domain_rules', 'blocks')") == 15);
	/* a second open finds it current and changes nothing */
	REQUIRE((b = open_again()) != NULL);
	CHECK(store_version(b) == STORE_SCHEMA_VERSION);
	CHECK(raw_int(uri, "SELECT count(*) FROM xfed_schema") ==
	    STORE_SCHEMA_VERSION);
	store_close(b);
	store_close(st);
}

static void
test_open_refuses(void)
{
	const char	*err = NULL;
	struct store	*st;
	char		 bad[1200];

	/* a database of another program */
	REQUIRE(new_db() != NULL);
	REQUIRE(raw_exec(uri, "CREATE TABLE t (a int)") == 0);
	CHECK(store_open(uri, STORE_OPEN_CREATE, &err) == NULL);
	CHECK(err != NULL && strstr(err, "not an xfed store") != NULL);
	/* a newer schema */
	REQUIRE((st = open_new()) != NULL);
	store_close(st);
	REQUIRE(raw_exec(uri, "INSERT INTO xfed_schema (version) "
	    "VALUES (99)") == 0);
	err = NULL;
	CHECK(store_open(uri, 0, &err) == NULL);
	CHECK(err != NULL && strstr(err, "schema version 99 is newer") != NULL);
	/* no such database: one line naming it */
	snprintf(bad, sizeof(bad), "%s", uri);
	memcpy(strstr(bad, "///t") + 3, "nx", 2);
	err = NULL;
	CHECK(store_open(bad, 0, &err) == NULL);
	CHECK(err != NULL && strstr(err, "does not exist") != NULL &&
	    strchr(err, '\n') == NULL);
	/* a password in the URI is not repeated in messages */
	snprintf(bad, sizeof(bad), "postgresql://xfed:s3cret@/nx?host=%s&"
	    "port=5432", t_pg_dir()[0] ? t_pg_dir() : "/nonexistent");
	err = NULL;
	CHECK(store_open(bad, 0, &err) == NULL);
	CHECK(err != NULL && strstr(err, "s3cret") == NULL &&
	    strstr(err, "postgresql://xfed:@/nx") != NULL);
}

static int	 seen_n;
static char	 seen_name[64];
static size_t	 seen_avatar;

static int
user_cb(void *arg, const struct store_user *u)
{
	seen_n++;
	snprintf(seen_name, sizeof(seen_name), "%s", u->name ? u->name : "-");
	seen_avatar = u->avatar_len;
	if (u->avatar != NULL && u->avatar_len >= 4)
		CHECK(memcmp(u->avatar, "\x89PNG", 4) == 0);
	return 0;
}

static void
test_users(void)
{
	struct store		*st = open_new();
	struct store_user	 u;
	int64_t			 id = 0, id2 = 0;
	unsigned char		 png[100];

	REQUIRE(st != NULL);
	CHECK(store_user_add(st, "alice", "a.example", "Alice", &id) == 0);
	CHECK(id > 0);
	CHECK(store_user_add(st, "bob", "a.example", NULL, NULL) == 0);
	CHECK(store_user_add(st, "alice", "a.example", NULL, NULL) == -1);
	CHECK(store_errcode(st) == STORE_E_EXISTS);
	CHECK(strstr(store_errstr(st), "alice@a.example already exists") != NULL);
	/* the refused row did not abort the batch */
	CHECK(store_pending(st) == 1);
	CHECK(store_user_find(st, "bob", "a.example", &id2) == 1 && id2 > id);
	CHECK(store_flush(st) == 0);
	CHECK(store_pending(st) == 0);
	CHECK(raw_int(uri, "SELECT count(*) FROM users") == 2);
	CHECK(store_user_find(st, "carol", "a.example", NULL) == 0);
	/* a CHECK of the schema is STORE_E_INVALID */
	CHECK(store_user_add(st, "a@b", "a.example", NULL, NULL) == -1);
	CHECK(store_errcode(st) == STORE_E_INVALID);

	seen_n = 0;
	CHECK(store_user_get(st, "alice", "a.example", user_cb, NULL) == 0);
	CHECK(seen_n == 1);
	CHECK_STR(seen_name, "Alice");
	CHECK(store_user_get(st, "nobody", "a.example", user_cb, NULL) == -1);
	CHECK(store_errcode(st) == STORE_E_NOTFOUND);
	/* avatar bytes with NULs go through binary */
	memset(png, 0, sizeof(png));
	memcpy(png, "\x89PNG\r\n\x1a\n", 8);
	memset(&u, 0, sizeof(u));
	u.id = id;
	u.name = "Alice A.";
	u.avatar = png;
	u.avatar_len = sizeof(png);
	u.avatar_type = "image/png";
	CHECK(store_user_update(st, &u) == 0);
	seen_n = 0;
	CHECK(store_user_get_id(st, id, user_cb, NULL) == 0);
	CHECK(seen_n == 1 && seen_avatar == sizeof(png));
	CHECK_STR(seen_name, "Alice A.");
	u.id = 999999;
	CHECK(store_user_update(st, &u) == -1);
	CHECK(store_errcode(st) == STORE_E_NOTFOUND);
	seen_n = 0;
	CHECK(store_user_list(st, NULL, user_cb, NULL) == 0 && seen_n == 2);
	seen_n = 0;
	CHECK(store_user_list(st, "b.example", user_cb, NULL) == 0 &&
	    seen_n == 0);
	CHECK(store_user_del(st, "bob", "a.example") == 0);
	CHECK(store_user_del(st, "bob", "a.example") == -1);
	CHECK(store_errcode(st) == STORE_E_NOTFOUND);
	store_close(st);		/* commits the batch */
	CHECK(raw_int(uri, "SELECT count(*) FROM users") == 1);
	CHECK(raw_int(uri, "SELECT count(*) FROM events WHERE type = 'user'")
	    == 4);
}

static void
test_presence(void)
{
	struct store		*st = open_new();
	struct store_presence	 p;

	REQUIRE(st != NULL);
	REQUIRE(store_user_add(st, "alice", "a.example", NULL, NULL) == 0);
	CHECK(store_presence_get(st, "alice", "a.example", &p) == 0);
	CHECK(p.show == STORE_SHOW_UNAVAILABLE && p.status == NULL);
	CHECK(store_presence_set(st, "alice", "a.example", STORE_SHOW_AWAY,
	    "lunch", 5) == 0);
	CHECK(store_presence_set(st, "alice", "a.example", STORE_SHOW_DND,
	    "busy", -3) == 0);
	CHECK(store_presence_get(st, "alice", "a.example", &p) == 0);
	CHECK(p.show == STORE_SHOW_DND && p.priority == -3 && p.updated > 0);
	CHECK_STR(p.status, "busy");
	CHECK(store_presence_set(st, "alice", "a.example", STORE_SHOW_AWAY, NULL,
	    200) == -1);
	CHECK(store_errcode(st) == STORE_E_INVALID);
	CHECK(store_presence_set(st, "zed", "a.example", STORE_SHOW_AWAY, NULL,
	    0) == -1);
	CHECK(store_errcode(st) == STORE_E_NOTFOUND);
	CHECK(store_presence_get(st, "zed", "a.example", &p) == -1);
	CHECK(store_errcode(st) == STORE_E_NOTFOUND);
	store_close(st);
}

static int	 batch_calls;

static void
batch_cb(void *arg)
{
	batch_calls++;
}

static int	 inbox_n;
static int64_t	 inbox_last;

static int
inbox_cb(void *arg, const struct store_inbox *m)
{
	inbox_n++;
	inbox_last = m->id;
	CHECK_STR(m->from, "romeo@b.example/r");
	return 0;
}

static void
test_inbox(void)
{
	struct store		*st = open_new();
	struct store_inbox	 m;
	struct store_user	 u;
	int64_t			 id = 0, id2 = 0, n = -1, uid = 0;
	int			 i;

	REQUIRE(st != NULL);
	store_set_batch_cb(st, batch_cb, NULL);
	REQUIRE(store_user_add(st, "alice", "a.example", NULL, &uid) == 0);
	CHECK(batch_calls == 1);
	REQUIRE(store_flush(st) == 0);
	memset(&m, 0, sizeof(m));
	m.local = "alice";
	m.domain = "a.example";
	m.kind = STORE_KIND_MESSAGE;
	m.from = "romeo@b.example/r";
	m.to = "alice@a.example";
	m.type = "chat";
	m.body = "h\xc3\xa9llo 'quoted' \\ $1";
	m.xml = "<message/>";
	m.receipt = 1;
	CHECK(store_inbox_put(st, &m, &id) == 0 && id > 0);
	CHECK(batch_calls == 2);
	m.receipt = 0;
	for (i = 0; i < 50; i++)
		CHECK(store_inbox_put(st, &m, &id2) == 0);
	CHECK(batch_calls == 2);	/* one batch */
	m.local = "nobody";
	CHECK(store_inbox_put(st, &m, NULL) == -1);
	CHECK(store_errcode(st) == STORE_E_NOTFOUND);
	CHECK(store_flush(st) == 0);
	CHECK(raw_int(uri, "SELECT count(*) FROM inbox") == 51);
	CHECK(raw_int(uri, "SELECT count(*) FROM inbox WHERE body = "
	    "'h\xc3\xa9llo ''quoted'' \\ $1'") == 51);
	inbox_n = 0;
	CHECK(store_inbox_list(st, "alice", "a.example", 0, 0, 10, inbox_cb,
	    NULL) == 0 && inbox_n == 10);
	inbox_n = 0;
	CHECK(store_inbox_list(st, NULL, NULL, id, 0, 0, inbox_cb, NULL) == 0 &&
	    inbox_n == 50 && inbox_last == id2);
	CHECK(store_inbox_last(st, &n) == 0 && n == id2);
	CHECK(store_inbox_consume(st, id) == 0);
	CHECK(store_inbox_consume(st, 999999) == -1);
	CHECK(store_errcode(st) == STORE_E_NOTFOUND);
	inbox_n = 0;
	CHECK(store_receipts_due(st, 10, inbox_cb, NULL) == 0 && inbox_n == 1);
	CHECK(store_receipt_sent(st, id) == 0);
	inbox_n = 0;
	CHECK(store_receipts_due(st, 10, inbox_cb, NULL) == 0 && inbox_n == 0);
	CHECK(store_inbox_unconsumed(st, "alice", "a.example", &n) == 0 &&
	    n == 50);
	CHECK(store_inbox_ack(st, "alice", "a.example", id2 - 1, &n) == 0 &&
	    n == 49);
	CHECK(store_inbox_unconsumed_all(st, &n) == 0 && n == 1);
	inbox_n = 0;
	CHECK(store_inbox_get(st, id2, inbox_cb, NULL) == 0 && inbox_n == 1);
	/* a disabled user receives nothing */
	memset(&u, 0, sizeof(u));
	u.id = uid;
	u.disabled = 1;
	CHECK(store_user_update(st, &u) == 0);
	m.local = "alice";
	CHECK(store_inbox_put(st, &m, NULL) == -1);
	CHECK(store_errcode(st) == STORE_E_NOTFOUND);
	CHECK(store_inbox_prune(st, time(NULL) + 10, 100, &n) == 0 && n == 50);
	store_close(st);
}

static int	 out_n;
static enum store_out_state out_state;
static int64_t	 out_id;

static int
outbox_cb(void *arg, const struct store_outbox *m)
{
	out_n++;
	out_state = m->state;
	out_id = m->id;
	return 0;
}

static int	 sub_n;
static struct store_sub sub_seen;

static int
sub_cb(void *arg, const struct store_sub *s)
{
	sub_n++;
	sub_seen = *s;
	sub_seen.local = sub_seen.domain = sub_seen.jid = NULL;
	sub_seen.request = NULL;
	return 0;
}

static int	 q_n;

static int
queued_cb(void *arg, const char *domain, int64_t rows, int64_t oldest)
{
	q_n++;
	CHECK_STR(domain, "b.example");
	CHECK(rows == 1 && oldest > 0);
	return 0;
}

static void
test_outbox(void)
{
	struct store		*st = open_new();
	struct store_outbox	 m;
	struct store_sub	 s;
	int64_t			 id = 0, id2 = 0, n;

	REQUIRE(st != NULL);
	REQUIRE(store_user_add(st, "alice", "a.example", NULL, NULL) == 0);
	memset(&m, 0, sizeof(m));
	m.local = "alice";
	m.domain = "a.example";
	m.kind = STORE_KIND_MESSAGE;
	m.to = "romeo@b.example";
	m.body = "hi";
	CHECK(store_outbox_add(st, &m, &id) == 0 && id > 0);
	m.to = "x";		/* the schema's CHECK: 3 bytes at least */
	CHECK(store_outbox_add(st, &m, NULL) == -1);
	CHECK(store_errcode(st) == STORE_E_INVALID);
	m.local = "nobody";
	m.to = "romeo@b.example";
	CHECK(store_outbox_add(st, &m, NULL) == -1);
	CHECK(store_errcode(st) == STORE_E_NOTFOUND);
	CHECK(store_flush(st) == 0);
	out_n = 0;
	CHECK(store_outbox_due(st, time(NULL), 10, outbox_cb, NULL) == 0 &&
	    out_n == 1 && out_id == id && out_state == STORE_OUT_QUEUED);
	q_n = 0;
	CHECK(store_outbox_queued(st, queued_cb, NULL) == 0 && q_n == 1);
	CHECK(store_outbox_retry(st, id, time(NULL) + 60, "connect", "refused")
	    == 0);
	out_n = 0;
	CHECK(store_outbox_due(st, time(NULL), 10, outbox_cb, NULL) == 0 &&
	    out_n == 0);
	CHECK(store_outbox_sent(st, id) == 0);
	CHECK(store_outbox_delivered(st, id) == 0);
	out_n = 0;
	CHECK(store_outbox_get(st, id, outbox_cb, NULL) == 0 && out_n == 1 &&
	    out_state == STORE_OUT_DELIVERED);
	CHECK(store_outbox_failed(st, 999999, "dns", "x", NULL) == -1);
	CHECK(store_errcode(st) == STORE_E_NOTFOUND);
	CHECK(store_outbox_retry(st, id, 0, "nonsense", "x") == -1);
	CHECK(store_errcode(st) == STORE_E_INVALID);
	CHECK(store_flush(st) == 0);
	CHECK(raw_int(uri, "SELECT attempts FROM outbox") == 2);

	/* RFC 6121 3.1.2: subscribe makes the request pending */
	m.local = "alice";
	m.kind = STORE_KIND_SUBSCRIBE;
	m.body = NULL;
	CHECK(store_outbox_add(st, &m, &id2) == 0);
	sub_n = 0;
	CHECK(store_sub_get(st, "alice", "a.example", "romeo@b.example", sub_cb,
	    NULL) == 0 && sub_n == 1 && sub_seen.pending_out == 1 &&
	    sub_seen.state == STORE_SUB_NONE);
	/* 3.4: subscribed with no request pending pre-approves, not sent */
	m.to = "juliet@b.example";
	m.kind = STORE_KIND_SUBSCRIBED;
	CHECK(store_outbox_add(st, &m, &id2) == 0);
	out_n = 0;
	CHECK(store_outbox_get(st, id2, outbox_cb, NULL) == 0 &&
	    out_state == STORE_OUT_DONE);
	CHECK(store_sub_get(st, "alice", "a.example", "juliet@b.example", sub_cb,
	    NULL) == 0 && sub_seen.preapproved == 1);
	/* 3.2: unsubscribed cancels it; the empty row goes */
	m.kind = STORE_KIND_UNSUBSCRIBED;
	CHECK(store_outbox_add(st, &m, &id2) == 0);
	CHECK(store_sub_get(st, "alice", "a.example", "juliet@b.example", sub_cb,
	    NULL) == -1 && store_errcode(st) == STORE_E_NOTFOUND);
	/* inbound transitions are stored with sub_put */
	memset(&s, 0, sizeof(s));
	s.local = "alice";
	s.domain = "a.example";
	s.jid = "romeo@b.example";
	s.state = STORE_SUB_BOTH;
	CHECK(store_sub_put(st, &s) == 0);
	sub_n = 0;
	CHECK(store_sub_list(st, "alice", "a.example", sub_cb, NULL) == 0 &&
	    sub_n == 1 && sub_seen.state == STORE_SUB_BOTH &&
	    sub_seen.pending_out == 0);
	s.state = STORE_SUB_NONE;
	CHECK(store_sub_put(st, &s) == 0);
	sub_n = 0;
	CHECK(store_sub_list(st, "alice", "a.example", sub_cb, NULL) == 0 &&
	    sub_n == 0);
	CHECK(store_outbox_prune(st, time(NULL) + 10, 100, &n) == 0 && n == 3);
	store_close(st);
}

static int	 ch_n, ch_users, ch_outbox;

static void
change_cb(void *arg, const struct store_change *c)
{
	ch_n++;
	if (c->table == STORE_T_USERS)
		ch_users++;
	if (c->table == STORE_T_OUTBOX)
		ch_outbox++;
}

/* Polls a until it reports something, at most 5 s. */
static int
poll_some(struct store *a)
{
	int	 i, n = 0;

	for (i = 0; i < 500 && n == 0; i++) {
		if ((n = store_changes_poll(a, change_cb, NULL)) == 0)
			usleep(10000);
	}
	return n;
}

static void
test_journal_notify(void)
{
	struct store	*a = open_new(), *b;
	char		 sql[256];

	REQUIRE(a != NULL);
	REQUIRE((b = open_again()) != NULL);
	CHECK(store_changes_poll(a, change_cb, NULL) == 0);
	REQUIRE(store_user_add(b, "alice", "a.example", NULL, NULL) == 0);
	/* nothing before the commit */
	usleep(50000);
	CHECK(store_changes_poll(a, change_cb, NULL) == 0);
	REQUIRE(store_flush(b) == 0);
	ch_n = ch_users = ch_outbox = 0;
	CHECK(poll_some(a) == 1 && ch_users == 1);
	CHECK(store_changes_poll(a, change_cb, NULL) == 0);
	/* a native system's own INSERT, as psql would make it */
	snprintf(sql, sizeof(sql), "INSERT INTO outbox (user_id, to_jid, "
	    "body) SELECT id, 'romeo@b.example', 'x' FROM users");
	REQUIRE(raw_exec(uri, sql) == 0);
	ch_n = ch_users = ch_outbox = 0;
	CHECK(poll_some(a) == 1 && ch_outbox == 1);
	/* rules and blocks are journaled too */
	CHECK(store_domain_rule_set(b, "evil.example", STORE_RULE_BLOCK) == 0);
	CHECK(store_block_add(b, "alice", "a.example", "x@evil.example") == 0);
	CHECK(store_block_add(b, "alice", "a.example", "x@evil.example") == -1);
	CHECK(store_errcode(b) == STORE_E_EXISTS);
	CHECK(store_flush(b) == 0);
	ch_n = 0;
	CHECK(poll_some(a) == 2);
	CHECK(store_changes_prune(a, time(NULL) + 10, 100, NULL) == 0);
	CHECK(store_flush(a) == 0);
	CHECK(raw_int(uri, "SELECT count(*) FROM changes") == 0);
	store_close(b);
	store_close(a);
}

/* 1 when fd becomes readable within ms. */
static int
readable(int fd, int ms)
{
	struct pollfd	 p = { fd, POLLIN, 0 };

	return poll(&p, 1, ms) == 1;
}

static void
test_watch_fd(void)
{
	struct store	*a = open_new(), *b;
	int64_t		 id;
	int		 fd, i, rc, seen;

	REQUIRE(a != NULL);
	REQUIRE((b = open_again()) != NULL);
	REQUIRE((fd = store_watch_fd(a)) >= 0);
	CHECK(!readable(fd, 100));
	REQUIRE(store_user_add(b, "alice", "a.example", NULL, NULL) == 0);
	REQUIRE(store_flush(b) == 0);
	CHECK(readable(fd, 5000));
	ch_n = 0;
	CHECK(store_changes_poll(a, change_cb, NULL) == 1 && ch_n == 1);
	CHECK(!readable(fd, 100));
	/* a NOTIFY that a's own query read first still wakes the watcher */
	REQUIRE(store_presence_set(b, "alice", "a.example", STORE_SHOW_AWAY,
	    NULL, 0) == 0);
	REQUIRE(store_flush(b) == 0);
	usleep(200000);
	CHECK(store_user_find(a, "alice", "a.example", &id) == 1);
	CHECK(readable(fd, 5000));
	ch_n = 0;
	CHECK(store_changes_poll(a, change_cb, NULL) == 1 && ch_n == 1);
	CHECK(!readable(fd, 100));
	/* the same fd after a reconnection, watching the new socket */
	REQUIRE(raw_exec(uri, "SELECT pg_terminate_backend(pid) FROM "
	    "pg_stat_activity WHERE application_name = 'xfed' AND "
	    "datname = current_database() AND pid <> pg_backend_pid()") == 0);
	usleep(100000);
	store_close(b);
	/* the watcher wakes for the ended session, the poll fails, the dead
	 * socket leaves the set; the next call reconnects */
	for (i = 0, rc = -1, seen = 0; i < 100 && !(seen && rc == 0); i++) {
		if (!seen && !readable(fd, 50))
			continue;
		if ((rc = store_changes_poll(a, change_cb, NULL)) == -1) {
			seen = 1;
			CHECK(!readable(fd, 0));
			usleep(20000);
		}
	}
	CHECK(seen && rc == 0);
	CHECK(store_watch_fd(a) == fd);
	REQUIRE((b = open_again()) != NULL);
	REQUIRE(store_user_add(b, "bob", "a.example", NULL, NULL) == 0);
	REQUIRE(store_flush(b) == 0);
	CHECK(readable(fd, 5000));
	ch_n = 0;
	rc = store_changes_poll(a, change_cb, NULL);
	CHECK(rc == 1 && ch_n == 1);
	if (rc != 1)
		printf("  poll: %d %s\n", rc, store_errstr(a));
	store_close(b);
	store_close(a);
}

static void
test_state_and_txn(void)
{
	struct store	*st = open_new();
	char		*v = NULL;

	REQUIRE(st != NULL);
	CHECK(store_state_get(st, "k", &v) == -1);
	CHECK(store_errcode(st) == STORE_E_NOTFOUND);
	CHECK(store_state_set(st, "k", "one") == 0);
	CHECK(store_state_set(st, "k", "two") == 0);
	CHECK(store_state_get(st, "k", &v) == 0);
	CHECK_STR(v, "two");
	free(v);
	/* begin commits the open batch first */
	CHECK(store_begin(st) == 0);
	CHECK(raw_int(uri, "SELECT count(*) FROM s2s_state") == 1);
	CHECK(store_begin(st) == -1);
	CHECK(store_user_add(st, "alice", "a.example", NULL, NULL) == 0);
	CHECK(store_pending(st) == 0);
	CHECK(store_rollback(st) == 0);
	CHECK(raw_int(uri, "SELECT count(*) FROM users") == 0);
	CHECK(store_begin(st) == 0);
	CHECK(store_user_add(st, "alice", "a.example", NULL, NULL) == 0);
	CHECK(store_commit(st) == 0);
	CHECK(raw_int(uri, "SELECT count(*) FROM users") == 1);
	CHECK(store_commit(st) == -1);
	store_close(st);
}

static void
test_reconnect(void)
{
	struct store		*st = open_new();
	struct store_stats	 ss;
	int64_t			 id;
	int			 i, rc = -1;

	REQUIRE(st != NULL);
	REQUIRE(store_user_add(st, "alice", "a.example", NULL, NULL) == 0);
	REQUIRE(store_flush(st) == 0);
	/* the server ends the session (a restart, an administrator) */
	REQUIRE(raw_exec(uri, "SELECT pg_terminate_backend(pid) FROM "
	    "pg_stat_activity WHERE application_name = 'xfed' AND "
	    "datname = current_database()") == 0);
	usleep(100000);
	CHECK(store_user_find(st, "alice", "a.example", &id) == -1);
	CHECK(store_errcode(st) == STORE_E_DB);
	/* the next calls reconnect (within the backoff) and prepare again */
	for (i = 0; i < 100 && rc != 1; i++) {
		rc = store_user_find(st, "alice", "a.example", &id);
		if (rc != 1)
			usleep(20000);
	}
	CHECK(rc == 1);
	CHECK(store_user_add(st, "bob", "a.example", NULL, NULL) == 0);
	CHECK(store_flush(st) == 0);
	CHECK(raw_int(uri, "SELECT count(*) FROM users") == 2);
	/* a batch lost with its connection fails the flush */
	CHECK(store_user_add(st, "carol", "a.example", NULL, NULL) == 0);
	REQUIRE(raw_exec(uri, "SELECT pg_terminate_backend(pid) FROM "
	    "pg_stat_activity WHERE application_name = 'xfed' AND "
	    "datname = current_database()") == 0);
	usleep(100000);
	CHECK(store_flush(st) == -1);
	CHECK(store_errcode(st) == STORE_E_DB);
	CHECK(store_pending(st) == 0);
	store_stats(st, &ss);
	CHECK(ss.failures >= 2);
	store_close(st);
	CHECK(raw_int(uri, "SELECT count(*) FROM users") == 2);
}

/* A lock another session holds: the wait is bounded, then STORE_E_DB. */
static void
test_lock_timeout(void)
{
	struct store	*a = open_new(), *b;
	struct store_user u;
	int64_t		 id = 0;

	REQUIRE(a != NULL);
	REQUIRE(store_user_add(a, "alice", "a.example", NULL, &id) == 0);
	REQUIRE(store_flush(a) == 0);
	REQUIRE((b = open_again()) != NULL);
	REQUIRE(store_begin(b) == 0);
	REQUIRE(store_presence_set(b, "alice", "a.example", STORE_SHOW_AWAY,
	    NULL, 0) == 0);
	memset(&u, 0, sizeof(u));
	u.id = id;
	/* b holds the journal's lock and alice's presence row: a's write
	 * waits 10 ms (the daemon's setting while its store fails), fails */
	store_busy_timeout(a, 0);
	CHECK(store_presence_set(a, "alice", "a.example", STORE_SHOW_DND,
	    NULL, 0) == -1);
	CHECK(store_errcode(a) == STORE_E_DB);
	CHECK(strstr(store_errstr(a), "lock") != NULL);
	CHECK(store_rollback(a) == 0);
	REQUIRE(store_commit(b) == 0);
	store_busy_timeout(a, 1);
	CHECK(store_user_update(a, &u) == 0);
	CHECK(store_flush(a) == 0);
	store_close(b);
	store_close(a);
}

static int	 told_n;

static void
told_cb(void *arg, enum store_err code, const char *why)
{
	told_n++;
}

/* n rows "tag i" to alice, row nobody (-1: none) to no user. */
static void
put_rows(struct store *st, const char *tag, int n, int nobody)
{
	struct store_inbox	 m;
	char			 body[32];
	int			 i;

	memset(&m, 0, sizeof(m));
	m.domain = "a.example";
	m.kind = STORE_KIND_MESSAGE;
	m.from = "romeo@b.example/r";
	m.to = "alice@a.example";
	m.xml = "<message/>";
	m.body = body;
	for (i = 0; i < n; i++) {
		snprintf(body, sizeof(body), "%s %d", tag, i);
		m.local = i == nobody ? "nobody" : "alice";
		CHECK(store_inbox_put_later(st, &m, told_cb, NULL) == 0);
	}
}

/* The rows sent again, as the daemon does, until a commit takes them
 * (reconnected within the backoff): the last poll's answer. */
static int
commit_again(struct store *st, const char *tag, int n, const char *tag2,
    int n2)
{
	int	 i, rc = -1;

	for (i = 0; i < 100 && rc != 1; i++) {
		put_rows(st, tag, n, -1);
		if (tag2 != NULL)
			put_rows(st, tag2, n2, -1);
		if ((rc = store_flush_async(st)) == 1)
			rc = store_flush_poll(st, 1);
		if (rc != 1) {
			store_rollback(st);
			usleep(20000);
		}
	}
	return rc;
}

/*
 * store_flush_async(): the batch's rows and COMMIT go out and the call
 * returns; rows queued meanwhile are the next batch; a row to no user is
 * refused alone when the answer comes. Then a commit in flight that
 * fails (PostgreSQL ends the session while the INSERT waits for a lock
 * another session holds): poll says so, nothing of it nor of the batch
 * after it is stored, nothing is told as refused, and the same rows
 * sent again once reconnected are stored once.
 */
static void
test_async_commit(void)
{
	struct store	*st = open_new();
	PGconn		*c;
	PGresult	*r;

	REQUIRE(st != NULL);
	REQUIRE(store_user_add(st, "alice", "a.example", NULL, NULL) == 0);
	REQUIRE(store_flush(st) == 0);
	told_n = 0;
	put_rows(st, "a", 300, 150);
	CHECK(store_flush_async(st) == 1);
	CHECK(!store_pending(st));
	CHECK(store_flush_fd(st) >= 0);
	put_rows(st, "b", 10, -1);		/* the next batch */
	CHECK(store_pending(st));
	CHECK(store_flush_poll(st, 1) == 1);
	CHECK(told_n == 1);			/* row a 150, alone */
	CHECK(store_flush_poll(st, 0) == 1);	/* nothing in flight */
	CHECK(store_flush(st) == 0);
	CHECK(raw_int(uri, "SELECT count(*) FROM inbox") == 309);
	CHECK(raw_int(uri, "SELECT count(*) FROM inbox WHERE body = 'a 150'")
	    == 0);

	/* a lock another session holds keeps the commit in flight */
	c = PQconnectdb(uri);
	REQUIRE(PQstatus(c) == CONNECTION_OK);
	r = PQexec(c, "BEGIN; LOCK TABLE inbox IN ACCESS EXCLUSIVE MODE");
	REQUIRE(PQresultStatus(r) == PGRES_COMMAND_OK);
	PQclear(r);
	told_n = 0;
	put_rows(st, "c", 100, -1);
	CHECK(store_flush_async(st) == 1);
	CHECK(store_flush_poll(st, 0) == 0);
	put_rows(st, "d", 5, -1);		/* the next batch */
	r = PQexec(c, "SELECT pg_terminate_backend(pid) FROM "
	    "pg_stat_activity WHERE application_name = 'xfed' AND "
	    "datname = current_database()");
	CHECK(PQresultStatus(r) == PGRES_TUPLES_OK);
	PQclear(r);
	CHECK(store_flush_poll(st, 1) == -1);
	CHECK(store_errcode(st) == STORE_E_DB);
	/* the batch after it cannot commit: the daemon rolls it back */
	CHECK(store_flush(st) == -1);
	CHECK(store_rollback(st) == 0);
	CHECK(!store_pending(st));
	PQclear(PQexec(c, "COMMIT"));
	PQfinish(c);
	CHECK(told_n == 0);
	CHECK(raw_int(uri, "SELECT count(*) FROM inbox") == 309);
	/* again, as the daemon does: reconnected within the backoff */
	CHECK(commit_again(st, "c", 100, "d", 5) == 1);
	CHECK(told_n == 0);
	store_close(st);
	CHECK(raw_int(uri, "SELECT count(*) FROM inbox") == 414);
	CHECK(raw_int(uri, "SELECT count(DISTINCT body) FROM inbox") == 414);
}

/* Ends the sessions named xfed from another connection c. */
static void
kill_xfed(PGconn *c)
{
	PGresult	*r;

	r = PQexec(c, "SELECT pg_terminate_backend(pid) FROM "
	    "pg_stat_activity WHERE application_name = 'xfed' AND "
	    "datname = current_database()");
	CHECK(PQresultStatus(r) == PGRES_TUPLES_OK);
	PQclear(r);
}

/*
 * The connection reset by another caller (the watcher, a transaction's
 * BEGIN) while a commit is in flight: the commit ends as failed, with a
 * reason, rather than waiting on the new connection for an answer that
 * never comes; the connection is out of pipeline mode and takes the
 * rows again.
 */
static void
test_async_reset(void)
{
	struct store	*st = open_new();
	PGconn		*c;
	PGresult	*r;
	int		 i, how;

	REQUIRE(st != NULL);
	REQUIRE(store_user_add(st, "alice", "a.example", NULL, NULL) == 0);
	REQUIRE(store_flush(st) == 0);
	/* the statement is prepared before the lock is taken */
	REQUIRE(commit_again(st, "p", 1, NULL, 0) == 1);
	for (how = 0; how < 2; how++) {
		c = PQconnectdb(uri);
		REQUIRE(PQstatus(c) == CONNECTION_OK);
		r = PQexec(c, "BEGIN; LOCK TABLE inbox IN ACCESS EXCLUSIVE "
		    "MODE");
		REQUIRE(PQresultStatus(r) == PGRES_COMMAND_OK);
		PQclear(r);
		told_n = 0;
		put_rows(st, how ? "f" : "e", 50, -1);
		CHECK(store_flush_async(st) == 1);
		CHECK(store_flush_poll(st, 0) == 0);
		kill_xfed(c);
		PQclear(PQexec(c, "COMMIT"));
		PQfinish(c);
		if (how == 0) {
			/* the watcher sees the socket closed, then resets */
			for (i = 0; i < 200 && store_changed(st) != -1; i++)
				usleep(10000);
			for (i = 0; i < 200 && store_changed(st) == -1; i++)
				usleep(10000);
		} else {
			for (i = 0; i < 200 && store_begin(st) == -1; i++)
				usleep(10000);
			CHECK(store_rollback(st) == 0);
		}
		CHECK(store_flush_poll(st, 1) == -1);
		CHECK(store_errcode(st) == STORE_E_DB);
		CHECK(store_errstr(st)[0] != '\0' &&
		    strcmp(store_errstr(st), "commit: ") != 0);
		CHECK(store_flush_poll(st, 0) == 1);	/* nothing in flight */
		CHECK(told_n == 0);
		CHECK(commit_again(st, how ? "f" : "e", 50, NULL, 0) == 1);
	}
	store_close(st);
	CHECK(raw_int(uri, "SELECT count(*) FROM inbox") == 101);
	CHECK(raw_int(uri, "SELECT count(DISTINCT body) FROM inbox") == 101);
}

static int	 ev_n;

static int
event_cb(void *arg, const struct store_event *e)
{
	ev_n++;
	return 0;
}

static void
test_api_tables(void)
{
	struct store	*st = open_new();
	int64_t		 id = 0, last = 0, n = 0;
	char		 hash[65];

	REQUIRE(st != NULL);
	memset(hash, 'a', 64);
	hash[64] = '\0';
	CHECK(store_token_add(st, "t1", hash, STORE_SCOPE_ADMIN, &id) == 0);
	CHECK(store_token_add(st, "t1", hash, STORE_SCOPE_READ, NULL) == -1);
	CHECK(store_errcode(st) == STORE_E_EXISTS);
	CHECK(store_token_used(st, id, 5) == 0);
	CHECK(store_token_revoke(st, "t2") == -1);
	CHECK(store_errcode(st) == STORE_E_NOTFOUND);
	CHECK(store_user_add(st, "alice", "a.example", NULL, NULL) == 0);
	CHECK(store_flush(st) == 0);
	CHECK(store_event_last(st, &last) == 0 && last > 0);
	ev_n = 0;
	CHECK(store_event_list(st, 0, 0, event_cb, NULL) == 0 && ev_n == 1);
	CHECK(store_event_count(st, 0, &n) == 0 && n == 1);
	CHECK(store_event_prune(st, last, time(NULL) + 10) == 0);
	store_close(st);
}

static void
test_unreachable(void)
{
	const char	*err = NULL;
	char		 u[600];

	snprintf(u, sizeof(u), "postgresql:///xfed?host=%s/none&port=5432",
	    t_tmpdir());
	CHECK(store_open(u, 0, &err) == NULL);
	CHECK(err != NULL && strstr(err, "No such file") != NULL);
}

static const struct t_case cases[] = {
	{ "pg_open_creates_current", test_open_creates_current },
	{ "pg_open_refuses", test_open_refuses },
	{ "pg_users", test_users },
	{ "pg_presence", test_presence },
	{ "pg_inbox", test_inbox },
	{ "pg_outbox_and_sub_triggers", test_outbox },
	{ "pg_journal_notify", test_journal_notify },
	{ "pg_watch_fd", test_watch_fd },
	{ "pg_state_and_txn", test_state_and_txn },
	{ "pg_reconnect", test_reconnect },
	{ "pg_lock_timeout", test_lock_timeout },
	{ "pg_async_commit", test_async_commit },
	{ "pg_async_reset", test_async_reset },
	{ "pg_api_tables", test_api_tables },
	{ "pg_unreachable", test_unreachable },
};

int
main(int argc, char **argv)
{
	int	 rc;

	if (t_pg_start(base_uri, sizeof(base_uri)) == -1) {
		t_pg_stop();
		return 1;
	}
	rc = T_RUN(cases, argc, argv);
	t_pg_stop();
	return rc;
}

#else	/* !HAVE_LIBPQ */

static void
test_refused(void)
{
	const char	*err = NULL;

	CHECK(store_open("postgresql:///x", 0, &err) == NULL);
	CHECK(err != NULL && strstr(err, "without PostgreSQL") != NULL);
}

static const struct t_case cases[] = {
	{ "pg_refused_without_libpq", test_refused },
};

int
main(int argc, char **argv)
{
	return T_RUN(cases, argc, argv);
}

#endif
