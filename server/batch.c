/*
 * server/batch.c: the daemon's write batches. The first write opens one;
 * one commit BATCH_MS later covers every write made meanwhile (STYLE 3:
 * persist, then acknowledge), and the outbox asks for an earlier commit
 * when its window of unsettled rows is full (outbox.c).
 *
 * When a commit or a write fails (a full disk; a database another writer
 * holds locked for long), nothing is answered per stanza. Instead:
 *   - reading from inbound streams stops (s2s_stream_pause_reading), so
 *     peers wait in TCP instead of being bounced;
 *   - the stanzas of the failed batch and those still coming from bytes
 *     read already are kept in memory in order (router.c), with the
 *     outbox marks (outbox.c); no outbox row is read;
 *   - the store is tried again after BATCH_RETRY_MIN_MS, doubling up to
 *     BATCH_RETRY_MAX_MS, by handling all of them again in a new batch;
 *     a commit that succeeds resumes reading;
 *   - a stanza kept longer than store_wait is answered with
 *     resource-constraint, type wait (RFC 6120 8.3.3.18);
 *   - when xfed stops, the store gets a last try; if it still fails,
 *     every stanza held and every one read until the inbound streams
 *     close is answered the same way (batch_stop()): the senders try
 *     again later, nothing is left unanswered.
 * The change of state is logged once each way, with counts, and xfedctl
 * status shows since when the store fails. While it fails, SQLite does not
 * wait for a lock (busy_timeout 0): the loop never blocks on it.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "batch.h"
#include "conf.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "router.h"
#include "server.h"
#include "store.h"
#include "stream.h"

#define BATCH_MS		5	/* a batch commits this long after it opened */
#define BATCH_RETRY_MIN_MS	100
#define BATCH_RETRY_MAX_MS	5000

enum batch_state {
	BATCH_OK,		/* writes go to the open batch */
	BATCH_FAILING,		/* the store failed: everything waits */
	BATCH_RETRYING,		/* handling what waited, into a new batch */
};

static enum batch_state	 batch_state;
static struct event	*batch_flush_ev, *batch_retry_ev;
static time_t		 batch_since;		/* failing since */
static int		 batch_retry_ms;
static size_t		 batch_expired;		/* answered while failing */
static int		 batch_stopping;	/* xfed stops: answer, keep none */

static void	(*batch_committed)(void);	/* after each commit */

/* The commit in flight (store_flush_async()): at most one, so batches
 * commit in order and a stream's acks cover only what committed. */
static struct event	*batch_fly_ev;
static int		 batch_inflight;
static struct timespec	 batch_fly_t0;
static uint64_t		 batch_fly_writes;

/* A commit completing (its refusals told, its stanzas settled): a store
 * failure met meanwhile, by a callback that wrote, waits until it is
 * settled (batch_fail_later()), so it neither settles the commit's
 * stanzas twice nor frees the commit in flight under its poll. */
static int		 batch_completing;
static int		 batch_fail_pending;
static char		 batch_fail_why[256];

static void	batch_retry(evutil_socket_t, short, void *);
static void	batch_fail_now(const char *);
static void	batch_fail_later(void);

static void
batch_recovered(void)
{
	if (batch_expired > 0)
		log_warnx("store: working again after %lld s; inbound streams "
		    "read again; %zu stanza%s refused meanwhile",
		    (long long)(time(NULL) - batch_since), batch_expired,
		    batch_expired == 1 ? " was" : "s were");
	else
		log_warnx("store: working again after %lld s; inbound streams "
		    "read again, nothing was refused",
		    (long long)(time(NULL) - batch_since));
	batch_state = BATCH_OK;
	batch_since = 0;
	batch_expired = 0;
	evtimer_del(batch_retry_ev);
	store_busy_timeout(server->store, 1);
	s2s_stream_pause_reading(0);
	outbox_kick();
}

/* The commit sent at t0 (with writes up to nw) ended with rc. */
static int
batch_done(const struct timespec *t0, uint64_t nw, int rc)
{
	static uint64_t		 writes;
	struct timespec		 t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	metrics_commit((double)(t1.tv_sec - t0->tv_sec) +
	    (t1.tv_nsec - t0->tv_nsec) / 1e9, nw - writes, rc == 0);
	writes = nw;
	if (rc == -1) {
		batch_fail_now(store_errstr(server->store));
		return -1;
	}
	router_batch_done(1);
	outbox_batch_done(1);
	if (batch_state != BATCH_OK)
		batch_recovered();
	if (batch_committed != NULL)
		batch_committed();
	return 0;
}

