/*
 * dialback/verify.c: pending verifications of the receiving role, keyed by
 * (local, remote) in one list (jabberd2 keeps dialback state by domain
 * pair in one place too). See verify.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "key.h"
#include "log.h"
#include "verify.h"
#include "xmalloc.h"

struct db_verify {
	TAILQ_ENTRY(db_verify)	 entry;
	char			*local, *remote;
	struct event		*timer;		/* the answer is overdue */
	uint64_t		 in_id;		/* inbound stream waiting */
	char			 sid[64];
	char			 key[DB_KEY_LEN + 1];
	int			 sent;
};

static TAILQ_HEAD(, db_verify)	 db_verifies = TAILQ_HEAD_INITIALIZER(db_verifies);
static size_t			 db_nverifies;
static struct db_verify_hooks	 db_vhooks;
static struct event_base	*db_vbase;

void
db_verify_init(struct event_base *base, const struct db_verify_hooks *h)
{
	db_vbase = base;
	db_vhooks = *h;
}

static int
db_verify_is(const struct db_verify *v, const char *local,
    const char *remote)
{
	return strcmp(v->remote, remote) == 0 && strcmp(v->local, local) == 0;
}

static void
db_verify_free(struct db_verify *v)
{
	db_nverifies--;
	TAILQ_REMOVE(&db_verifies, v, entry);
	event_free(v->timer);
	free(v->local);
	free(v->remote);
	free(v);
}

/* Ends v with a verdict (v is freed before the hook runs). */
static void
db_verify_end(struct db_verify *v, int valid, const char *cond, int ours)
{
	char		*local = v->local, *remote = v->remote;
	uint64_t	 in_id = v->in_id;

	v->local = v->remote = NULL;
	db_verify_free(v);
	db_vhooks.verdict(in_id, local, remote, valid, cond, ours);
	free(local);
	free(remote);
}

/* XEP-0220 2.5: a verification the authoritative server never answers. */
static void
db_verify_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct db_verify	*v = arg;

	log_info("route %s -> %s: no answer to db:verify in %d s", v->local,
	    v->remote, DB_VERIFY_SECS);
	db_verify_end(v, -1, "remote-server-timeout", 0);
}

int
db_verify_request(const char *local, const char *remote, const char *sid,
    const char *key, uint64_t in_id, const char **cond)
{
	struct db_verify	*v;
	struct timeval		 tv = { DB_VERIFY_SECS, 0 };

	/* S2S 4.38: each verification costs a connection we did not choose */
	if (db_nverifies >= DB_VERIFY_MAX) {
		*cond = "resource-constraint";
		return -1;
	}
	TAILQ_FOREACH(v, &db_verifies, entry)
		if (db_verify_is(v, local, remote) && v->in_id == in_id &&
		    strcmp(v->sid, sid) == 0)
			return 0;	/* S2S 4.38: one per stream id */
	v = xcalloc(1, sizeof(*v));
	v->local = xstrdup(local);
	v->remote = xstrdup(remote);
	v->timer = evtimer_new(db_vbase, db_verify_timeout, v);
	evtimer_add(v->timer, &tv);
	v->in_id = in_id;
	snprintf(v->sid, sizeof(v->sid), "%s", sid);
	snprintf(v->key, sizeof(v->key), "%s", key);
	TAILQ_INSERT_TAIL(&db_verifies, v, entry);
	db_nverifies++;
	db_vhooks.wanted(local, remote);
	return 0;
}

void
db_verify_send(const char *local, const char *remote,
    void (*send)(void *, const char *, const char *), void *arg)
{
	struct db_verify	*v;

	TAILQ_FOREACH(v, &db_verifies, entry) {
		if (v->sent || !db_verify_is(v, local, remote))
			continue;
		send(arg, v->sid, v->key);
		v->sent = 1;
	}
}

void
db_verify_unsend(const char *local, const char *remote)
{
	struct db_verify	*v;

	TAILQ_FOREACH(v, &db_verifies, entry)
		if (db_verify_is(v, local, remote))
			v->sent = 0;
}

int
db_verify_answer(const char *local, const char *remote, const char *id,
    int valid, const char *cond)
{
	struct db_verify	*v;

	TAILQ_FOREACH(v, &db_verifies, entry)
		if (v->sent && db_verify_is(v, local, remote) &&
		    strcmp(v->sid, id) == 0)
			break;
	if (v == NULL)
		return -1;
	db_verify_end(v, valid, cond, 0);
	return 0;
}

static void
db_verify_end_all(const char *local, const char *remote, const char *cond,
    int ours)
{
	struct db_verify	*v;

	/* a verdict may change the list: look again each time */
	for (;;) {
		TAILQ_FOREACH(v, &db_verifies, entry)
			if (db_verify_is(v, local, remote))
				break;
		if (v == NULL)
			return;
		db_verify_end(v, -1, cond, ours);
	}
}

void
db_verify_fail(const char *local, const char *remote, const char *cond)
{
	db_verify_end_all(local, remote, cond, 0);
}

void
db_verify_refuse(const char *local, const char *remote)
{
	db_verify_end_all(local, remote, "resource-constraint", 1);
}

size_t
db_verify_pending(const char *local, const char *remote)
{
	struct db_verify	*v;
	size_t			 n = 0;

	TAILQ_FOREACH(v, &db_verifies, entry)
		if (db_verify_is(v, local, remote))
			n++;
	return n;
}

void
db_verify_free_all(void)
{
	struct db_verify	*v;

	while ((v = TAILQ_FIRST(&db_verifies)) != NULL)
		db_verify_free(v);
}
