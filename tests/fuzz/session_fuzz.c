/*
 * tests/fuzz/session_fuzz.c: a whole inbound S2S session from raw bytes.
 * The bytes go into a real inbound stream (s2s/in.c, s2s/stream.c, the
 * XML parser, dialback/) on no socket, the way tests/unit/s2s_fsm_test.c
 * drives one: they are put in the stream's input buffer and its read
 * callback runs, in chunks whose sizes the first input byte picks. After
 * each chunk, a verification the stream asked for is faked as valid (the
 * authoritative server said yes), so that stanzas after a db:result reach
 * the deliver hook, which hands them to the real router (server/router.c)
 * and the local handlers (messages, presence, iq) against a real SQLite
 * store in a temporary directory (on /dev/shm when there is one), made
 * once per process, with one user alice@b.test; the batch commits after
 * each input. Outbound stanzas (answers, bounces) become outbox rows; no
 * connection is made (xfed is "stopping" for the S2S layer). Each input
 * starts from the same state: after an input that wrote to the store, the
 * store is copied back from the snapshot taken once alice was added (the
 * SQLite backup API), and the in-memory inbox counts (quota.c) and stanza
 * rates (rate.c) are dropped, so that no input sees what an earlier one
 * stored (a long run would otherwise fill alice's inbox_quota and refuse
 * every message after it). The config is parsed once. Checked, whatever
 * the input:
 *   - no sanitizer report, no leak once the stream is freed;
 *   - a stanza delivered comes from a domain verified on this stream and
 *     is addressed to the hosted domain (S2S 5.4: never relayed).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "batch.h"
#include "conf.h"
#include "dialback.h"
#include "el.h"
#include "in.h"
#include "jid.h"
#include "log.h"
#include "mgr.h"
#include "outbox.h"
#include "presence.h"
#include "quota.h"
#include "rate.h"
#include "router.h"
#include "s2s.h"
#include "server.h"
#include "sources.h"
#include "sqlite_int.h"
#include "store.h"
#include "stream.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FZ_LOCAL	"b.test"

static struct server	 fz_srv;
static struct store	*fz_store;	/* one per process: opening is slow */
static sqlite3		*fz_snap;	/* its content after setup, in memory */
static sqlite3_int64	 fz_changes;	/* total changes at the last reset */
static struct conf	*fz_conf;	/* parsed once */
static struct s2s_stream *fz_st;	/* the session under test */

static uint64_t
fz_deliver(struct el *stanza, const struct jid *to, const struct jid *from)
{
	/* the harness validates no pair but (the stream's remote, ours) */
	if (strcmp(to->domain, FZ_LOCAL) != 0 || fz_st->remote == NULL ||
	    strcmp(from->domain, fz_st->remote) != 0 ||
	    !(fz_st->flags & S2S_F_AUTHED)) {
		fprintf(stderr, "delivered to %s from %s, not verified\n",
		    to->domain, from->domain);
		abort();
	}
	return router_deliver(stanza, to, from);
}

static void
fz_sent(int64_t id)
{
}

static void
fz_failed(int64_t id, int64_t retry_at, const struct s2s_failure *f)
{
}

static int
fz_domain_ok(const char *remote)
{
	return strcmp(remote, "blocked.test") != 0;
}

static int
fz_stanza_rate(const char *remote)
{
	return 0;
}

static void
fz_setup(void)
{
	struct s2s_hooks	 h;
	struct s2s_mgr_conf	 mc;

	memset(&fz_srv, 0, sizeof(fz_srv));
	server = &fz_srv;
	fz_srv.base = event_base_new();
	fz_srv.conf = fz_conf;
	/* verifications are queued in mgr.c, which connects nowhere while
	 * xfed is stopping; the verdict is faked below */
	fz_srv.stopping = 1;
	memset(&h, 0, sizeof(h));
	h.deliver = fz_deliver;
	h.sent = fz_sent;
	h.failed = fz_failed;
	h.domain_ok = fz_domain_ok;
	h.stanza_rate = fz_stanza_rate;
	s2s_init(&h);
	memset(&mc, 0, sizeof(mc));
	mc.backoff_min_secs = mc.backoff_max_secs = 60;
	s2s_mgr_init(&mc);
	fz_srv.store = fz_store;
	batch_init(NULL);
	outbox_init();
	presence_init();
}

static void
fz_teardown(void)
{
	s2s_mgr_shutdown();
	s2s_stream_free_all();
	batch_free();		/* commits what the input stored */
	outbox_free();
	router_free();
	presence_free();
	sources_free();
	quota_free();
	rate_free();
	event_base_free(fz_srv.base);
	server = NULL;
}

/* The temporary store, removed at exit. */
static char	 fz_dir[64];
static char	 fz_path[sizeof(fz_dir) + 8];

