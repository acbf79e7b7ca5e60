/*
 * server/router.h: one stanza in, one decision out. A stanza for a hosted
 * domain is handled here (store, answers); anything else goes to the
 * outbound manager. The only module that knows both store/ and s2s/.
 */
#ifndef ROUTER_H
#define ROUTER_H

#include <stdint.h>

struct el;
struct jid;

/* Takes stanza: for a hosted domain; parses its to and from. */
void	 router_route_in(struct el *stanza);
/*
 * The same when the caller parsed them already (an inbound stream).
 * Returns the number of the store batch whose commit keeps what the stanza
 * wrote, 0 when nothing of it waits for a commit (XEP-0198 acks).
 */
uint64_t router_deliver(struct el *stanza, const struct jid *to,
	    const struct jid *from);
/*
 * Takes stanza: made here, from a hosted domain (an outbox row when
 * outbox_id is not 0, else an answer or error of ours).
 */
void	 router_send(struct el *stanza, int64_t outbox_id);
/*
 * Takes nothing: answers stanza (borrowed) with an error of condition cond
 * and type etype, unless it is an error itself (RFC 6120 8.3.1).
 */
void	 router_bounce(const struct el *stanza, const char *etype,
	    const char *cond, const char *text);
/* The error stanza router_bounce() sends (new), or NULL when none is owed. */
struct el *router_error_stanza(const struct el *stanza, const char *etype,
	    const char *cond, const char *text);

/*
 * The store's open batch was committed (1): the stanzas whose writes it
 * held are done with, and the inbound streams may acknowledge them
 * (s2s_in_settled()); or it could not be (0): they wait for the store
 * with those held already (batch.c), unacknowledged.
 */
void	 router_batch_done(int committed);
/* The open batch's commit was sent: router_batch_done(1) settles what it
 * kept until now, and later stanzas belong to the next batch. */
void	 router_batch_sent(void);
/* Handles the held stanzas again, in order; those a new failure stops
 * wait again. */
void	 router_replay(void);
/* Answers held stanzas that came before before with resource-constraint
 * and drops them; returns how many. */
size_t	 router_expire(int64_t before);
size_t	 router_held_count(void);
/* At exit: frees what is kept and held. */
void	 router_free(void);

#endif
