/*
 * server/outbox.h: the daemon's side of the outbox. Due rows become
 * stanzas for the router; what became of each (sent, retry later, failed)
 * is written back to its row. Rows in memory are tracked so that a row is
 * never handed out twice at once.
 */
#ifndef OUTBOX_H
#define OUTBOX_H

#include <stdint.h>

#include "mgr.h"

void	 outbox_init(void);
void	 outbox_free(void);
/* Hands every due row that is not in flight to the router. */
void	 outbox_kick(void);
/* The outbound manager's verdict on a row (s2s_done_cb). */
void	 outbox_done(int64_t id, enum s2s_result, int64_t next,
	    const struct s2s_failure *);
/* The row's domain is reachable again: send it now if still queued. */
void	 outbox_wake(int64_t id);
/* Delivered without S2S (the target is hosted here). */
void	 outbox_delivered(int64_t id);
/* The row's stanza cannot be sent at all (a bad address). */
void	 outbox_invalid(int64_t id, const char *cond, const char *text);
/* Not sent: the target is blocked here (error_stage "blocked"). */
void	 outbox_blocked(int64_t id, const char *text);
/* An error stanza came back for stanza id from domain: fail its row. */
void	 outbox_peer_error(const char *stanza_id, const char *domain,
	    const char *cond, const char *xml);
/* Rows in flight now. */
uint64_t outbox_inflight(void);

#endif