/* src copied over dst, page by page (the SQLite backup API). */
static void
fz_copy(sqlite3 *dst, sqlite3 *src)
{
	sqlite3_backup	*b;

	if ((b = sqlite3_backup_init(dst, "main", src, "main")) == NULL ||
	    sqlite3_backup_step(b, -1) != SQLITE_DONE ||
	    sqlite3_backup_finish(b) != SQLITE_OK) {
		fprintf(stderr, "store copy: %s\n", sqlite3_errmsg(dst));
		abort();
	}
}

/* The store as it was after fz_store_open(), when an input changed it. */
static void
fz_store_reset(void)
{
	sqlite3	*db = sqlite_db(fz_store);

	if (sqlite3_total_changes64(db) == fz_changes)
		return;
	if (store_flush(fz_store) == -1) {
		fprintf(stderr, "store: %s\n", store_errstr(fz_store));
		abort();
	}
	fz_copy(db, fz_snap);
	fz_changes = sqlite3_total_changes64(db);
}

static void
fz_store_remove(void)
{
	static const char *const sfx[] = { "", "-wal", "-shm" };
	char			 p[sizeof(fz_path) + 8];
	size_t			 i;

	if (fz_store != NULL)
		store_close(fz_store);
	if (fz_snap != NULL)
		sqlite3_close(fz_snap);
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", fz_path, sfx[i]);
		unlink(p);
	}
	rmdir(fz_dir);
}

static void
fz_store_open(void)
{
	const char	*errstr;

	/* in memory (tmpfs) when the machine has it */
	snprintf(fz_dir, sizeof(fz_dir), "%s/session_fuzz.XXXXXX",
	    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (mkdtemp(fz_dir) == NULL) {
		perror("mkdtemp");
		abort();
	}
	snprintf(fz_path, sizeof(fz_path), "%s/x.db", fz_dir);
	if ((fz_store = store_open(fz_path, STORE_OPEN_CREATE |
	    STORE_OPEN_NOCHECK, &errstr)) == NULL) {
		fprintf(stderr, "store: %s\n", errstr);
		abort();
	}
	atexit(fz_store_remove);
	if (store_user_add(fz_store, "alice", FZ_LOCAL, NULL, NULL) == -1) {
		fprintf(stderr, "store: %s\n", store_errstr(fz_store));
		abort();
	}
	/* what a crash of the fuzzer loses is of no interest */
	if (store_flush(fz_store) == -1 || sqlite3_exec(sqlite_db(fz_store), "PRAGMA synchronous = OFF",
	    NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_open(":memory:", &fz_snap) != SQLITE_OK) {
		fprintf(stderr, "store: %s\n", sqlite3_errmsg(sqlite_db(fz_store)));
		abort();
	}
	fz_copy(fz_snap, sqlite_db(fz_store));
	fz_changes = sqlite3_total_changes64(sqlite_db(fz_store));
}

/*
 * The authoritative server says yes for the stream's own domain (a pair
 * not pending is ignored, S2S 4.21); piggybacked domains stay unverified.
 */
static void
fz_fake_verdict(struct s2s_stream *st)
{
	if (!s2s_stream_dead(st) && st->remote != NULL)
		s2s_in_verified(st->id, FZ_LOCAL, st->remote, 1, NULL, 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static int		 once;
	struct sockaddr_in	 sin;
	struct s2s_stream	*st;
	struct evbuffer		*in;
	size_t			 chunk, n;

	static const char	 conf[] = "domain " FZ_LOCAL "\n"
				    "require_encryption no\n"
				    "store /nonexistent/x.db\n"
				    "control_socket /nonexistent/x.sock\n"
				    "max_stanza_size 16384\n";

	if (!once) {
		/* quiet, unless FUZZ_LOG is set (to see a session) */
		log_init(1, getenv("FUZZ_LOG") ? LOG_L_DEBUG : LOG_L_ERROR);
		db_set_secret("0123456789abcdef0123456789abcdef");
		fz_store_open();
		fz_conf = conf_parse("/fuzz/xfed.conf", conf, sizeof(conf) - 1,
		    NULL);
		once = 1;
	}
	if (len < 1)
		return 0;
	chunk = 1 + data[0] * 8;	/* 1 to 2041 bytes a read */
	data++;
	len--;
	fz_setup();
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(40000);
	st = fz_st = s2s_in_accept(-1, (struct sockaddr *)&sin, sizeof(sin),
	    0);
	while (st != NULL && len > 0 && !s2s_stream_dead(st)) {
		n = len < chunk ? len : chunk;
		/* the end of a bufferevent's input is the socket's alone */
		in = bufferevent_get_input(st->bev);
		evbuffer_unfreeze(in, 0);
		evbuffer_add(in, data, n);
		evbuffer_freeze(in, 0);
		bufferevent_trigger(st->bev, EV_READ, 0);
		data += n;
		len -= n;
		fz_fake_verdict(st);
	}
	fz_teardown();
	fz_store_reset();
	return 0;
}
