/*
 * tests/unit/store_test.c: the store on real SQLite files in a temporary
 * directory: opening and refusing files, migrations, every operation and
 * its errors, the outbox subscription triggers, batching across close and
 * reopen, and the change journal seen from a second connection.
 *
 * XFED_TEST_STORE chooses the backend the cases run against. Unset: a
 * fresh SQLite file per case, TMPDIR/xfed-t.XXXXXX/x.db. Set: the store
 * location of every case, where "%s" becomes a name unique to the case
 * ("t" PID "_" N), e.g. /srv/t/%s.db, or a postgresql:// URI whose "%s"
 * names a database or schema the runner provides empty (CREATE makes the
 * tables). Without "%s", the cases share that one store and expect it
 * empty, so run one case at a time (store_test NAME). raw_exec() and
 * raw_int() run SQL on the store as another program would: on a file
 * with sqlite3, on a URI with libpq (HAVE_LIBPQ). Cases marked
 * SQLITE_ONLY() (PRAGMA, the file's bytes, SQLite schema steps) print
 * "skipped" and pass on any other backend.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>
#include <sys/wait.h>

#include <sqlite3.h>
#ifdef HAVE_LIBPQ
#include <libpq-fe.h>
#endif

#include "store/sqlite_int.h"
#include "store/store.h"
#include "tests/t.h"

static char	 db_path[512];	/* the case's store location */

/* A location that is not a file path (a URI such as postgresql://). */
static int
is_uri(const char *loc)
{
	return strstr(loc, "://") != NULL;
}

/* The store location for a new case (XFED_TEST_STORE, above). */
static const char *
tmp_db(void)
{
	static int	 n;
	const char	*tmpl = getenv("XFED_TEST_STORE"), *pct;
	char		 tag[32];

	if (tmpl == NULL || *tmpl == '\0') {
		snprintf(db_path, sizeof(db_path), "%s/x.db", t_tmpdir());
		return db_path;
	}
	snprintf(tag, sizeof(tag), "t%ld_%d", (long)getpid(), ++n);
	if ((pct = strstr(tmpl, "%s")) == NULL)
		snprintf(db_path, sizeof(db_path), "%s", tmpl);
	else
		snprintf(db_path, sizeof(db_path), "%.*s%s%s",
		    (int)(pct - tmpl), tmpl, tag, pct + 2);
	return db_path;
}

/* The case looks at SQLite itself: on another backend it passes untried. */
#define SQLITE_ONLY() do {						\
	if (getenv("XFED_TEST_STORE") != NULL &&			\
	    is_uri(getenv("XFED_TEST_STORE"))) {			\
		printf("  skipped: SQLite only\n");			\
		return;							\
	}								\
} while (0)

static struct store *
open_new(void)
{
	const char	*err = NULL;
	struct store	*st;

	st = store_open(tmp_db(), STORE_OPEN_CREATE, &err);
	if (st == NULL)
		printf("  open: %s\n", err);
	return st;
}

#ifdef HAVE_LIBPQ
/* SQL on a PostgreSQL store, through a connection of its own; the value
 * of the first column of the first row in *vp when vp is not NULL. */
static int
raw_pg(const char *uri, const char *sql, long long *vp)
{
	PGconn		*c = PQconnectdb(uri);
	PGresult	*r;
	int		 rc = -1;

	/* SQLite's connection setting: PostgreSQL always checks keys */
	if (strncmp(sql, "PRAGMA foreign_keys = ON; ", 26) == 0)
		sql += 26;
	if (PQstatus(c) == CONNECTION_OK) {
		r = PQexec(c, sql);
		if (PQresultStatus(r) == PGRES_COMMAND_OK ||
		    PQresultStatus(r) == PGRES_TUPLES_OK) {
			rc = 0;
			if (vp != NULL && PQntuples(r) > 0)
				*vp = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
			else if (vp != NULL)
				rc = -1;
		} else
			printf("  sql: %s", PQresultErrorMessage(r));
		PQclear(r);
	} else
		printf("  connect: %s", PQerrorMessage(c));
	PQfinish(c);
	return rc;
}
#else
/* A URI's raw SQL needs libpq; without it, the case fails saying so. */
static int
raw_pg(const char *loc, const char *sql, long long *vp)
{
	printf("  %s: raw SQL on a URI needs xfed built with libpq\n", loc);
	return -1;
}
#endif

/* Runs SQL on the store through a plain connection, as another program. */
static int
raw_exec(const char *path, const char *sql)
{
	sqlite3	*db;
	int	 rc;

	if (is_uri(path))
		return raw_pg(path, sql, NULL);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

static long long
raw_int(const char *path, const char *sql)
{
	sqlite3		*db;
	sqlite3_stmt	*q;
	long long	 v = -1;

	if (is_uri(path))
		return raw_pg(path, sql, &v) == 0 ? v : -1;
	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return v;
}

static void
test_open_creates_current(void)
{
	struct store	*st;

	SQLITE_ONLY();
	st = open_new();
	REQUIRE(st != NULL);
	CHECK(store_version(st) == STORE_SCHEMA_VERSION);
	store_close(st);
	CHECK(raw_int(db_path, "PRAGMA user_version") == STORE_SCHEMA_VERSION);
	CHECK(raw_int(db_path, "PRAGMA application_id") == 0x78666564);
	CHECK(raw_int(db_path, "SELECT count(*) FROM sqlite_master "
	    "WHERE name = 'outbox'") == 1);
}

static void
test_open_migrates_v0(void)
{
	const char	*err = NULL;
	struct store	*st;

	SQLITE_ONLY();
	/* An empty database (version 0) made by another connection. */
	REQUIRE(raw_exec(tmp_db(), "PRAGMA user_version = 0; VACUUM") == 0);
	st = store_open(db_path, 0, &err);
	REQUIRE(st != NULL);
	CHECK(store_version(st) == STORE_SCHEMA_VERSION);
	CHECK(store_user_add(st, "a", "example.test", NULL, NULL) == 0);
	store_close(st);
	/* Reopening a current file changes nothing and keeps the data. */
	st = store_open(db_path, 0, &err);
	REQUIRE(st != NULL);
	CHECK(store_user_find(st, "a", "example.test", NULL) == 1);
	store_close(st);
}

static void
test_open_refuses_newer(void)
{
	const char	*err = NULL;
	struct store	*st;

	SQLITE_ONLY();
	st = open_new();
	REQUIRE(st != NULL);
	store_close(st);
	REQUIRE(raw_exec(db_path, "PRAGMA user_version = 99") == 0);
	CHECK(store_open(db_path, 0, &err) == NULL);
	REQUIRE(err != NULL);
	CHECK(strstr(err, "schema version 99 is newer") != NULL);
	CHECK(strstr(err, db_path) != NULL);
}

static void
test_open_refuses_foreign(void)
{
	const char	*err = NULL;

	SQLITE_ONLY();
	REQUIRE(raw_exec(tmp_db(), "CREATE TABLE t (a)") == 0);
	CHECK(store_open(db_path, 0, &err) == NULL);
	REQUIRE(err != NULL);
	CHECK(strstr(err, "not an xfed store") != NULL);
	/* Nothing was added to it. */
	CHECK(raw_int(db_path, "SELECT count(*) FROM sqlite_master") == 1);
}

static void
test_open_refuses_not_db(void)
{
	const char	*err = NULL;
	FILE		*f;

	SQLITE_ONLY();
	REQUIRE((f = fopen(tmp_db(), "w")) != NULL);
	fprintf(f, "this is a text file, not a database, and it is long "
	    "enough to have something where the header would be.\n");
	fclose(f);
	CHECK(store_open(db_path, 0, &err) == NULL);
	REQUIRE(err != NULL);
	CHECK(strstr(err, "not a database") != NULL);
	CHECK(strchr(err, '\n') == NULL);
}

static void
test_open_missing(void)
{
	const char	*err = NULL;

	SQLITE_ONLY();
	tmp_db();
	CHECK(store_open(db_path, 0, &err) == NULL);
	REQUIRE(err != NULL);
	CHECK(strstr(err, "cannot open") != NULL);
	CHECK(access(db_path, F_OK) == -1);
}

static void
test_open_refuses_corrupt(void)
{
	const char	*err = NULL;
	struct store	*st;
	char		 name[32], junk[4096];
	FILE		*f;
	int		 i;

	SQLITE_ONLY();
	st = open_new();
	REQUIRE(st != NULL);
	REQUIRE(store_begin(st) == 0);
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "user%03d", i);
		REQUIRE(store_user_add(st, name, "example.test",
		    "A display name long enough to fill pages", NULL) == 0);
	}
	REQUIRE(store_commit(st) == 0);
	store_close(st);
	/* Garbage over a few pages in the middle of the file. */
	memset(junk, 0x5a, sizeof(junk));
	REQUIRE((f = fopen(db_path, "r+b")) != NULL);
	for (i = 3; i < 6; i++) {
		fseek(f, 4096L * i, SEEK_SET);
		fwrite(junk, 1, sizeof(junk), f);
	}
	fclose(f);
	CHECK(store_open(db_path, 0, &err) == NULL);
	REQUIRE(err != NULL);
	printf("  refused: %s\n", err);
	CHECK(strstr(err, db_path) != NULL);
	CHECK(strstr(err, "integrity check failed") != NULL ||
	    strstr(err, "malformed") != NULL);
}

struct users {
	int	 n;
	char	 names[8][32];
	char	 name[64];
	size_t	 avatar_len;
};

static int
user_cb(void *arg, const struct store_user *u)
{
	struct users	*us = arg;

	if (us->n < 8)
		snprintf(us->names[us->n], sizeof(us->names[0]), "%s@%s",
		    u->local, u->domain);
	snprintf(us->name, sizeof(us->name), "%s", u->name ? u->name : "-");
	us->avatar_len = u->avatar_len;
	us->n++;
	return 0;
}

static void
test_users(void)
{
	struct store		*st = open_new();
	struct users		 us;
	struct store_user	 u;
	int64_t			 id = 0, id2 = 0;

	REQUIRE(st != NULL);
	CHECK(store_user_add(st, "bob", "example.test", "Bob", &id) == 0);
	CHECK(id > 0);
	CHECK(store_user_add(st, "alice", "example.test", NULL, NULL) == 0);
	CHECK(store_user_add(st, "carol", "other.test", NULL, NULL) == 0);
	CHECK(store_user_add(st, "bob", "example.test", NULL, NULL) == -1);
	CHECK(store_errcode(st) == STORE_E_EXISTS);
	CHECK_STR(store_errstr(st), "user bob@example.test already exists");
	CHECK(store_user_add(st, "a@b", "example.test", NULL, NULL) == -1);
	CHECK(store_errcode(st) == STORE_E_INVALID);
	CHECK(store_user_add(st, "", "example.test", NULL, NULL) == -1);
	CHECK(store_errcode(st) == STORE_E_INVALID);

	memset(&us, 0, sizeof(us));
	CHECK(store_user_list(st, NULL, user_cb, &us) == 0);
	CHECK(us.n == 3);
	CHECK_STR(us.names[0], "alice@example.test");
	CHECK_STR(us.names[1], "bob@example.test");
	CHECK_STR(us.names[2], "carol@other.test");
	memset(&us, 0, sizeof(us));
	CHECK(store_user_list(st, "other.test", user_cb, &us) == 0);
	CHECK(us.n == 1);

	memset(&us, 0, sizeof(us));
	CHECK(store_user_get(st, "bob", "example.test", user_cb, &us) == 0);
	CHECK(us.n == 1);
	CHECK_STR(us.name, "Bob");
	CHECK(store_user_get(st, "nobody", "example.test", user_cb, &us) == -1);
	CHECK(store_errcode(st) == STORE_E_NOTFOUND);
	CHECK(store_user_find(st, "bob", "example.test", &id2) == 1);
	CHECK(id2 == id);
	CHECK(store_user_find(st, "bob", "other.test", &id2) == 0);

	memset(&u, 0, sizeof(u));
	u.id = id;
	u.name = "Robert";
	u.email = "bob@mail.example";
	u.avatar = "\x89PNG\r\n";
	u.avatar_len = 6;
	u.avatar_type = "image/png";
	CHECK(store_user_update(st, &u) == 0);
	memset(&us, 0, sizeof(us));
	CHECK(store_user_get(st, "bob", "example.test", user_cb, &us) == 0);
	CHECK_STR(us.name, "Robert");
	CHECK(us.avatar_len == 6);
	u.avatar_type = NULL;		/* an avatar needs its type */
	CHECK(store_user_update(st, &u) == -1);
	CHECK(store_errcode(st) == STORE_E_INVALID);
	u.id = 9999;
	u.avatar = NULL;
	CHECK(store_user_update(st, &u) == -1);
	CHECK(store_errcode(st) == STORE_E_NOTFOUND);

	CHECK(store_user_del(st, "bob", "example.test") == 0);
	CHECK(store_user_del(st, "bob", "example.test") == -1);
	CHECK(store_errcode(st) == STORE_E_NOTFOUND);
	CHECK_STR(store_errstr(st), "no user bob@example.test");
	store_close(st);
}

