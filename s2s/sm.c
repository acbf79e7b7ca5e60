/*
 * s2s/sm.c: XEP-0198 counting for one stream, both sides (see sm.h). No
 * I/O: in.c and out.c turn the answers into <a/>, <r/> and stream errors.
 * Counters are uint32_t so that h wraps modulo 2^32 by itself (XEP-0198 4).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sm.h"
#include "xmalloc.h"

#define SM_OUT_FIRST_CAP	64

void
sm_in_init(struct sm_in *sm)
{
	memset(sm, 0, sizeof(*sm));
}

void
sm_in_free(struct sm_in *sm)
{
	free(sm->open);
	sm_in_init(sm);
}

int
sm_in_enable(struct sm_in *sm)
{
	if (sm->enabled)
		return -1;
	sm->enabled = 1;
	sm->open = xcalloc(SM_IN_BATCHES, sizeof(*sm->open));
	return 0;
}

void
sm_in_handled(struct sm_in *sm, uint64_t batch)
{
	struct sm_batch	*last;

	sm->handled++;
	last = sm->nopen > 0 ? &sm->open[sm->nopen - 1] : NULL;
	if (batch == 0 && last == NULL) {
		/* nothing of it or before it waits */
		sm->covered = sm->handled;
		return;
	}
	/*
	 * After a stanza that waits, this one waits as long: h covers a
	 * prefix. Past SM_IN_BATCHES, the newest entry takes the newer batch:
	 * its stanzas are covered a batch later, never earlier.
	 */
	if (last != NULL && (batch == 0 || batch <= last->batch ||
	    sm->nopen == SM_IN_BATCHES)) {
		if (batch > last->batch)
			last->batch = batch;
		last->h = sm->handled;
		return;
	}
	sm->open[sm->nopen].batch = batch;
	sm->open[sm->nopen].h = sm->handled;
	sm->nopen++;
}

int
sm_in_request(struct sm_in *sm, uint32_t *h)
{
	if (sm->nopen == 0) {
		sm->asked = 0;
		*h = sm->covered;
		return 1;
	}
	sm->asked = 1;
	return 0;
}

int
sm_in_settled(struct sm_in *sm, uint64_t batch, uint32_t *h)
{
	int	 i;

	for (i = 0; i < sm->nopen && sm->open[i].batch <= batch; i++)
		sm->covered = sm->open[i].h;
	if (i > 0) {
		memmove(sm->open, sm->open + i, (sm->nopen - i) *
		    sizeof(sm->open[0]));
		sm->nopen -= i;
	}
	/*
	 * Whatever this commit covered is acknowledged now, asked for or not
	 * (XEP-0198 4 allows an unrequested <a/>): a sender that keeps one
	 * <r/> out at a time would otherwise hold rows committed here as
	 * unacknowledged and send them again after a crash of either side;
	 * this bounds those to one commit window. It also answers every <r/>
	 * that waited.
	 */
	if (i == 0)
		return 0;
	sm->asked = 0;
	*h = sm->covered;
	return 1;
}

void
sm_out_init(struct sm_out *sm)
{
	memset(sm, 0, sizeof(*sm));
}

void
sm_out_free(struct sm_out *sm)
{
	free(sm->ring);
	memset(sm, 0, sizeof(*sm));
}

int
sm_out_full(const struct sm_out *sm)
{
	return sm->n >= SM_OUT_MAX;
}

size_t
sm_out_unacked(const struct sm_out *sm)
{
	return sm->n;
}

static void
sm_out_grow(struct sm_out *sm)
{
	int64_t	*ring;
	size_t	 cap = sm->cap ? sm->cap * 2 : SM_OUT_FIRST_CAP, i;

	ring = xreallocarray(NULL, cap, sizeof(*ring));
	for (i = 0; i < sm->n; i++)
		ring[i] = sm->ring[(sm->head + i) % sm->cap];
	free(sm->ring);
	sm->ring = ring;
	sm->cap = cap;
	sm->head = 0;
}

void
sm_out_sent(struct sm_out *sm, int64_t id)
{
	if (sm->n == sm->cap)
		sm_out_grow(sm);
	sm->ring[(sm->head + sm->n) % sm->cap] = id;
	sm->n++;
	sm->sent++;
}

int
sm_out_want_request(struct sm_out *sm, int drained)
{
	uint32_t	 since = sm->sent - sm->requested;

	if (!sm->enabled || sm->awaiting || sm->n == 0 || since == 0 ||
	    (!drained && since < SM_REQUEST_EVERY))
		return 0;
	sm->awaiting = 1;
	sm->requested = sm->sent;
	return 1;
}

int
sm_parse_h(const char *s, uint32_t *h)
{
	uint64_t	 v = 0;
	const char	*p;

	if (s == NULL || *s == '\0' || strlen(s) > 10 ||
	    (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v > UINT32_MAX)
		return -1;
	*h = (uint32_t)v;
	return 0;
}

/* Pops the oldest unacknowledged stanza; its outbox id. */
static int64_t
sm_out_pop(struct sm_out *sm)
{
	int64_t	 id = sm->ring[sm->head];

	sm->head = (sm->head + 1) % sm->cap;
	sm->n--;
	return id;
}

long
sm_out_ack(struct sm_out *sm, const char *hs, void (*cb)(void *, int64_t),
    void *arg, const char **cond, char *text, size_t textlen)
{
	uint32_t	 h, n, i;
	int64_t		 id;

	if (sm_parse_h(hs, &h) == -1) {
		*cond = "bad-format";
		snprintf(text, textlen, "<a/> without a valid 'h' (digits, "
		    "no leading zeros, at most 4294967295)");
		return -1;
	}
	/* modulo 2^32: the distance forward from the last h */
	n = h - sm->acked;
	if (n > sm->n) {
		*cond = "undefined-condition";
		/* modulo 2^32 too: behind the last h by less than half the
		 * range is backwards, else beyond what was sent */
		if (sm->acked - h < UINT32_C(0x80000000)) {
			snprintf(text, textlen, "h %u is below the h %u "
			    "acknowledged before", h, sm->acked);
			return -1;
		}
		snprintf(text, textlen, "h %u acknowledges more stanzas than "
		    "the %u sent", h, sm->sent);
		return SM_ACK_TOO_HIGH;
	}
	sm->awaiting = 0;
	sm->acked = h;
	for (i = 0; i < n; i++)
		if ((id = sm_out_pop(sm)) != 0)
			cb(arg, id);
	return (long)n;
}

size_t
sm_out_take(struct sm_out *sm, void (*cb)(void *, int64_t), void *arg)
{
	size_t	 own = 0;
	int64_t	 id;

	while (sm->n > 0)
		if ((id = sm_out_pop(sm)) != 0)
			cb(arg, id);
		else
			own++;
	sm->acked = sm->sent;
	sm->awaiting = 0;
	return own;
}
