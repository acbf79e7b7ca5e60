/*
 * server/lease.c: several instances on one store. Each daemon has a name
 * (instance_name, else "host:pid"), beats in the instances table and
 * holds leases of (local domain, remote domain) pairs: it sends the
 * outbox rows (outbox.c reads only the pairs it holds) and the presence
 * broadcasts (presence.c asks lease_holds()) of those pairs alone, so
 * each pair keeps one ordered stream and each broadcast goes out once.
 *
 * Every third of lease_time the timer beats, renews what this instance
 * holds and claims what is free or expired; outbox_kick() claims too,
 * so that a pair whose first row was just queued does not wait for the
 * timer. A claim that got something is committed at once: another
 * instance claiming the same pair waits for that commit. On a clean
 * stop the leases are deleted so that the others take them at once; a
 * crashed instance's leases expire lease_time after their last renewal.
 *
 * The pairs held are kept here (refreshed by each renewal) so that a
 * presence broadcast asks the store only for a pair not seen since.
 *
 * Order across a takeover: this instance holds its leases until lease_until
 * (the start of its last renewal or claim + lease_time). Once that passes
 * without a renewal (a loop kept busy, a store that does not answer) it
 * reads no more rows and broadcasts nothing (lease_fresh()) until a renewal
 * succeeds, and the others take a lease over only lease_time / 2 after it
 * expired (store_lease_claim()): what this instance wrote before has that
 * long to reach the peer, so the rows the new holder sends, oldest
 * unmarked first, follow it.
 *
 * outbox_kick() calls lease_claim_kick(), which on a shared store asks
 * at most once a second (a timer claims what a kick skipped), not on
 * every commit of a long queue. On a store this daemon alone uses
 * (SQLite) it holds every lease whatever the rows say and the claim only
 * writes the rows xfedctl peers shows: it runs only after a read that met
 * a pair not held yet (lease_note(), lease_claim_noted()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "batch.h"
#include "conf.h"
#include "lease.h"
#include "log.h"
#include "outbox.h"
#include "server.h"
#include "store.h"
#include "strmap.h"
#include "xmalloc.h"

#define LEASE_NAME_MAX	255

static char		 lease_me[LEASE_NAME_MAX + 1];
static int64_t		 lease_started;
static struct event	*lease_ev;
static struct event	*lease_kick_ev;	/* a claim a kick left for later */
static time_t		 lease_until;	/* held until (see above) */
static time_t		 lease_last_claim;
static int		 lease_unseen;	/* lease_note() met a new pair */
/* "local remote" -> 1 held, -1 held by another (until the next tick) */
static struct strmap	 lease_seen;

static int
lease_ttl(void)
{
	return (int)server->conf->lease_time;
}

const char *
lease_name(void)
{
	return lease_me;
}

static int
lease_seen_cb(void *arg, const struct store_lease *l)
{
	char	 key[512];

	snprintf(key, sizeof(key), "%s %s", l->local, l->remote);
	*(int *)strmap_get(&lease_seen, key, sizeof(int)) = 1;
	return 0;
}

int
lease_fresh(void)
{
	if (lease_ev == NULL || !store_shared(server->store))
		return 1;
	return time(NULL) < lease_until;
}

long long
lease_claim(void)
{
	int64_t	 n = 0;
	time_t	 t0 = time(NULL);

	lease_last_claim = t0;
	log_debug("lease: %s asks for free leases", lease_me);
	if (store_lease_claim(server->store, lease_me, lease_ttl(), &n) ==
	    -1) {
		if (store_errcode(server->store) == STORE_E_DB)
			batch_failed(store_errstr(server->store));
		else
			log_warnx("lease: claim: %s",
			    store_errstr(server->store));
		return 0;
	}
	if (n > 0) {
		/* claimed now, renewed with the others at the next tick */
		if (lease_until <= t0)
			lease_until = t0 + lease_ttl();
		log_info("lease: %s claimed %lld remote domain%s", lease_me,
		    (long long)n, n == 1 ? "" : "s");
		batch_flush_now();
	}
	return n;
}

static void
lease_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	if (server->stopping || batch_failing())
		return;
	if (lease_claim() > 0)
		outbox_kick();
}

void
lease_note(const char *local, const char *remote)
{
	char	 key[512];
	int	*v;

	if (lease_ev == NULL || store_shared(server->store))
		return;
	snprintf(key, sizeof(key), "%s %s", local, remote);
	if ((v = strmap_get(&lease_seen, key, sizeof(int))) != NULL &&
	    *v != 1) {
		*v = 1;
		lease_unseen = 1;
	}
}

void
lease_claim_noted(void)
{
	if (!lease_unseen)
		return;
	lease_unseen = 0;
	lease_claim();
}