static void
test_presence(void)
{
	struct store		*st = open_new();
	struct store_presence	 p;
	enum store_show		 show;

	REQUIRE(st != NULL);
	REQUIRE(store_user_add(st, "bob", "example.test", NULL, NULL) == 0);
	CHECK(store_presence_get(st, "bob", "example.test", &p) == 0);
	CHECK(p.show == STORE_SHOW_UNAVAILABLE);
	CHECK(p.status == NULL);
	CHECK(p.updated == 0);
	CHECK(store_presence_set(st, "bob", "example.test", STORE_SHOW_AWAY,
	    "at lunch", 5) == 0);
	CHECK(store_presence_set(st, "bob", "example.test", STORE_SHOW_DND,
	    "busy", -3) == 0);
	CHECK(store_presence_get(st, "bob", "example.test", &p) == 0);
	CHECK(p.show == STORE_SHOW_DND);
	CHECK_STR(p.status, "busy");
	CHECK(p.priority == -3);
	CHECK(p.updated > 0);
	CHECK(store_presence_set(st, "bob", "example.test", STORE_SHOW_XA,
	    NULL, 200) == -1);
	CHECK(store_errcode(st) == STORE_E_INVALID);
	CHECK(store_presence_set(st, "eve", "example.test", STORE_SHOW_XA,
	    NULL, 0) == -1);
	CHECK(store_errcode(st) == STORE_E_NOTFOUND);
	CHECK(store_presence_get(st, "eve", "example.test", &p) == -1);
	CHECK(store_errcode(st) == STORE_E_NOTFOUND);

	CHECK(store_show_parse("chat", &show) == 0 && show == STORE_SHOW_CHAT);
	CHECK(store_show_parse("busy", &show) == -1);
	CHECK_STR(store_show_name(STORE_SHOW_XA), "xa");
	store_close(st);
}

struct sub_seen {
	int			 n;
	enum store_sub_state	 state;
	int			 out, in, pre;
	char			 request[64];
};

static int
sub_cb(void *arg, const struct store_sub *s)
{
	struct sub_seen	*ss = arg;

	ss->n++;
	ss->state = s->state;
	ss->out = s->pending_out;
	ss->in = s->pending_in;
	ss->pre = s->preapproved;
	snprintf(ss->request, sizeof(ss->request), "%s",
	    s->request ? s->request : "");
	return 0;
}

/* The subscription with juliet as seen now; n == 0 when there is none. */
static struct sub_seen
sub_now(struct store *st)
{
	struct sub_seen	 ss;

	memset(&ss, 0, sizeof(ss));
	store_sub_get(st, "romeo", "example.test", "juliet@example.org",
	    sub_cb, &ss);
	return ss;
}

static enum store_out_state	 out_state;

static int
out_state_cb(void *arg, const struct store_outbox *m)
{
	out_state = m->state;
	return 0;
}

/* Queues an outbox row of kind to juliet; returns its state. */
static enum store_out_state
act(struct store *st, enum store_kind kind)
{
	struct store_outbox	 m;
	int64_t			 id = 0;

	memset(&m, 0, sizeof(m));
	m.local = "romeo";
	m.domain = "example.test";
	m.kind = kind;
	m.to = "juliet@example.org";
	if (store_outbox_add(st, &m, &id) == -1)
		return (enum store_out_state)-1;
	out_state = (enum store_out_state)-1;
	store_outbox_get(st, id, out_state_cb, NULL);
	return out_state;
}

/* Applies an inbound stanza the way the daemon would. */
static int
inbound(struct store *st, enum store_kind kind, const char *text)
{
	struct store_sub	 s;
	struct sub_seen		 ss = sub_now(st);
	int			 fx;

	memset(&s, 0, sizeof(s));
	s.local = "romeo";
	s.domain = "example.test";
	s.jid = "juliet@example.org";
	s.state = ss.state;
	s.pending_out = ss.out;
	s.pending_in = ss.in;
	s.preapproved = ss.pre;
	s.request = ss.request[0] ? ss.request : NULL;
	fx = store_sub_inbound(&s, kind);
	if (fx & STORE_SUB_DELIVER && kind == STORE_KIND_SUBSCRIBE)
		s.request = text;
	if (fx & STORE_SUB_CHANGED && store_sub_put(st, &s) == -1)
		return -1;
	return fx;
}

/*
 * Every backend's outbox triggers against the one table of transitions
 * (store_sub_outbound()): each of the 32 subscription rows (state x
 * pending_out x pending_in x preapproved; no row when all are clear) and
 * each of the four kinds, one contact each; what the row became and
 * whether the outbox row stays queued or is done must be what the table
 * says. Inbound transitions are the table itself (store_sub_inbound()).
 */
static void
test_sub_transitions(void)
{
	static const enum store_kind kinds[] = { STORE_KIND_SUBSCRIBE,
	    STORE_KIND_SUBSCRIBED, STORE_KIND_UNSUBSCRIBE,
	    STORE_KIND_UNSUBSCRIBED };
	struct store		*st = open_new();
	struct store_sub	 s;
	struct store_outbox	 m;
	struct sub_seen		 ss;
	char			 jid[64];
	int64_t			 id;
	size_t			 k;
	int			 b, does, bad = 0;

	REQUIRE(st != NULL);
	REQUIRE(store_user_add(st, "romeo", "example.test", NULL, NULL) == 0);
	for (b = 0; b < 32; b++)
		for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			snprintf(jid, sizeof(jid), "c%d-%zu@example.org", b, k);
			memset(&s, 0, sizeof(s));
			s.local = "romeo";
			s.domain = "example.test";
			s.jid = jid;
			s.state = (enum store_sub_state)(b & 3);
			s.pending_out = (b & 4) != 0;
			s.pending_in = (b & 8) != 0;
			s.preapproved = (b & 16) != 0;
			s.request = s.pending_in ? "hi" : NULL;
			REQUIRE(store_sub_put(st, &s) == 0);
			memset(&m, 0, sizeof(m));
			m.local = "romeo";
			m.domain = "example.test";
			m.kind = kinds[k];
			m.to = jid;
			REQUIRE(store_outbox_add(st, &m, &id) == 0);
			out_state = (enum store_out_state)-1;
			REQUIRE(store_outbox_get(st, id, out_state_cb,
			    NULL) == 0);
			memset(&ss, 0, sizeof(ss));
			REQUIRE(store_sub_get(st, "romeo", "example.test", jid,
			    sub_cb, &ss) == 0 ||
			    store_errcode(st) == STORE_E_NOTFOUND);

			does = store_sub_outbound(&s, kinds[k]);
			if (out_state != (does & STORE_SUB_SEND ?
			    STORE_OUT_QUEUED : STORE_OUT_DONE) ||
			    ss.n != (s.state != STORE_SUB_NONE ||
			    s.pending_out || s.pending_in || s.preapproved) ||
			    ss.state != s.state || ss.out != s.pending_out ||
			    ss.in != s.pending_in || ss.pre != s.preapproved ||
			    strcmp(ss.request, s.request ? s.request : "")) {
				printf("  row %d, %s: stored %s%s%s%s%s, %s; "
				    "the table says %s%s%s%s, %s\n", b,
				    store_kind_name(kinds[k]),
				    ss.n ? "" : "(none) ",
				    store_sub_state_name(ss.state),
				    ss.out ? " out" : "", ss.in ? " in" : "",
				    ss.pre ? " pre" : "",
				    store_out_state_name(out_state),
				    store_sub_state_name(s.state),
				    s.pending_out ? " out" : "",
				    s.pending_in ? " in" : "",
				    s.preapproved ? " pre" : "",
				    does & STORE_SUB_SEND ? "queued" : "done");
				bad++;
			}
		}
	CHECK(bad == 0);
	store_close(st);
}

static void
test_subscriptions(void)
{
	struct store	*st = open_new();
	struct sub_seen	 ss;

	REQUIRE(st != NULL);
	REQUIRE(store_user_add(st, "romeo", "example.test", NULL, NULL) == 0);

	/* We ask; they approve: to. */
	CHECK(act(st, STORE_KIND_SUBSCRIBE) == STORE_OUT_QUEUED);
	ss = sub_now(st);
	CHECK(ss.n == 1 && ss.state == STORE_SUB_NONE && ss.out == 1);
	CHECK(inbound(st, STORE_KIND_SUBSCRIBED, NULL) ==
	    (STORE_SUB_CHANGED | STORE_SUB_DELIVER));
	ss = sub_now(st);
	CHECK(ss.state == STORE_SUB_TO && ss.out == 0);
	/* A second subscribed without a request is ignored. */
	CHECK(inbound(st, STORE_KIND_SUBSCRIBED, NULL) == 0);

	/* They ask; we approve: both. */
	CHECK(inbound(st, STORE_KIND_SUBSCRIBE, "let me in") ==
	    (STORE_SUB_CHANGED | STORE_SUB_DELIVER));
	ss = sub_now(st);
	CHECK(ss.in == 1);
	CHECK_STR(ss.request, "let me in");
	CHECK(act(st, STORE_KIND_SUBSCRIBED) == STORE_OUT_QUEUED);
	ss = sub_now(st);
	CHECK(ss.state == STORE_SUB_BOTH && ss.in == 0 && ss.pre == 0);
	CHECK(ss.request[0] == '\0');
	/* Asking again once approved: answered, not delivered. */
	CHECK(inbound(st, STORE_KIND_SUBSCRIBE, NULL) == STORE_SUB_AUTOREPLY);
	/* Approving again sends nothing. */
	CHECK(act(st, STORE_KIND_SUBSCRIBED) == STORE_OUT_DONE);

	/* We unsubscribe: from; we cancel theirs: none, row gone. */
	CHECK(act(st, STORE_KIND_UNSUBSCRIBE) == STORE_OUT_QUEUED);
	ss = sub_now(st);
	CHECK(ss.state == STORE_SUB_FROM);
	CHECK(act(st, STORE_KIND_UNSUBSCRIBED) == STORE_OUT_QUEUED);
	CHECK(sub_now(st).n == 0);
	/* Denying with nothing pending sends nothing. */
	CHECK(act(st, STORE_KIND_UNSUBSCRIBED) == STORE_OUT_DONE);
	CHECK(sub_now(st).n == 0);

	/* Pre-approval: nothing sent, their request approved at once. */
	CHECK(act(st, STORE_KIND_SUBSCRIBED) == STORE_OUT_DONE);
	ss = sub_now(st);
	CHECK(ss.n == 1 && ss.pre == 1 && ss.state == STORE_SUB_NONE);
	CHECK(inbound(st, STORE_KIND_SUBSCRIBE, NULL) ==
	    (STORE_SUB_CHANGED | STORE_SUB_AUTOREPLY));
	ss = sub_now(st);
	CHECK(ss.state == STORE_SUB_FROM && ss.pre == 0);
	/* They unsubscribe: none. */
	CHECK(inbound(st, STORE_KIND_UNSUBSCRIBE, NULL) ==
	    (STORE_SUB_CHANGED | STORE_SUB_DELIVER));
	CHECK(sub_now(st).n == 0);
	/* Deny a pending request. */
	CHECK(inbound(st, STORE_KIND_SUBSCRIBE, "hi") & STORE_SUB_DELIVER);
	CHECK(act(st, STORE_KIND_UNSUBSCRIBED) == STORE_OUT_QUEUED);
	CHECK(sub_now(st).n == 0);
	/* Unsubscribed from them after our request: back to none. */
	CHECK(act(st, STORE_KIND_SUBSCRIBE) == STORE_OUT_QUEUED);
	CHECK(inbound(st, STORE_KIND_UNSUBSCRIBED, NULL) ==
	    (STORE_SUB_CHANGED | STORE_SUB_DELIVER));
	CHECK(sub_now(st).n == 0);
	CHECK(inbound(st, STORE_KIND_UNSUBSCRIBED, NULL) == 0);

	/* Errors: no such user; a full JID where a bare one is needed. */
	CHECK(store_sub_get(st, "eve", "example.test", "juliet@example.org",
	    sub_cb, &ss) == -1);
	CHECK(store_errcode(st) == STORE_E_NOTFOUND);
	{
		struct store_outbox	 m;

		memset(&m, 0, sizeof(m));
		m.local = "romeo";
		m.domain = "example.test";
		m.kind = STORE_KIND_SUBSCRIBE;
		m.to = "juliet@example.org/balcony";
		CHECK(store_outbox_add(st, &m, NULL) == -1);
		CHECK(store_errcode(st) == STORE_E_INVALID);
	}
	store_close(st);
}

