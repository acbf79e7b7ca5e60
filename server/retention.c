/*
 * server/retention.c: the retention timer. Each pass deletes at most
 * RETENTION_BATCH rows of each kind; the deletes join the store's open
 * batch, which commits within milliseconds, so no pass holds the write
 * lock for long or delays stanzas. While a kind has more to delete, the
 * next pass comes soon; else after RETENTION_SECS.
 */
#include <stdint.h>
#include <time.h>

#include <event2/event.h>

#include "conf.h"
#include "log.h"
#include "retention.h"
#include "server.h"
#include "store.h"

#define RETENTION_SECS		2	/* between passes when caught up */
#define RETENTION_SOON_MS	50	/* between passes with more to do */
#define RETENTION_BATCH		500	/* rows of each kind per pass */

static struct event	*retention_ev;

/* One kind: rows deleted, or -1 on a store error (logged). */
static int64_t
retention_one(int (*prune)(struct store *, int64_t, int, int64_t *),
    long long keep, time_t now, const char *what)
{
	int64_t	 n = 0;

	if (keep == 0)
		return 0;
	if (prune(server->store, (int64_t)(now - keep), RETENTION_BATCH,
	    &n) == -1) {
		log_warnx("retention: %s: %s", what,
		    store_errstr(server->store));
		return -1;
	}
	if (n > 0)
		log_info("retention: %lld %s row%s deleted", (long long)n, what,
		    n == 1 ? "" : "s");
	return n;
}

static void
retention_pass(evutil_socket_t fd, short what, void *arg)
{
	const struct conf	*c = server->conf;
	struct timeval		 tv = { RETENTION_SECS, 0 };
	time_t			 now = time(NULL);
	int64_t			 a, b, j;

	a = retention_one(store_inbox_prune, c->inbox_retention, now, "inbox");
	b = retention_one(store_outbox_prune, c->outbox_retention, now,
	    "outbox");
	j = retention_one(store_changes_prune, c->journal_retention, now,
	    "journal");
	if (a == RETENTION_BATCH || b == RETENTION_BATCH ||
	    j == RETENTION_BATCH) {
		tv.tv_sec = 0;
		tv.tv_usec = RETENTION_SOON_MS * 1000;
	}
	evtimer_add(retention_ev, &tv);
}

void
retention_init(void)
{
	struct timeval	 tv = { RETENTION_SECS, 0 };

	retention_ev = evtimer_new(server->base, retention_pass, NULL);
	evtimer_add(retention_ev, &tv);
}

void
retention_free(void)
{
	if (retention_ev != NULL)
		event_free(retention_ev);
	retention_ev = NULL;
}