void
lease_claim_kick(void)
{
	struct timeval	 tv = { 1, 0 };

	if (lease_ev == NULL || !store_shared(server->store))
		return;		/* alone: lease_note() tells what is new */
	if (time(NULL) != lease_last_claim) {
		lease_claim();
		return;
	}
	if (!evtimer_pending(lease_kick_ev, NULL))
		evtimer_add(lease_kick_ev, &tv);
}

static void
lease_tick(evutil_socket_t fd, short what, void *arg)
{
	struct store	*st = server->store;
	int64_t		 n = 0;
	time_t		 t0 = time(NULL);
	int		 stale;

	if (server->stopping || batch_failing())
		return;
	if (store_instance_beat(st, lease_me, lease_started) == -1 ||
	    store_lease_renew(st, lease_me, lease_ttl(), &n) == -1) {
		if (store_errcode(st) == STORE_E_DB)
			batch_failed(store_errstr(st));
		else
			log_warnx("lease: %s", store_errstr(st));
		return;
	}
	stale = !lease_fresh() && n > 0;
	if (stale)
		log_warnx("lease: %s renewed its leases %llds after they "
		    "expired; rows read again", lease_me,
		    (long long)(t0 - lease_until));
	lease_until = t0 + lease_ttl();
	strmap_clear(&lease_seen);
	strmap_init(&lease_seen, 64);
	if (store_lease_list(st, lease_me, lease_seen_cb, NULL) == -1)
		log_warnx("lease: %s", store_errstr(st));
	if (lease_claim() > 0 || stale)
		outbox_kick();
}

int
lease_holds(const char *local, const char *remote)
{
	char	 key[512];
	int	*v, held = 0;

	if (lease_ev == NULL)	/* not started (unit tests): alone */
		return 1;
	if (!lease_fresh())
		return 0;
	snprintf(key, sizeof(key), "%s %s", local, remote);
	if ((v = strmap_get(&lease_seen, key, 0)) != NULL)
		return *v == 1;
	if (store_lease_take(server->store, lease_me, local, remote,
	    lease_ttl(), &held) == -1) {
		log_warnx("lease: %s: %s", remote, store_errstr(server->store));
		return 0;
	}
	*(int *)strmap_get(&lease_seen, key, sizeof(int)) = held ? 1 : -1;
	if (held && lease_until <= time(NULL))
		lease_until = time(NULL) + lease_ttl();
	return held;
}

static int
lease_other_cb(void *arg, const struct store_instance *in)
{
	int64_t	 since = (int64_t)time(NULL) - server->conf->lease_time;

	if (strcmp(in->name, lease_me) != 0 && in->heartbeat >= since)
		(*(int *)arg)++;
	return 0;
}

int
lease_others(void)
{
	int	 n = 0;

	if (store_instance_list(server->store, lease_other_cb, &n) == -1)
		log_warnx("lease: %s", store_errstr(server->store));
	return n;
}

void
lease_init(void)
{
	struct timeval	 tv;
	char		 host[200];

	if (server->conf->instance_name != NULL)
		snprintf(lease_me, sizeof(lease_me), "%s",
		    server->conf->instance_name);
	else {
		if (gethostname(host, sizeof(host)) == -1)
			snprintf(host, sizeof(host), "xfed");
		host[sizeof(host) - 1] = '\0';
		snprintf(lease_me, sizeof(lease_me), "%s:%ld", host,
		    (long)getpid());
	}
	lease_started = (int64_t)server->started;
	strmap_init(&lease_seen, 64);
	/* the leases an earlier run under this name still holds: ours */
	if (store_instance_beat(server->store, lease_me, lease_started) == -1 ||
	    store_lease_renew(server->store, lease_me, lease_ttl(), NULL) ==
	    -1 || store_flush(server->store) == -1)
		fatalx("store: instance %s: %s", lease_me,
		    store_errstr(server->store));
	lease_until = time(NULL) + lease_ttl();
	log_info("instance %s, leases of %llds", lease_me,
	    server->conf->lease_time);
	tv.tv_sec = lease_ttl() / 3;
	tv.tv_usec = (lease_ttl() % 3) * 333333;
	lease_ev = event_new(server->base, -1, EV_PERSIST, lease_tick, NULL);
	evtimer_add(lease_ev, &tv);
	lease_kick_ev = evtimer_new(server->base, lease_kick_cb, NULL);
}

void
lease_free(void)
{
	if (lease_ev == NULL)
		return;
	event_free(lease_ev);
	lease_ev = NULL;
	event_free(lease_kick_ev);
	lease_kick_ev = NULL;
	strmap_clear(&lease_seen);
	/* the others take this instance's domains at once */
	if (store_lease_release(server->store, lease_me) == -1 ||
	    store_instance_del(server->store, lease_me) == -1)
		log_warnx("lease: at stop: %s", store_errstr(server->store));
}