static int
rpres_cb(void *arg, const struct store_rpres *r)
{
	(*(int *)arg)++;
	return 0;
}

static void
test_remote_presence(void)
{
	struct store		*st = open_new();
	struct store_rpres	 r;
	int			 n = 0;

	REQUIRE(st != NULL);
	REQUIRE(store_user_add(st, "romeo", "example.test", NULL, NULL) == 0);
	memset(&r, 0, sizeof(r));
	r.local = "romeo";
	r.domain = "example.test";
	r.jid = "juliet@example.org/balcony";
	r.show = STORE_SHOW_AWAY;
	r.xml = "<presence/>";
	CHECK(store_rpres_put(st, &r) == 0);
	r.show = STORE_SHOW_CHAT;
	CHECK(store_rpres_put(st, &r) == 0);	/* replaces */
	r.jid = "juliet@example.org/garden";
	CHECK(store_rpres_put(st, &r) == 0);
	r.jid = "nurse@example.org/x";
	CHECK(store_rpres_put(st, &r) == 0);
	CHECK(store_rpres_list(st, "romeo", "example.test", rpres_cb, &n) == 0);
	CHECK(n == 3);
	CHECK(store_rpres_del(st, "romeo", "example.test",
	    "juliet@example.org") == 0);
	n = 0;
	CHECK(store_rpres_list(st, "romeo", "example.test", rpres_cb, &n) == 0);
	CHECK(n == 1);
	CHECK(store_rpres_del(st, "romeo", "example.test", NULL) == 0);
	n = 0;
	CHECK(store_rpres_list(st, "romeo", "example.test", rpres_cb, &n) == 0);
	CHECK(n == 0);
	r.local = "eve";
	CHECK(store_rpres_put(st, &r) == -1);
	CHECK(store_errcode(st) == STORE_E_NOTFOUND);
	store_close(st);
}

struct inbox_seen {
	int	 n;
	int64_t	 last;
	char	 body[64];
};

static int
inbox_cb(void *arg, const struct store_inbox *m)
{
	struct inbox_seen	*is = arg;

	is->n++;
	is->last = m->id;
	snprintf(is->body, sizeof(is->body), "%s", m->body ? m->body : "");
	return 0;
}

static void
fill_inbox(struct store_inbox *m, const char *local, const char *body)
{
	memset(m, 0, sizeof(*m));
	m->local = local;
	m->domain = "example.test";
	m->kind = STORE_KIND_MESSAGE;
	m->from = "juliet@example.org/balcony";
	m->to = "romeo@example.test";
	m->type = "chat";
	m->body = body;
	m->xml = "<message/>";
}

/* The events triggers' names and text, in name order. */
#define EVENTS_TRIGGERS \
	"SELECT group_concat(name || ':' || sql, ';') FROM (SELECT name, sql " \
	"FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'events%' " \
	"ORDER BY name)"

/*
 * The events journal off (no reader) and on again: the same triggers as
 * the migrations made, no events row while off; an inbox row for a user
 * who does not exist or is disabled is refused either way.
 */