/* The commit in flight, if its answer came (wait: until it comes). */
static void
batch_fly_end(int wait)
{
	int	 rc;

	if (!batch_inflight || batch_completing)
		return;
	batch_completing++;
	rc = store_flush_poll(server->store, wait);
	if (rc != 0) {
		event_free(batch_fly_ev);
		batch_fly_ev = NULL;
		batch_inflight = 0;
		batch_done(&batch_fly_t0, batch_fly_writes, rc == 1 ? 0 : -1);
	}
	batch_completing--;
	batch_fail_later();
}

static void
batch_fly(evutil_socket_t fd, short what, void *arg)
{
	batch_fly_end(0);
}

/*
 * Commits the open batch (sync: before returning; else, where the store
 * can, in flight while the loop goes on, batch_fly() ending it); on
 * failure everything in it waits. A commit in flight ends first.
 */
static int
batch_commit(int sync)
{
	/* a NOTIFY read by the store may have taken its socket's
	 * readiness: a look every 2 ms besides */
	struct timeval		 tv = { 0, 2000 };
	struct store_stats	 ss;
	struct timespec		 t0;
	int			 rc;

	if (batch_completing) {
		/* never a second commit inside one completing: after it */
		event_active(batch_flush_ev, EV_TIMEOUT, 0);
		return sync ? -1 : 0;
	}
	batch_fly_end(1);
	if (batch_state == BATCH_FAILING)
		return -1;
	store_stats(server->store, &ss);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	router_batch_sent();
	outbox_batch_sent();
	batch_completing++;
	rc = sync ? store_flush(server->store) :
	    store_flush_async(server->store);
	if (rc != 1)
		rc = batch_done(&t0, ss.writes, rc);
	batch_completing--;
	if (rc != 1) {
		/* rc: this commit's own outcome */
		batch_fail_later();
		return rc;
	}
	batch_inflight = 1;
	batch_fly_t0 = t0;
	batch_fly_writes = ss.writes;
	batch_fly_ev = event_new(server->base, store_flush_fd(server->store),
	    EV_READ | EV_PERSIST, batch_fly, NULL);
	event_add(batch_fly_ev, &tv);
	batch_fail_later();
	return 0;
}

int
batch_flush_sync(void)
{
	if (batch_state != BATCH_OK)
		return -1;
	batch_fly_end(1);
	if (batch_state != BATCH_OK)
		return -1;
	if (!store_pending(server->store))
		return 0;
	evtimer_del(batch_flush_ev);
	return batch_commit(1);
}

static void
batch_flush(evutil_socket_t fd, short what, void *arg)
{
	if (batch_state == BATCH_OK)
		batch_commit(0);
}

static void
batch_opened(void *arg)
{
	struct timeval	 tv = { 0, BATCH_MS * 1000 };

	if (batch_state == BATCH_OK)
		evtimer_add(batch_flush_ev, &tv);
}

void
batch_flush_now(void)
{
	if (batch_state == BATCH_OK && store_pending(server->store))
		event_active(batch_flush_ev, EV_TIMEOUT, 0);
}

void
batch_failed(const char *why)
{
	if (batch_completing) {
		if (!batch_fail_pending) {
			snprintf(batch_fail_why, sizeof(batch_fail_why), "%s",
			    why != NULL && *why != '\0' ? why :
			    "unknown store error");
			batch_fail_pending = 1;
		}
		return;
	}
	batch_fail_now(why);
	batch_fail_later();
}

/* The failure met while a commit completed, now that it is settled. */
static void
batch_fail_later(void)
{
	char	 why[sizeof(batch_fail_why)];

	while (batch_fail_pending && !batch_completing) {
		batch_fail_pending = 0;
		memcpy(why, batch_fail_why, sizeof(why));
		batch_fail_now(why);
	}
}

