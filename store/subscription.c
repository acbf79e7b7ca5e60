/*
 * store/subscription.c: the RFC 6121 subscription transitions, in one
 * table for both directions and every backend.
 *
 * Inbound (a stanza from the contact): the daemon applies the table with
 * store_sub_inbound() and stores the result with store_sub_put().
 * Outbound (the user's action): a native system acts by inserting an
 * outbox row directly (CONTRACT.md), so each backend's schema applies the
 * same rows in a trigger on the outbox (sqlite_schema.c
 * OUTBOX_SUB_TRIGGERS); store_sub_outbound() is what those triggers must
 * do, and store_test's sub_transitions case holds every backend to it,
 * for every state and every kind.
 */
#include <stddef.h>

#include "store.h"

/* A subscription row as bits; a missing row is all clear. */
#define S_TO	0x01		/* state to or both */
#define S_FROM	0x02		/* state from or both */
#define S_POUT	0x04		/* pending_out */
#define S_PIN	0x08		/* pending_in */
#define S_PRE	0x10		/* preapproved */

#define S_IN	0		/* a stanza from the contact */
#define S_OUT	1		/* an outbox row of the user */

/*
 * For each direction and kind, the first row whose `when` matches (the
 * bits of mask equal to value) applies: it clears, then sets bits, and
 * says what follows (STORE_SUB_*; request cleared with S_CLEAR_REQ).
 * STORE_SUB_CHANGED is added whenever the bits or the request change.
 */
#define S_CLEAR_REQ	0x100

static const struct store_sub_rule {
	int		 dir;
	enum store_kind	 kind;
	unsigned int	 mask, value;	/* when (bits & mask) == value */
	unsigned int	 clear, set;
	int		 does;		/* STORE_SUB_*, S_CLEAR_REQ */
} store_sub_rules[] = {
	/* 3.1.3: they ask. Approved already: answer again. */
	{ S_IN, STORE_KIND_SUBSCRIBE, S_FROM, S_FROM, 0, 0,
	    STORE_SUB_AUTOREPLY },
	/* 3.4: approved in advance. */
	{ S_IN, STORE_KIND_SUBSCRIBE, S_PRE, S_PRE, S_PRE | S_PIN, S_FROM,
	    STORE_SUB_AUTOREPLY | S_CLEAR_REQ },
	/* the user was told already */
	{ S_IN, STORE_KIND_SUBSCRIBE, S_PIN, S_PIN, 0, 0, 0 },
	{ S_IN, STORE_KIND_SUBSCRIBE, 0, 0, 0, S_PIN, STORE_SUB_DELIVER },
	/* 3.1.6: they approve; ignored when we did not ask. */
	{ S_IN, STORE_KIND_SUBSCRIBED, S_POUT, 0, 0, 0, 0 },
	{ S_IN, STORE_KIND_SUBSCRIBED, 0, 0, S_POUT, S_TO, STORE_SUB_DELIVER },
	/* 3.3.3: they stop seeing the user, or withdraw their request. */
	{ S_IN, STORE_KIND_UNSUBSCRIBE, S_FROM | S_PIN, 0, 0, 0, 0 },
	{ S_IN, STORE_KIND_UNSUBSCRIBE, 0, 0, S_FROM | S_PIN, 0,
	    STORE_SUB_DELIVER | S_CLEAR_REQ },
	/* 3.2.3: they deny our request, or cancel our subscription. */
	{ S_IN, STORE_KIND_UNSUBSCRIBED, S_TO | S_POUT, 0, 0, 0, 0 },
	{ S_IN, STORE_KIND_UNSUBSCRIBED, 0, 0, S_TO | S_POUT, 0,
	    STORE_SUB_DELIVER },

	/* 3.1.2: the user asks; always sent, pending unless to/both. */
	{ S_OUT, STORE_KIND_SUBSCRIBE, S_TO, 0, 0, S_POUT, STORE_SUB_SEND },
	{ S_OUT, STORE_KIND_SUBSCRIBE, 0, 0, 0, 0, STORE_SUB_SEND },
	/* 3.1.5: the user approves their pending request. */
	{ S_OUT, STORE_KIND_SUBSCRIBED, S_PIN, S_PIN, S_PIN | S_PRE, S_FROM,
	    STORE_SUB_SEND | S_CLEAR_REQ },
	/* 3.4: no request: pre-approve (none, to), nothing sent. */
	{ S_OUT, STORE_KIND_SUBSCRIBED, S_FROM, 0, 0, S_PRE, S_CLEAR_REQ },
	{ S_OUT, STORE_KIND_SUBSCRIBED, 0, 0, S_PRE, 0, S_CLEAR_REQ },
	/* 3.2: the user denies a request or cancels their subscription;
	 * with neither, nothing is sent. */
	{ S_OUT, STORE_KIND_UNSUBSCRIBED, S_FROM | S_PIN, 0, S_PRE, 0,
	    S_CLEAR_REQ },
	{ S_OUT, STORE_KIND_UNSUBSCRIBED, 0, 0, S_FROM | S_PIN | S_PRE, 0,
	    STORE_SUB_SEND | S_CLEAR_REQ },
	/* 3.3.2: the user stops seeing them; always sent. */
	{ S_OUT, STORE_KIND_UNSUBSCRIBE, 0, 0, S_TO | S_POUT, 0,
	    STORE_SUB_SEND },
};

static unsigned int
store_sub_bits(const struct store_sub *s)
{
	return (s->state == STORE_SUB_TO || s->state == STORE_SUB_BOTH ?
	    S_TO : 0) | (s->state == STORE_SUB_FROM ||
	    s->state == STORE_SUB_BOTH ? S_FROM : 0) |
	    (s->pending_out ? S_POUT : 0) | (s->pending_in ? S_PIN : 0) |
	    (s->preapproved ? S_PRE : 0);
}

static int
store_sub_apply(int dir, struct store_sub *s, enum store_kind kind)
{
	const struct store_sub_rule	*r;
	unsigned int			 b = store_sub_bits(s), nb;
	int				 does;
	size_t				 i;

	for (i = 0; i < sizeof(store_sub_rules) / sizeof(*r); i++) {
		r = &store_sub_rules[i];
		if (r->dir == dir && r->kind == kind &&
		    (b & r->mask) == r->value)
			break;
	}
	if (i == sizeof(store_sub_rules) / sizeof(*r))
		return 0;		/* not a subscription kind */
	nb = (b & ~r->clear) | r->set;
	does = r->does & ~S_CLEAR_REQ;
	if ((r->does & S_CLEAR_REQ) && s->request != NULL) {
		s->request = NULL;
		does |= STORE_SUB_CHANGED;
	}
	if (nb != b) {
		s->state = (nb & S_TO) && (nb & S_FROM) ? STORE_SUB_BOTH :
		    nb & S_TO ? STORE_SUB_TO : nb & S_FROM ? STORE_SUB_FROM :
		    STORE_SUB_NONE;
		s->pending_out = (nb & S_POUT) != 0;
		s->pending_in = (nb & S_PIN) != 0;
		s->preapproved = (nb & S_PRE) != 0;
		does |= STORE_SUB_CHANGED;
	}
	return does;
}

int
store_sub_inbound(struct store_sub *s, enum store_kind kind)
{
	return store_sub_apply(S_IN, s, kind);
}

int
store_sub_outbound(struct store_sub *s, enum store_kind kind)
{
	return store_sub_apply(S_OUT, s, kind);
}