static void
test_events_journal(void)
{
	struct store		*st;
	struct store_inbox	 m;
	sqlite3			*db;
	sqlite3_stmt		*q;
	char			*made = NULL;
	int64_t			 id = 0;

	SQLITE_ONLY();
	st = open_new();
	REQUIRE(st != NULL);
	REQUIRE(sqlite3_open(db_path, &db) == SQLITE_OK);
	REQUIRE(sqlite3_prepare_v2(db, EVENTS_TRIGGERS, -1, &q, NULL) ==
	    SQLITE_OK);
	REQUIRE(sqlite3_step(q) == SQLITE_ROW);
	made = strdup((const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	sqlite3_close(db);
	REQUIRE(made != NULL && strstr(made, "events_inbox:") != NULL);
	REQUIRE(store_user_add(st, "romeo", "example.test", NULL, NULL) == 0);
	CHECK(store_events_journal_on(st) == 1);
	CHECK(store_events_journal(st, 1) == 0);	/* on already */
	CHECK(store_events_journal(st, 0) == 1);
	CHECK(store_events_journal_on(st) == 0);	/* xfedctl events says */
	CHECK(store_events_journal(st, 0) == 0);
	CHECK(raw_int(db_path, "SELECT count(*) FROM sqlite_master WHERE "
	    "type = 'trigger' AND name LIKE 'events%'") == 0);
	CHECK(raw_int(db_path, "SELECT count(*) FROM events") == 1);
	fill_inbox(&m, "romeo", "unjournaled");
	CHECK(store_inbox_put(st, &m, &id) == 0);
	CHECK(id > 0);
	fill_inbox(&m, "tybalt", "nobody");
	CHECK(store_inbox_put(st, &m, NULL) == -1);
	CHECK(store_errcode(st) == STORE_E_NOTFOUND);
	CHECK(strstr(store_errstr(st), "tybalt@example.test") != NULL);
	CHECK(store_flush(st) == 0);
	CHECK(raw_int(db_path, "SELECT count(*) FROM events") == 1);
	CHECK(store_events_journal(st, 1) == 1);
	fill_inbox(&m, "romeo", "journaled");
	CHECK(store_inbox_put(st, &m, &id) == 0);
	CHECK(store_flush(st) == 0);
	CHECK(raw_int(db_path, "SELECT count(*) FROM events WHERE "
	    "type = 'inbox'") == 1);
	/* made again as the migrations made them */
	REQUIRE(sqlite3_open(db_path, &db) == SQLITE_OK);
	REQUIRE(sqlite3_prepare_v2(db, EVENTS_TRIGGERS, -1, &q, NULL) ==
	    SQLITE_OK);
	REQUIRE(sqlite3_step(q) == SQLITE_ROW);
	CHECK_STR((const char *)sqlite3_column_text(q, 0), made);
	sqlite3_finalize(q);
	/* a disabled user's inbox takes nothing, journal or not */
	REQUIRE(sqlite3_exec(db, "UPDATE users SET disabled = 1", NULL, NULL,
	    NULL) == SQLITE_OK);
	sqlite3_close(db);
	fill_inbox(&m, "romeo", "disabled");
	CHECK(store_inbox_put(st, &m, NULL) == -1);
	CHECK(store_errcode(st) == STORE_E_NOTFOUND);
	/* another writer holds the file: an error, nothing changed */
	CHECK(store_flush(st) == 0);
	store_busy_timeout(st, 0);
	REQUIRE(sqlite3_open(db_path, &db) == SQLITE_OK);
	REQUIRE(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) ==
	    SQLITE_OK);
	CHECK(store_events_journal(st, 0) == -1);
	CHECK(store_errcode(st) == STORE_E_DB);
	CHECK(store_events_journal_on(st) == 1);	/* asking only reads */
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	CHECK(raw_int(db_path, "SELECT count(*) FROM sqlite_master WHERE "
	    "type = 'trigger' AND name LIKE 'events%'") == 8);
	free(made);
	store_close(st);
}

static void
test_inbox(void)
{
	struct store		*st = open_new();
	struct store_inbox	 m;
	struct inbox_seen	 is;
	int64_t			 id1 = 0, id2 = 0, last = 0;

	REQUIRE(st != NULL);
	REQUIRE(store_user_add(st, "romeo", "example.test", NULL, NULL) == 0);
	REQUIRE(store_user_add(st, "mercutio", "example.test", NULL, NULL) == 0);
	fill_inbox(&m, "romeo", "one");
	CHECK(store_inbox_put(st, &m, &id1) == 0);
	fill_inbox(&m, "romeo", "two");
	CHECK(store_inbox_put(st, &m, &id2) == 0);
	CHECK(id2 > id1);
	fill_inbox(&m, "mercutio", "three");
	CHECK(store_inbox_put(st, &m, NULL) == 0);
	fill_inbox(&m, "tybalt", "lost");
	CHECK(store_inbox_put(st, &m, NULL) == -1);
	CHECK(store_errcode(st) == STORE_E_NOTFOUND);

	memset(&is, 0, sizeof(is));
	CHECK(store_inbox_list(st, NULL, NULL, 0, 0, 0, inbox_cb, &is) == 0);
	CHECK(is.n == 3);
	memset(&is, 0, sizeof(is));
	CHECK(store_inbox_list(st, "romeo", "example.test", 0, 0, 0, inbox_cb,
	    &is) == 0);
	CHECK(is.n == 2);
	CHECK_STR(is.body, "two");
	memset(&is, 0, sizeof(is));
	CHECK(store_inbox_list(st, "romeo", "example.test", id1, 0, 0,
	    inbox_cb, &is) == 0);
	CHECK(is.n == 1);
	memset(&is, 0, sizeof(is));
	CHECK(store_inbox_list(st, NULL, NULL, 0, 0, 1, inbox_cb, &is) == 0);
	CHECK(is.n == 1);

	CHECK(store_inbox_consume(st, id1) == 0);
	CHECK(store_inbox_consume(st, 999) == -1);
	CHECK(store_errcode(st) == STORE_E_NOTFOUND);
	memset(&is, 0, sizeof(is));
	CHECK(store_inbox_list(st, "romeo", "example.test", 0, 0, 0, inbox_cb,
	    &is) == 0);
	CHECK(is.n == 1);
	memset(&is, 0, sizeof(is));
	CHECK(store_inbox_list(st, "romeo", "example.test", 0,
	    STORE_INBOX_ALL, 0, inbox_cb, &is) == 0);
	CHECK(is.n == 2);
	CHECK(store_inbox_last(st, &last) == 0);
	CHECK(last == id2 + 1);

	/* Deleting a user deletes their inbox. */
	CHECK(store_user_del(st, "romeo", "example.test") == 0);
	memset(&is, 0, sizeof(is));
	CHECK(store_inbox_list(st, NULL, NULL, 0, STORE_INBOX_ALL, 0,
	    inbox_cb, &is) == 0);
	CHECK(is.n == 1);
	store_close(st);
}

struct out_seen {
	int			 n;
	int64_t			 id;
	enum store_out_state	 state;
	int			 attempts;
	int64_t			 next;
	char			 err[64], stage[16], xml[64], type[16];
};

static int
out_cb(void *arg, const struct store_outbox *m)
{
	struct out_seen	*os = arg;

	os->n++;
	os->id = m->id;
	os->state = m->state;
	os->attempts = m->attempts;
	os->next = m->next_attempt;
	snprintf(os->err, sizeof(os->err), "%s", m->last_error ?
	    m->last_error : "");
	snprintf(os->stage, sizeof(os->stage), "%s", m->error_stage ?
	    m->error_stage : "");
	snprintf(os->xml, sizeof(os->xml), "%s", m->error_xml ?
	    m->error_xml : "");
	snprintf(os->type, sizeof(os->type), "%s", m->type ? m->type : "");
	return 0;
}

static void
test_outbox(void)
{
	struct store		*st = open_new();
	struct store_outbox	 m;
	struct out_seen		 os;
	int64_t			 id1 = 0, id2 = 0, now = time(NULL);

	REQUIRE(st != NULL);
	REQUIRE(store_user_add(st, "romeo", "example.test", NULL, NULL) == 0);
	memset(&m, 0, sizeof(m));
	m.local = "romeo";
	m.domain = "example.test";
	m.kind = STORE_KIND_MESSAGE;
	m.to = "juliet@example.org";
	m.body = "hello";
	CHECK(store_outbox_add(st, &m, &id1) == 0);
	CHECK(store_outbox_add(st, &m, &id2) == 0);
	m.local = "eve";
	CHECK(store_outbox_add(st, &m, NULL) == -1);
	CHECK(store_errcode(st) == STORE_E_NOTFOUND);

	memset(&os, 0, sizeof(os));
	CHECK(store_outbox_get(st, id1, out_cb, &os) == 0);
	CHECK(os.state == STORE_OUT_QUEUED && os.attempts == 0);
	CHECK_STR(os.type, "chat");
	memset(&os, 0, sizeof(os));
	CHECK(store_outbox_due(st, now, 0, out_cb, &os) == 0);
	CHECK(os.n == 2);

	CHECK(store_outbox_retry(st, id1, now + 60, "connect",
	    "connection refused") == 0);
	memset(&os, 0, sizeof(os));
	CHECK(store_outbox_due(st, now, 0, out_cb, &os) == 0);
	CHECK(os.n == 1 && os.id == id2);
	memset(&os, 0, sizeof(os));
	CHECK(store_outbox_due(st, now + 60, 0, out_cb, &os) == 0);
	CHECK(os.n == 2);
	CHECK(store_outbox_failed(st, id1, "remote", "service-unavailable",
	    "<message type='error'/>") == 0);
	memset(&os, 0, sizeof(os));
	CHECK(store_outbox_get(st, id1, out_cb, &os) == 0);
	CHECK(os.state == STORE_OUT_FAILED && os.attempts == 2);
	CHECK_STR(os.err, "service-unavailable");
	CHECK_STR(os.stage, "remote");
	CHECK_STR(os.xml, "<message type='error'/>");
	CHECK(store_outbox_sent(st, id2) == 0);
	memset(&os, 0, sizeof(os));
	CHECK(store_outbox_due(st, now + 60, 0, out_cb, &os) == 0);
	CHECK(os.n == 0);
	memset(&os, 0, sizeof(os));
	CHECK(store_outbox_list(st, "romeo", "example.test", 0, out_cb,
	    &os) == 0);
	CHECK(os.n == 2 && os.id == id1);	/* newest first */
	memset(&os, 0, sizeof(os));
	CHECK(store_outbox_list(st, NULL, NULL, 1, out_cb, &os) == 0);
	CHECK(os.n == 1);
	CHECK(store_outbox_sent(st, 999) == -1);
	CHECK(store_errcode(st) == STORE_E_NOTFOUND);
	CHECK(store_outbox_get(st, 999, out_cb, &os) == -1);
	CHECK(store_errcode(st) == STORE_E_NOTFOUND);
	store_close(st);
}

/* Schema 2: acknowledged rows; an attempt is counted once. */
static void
test_outbox_delivered(void)
{
	struct store		*st = open_new();
	struct store_outbox	 m;
	struct out_seen		 os;
	int64_t			 id1 = 0, id2 = 0;

	REQUIRE(st != NULL);
	REQUIRE(store_user_add(st, "romeo", "example.test", NULL, NULL) == 0);
	memset(&m, 0, sizeof(m));
	m.local = "romeo";
	m.domain = "example.test";
	m.kind = STORE_KIND_MESSAGE;
	m.to = "juliet@example.org";
	m.body = "hello";
	REQUIRE(store_outbox_add(st, &m, &id1) == 0);
	REQUIRE(store_outbox_add(st, &m, &id2) == 0);
	CHECK(store_outbox_delivered(st, id1) == 0);
	CHECK(store_outbox_sent(st, id2) == 0);
	CHECK(store_outbox_delivered(st, id2) == 0);
	memset(&os, 0, sizeof(os));
	CHECK(store_outbox_get(st, id1, out_cb, &os) == 0);
	CHECK(os.state == STORE_OUT_DELIVERED && os.attempts == 1);
	memset(&os, 0, sizeof(os));
	CHECK(store_outbox_get(st, id2, out_cb, &os) == 0);
	CHECK(os.state == STORE_OUT_DELIVERED && os.attempts == 1);
	CHECK_STR(store_out_state_name(STORE_OUT_DELIVERED), "delivered");
	CHECK(store_outbox_failed(st, id1, "payload", "bad", NULL) == 0);
	CHECK(store_outbox_failed(st, id1, "no such stage", "bad", NULL) == -1);
	CHECK(store_errcode(st) == STORE_E_INVALID);
	CHECK(store_outbox_delivered(st, 999) == -1);
	CHECK(store_errcode(st) == STORE_E_NOTFOUND);
	store_close(st);
}

static void
test_state(void)
{
	const char	*err = NULL;
	struct store	*st = open_new();
	char		*v = NULL;

	REQUIRE(st != NULL);
	CHECK(store_state_get(st, "dialback_secret", &v) == -1);
	CHECK(store_errcode(st) == STORE_E_NOTFOUND);
	CHECK(store_state_set(st, "dialback_secret", "s1") == 0);
	CHECK(store_state_set(st, "dialback_secret", "s2") == 0);
	store_close(st);
	st = store_open(db_path, 0, &err);
	REQUIRE(st != NULL);
	CHECK(store_state_get(st, "dialback_secret", &v) == 0);
	CHECK_STR(v, "s2");
	free(v);
	store_close(st);
}

static int	 batch_calls;

static void
batch_cb(void *arg)
{
	batch_calls++;
}

static void
test_batch_survives_reopen(void)
{
	const char		*err = NULL;
	struct store		*st = open_new();
	struct store_inbox	 m;
	int			 i;

	REQUIRE(st != NULL);
	store_set_batch_cb(st, batch_cb, NULL);
	batch_calls = 0;
	CHECK(!store_pending(st));
	REQUIRE(store_user_add(st, "romeo", "example.test", NULL, NULL) == 0);
	CHECK(store_pending(st));
	CHECK(batch_calls == 1);
	fill_inbox(&m, "romeo", "batched");
	for (i = 0; i < 50; i++)
		CHECK(store_inbox_put(st, &m, NULL) == 0);
	CHECK(batch_calls == 1);
	/* Another connection does not see the open batch. */
	CHECK(raw_int(db_path, "SELECT count(*) FROM inbox") == 0);
	CHECK(store_flush(st) == 0);
	CHECK(!store_pending(st));
	CHECK(raw_int(db_path, "SELECT count(*) FROM inbox") == 50);
	/* A second batch, committed by the clean close. */
	for (i = 0; i < 25; i++)
		CHECK(store_inbox_put(st, &m, NULL) == 0);
	CHECK(batch_calls == 2);
	store_close(st);
	st = store_open(db_path, 0, &err);
	REQUIRE(st != NULL);
	store_close(st);
	CHECK(raw_int(db_path, "SELECT count(*) FROM inbox") == 75);
}

static void
test_explicit_transaction(void)
{
	struct store	*st = open_new();

	REQUIRE(st != NULL);
	REQUIRE(store_user_add(st, "a", "example.test", NULL, NULL) == 0);
	CHECK(store_begin(st) == 0);	/* commits the open batch first */
	CHECK(!store_pending(st));
	CHECK(store_begin(st) == -1);
	CHECK(store_user_add(st, "b", "example.test", NULL, NULL) == 0);
	CHECK(store_rollback(st) == 0);
	CHECK(store_user_find(st, "b", "example.test", NULL) == 0);
	CHECK(store_user_find(st, "a", "example.test", NULL) == 1);
	CHECK(store_commit(st) == -1);
	CHECK(store_begin(st) == 0);
	CHECK(store_user_add(st, "c", "example.test", NULL, NULL) == 0);
	CHECK(store_commit(st) == 0);
	/* An explicit transaction left open is rolled back by close. */
	CHECK(store_begin(st) == 0);
	CHECK(store_user_add(st, "d", "example.test", NULL, NULL) == 0);
	store_close(st);
	CHECK(raw_int(db_path, "SELECT count(*) FROM users") == 2);
}

struct refusals {
	int		 n, notfound, invalid;
};

static void
refused_cb(void *arg, enum store_err code, const char *why)
{
	struct refusals	*rf = arg;

	rf->n++;
	if (code == STORE_E_NOTFOUND)
		rf->notfound++;
	else if (code == STORE_E_INVALID)
		rf->invalid++;
	printf("  refused (%d): %s\n", (int)code, why);
}

/*
 * store_inbox_put_later(): a batch of 600 rows (on PostgreSQL, three
 * pipelines; store/pg.c) where one row breaks a NOT NULL constraint and
 * one names no user, in different pipelines: each fails alone and is
 * told to its caller by the flush at the latest, the 598 others commit;
 * a read inside the batch sees the queued rows (they go out first).
 */
static void
test_inbox_put_later(void)
{
	struct store		*st = open_new();
	struct store_inbox	 m;
	struct inbox_seen	 is;
	struct refusals		 rf;
	char			 body[32];
	int			 i, n = 600;

	REQUIRE(st != NULL);
	REQUIRE(store_user_add(st, "romeo", "example.test", NULL, NULL) == 0);
	REQUIRE(store_flush(st) == 0);
	memset(&rf, 0, sizeof(rf));
	for (i = 0; i < n; i++) {
		snprintf(body, sizeof(body), "row %d", i);
		fill_inbox(&m, i == 10 ? "tybalt" : "romeo", body);
		if (i == 300)
			m.from = NULL;		/* NOT NULL from_jid */
		CHECK(store_inbox_put_later(st, &m, refused_cb, &rf) == 0);
		if (i == 400) {		/* read-your-writes inside the batch */
			memset(&is, 0, sizeof(is));
			CHECK(store_inbox_list(st, "romeo", "example.test", 0, 0,
			    0, inbox_cb, &is) == 0);
			CHECK(is.n == 399);	/* 0..400 but 10 and 300 */
			CHECK(strcmp(is.body, "row 400") == 0);
		}
	}
	CHECK(store_pending(st));
	CHECK(store_flush(st) == 0);
	CHECK(rf.n == 2);
	CHECK(rf.notfound == 1);
	CHECK(rf.invalid == 1);
	CHECK(!store_pending(st));
	memset(&is, 0, sizeof(is));
	CHECK(store_inbox_list(st, "romeo", "example.test", 0, 0, 0, inbox_cb,
	    &is) == 0);
	CHECK(is.n == n - 2);
	CHECK(strcmp(is.body, "row 599") == 0);

	/* a batch rolled back: the queued rows are not stored, nor told */
	memset(&rf, 0, sizeof(rf));
	fill_inbox(&m, "romeo", "undone");
	CHECK(store_inbox_put_later(st, &m, refused_cb, &rf) == 0);
	CHECK(store_rollback(st) == 0);
	CHECK(store_flush(st) == 0);
	CHECK(rf.n == 0);
	store_close(st);
	CHECK(raw_int(db_path, "SELECT count(*) FROM inbox") == n - 2);
	CHECK(raw_int(db_path, "SELECT count(*) FROM inbox WHERE body = "
	    "'row 300' OR body = 'row 10' OR body = 'undone'") == 0);
}

/*
 * store_outbox_mark_later(): 300 rows marked sent in one batch (on
 * PostgreSQL, two pipelines of one UPDATE each), one of them marked
 * twice (sent, then delivered: the pipeline goes row by row) and a row
 * that does not exist: that one alone is refused, by the flush; the
 * attempts count each row once.
 */
static void
test_outbox_mark_later(void)
{
	struct store		*st = open_new();
	struct store_outbox	 m;
	struct refusals		 rf;
	int64_t			 first = 0, id = 0;
	int			 i, n = 300;

	REQUIRE(st != NULL);
	REQUIRE(store_user_add(st, "romeo", "example.test", NULL, NULL) == 0);
	memset(&m, 0, sizeof(m));
	m.local = "romeo";
	m.domain = "example.test";
	m.kind = STORE_KIND_MESSAGE;
	m.to = "juliet@example.org";
	m.body = "hello";
	for (i = 0; i < n; i++) {
		REQUIRE(store_outbox_add(st, &m, &id) == 0);
		if (i == 0)
			first = id;
	}
	REQUIRE(store_flush(st) == 0);
	memset(&rf, 0, sizeof(rf));
	for (i = 0; i < n; i++)
		CHECK(store_outbox_mark_later(st, first + i, 0, refused_cb,
		    &rf) == 0);
	CHECK(store_outbox_mark_later(st, first + 5, 1, refused_cb, &rf) == 0);
	CHECK(store_outbox_mark_later(st, id + 1000, 0, refused_cb, &rf) == 0);
	CHECK(store_flush(st) == 0);
	CHECK(rf.n == 1);
	CHECK(rf.notfound == 1);
	store_close(st);
	CHECK(raw_int(db_path, "SELECT count(*) FROM outbox WHERE state = "
	    "'sent' AND attempts = 1") == n - 1);
	CHECK(raw_int(db_path, "SELECT count(*) FROM outbox WHERE state = "
	    "'delivered' AND attempts = 1") == 1);
}

static void
noop_refused(void *arg, enum store_err code, const char *why)
{
	(*(int *)arg)++;
}

/* Rows/s of n puts in batches, each row a round trip (later: 0) or
 * queued for the batch's pipeline (1); the figure is printed. */
static void
inbox_rate(struct store *st, int later)
{
	struct store_inbox	 m;
	struct timespec		 t0, t1;
	double			 secs;
	int			 i, n = 100000, batch = 1000, refused = 0;

	fill_inbox(&m, "romeo", "Wherefore art thou?");
	m.xml = "<message from='juliet@example.org/balcony' "
	    "to='romeo@example.test' type='chat' id='a1'><body>Wherefore "
	    "art thou?</body></message>";
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		if ((later ? store_inbox_put_later(st, &m, noop_refused,
		    &refused) : store_inbox_put(st, &m, NULL)) == -1) {
			CHECK(0);
			break;
		}
		if ((i + 1) % batch == 0 && store_flush(st) == -1) {
			CHECK(0);
			break;
		}
	}
	CHECK(store_flush(st) == 0);
	CHECK(refused == 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("  inbox%s: %d rows in batches of %d: %.2f s, %.0f rows/s\n",
	    later ? " (put_later)" : "", n, batch, secs, n / secs);
}

static void
test_inbox_throughput(void)
{
	struct store		*st = open_new();

	REQUIRE(st != NULL);
	REQUIRE(store_user_add(st, "romeo", "example.test", NULL, NULL) == 0);
	REQUIRE(store_flush(st) == 0);
	inbox_rate(st, 0);
	inbox_rate(st, 1);
	store_close(st);
	CHECK(raw_int(db_path, "SELECT count(*) FROM inbox") == 200000);
}

struct changes_seen {
	int	 n, users, presence, outbox, deleted, rules, blocks;
	int64_t	 outbox_id;
};

static void
change_cb(void *arg, const struct store_change *c)
{
	struct changes_seen	*cs = arg;

	cs->n++;
	if (c->deleted)
		cs->deleted++;
	switch (c->table) {
	case STORE_T_USERS:
		cs->users++;
		break;
	case STORE_T_PRESENCE:
		cs->presence++;
		break;
	case STORE_T_OUTBOX:
		cs->outbox++;
		cs->outbox_id = c->row_id;
		break;
	case STORE_T_DOMAIN_RULES:
		cs->rules++;
		break;
	case STORE_T_BLOCKS:
		cs->blocks++;
		break;
	}
}

/*
 * store_changes_poll() where news is expected. SQLite knows at once that
 * another connection committed (PRAGMA data_version); PostgreSQL's
 * NOTIFY is on its way when the writer's COMMIT returns, so on a URI the
 * poll is tried again for up to 2 s until it reports something.
 */
static int
changes_news(struct store *st, struct changes_seen *cs)
{
	int	 i, n = 0;

	for (i = 0; i < 100; i++) {
		n = store_changes_poll(st, change_cb, cs);
		if (n != 0 || !is_uri(db_path))
			break;
		usleep(20000);
	}
	return n;
}

static int
rule_cb(void *arg, const struct store_domain_rule *r)
{
	char	*out = arg;

	snprintf(out + strlen(out), 256 - strlen(out), "%s=%s;", r->domain,
	    store_rule_name(r->action));
	return 0;
}

static int
block_cb(void *arg, const struct store_block *b)
{
	char	*out = arg;

	snprintf(out + strlen(out), 256 - strlen(out), "%s@%s:%s;", b->local,
	    b->domain, b->jid);
	return 0;
}

/* Domain rules and user blocks: written, listed, journaled, cascaded. */
static void
test_blocks(void)
{
	struct store		*st = open_new(), *b;
	struct changes_seen	 cs;
	char			 out[256];
	const char		*err;

	REQUIRE(st != NULL);
	REQUIRE((b = store_open(db_path, 0, &err)) != NULL);
	REQUIRE(store_user_add(st, "alice", "example.test", NULL, NULL) == 0);
	CHECK(store_domain_rule_set(st, "spam.example", STORE_RULE_BLOCK) == 0);
	CHECK(store_domain_rule_set(st, "friend.example", STORE_RULE_BLOCK) ==
	    0);
	CHECK(store_domain_rule_set(st, "friend.example", STORE_RULE_ALLOW) ==
	    0);
	CHECK(store_block_add(st, "alice", "example.test", "eve@evil.example")
	    == 0);
	CHECK(store_block_add(st, "alice", "example.test",
	    "eve@evil.example") == -1 && store_errcode(st) == STORE_E_EXISTS);
	CHECK(store_block_add(st, "nobody", "example.test", "x.example") ==
	    -1 && store_errcode(st) == STORE_E_NOTFOUND);
	CHECK(store_block_add(st, "alice", "example.test", "x.example") == 0);
	REQUIRE(store_flush(st) == 0);
	out[0] = '\0';
	CHECK(store_domain_rule_list(st, rule_cb, out) == 0);
	CHECK_STR(out, "friend.example=allow;spam.example=block;");
	out[0] = '\0';
	CHECK(store_block_list(st, "alice", "example.test", block_cb, out) ==
	    0);
	CHECK_STR(out, "alice@example.test:eve@evil.example;"
	    "alice@example.test:x.example;");
	memset(&cs, 0, sizeof(cs));
	CHECK(changes_news(b, &cs) >= 5);
	CHECK(cs.rules == 3 && cs.blocks == 2);

	CHECK(store_domain_rule_del(st, "spam.example") == 0);
	CHECK(store_domain_rule_del(st, "spam.example") == -1 &&
	    store_errcode(st) == STORE_E_NOTFOUND);
	CHECK(store_block_del(st, "alice", "example.test", "x.example") == 0);
	CHECK(store_block_del(st, "alice", "example.test", "x.example") == -1 &&
	    store_errcode(st) == STORE_E_NOTFOUND);
	CHECK(store_user_del(st, "alice", "example.test") == 0);
	REQUIRE(store_flush(st) == 0);
	CHECK(raw_int(db_path, "SELECT count(*) FROM blocks") == 0);
	memset(&cs, 0, sizeof(cs));
	CHECK(changes_news(b, &cs) >= 3);
	CHECK(cs.rules == 1 && cs.blocks == 2);
	/* the journal's CHECK still refuses other names */
	CHECK(raw_exec(db_path, "INSERT INTO changes (tbl, row_id, op) "
	    "VALUES ('inbox', 1, 'insert')") == -1);
	store_close(b);
	store_close(st);
}

/* A new file at schema version v: steps 1 to v as written. */
static void
old_version_file(int v)
{
	char	 sql[128];
	int	 i;

	REQUIRE(raw_exec(tmp_db(), sqlite_schema_step(0)) == 0);
	for (i = 1; i < v; i++)
		REQUIRE(raw_exec(db_path, sqlite_schema_step(i)) == 0);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d;"
	    "PRAGMA application_id = %d", v, 0x78666564);
	REQUIRE(raw_exec(db_path, sql) == 0);
}