static void
batch_fail_now(const char *why)
{
	struct timeval	 tv;
	int		 rc;

	if (why == NULL || *why == '\0')
		why = "unknown store error";
	if (batch_inflight) {
		/* the commit before this batch ends first: what it
		 * committed is settled, what failed waits with the rest */
		batch_completing++;
		rc = store_flush_poll(server->store, 1);
		event_free(batch_fly_ev);
		batch_fly_ev = NULL;
		batch_inflight = 0;
		if (rc == 1) {
			router_batch_done(1);
			outbox_batch_done(1);
		}
		batch_completing--;
		/* failing anyway: what it met is covered */
		batch_fail_pending = 0;
	}
	store_rollback(server->store);
	evtimer_del(batch_flush_ev);
	if (batch_state == BATCH_OK) {
		batch_since = time(NULL);
		batch_retry_ms = BATCH_RETRY_MIN_MS;
		log_warnx("store: failing (%s); inbound streams paused, stanzas "
		    "kept in memory, retrying", why);
		store_busy_timeout(server->store, 0);
		/* stopping, what comes is answered (batch_stop()) */
		if (!batch_stopping)
			s2s_stream_pause_reading(1);
	} else if (batch_state == BATCH_RETRYING) {
		batch_retry_ms *= 2;
		if (batch_retry_ms > BATCH_RETRY_MAX_MS)
			batch_retry_ms = BATCH_RETRY_MAX_MS;
		log_debug("store: still failing: %s", why);
	}
	batch_state = BATCH_FAILING;
	router_batch_done(0);
	outbox_batch_done(0);
	tv.tv_sec = batch_retry_ms / 1000;
	tv.tv_usec = (batch_retry_ms % 1000) * 1000;
	evtimer_add(batch_retry_ev, &tv);
}

static void
batch_retry(evutil_socket_t fd, short what, void *arg)
{
	time_t	 now = time(NULL);
	size_t	 n;

	if (batch_state != BATCH_FAILING)
		return;
	if (now - batch_since >= server->conf->store_wait &&
	    (n = router_expire(now - server->conf->store_wait)) > 0) {
		log_warnx("store: %zu stanza%s held longer than %lld s %s "
		    "answered with resource-constraint", n, n == 1 ? "" : "s",
		    (long long)server->conf->store_wait, n == 1 ? "was" :
		    "were");
		batch_expired += n;
	}
	batch_state = BATCH_RETRYING;
	router_replay();
	if (batch_state == BATCH_RETRYING)
		outbox_replay();
	if (batch_state == BATCH_RETRYING)
		batch_commit(1);
}

void
batch_stop(void)
{
	size_t	 n;

	if (batch_state == BATCH_OK) {
		batch_flush_sync();
		if (batch_state == BATCH_OK)
			return;
	}
	if (batch_state == BATCH_FAILING)
		batch_retry(-1, 0, NULL);	/* a last try, now */
	if (batch_state == BATCH_OK)
		return;
	/*
	 * Nothing held can be kept past the exit: each stanza is answered
	 * with resource-constraint, type wait (RFC 6120 8.3.3.18, S2S
	 * 5.14), which tells its sender to try again later, and so is each
	 * one read from now on. Reading resumes, so that what the peers
	 * wrote before our </stream:stream> is answered too, not left
	 * unread (S2S 1.23).
	 */
	batch_stopping = 1;
	n = router_expire(INT64_MAX);
	batch_expired += n;
	log_warnx("store: still failing at stop: %zu stanza%s held %s "
	    "answered with resource-constraint (type wait), and so is what "
	    "the inbound streams still carry", n, n == 1 ? "" : "s",
	    n == 1 ? "was" : "were");
	s2s_stream_pause_reading(0);
}

int
batch_refusing(void)
{
	/* an empty commit may succeed on a full disk: whenever the store
	 * fails again while stopping, what it held is answered at once */
	return batch_stopping && batch_state != BATCH_OK;
}

int
batch_failing(void)
{
	return batch_state == BATCH_FAILING;
}

time_t
batch_failing_since(void)
{
	return batch_since;
}

void
batch_init(void (*committed)(void))
{
	batch_committed = committed;
	batch_flush_ev = evtimer_new(server->base, batch_flush, NULL);
	batch_retry_ev = evtimer_new(server->base, batch_retry, NULL);
	store_set_batch_cb(server->store, batch_opened, NULL);
}

void
batch_free(void)
{
	size_t	 n;

	batch_fly_end(1);
	if (batch_state == BATCH_FAILING)
		batch_retry(-1, 0, NULL);
	else if (batch_state == BATCH_OK)
		batch_commit(1);
	if (batch_state != BATCH_OK &&
	    (n = router_held_count() + outbox_marks_pending()) > 0)
		log_warnx("store: still failing at exit: %zu stanza%s and "
		    "outbox mark%s not stored", n, n == 1 ? "" : "s",
		    n == 1 ? "" : "s");
	store_set_batch_cb(server->store, NULL, NULL);
	event_free(batch_flush_ev);
	event_free(batch_retry_ev);
	batch_flush_ev = batch_retry_ev = NULL;
}