/*
 * A version 4 file (steps 1 to 4 run as written) migrates to 5 with its
 * journal (rows, sequence, the triggers of other tables) and its outbox
 * (rows, triggers, step 3's events trigger), which then takes 'blocked'.
 */
static void
test_open_migrates_v4(void)
{
	struct store		*st;
	const char		*err = NULL;

	SQLITE_ONLY();
	old_version_file(4);
	REQUIRE(raw_exec(db_path, "INSERT INTO users (localpart, domain) "
	    "VALUES ('a', 'x.test'), ('b', 'x.test');"
	    "DELETE FROM changes WHERE seq = 2;"
	    "INSERT INTO outbox (user_id, to_jid, body, xml) VALUES (1, "
	    "'r@r.test', 'kept', '<x/>');") == 0);
	REQUIRE(raw_int(db_path, "SELECT seq FROM sqlite_sequence WHERE "
	    "name = 'changes'") == 3);
	st = store_open(db_path, 0, &err);
	REQUIRE(st != NULL);
	CHECK(store_version(st) == STORE_SCHEMA_VERSION);
	CHECK(raw_int(db_path, "SELECT count(*) FROM changes") == 2);
	CHECK(raw_int(db_path, "SELECT seq FROM sqlite_sequence WHERE "
	    "name = 'changes'") == 3);
	CHECK(raw_int(db_path, "SELECT count(*) FROM outbox WHERE body = "
	    "'kept' AND xml = '<x/>'") == 1);
	CHECK(store_block_add(st, "a", "x.test", "e.example") == 0);
	CHECK(store_user_add(st, "c", "x.test", NULL, NULL) == 0);
	REQUIRE(store_flush(st) == 0);
	CHECK(raw_int(db_path, "SELECT max(seq) FROM changes") == 5);
	CHECK(raw_int(db_path, "SELECT count(*) FROM changes WHERE "
	    "(seq = 4 AND tbl = 'blocks') OR (seq = 5 AND tbl = 'users')") ==
	    2);
	store_close(st);
	/* the rebuilt outbox: journaled, its events written, 'blocked' in */
	CHECK(raw_exec(db_path, "INSERT INTO outbox (user_id, to_jid, body) "
	    "VALUES (1, 'r@r.test', 'new')") == 0);
	CHECK(raw_int(db_path, "SELECT count(*) FROM changes WHERE tbl = "
	    "'outbox'") == 2);
	CHECK(raw_exec(db_path, "UPDATE outbox SET state = 'failed', "
	    "error_stage = 'blocked' WHERE body = 'kept'") == 0);
	CHECK(raw_int(db_path, "SELECT count(*) FROM events WHERE type = "
	    "'outbox' AND state = 'failed'") == 1);
	CHECK(raw_exec(db_path, "UPDATE outbox SET error_stage = 'nope' "
	    "WHERE body = 'new'") == -1);
	CHECK(raw_int(db_path, "SELECT count(*) FROM sqlite_master WHERE "
	    "name LIKE '%_v5' OR name LIKE 'changes_new'") == 0);
}

/*
 * A version 5 file migrates to 6 with its webhooks rows (id, cursor,
 * counts) kept; from then on a deleted webhook's id is never given again
 * (AUTOINCREMENT), even when it was the newest.
 */
static void
test_open_migrates_v5_webhooks(void)
{
	struct store		*st;
	const char		*err = NULL;
	int64_t			 id = 0, again = 0;

	SQLITE_ONLY();
	old_version_file(5);
	REQUIRE(raw_exec(db_path, "INSERT INTO webhooks (id, url, cursor, "
	    "delivered) VALUES (7, 'http://h/old', 42, 3)") == 0);
	st = store_open(db_path, 0, &err);
	REQUIRE(st != NULL);
	CHECK(store_version(st) == STORE_SCHEMA_VERSION);
	CHECK(raw_int(db_path, "SELECT count(*) FROM webhooks WHERE id = 7 AND "
	    "cursor = 42 AND delivered = 3 AND managed = 0 AND secret IS "
	    "NULL") == 1);
	CHECK(store_webhook_add(st, "http://h/a", "s", 0, &id) == 0 && id == 8);
	CHECK(store_webhook_delete(st, id) == 0);
	CHECK(store_webhook_add(st, "http://h/a", "s", 0, &again) == 0 &&
	    again == id + 1);
	CHECK(store_webhook_delete(st, id) == -1 &&
	    store_errcode(st) == STORE_E_NOTFOUND);
	REQUIRE(store_flush(st) == 0);
	store_close(st);
	CHECK(raw_int(db_path, "SELECT count(*) FROM sqlite_master WHERE "
	    "name = 'webhooks_v6'") == 0);
}

static int
webhook_id_cb(void *arg, const struct store_webhook *w)
{
	*(int64_t *)arg = w->id;
	return 0;
}

/*
 * The row of an xfed.conf webhook line: not the API's to delete, its URL
 * not addable again (the error says whose it is, in the store's words not
 * the database's); forgotten once the line is gone, then the URL is free.
 */
static void
test_webhook_conf_rows(void)
{
	struct store	*st = open_new();
	int64_t		 conf = 0, id = 0;

	REQUIRE(st != NULL);
	REQUIRE(store_webhook_open(st, "http://h/conf", 0, webhook_id_cb,
	    &conf) == 0 && conf > 0);
	CHECK(store_webhook_add(st, "http://h/conf", NULL, 0, &id) == -1 &&
	    store_errcode(st) == STORE_E_EXISTS &&
	    strstr(store_errstr(st), "webhook line of xfed.conf") != NULL &&
	    strcasestr(store_errstr(st), "constraint") == NULL);
	CHECK(store_webhook_delete(st, conf) == -1 &&
	    store_errcode(st) == STORE_E_NOTFOUND);
	CHECK(store_webhook_forget(st, conf) == 0);
	CHECK(store_webhook_forget(st, conf) == -1 &&
	    store_errcode(st) == STORE_E_NOTFOUND);
	CHECK(store_webhook_add(st, "http://h/conf", NULL, 0, &id) == 0 &&
	    id > conf);
	CHECK(store_webhook_add(st, "http://h/conf", NULL, 0, &conf) == -1 &&
	    store_errcode(st) == STORE_E_EXISTS &&
	    strstr(store_errstr(st), "xfed.conf") == NULL);
	CHECK(store_webhook_forget(st, id) == -1 &&
	    store_errcode(st) == STORE_E_NOTFOUND);
	CHECK(store_webhook_delete(st, id) == 0);
	REQUIRE(store_flush(st) == 0);
	store_close(st);
}

/* Retention deletes in bounded batches, only what is finished. */
static void
test_prune(void)
{
	struct store		*st = open_new();
	struct store_inbox	 m;
	struct store_outbox	 o;
	int64_t			 n = -1, id;
	int			 i;

	REQUIRE(st != NULL);
	REQUIRE(store_user_add(st, "alice", "example.test", NULL, NULL) == 0);
	memset(&m, 0, sizeof(m));
	m.local = "alice";
	m.domain = "example.test";
	m.from = "eve@x.example";
	m.to = "alice@example.test";
	for (i = 0; i < 5; i++) {
		REQUIRE(store_inbox_put(st, &m, &id) == 0);
		if (i < 3)
			REQUIRE(store_inbox_consume(st, id) == 0);
	}
	/* consumed, but its receipt is still owed: kept */
	m.receipt = 1;
	REQUIRE(store_inbox_put(st, &m, &id) == 0);
	REQUIRE(store_inbox_consume(st, id) == 0);
	memset(&o, 0, sizeof(o));
	o.local = "alice";
	o.domain = "example.test";
	o.to = "eve@x.example";
	for (i = 0; i < 3; i++) {
		REQUIRE(store_outbox_add(st, &o, &id) == 0);
		if (i < 2)
			REQUIRE(store_outbox_sent(st, id) == 0);
	}
	REQUIRE(store_flush(st) == 0);
	CHECK(store_inbox_unconsumed(st, "alice", "example.test", &n) == 0 &&
	    n == 2);
	CHECK(store_inbox_unconsumed(st, "bob", "example.test", &n) == 0 &&
	    n == 0);
	/* nothing is older than the past */
	CHECK(store_inbox_prune(st, 1, 100, &n) == 0 && n == 0);
	CHECK(store_inbox_prune(st, time(NULL) + 10, 2, &n) == 0 && n == 2);
	CHECK(store_inbox_prune(st, time(NULL) + 10, 2, &n) == 0 && n == 1);
	CHECK(store_inbox_prune(st, time(NULL) + 10, 2, &n) == 0 && n == 0);
	CHECK(store_outbox_prune(st, time(NULL) + 10, 100, &n) == 0 && n == 2);
	REQUIRE(store_flush(st) == 0);
	CHECK(raw_int(db_path, "SELECT count(*) FROM inbox WHERE consumed "
	    "IS NULL") == 2);
	CHECK(raw_int(db_path, "SELECT count(*) FROM inbox") == 3);
	CHECK(raw_int(db_path, "SELECT count(*) FROM inbox WHERE receipt = "
	    "'wanted'") == 1);
	CHECK(raw_int(db_path, "SELECT count(*) FROM outbox WHERE state = "
	    "'queued'") == 1);
	CHECK(raw_int(db_path, "SELECT count(*) FROM outbox") == 1);
	/* the journal: only rows reported, at most limit at a time */
	CHECK(store_changes_poll(st, change_cb, &(struct changes_seen){ 0 })
	    >= 0);
	CHECK(store_changes_prune(st, time(NULL) + 10, 1, &n) == 0 && n <= 1);
	store_close(st);
}

static void
test_changes_from_other_connection(void)
{
	const char		*err = NULL;
	struct store		*a = open_new(), *b;
	struct store_outbox	 m;
	struct changes_seen	 cs;
	int64_t			 id = 0;
	char			 sql[256];

	REQUIRE(a != NULL);
	REQUIRE(store_user_add(a, "romeo", "example.test", NULL, NULL) == 0);
	REQUIRE(store_flush(a) == 0);
	b = store_open(db_path, 0, &err);
	REQUIRE(b != NULL);
	memset(&cs, 0, sizeof(cs));
	/* The journal rows written before open are not news. */
	CHECK(store_changes_poll(b, change_cb, &cs) == 0);
	CHECK(store_changes_poll(a, change_cb, &cs) == 0);

	memset(&m, 0, sizeof(m));
	m.local = "romeo";
	m.domain = "example.test";
	m.to = "juliet@example.org";
	m.body = "queued by another process";
	REQUIRE(store_outbox_add(b, &m, &id) == 0);
	/* Not committed yet: a sees nothing. */
	CHECK(store_changes_poll(a, change_cb, &cs) == 0);
	REQUIRE(store_flush(b) == 0);
	/* b's row, and a's own user row, journaled after a opened. */
	CHECK(changes_news(a, &cs) == 2);
	CHECK(cs.users == 1);
	CHECK(cs.outbox == 1 && cs.outbox_id == id);
	/* Nothing new: data_version did not move. */
	CHECK(store_changes_poll(a, change_cb, &cs) == 0);

	REQUIRE(store_presence_set(b, "romeo", "example.test",
	    STORE_SHOW_AWAY, NULL, 0) == 0);
	REQUIRE(store_presence_set(b, "romeo", "example.test",
	    STORE_SHOW_CHAT, NULL, 0) == 0);
	REQUIRE(store_flush(b) == 0);
	memset(&cs, 0, sizeof(cs));
	CHECK(changes_news(a, &cs) == 2);
	CHECK(cs.presence == 2);
	store_close(b);

	/* A plain sqlite3 connection (the native system) queues a row. */
	snprintf(sql, sizeof(sql), "INSERT INTO outbox (user_id, to_jid, "
	    "body) SELECT id, 'juliet@example.org', 'raw' FROM users "
	    "WHERE localpart = 'romeo'");
	REQUIRE(raw_exec(db_path, sql) == 0);
	memset(&cs, 0, sizeof(cs));
	CHECK(changes_news(a, &cs) == 1);
	CHECK(cs.outbox == 1);
	/* Requeueing a failed row is a change too; marking sent is not. */
	REQUIRE(store_outbox_failed(a, cs.outbox_id, "remote", "x", NULL) == 0);
	REQUIRE(store_flush(a) == 0);
	snprintf(sql, sizeof(sql), "UPDATE outbox SET state = 'queued' "
	    "WHERE id = %lld", (long long)cs.outbox_id);
	REQUIRE(raw_exec(db_path, sql) == 0);
	memset(&cs, 0, sizeof(cs));
	CHECK(changes_news(a, &cs) == 1);
	CHECK(cs.outbox == 1);

	/* Deleting the user: a users delete (and the cascade's rows). */
	REQUIRE(raw_exec(db_path, "PRAGMA foreign_keys = ON; "
	    "DELETE FROM users") == 0);
	memset(&cs, 0, sizeof(cs));
	CHECK(changes_news(a, &cs) >= 1);
	CHECK(cs.users == 1 && cs.deleted >= 1);

	/* Pruning keeps nothing that was not reported. */
	CHECK(store_changes_prune(a, time(NULL) + 1, 1000, NULL) == 0);
	CHECK(store_flush(a) == 0);
	CHECK(raw_int(db_path, "SELECT count(*) FROM changes") == 0);
	REQUIRE(raw_exec(db_path, "INSERT INTO users (localpart, domain) "
	    "VALUES ('new', 'example.test')") == 0);
	memset(&cs, 0, sizeof(cs));
	CHECK(changes_news(a, &cs) == 1);
	CHECK(cs.users == 1);
	store_close(a);
}

static double
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * Another process queues a message and changes a presence while this one
 * polls every 50 ms, as the daemon's timer does; prints how long it took
 * to notice (no timing assert).
 */
static void
test_changes_latency(void)
{
	const char		*err = NULL;
	struct store		*a = open_new(), *b;
	struct store_outbox	 m;
	struct changes_seen	 cs;
	struct timespec		 ts = { 0, 50 * 1000000L };
	double			 committed = 0, seen = 0, deadline;
	int			 fd[2], status, i;
	pid_t			 pid;

	REQUIRE(a != NULL);
	REQUIRE(store_user_add(a, "romeo", "example.test", NULL, NULL) == 0);
	REQUIRE(store_flush(a) == 0);
	store_changes_poll(a, change_cb, &cs);
	REQUIRE(pipe(fd) == 0);
	if ((pid = fork()) == 0) {
		close(fd[0]);
		if ((b = store_open(db_path, 0, &err)) == NULL)
			_exit(1);
		memset(&m, 0, sizeof(m));
		m.local = "romeo";
		m.domain = "example.test";
		m.to = "juliet@example.org";
		m.body = "from another process";
		nanosleep(&ts, NULL);
		if (store_begin(b) == -1 || store_outbox_add(b, &m, NULL) == -1 ||
		    store_presence_set(b, "romeo", "example.test",
		    STORE_SHOW_AWAY, NULL, 0) == -1 || store_commit(b) == -1)
			_exit(1);
		committed = now_ms();
		if (write(fd[1], &committed, sizeof(committed)) !=
		    sizeof(committed))
			_exit(1);
		store_close(b);
		_exit(0);
	}
	REQUIRE(pid > 0);
	close(fd[1]);
	memset(&cs, 0, sizeof(cs));
	deadline = now_ms() + 10000;
	for (i = 0; now_ms() < deadline; i++) {
		if (store_changes_poll(a, change_cb, &cs) > 0) {
			seen = now_ms();
			break;
		}
		nanosleep(&ts, NULL);
	}
	CHECK(read(fd[0], &committed, sizeof(committed)) == sizeof(committed));
	close(fd[0]);
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0);
	CHECK(cs.outbox == 1 && cs.presence == 1);
	if (seen > 0)
		printf("  changes: another process's commit seen after %.1f ms "
		    "(50 ms poll, %d polls)\n", seen - committed, i + 1);
	store_close(a);
}

/*
 * store_watch_fd(): the descriptor that tells when to poll. On SQLite it is
 * the same fd at each call; another connection's commit makes it readable
 * and the polls it calls for report the commit; with nothing written it
 * still wakes (the timer, for what inotify misses). Waits are bounded,
 * nothing is timed.
 */
static void
test_changes_watch_fd(void)
{
	const char		*err = NULL;
	struct store		*a = open_new(), *b;
	struct store_outbox	 m;
	struct changes_seen	 cs;
	struct pollfd		 pfd;
	double			 deadline;
	int			 fd, n = 0;

	REQUIRE(a != NULL);
	if (is_uri(db_path)) {	/* PostgreSQL's: store_pg's LISTEN tests */
		store_close(a);
		return;
	}
	REQUIRE(store_user_add(a, "romeo", "example.test", NULL, NULL) == 0);
	REQUIRE(store_flush(a) == 0);
	memset(&cs, 0, sizeof(cs));
	store_changes_poll(a, change_cb, &cs);
	fd = store_watch_fd(a);
	CHECK(fd >= 0);
	CHECK(store_watch_fd(a) == fd);
	pfd.fd = fd;
	pfd.events = POLLIN;
	/* nothing written: the timer wakes it; its poll reports nothing */
	CHECK(poll(&pfd, 1, 5000) == 1);
	CHECK(store_changes_poll(a, change_cb, &cs) == 0);
	CHECK(store_watch_fd(a) == fd);

	b = store_open(db_path, 0, &err);
	REQUIRE(b != NULL);
	memset(&m, 0, sizeof(m));
	m.local = "romeo";
	m.domain = "example.test";
	m.to = "juliet@example.org";
	m.body = "watched";
	REQUIRE(store_outbox_add(b, &m, NULL) == 0);
	REQUIRE(store_flush(b) == 0);
	memset(&cs, 0, sizeof(cs));
	/* poll only when the fd says so, as the daemon does */
	deadline = now_ms() + 10000;
	while (n == 0 && now_ms() < deadline)
		if (poll(&pfd, 1, 1000) == 1)
			n = store_changes_poll(a, change_cb, &cs);
	/* b's row, and a's own user row, journaled after a opened */
	CHECK(n == 2);
	CHECK(cs.outbox == 1 && cs.users == 1);
	store_close(b);
	store_close(a);
}

/* One row by its id: found, or STORE_E_NOTFOUND naming it (both backends). */
static void
test_get_one_by_id(void)
{
	struct store		*st = open_new();
	struct users		 us;
	struct inbox_seen	 is;
	struct out_seen		 os;
	int64_t			 uid = 0;

	REQUIRE(st != NULL);
	REQUIRE(store_user_add(st, "romeo", "example.test", NULL, &uid) == 0);
	REQUIRE(store_flush(st) == 0);
	memset(&us, 0, sizeof(us));
	CHECK(store_user_get_id(st, uid, user_cb, &us) == 0 && us.n == 1);
	CHECK(strcmp(us.names[0], "romeo@example.test") == 0);
	CHECK(store_user_get_id(st, uid + 1000, user_cb, &us) == -1);
	CHECK(store_errcode(st) == STORE_E_NOTFOUND);
	CHECK(strstr(store_errstr(st), "no user with id") != NULL);
	memset(&is, 0, sizeof(is));
	CHECK(store_inbox_get(st, 4242, inbox_cb, &is) == -1 && is.n == 0);
	CHECK(store_errcode(st) == STORE_E_NOTFOUND);
	CHECK(strstr(store_errstr(st), "no inbox entry 4242") != NULL);
	memset(&os, 0, sizeof(os));
	CHECK(store_outbox_get(st, 4343, out_cb, &os) == -1 && os.n == 0);
	CHECK(store_errcode(st) == STORE_E_NOTFOUND);
	CHECK(strstr(store_errstr(st), "no outbox entry 4343") != NULL);
	store_close(st);
}

/*
 * store_outbox_earlier(): an earlier message to the same bare JID, however
 * the native system wrote its case (XEP-0172 nick in the first message
 * only): ASCII case, any resource, and what SQL's lower() does not fold:
 * non-ASCII case, fullwidth letters (RFC 7622, RFC 8265 3.3.2 width and
 * case mapping). A failed row, another JID or a later row is not one.
 */
static void
test_outbox_earlier_case(void)
{
	static const struct { const char *to, *bare; int yes; } c[] = {
		{ "Juliet@Example.ORG/balcony", "juliet@example.org", 1 },
		{ "\xc3\x89LODIE@example.org", "\xc3\xa9lodie@example.org", 1 },
		{ "\xc3\x89lodie@example.org/x", "\xc3\xa9lodie@example.org", 1 },
		{ "\xef\xbc\xa1lice@example.org", "alice@example.org", 1 },
		{ "\xc3\x89LODIE@example.org", "\xc3\xa9lodie2@example.org", 0 },
		{ "\xc3\x89LODIE@example.org", "elodie@example.org", 0 },
	};
	struct store		*st;
	struct store_outbox	 m;
	size_t			 i;
	int64_t			 id, later;
	int			 yes;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		st = open_new();
		REQUIRE(st != NULL);
		REQUIRE(store_user_add(st, "romeo", "example.test", NULL,
		    NULL) == 0);
		memset(&m, 0, sizeof(m));
		m.local = "romeo";
		m.domain = "example.test";
		m.to = c[i].to;
		m.body = "first";
		REQUIRE(store_outbox_add(st, &m, &id) == 0);
		m.to = "someone@else.example";
		REQUIRE(store_outbox_add(st, &m, &later) == 0);
		REQUIRE(store_flush(st) == 0);
		yes = -1;
		CHECK(store_outbox_earlier(st, "romeo", "example.test",
		    c[i].bare, later, &yes) == 0);
		if (yes != c[i].yes)
			printf("  case %zu: %s vs %s: %d\n", i, c[i].to,
			    c[i].bare, yes);
		CHECK(yes == c[i].yes);
		/* not earlier than itself */
		CHECK(store_outbox_earlier(st, "romeo", "example.test",
		    c[i].bare, id, &yes) == 0 && yes == 0);
		store_close(st);
	}
}

static void
test_names(void)
{
	enum store_kind		 k;
	enum store_out_state	 s;
	enum store_sub_state	 ss;

	CHECK(store_kind_parse("unsubscribed", &k) == 0 &&
	    k == STORE_KIND_UNSUBSCRIBED);
	CHECK(store_kind_parse("chat", &k) == -1);
	CHECK(store_out_state_parse("done", &s) == 0 && s == STORE_OUT_DONE);
	CHECK(store_sub_state_parse("both", &ss) == 0 && ss == STORE_SUB_BOTH);
	CHECK(store_sub_state_parse(NULL, &ss) == -1);
	CHECK_STR(store_kind_name(STORE_KIND_ERROR), "error");
	CHECK_STR(store_show_name((enum store_show)42), "?");
}

static int
event_ids_cb(void *arg, const struct store_event *e)
{
	int64_t	*ids = arg;

	if (ids[0] < 15)
		ids[++ids[0]] = e->id;
	return 0;
}

static int
departed_cb(void *arg, const struct store_departed *d)
{
	char	*out = arg;
	char	 line[128];

	snprintf(line, sizeof(line), "%s@%s>%s:%d:%d;", d->local, d->domain,
	    d->jid, d->state, d->pending_out);
	strcat(out, line);
	return 0;
}

static int
webhook_row_cb(void *arg, const struct store_webhook *w)
{
	*(struct store_webhook *)arg = *w;
	((struct store_webhook *)arg)->url = NULL;
	((struct store_webhook *)arg)->last_error = NULL;
	return 0;
}

static int
directed_cb(void *arg, const char *jid)
{
	strcat(arg, jid);
	strcat(arg, ";");
	return 0;
}

static int
token_row_cb(void *arg, const struct store_token *t)
{
	*(enum store_scope *)arg = t->scope;
	return 0;
}

/* Schema step 2: tokens, the events journal, webhook cursors, inbox ack. */
static void
test_api(void)
{
	struct store		*st = open_new();
	struct store_inbox	 m;
	struct store_webhook	 w;
	enum store_scope	 sc = STORE_SCOPE_READ;
	int64_t			 ids[16], last = 0, n = 0, again = 0;
	char			 hash[65];

	REQUIRE(st != NULL);
	memset(hash, 'a', 64);
	hash[64] = '\0';
	CHECK(store_token_add(st, "app", hash, STORE_SCOPE_ADMIN, NULL) == 0);
	CHECK(store_token_add(st, "app", hash, STORE_SCOPE_READ, NULL) == -1 &&
	    store_errcode(st) == STORE_E_EXISTS);
	CHECK(store_token_find(st, hash, token_row_cb, &sc) == 0 &&
	    sc == STORE_SCOPE_ADMIN);
	CHECK(store_token_add(st, "short", "abc", STORE_SCOPE_READ, NULL) ==
	    -1 && store_errcode(st) == STORE_E_INVALID);
	CHECK(store_token_revoke(st, "app") == 0);
	CHECK(store_token_find(st, hash, token_row_cb, &sc) == -1 &&
	    store_errcode(st) == STORE_E_NOTFOUND);
	CHECK(store_token_revoke(st, "app") == -1);

	/* A user, two inbox entries: three events in order. */
	REQUIRE(store_user_add(st, "romeo", "example.test", NULL, NULL) == 0);
	fill_inbox(&m, "romeo", "one");
	CHECK(store_inbox_put(st, &m, NULL) == 0);
	fill_inbox(&m, "romeo", "two");
	CHECK(store_inbox_put(st, &m, NULL) == 0);
	REQUIRE(store_flush(st) == 0);
	ids[0] = 0;
	CHECK(store_event_list(st, 0, 0, event_ids_cb, ids) == 0);
	CHECK(ids[0] == 3 && ids[1] < ids[2] && ids[2] < ids[3]);
	CHECK(store_event_last(st, &last) == 0 && last == ids[3]);
	CHECK(store_event_first(st, &again) == 0 && again == ids[1]);
	CHECK(store_event_count(st, ids[1], &n) == 0 && n == 2);

	/* Acknowledge up to the first entry only. */
	CHECK(store_inbox_ack(st, "romeo", "example.test", 1, &n) == 0 &&
	    n == 1);
	CHECK(store_inbox_ack(st, "romeo", "example.test", 1, &n) == 0 &&
	    n == 0);

	/* Pruning everything keeps the newest: ids are never reused. */
	CHECK(store_event_prune(st, last, (int64_t)time(NULL) + 10) == 0);
	REQUIRE(store_flush(st) == 0);
	CHECK(raw_int(db_path, "SELECT count(*) FROM events") == 1);
	CHECK(store_user_add(st, "juliet", "example.test", NULL, NULL) == 0);
	REQUIRE(store_flush(st) == 0);
	CHECK(store_event_last(st, &again) == 0 && again == last + 1);
	CHECK(store_event_first(st, &n) == 0 && n == last);

	/* A webhook's cursor only moves forward; failures count up. */
	memset(&w, 0, sizeof(w));
	CHECK(store_webhook_open(st, "http://h/x", 7, webhook_row_cb, &w) == 0);
	CHECK(w.cursor == 7 && w.failures == 0);
	CHECK(store_webhook_fail(st, w.id, 500, "HTTP status 500", 0) == 0);
	CHECK(store_webhook_done(st, w.id, 5, 1, 200) == 0);
	CHECK(store_webhook_open(st, "http://h/x", 0, webhook_row_cb, &w) == 0);
	CHECK(w.cursor == 7 && w.failures == 0 && w.delivered == 1);
	CHECK(store_webhook_fail(st, w.id, 0, "no answer", 0) == 0);
	CHECK(store_webhook_open(st, "http://h/x", 0, webhook_row_cb, &w) == 0);
	CHECK(w.failures == 1 && w.last_status == 0);
	CHECK(store_webhook_fail(st, 999, 0, "x", 0) == -1 &&
	    store_errcode(st) == STORE_E_NOTFOUND);
	store_close(st);
}

static int
receipt_cb(void *arg, const struct store_inbox *m)
{
	strcat(arg, m->stanza_id);
	strcat(arg, ";");
	return 0;
}

static int
xml_cb(void *arg, const struct store_outbox *o)
{
	snprintf(arg, 64, "%s", o->xml ? o->xml : "(null)");
	return 0;
}

/*
 * Version 1 -> 2 (native users as complete contacts): the inbox keeps its
 * rows and takes `chatstate`; the outbox gets `xml`; directed presence is
 * remembered; a disabled user's inbox refuses; a deleted user leaves the
 * contacts to tell in `departed`.
 */
static void
test_migrates_v1_contacts(void)
{
	struct store		*st;
	struct store_inbox	 m;
	struct store_outbox	 o;
	const char		*err = NULL;
	char			 sql[256], buf[512];
	int64_t			 id;

	SQLITE_ONLY();
	REQUIRE(raw_exec(tmp_db(), sqlite_schema_step(0)) == 0);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = 1;"
	    "PRAGMA application_id = %d", 0x78666564);
	REQUIRE(raw_exec(db_path, sql) == 0);
	REQUIRE(raw_exec(db_path, "INSERT INTO users (localpart, domain) "
	    "VALUES ('nat', 'x.test'), ('off', 'x.test');"
	    "INSERT INTO inbox (user_id, kind, from_jid, to_jid, body) "
	    "VALUES (1, 'message', 'a@r.test/c', 'nat@x.test', 'kept');"
	    "INSERT INTO subscriptions (user_id, jid, state, pending_out) "
	    "VALUES (1, 'a@r.test', 'both', 0), (1, 'b@r.test', 'none', 1),"
	    " (1, 'c@r.test', 'none', 0);") == 0);
	st = store_open(db_path, 0, &err);
	REQUIRE(st != NULL);
	CHECK(store_version(st) == STORE_SCHEMA_VERSION);
	CHECK(raw_int(db_path, "SELECT count(*) FROM inbox WHERE body = "
	    "'kept' AND kind = 'message'") == 1);

	memset(&m, 0, sizeof(m));
	m.local = "nat";
	m.domain = "x.test";
	m.kind = STORE_KIND_CHATSTATE;
	m.from = "a@r.test/c";
	m.to = "nat@x.test";
	CHECK(store_inbox_put(st, &m, NULL) == 0);
	CHECK(store_flush(st) == 0);
	CHECK(raw_exec(db_path, "UPDATE users SET disabled = 1 "
	    "WHERE localpart = 'off'") == 0);
	m.local = "off";
	CHECK(store_inbox_put(st, &m, NULL) == -1);
	CHECK(store_errcode(st) == STORE_E_NOTFOUND);

	memset(&o, 0, sizeof(o));
	o.local = "nat";
	o.domain = "x.test";
	o.to = "a@r.test";
	o.xml = "<x xmlns='urn:x'/>";
	REQUIRE(store_outbox_add(st, &o, &id) == 0);
	REQUIRE(store_outbox_get(st, id, xml_cb, buf) == 0);
	CHECK_STR(buf, "<x xmlns='urn:x'/>");

	/* XEP-0184: owed once consumed, then sent */
	m.local = "nat";
	m.kind = STORE_KIND_MESSAGE;
	m.stanza_id = "rq";
	m.receipt = 1;
	REQUIRE(store_inbox_put(st, &m, &id) == 0);
	buf[0] = '\0';
	CHECK(store_receipts_due(st, 0, receipt_cb, buf) == 0);
	CHECK_STR(buf, "");
	CHECK(store_inbox_consume(st, id) == 0);
	CHECK(store_receipts_due(st, 0, receipt_cb, buf) == 0);
	CHECK_STR(buf, "rq;");
	CHECK(store_receipt_sent(st, id) == 0);
	buf[0] = '\0';
	CHECK(store_receipts_due(st, 0, receipt_cb, buf) == 0);
	CHECK_STR(buf, "");

	CHECK(store_directed_add(st, "nat", "x.test", "d@r.test/p") == 0);
	CHECK(store_directed_add(st, "nat", "x.test", "e@r.test") == 0);
	CHECK(store_directed_add(st, "nobody", "x.test", "e@r.test") == -1);
	buf[0] = '\0';
	CHECK(store_directed_list(st, "nat", "x.test", directed_cb, buf) == 0);
	CHECK_STR(buf, "d@r.test/p;e@r.test;");
	CHECK(store_directed_del(st, "nat", "x.test", "e@r.test") == 0);

	CHECK(store_user_del(st, "nat", "x.test") == 0);
	buf[0] = '\0';
	CHECK(store_departed_list(st, 0, 0, departed_cb, buf) == 0);
	CHECK_STR(buf, "nat@x.test>a@r.test:3:0;nat@x.test>b@r.test:0:1;"
	    "nat@x.test>d@r.test/p:-1:0;");
	CHECK(store_departed_del(st, 1) == 0);
	buf[0] = '\0';
	CHECK(store_departed_list(st, 0, 1, departed_cb, buf) == 0);
	CHECK_STR(buf, "nat@x.test>b@r.test:0:1;");
	/* an unavailable a stopping daemon owes: state directed */
	CHECK(store_departed_owe(st, "mute", "x.test", "c@r.test", &id) == 0);
	CHECK(id > 3);
	buf[0] = '\0';
	CHECK(store_departed_list(st, 0, 0, departed_cb, buf) == 0);
	CHECK_STR(buf, "nat@x.test>b@r.test:0:1;nat@x.test>d@r.test/p:-1:0;"
	    "mute@x.test>c@r.test:-1:0;");
	/* after an id: the rows that follow it */
	buf[0] = '\0';
	CHECK(store_departed_list(st, 2, 1, departed_cb, buf) == 0);
	CHECK_STR(buf, "nat@x.test>d@r.test/p:-1:0;");
	buf[0] = '\0';
	CHECK(store_departed_list(st, id, 0, departed_cb, buf) == 0);
	CHECK_STR(buf, "");
	CHECK(store_departed_del(st, id) == 0);
	store_close(st);
}

static int
rpres_names_cb(void *arg, const struct store_rpres *r)
{
	strcat(arg, r->jid);
	strcat(arg, ";");
	return 0;
}

static int
count_char(const char *s, int c)
{
	int	 n = 0;

	for (; *s != '\0'; s++)
		n += *s == c;
	return n;
}

/* RFC 6121 4.6.4: strangers' directed presence, bounded and dropped. */
static void
test_rpres_strangers(void)
{
	struct store		*st = open_new();
	struct store_rpres	 r;
	struct store_sub	 s;
	char			 jid[64], buf[512];
	int			 i;

	REQUIRE(st != NULL);
	REQUIRE(store_user_add(st, "romeo", "example.test", NULL, NULL) == 0);
	REQUIRE(store_user_add(st, "tybalt", "example.test", NULL, NULL) == 0);
	memset(&s, 0, sizeof(s));
	s.local = "romeo";
	s.domain = "example.test";
	s.jid = "juliet@example.org";
	s.state = STORE_SUB_TO;
	REQUIRE(store_sub_put(st, &s) == 0);
	s.jid = "nurse@example.org";		/* she sees him, not he her */
	s.state = STORE_SUB_FROM;
	REQUIRE(store_sub_put(st, &s) == 0);
	memset(&r, 0, sizeof(r));
	r.local = "romeo";
	r.domain = "example.test";
	r.show = STORE_SHOW_AVAILABLE;
	r.jid = "juliet@example.org/balcony";
	REQUIRE(store_rpres_put(st, &r) == 0);
	for (i = 0; i < 4; i++) {
		snprintf(jid, sizeof(jid), "s%d@example.org/x", i);
		r.jid = jid;
		REQUIRE(store_rpres_put(st, &r) == 0);
	}
	r.jid = "nurse@example.org/x";
	REQUIRE(store_rpres_put(st, &r) == 0);
	r.local = "tybalt";
	r.jid = "s0@example.org/x";
	REQUIRE(store_rpres_put(st, &r) == 0);
	/* the newest two of romeo's strangers stay; juliet (to) stays */
	CHECK(store_rpres_strangers(st, "romeo", "example.test", 2) == 0);
	buf[0] = '\0';
	CHECK(store_rpres_list(st, "romeo", "example.test", rpres_names_cb,
	    buf) == 0);
	/* (rows of one second: which two is the backend's tie-break) */
	CHECK(strncmp(buf, "juliet@example.org/balcony;", 27) == 0);
	CHECK(strchr(buf, ';') != NULL && count_char(buf, ';') == 3);
	CHECK(store_rpres_strangers(st, "romeo", "example.test", 0) == 0);
	buf[0] = '\0';
	CHECK(store_rpres_list(st, "romeo", "example.test", rpres_names_cb,
	    buf) == 0);
	CHECK_STR(buf, "juliet@example.org/balcony;");
	/* tybalt's were not touched; at start, everyone's go */
	buf[0] = '\0';
	CHECK(store_rpres_list(st, "tybalt", "example.test", rpres_names_cb,
	    buf) == 0);
	CHECK_STR(buf, "s0@example.org/x;");
	CHECK(store_rpres_strangers(st, NULL, NULL, 0) == 0);
	buf[0] = '\0';
	CHECK(store_rpres_list(st, "tybalt", "example.test", rpres_names_cb,
	    buf) == 0);
	CHECK_STR(buf, "");
	CHECK(store_rpres_strangers(st, "nobody", "example.test", 0) == 0);
	store_close(st);
}

static const struct t_case cases[] = {
	{ "open_creates_current", test_open_creates_current },
	{ "events_journal", test_events_journal },
	{ "open_migrates_v0", test_open_migrates_v0 },
	{ "outbox_delivered", test_outbox_delivered },
	{ "migrates_v1_contacts", test_migrates_v1_contacts },
	{ "open_refuses_newer", test_open_refuses_newer },
	{ "open_refuses_foreign", test_open_refuses_foreign },
	{ "open_refuses_not_db", test_open_refuses_not_db },
	{ "open_missing", test_open_missing },
	{ "open_refuses_corrupt", test_open_refuses_corrupt },
	{ "users", test_users },
	{ "presence", test_presence },
	{ "subscriptions", test_subscriptions },
	{ "sub_transitions", test_sub_transitions },
	{ "remote_presence", test_remote_presence },
	{ "rpres_strangers", test_rpres_strangers },
	{ "inbox", test_inbox },
	{ "outbox", test_outbox },
	{ "state", test_state },
	{ "batch_survives_reopen", test_batch_survives_reopen },
	{ "explicit_transaction", test_explicit_transaction },
	{ "inbox_throughput", test_inbox_throughput },
	{ "inbox_put_later", test_inbox_put_later },
	{ "outbox_mark_later", test_outbox_mark_later },
	{ "changes_from_other_connection", test_changes_from_other_connection },
	{ "changes_latency", test_changes_latency },
	{ "changes_watch_fd", test_changes_watch_fd },
	{ "get_one_by_id", test_get_one_by_id },
	{ "outbox_earlier_case", test_outbox_earlier_case },
	{ "names", test_names },
	{ "api", test_api },
	{ "blocks", test_blocks },
	{ "open_migrates_v4", test_open_migrates_v4 },
	{ "open_migrates_v5_webhooks", test_open_migrates_v5_webhooks },
	{ "webhook_conf_rows", test_webhook_conf_rows },
	{ "prune", test_prune },
};

int
main(int argc, char **argv)
{
	return T_RUN(cases, argc, argv);
}
