/*
 * server/outbox.h: the daemon's side of the outbox. Due rows become
 * stanzas for the router; what became of each (sent, retry later, failed)
 * is written back to its row. Rows in memory are tracked so that a row is
 * never handed out twice at once.
 */
#ifndef OUTBOX_H
#define OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "s2s.h"

void	 outbox_init(void);
void	 outbox_free(void);
/* Hands every due row that is not in flight to the router. */
void	 outbox_kick(void);
/* Written and flushed on an authenticated stream (s2s_hooks.sent). */
void	 outbox_sent(int64_t id);
/* Not sent: retry at retry_at, or failed for good when it is 0
 * (s2s_hooks.failed). */
void	 outbox_failed(int64_t id, int64_t retry_at,
	    const struct s2s_failure *);
/*
 * 1 when row id, queued for a stream, may be written now; 0 when this
 * instance's leases are no longer fresh: the row is forgotten unmarked,
 * left queued for whichever instance holds its pair (s2s_hooks.may_write).
 */
int	 outbox_may_write(int64_t id);
/* The row's domain is reachable again: send it now if still queued. */
void	 outbox_wake(int64_t id);
/*
 * Acknowledged by the peer's server (XEP-0198, s2s_hooks.delivered), or
 * delivered without S2S (the target is hosted here).
 */
void	 outbox_delivered(int64_t id);
/* The row's stanza cannot be sent at all (a bad address). */
void	 outbox_invalid(int64_t id, const char *cond, const char *text);
/* Not sent: the target is blocked here (error_stage "blocked"). */
void	 outbox_blocked(int64_t id, const char *text);
/*
 * An error stanza of type etype came back for stanza id from domain: a
 * wait error queues its row again with a backoff (1), until
 * outbound_retry_for is over; any other fails it (0).
 */
int	 outbox_peer_error(const char *stanza_id, const char *domain,
	    const char *etype, const char *cond, const char *xml);
/* Rows in flight now (read, no verdict yet). */
uint64_t outbox_inflight(void);
/* The batch holding the marks written since the last call committed (1)
 * or failed (0: they are written again by outbox_replay()). */
void	 outbox_batch_done(int committed);
/* The open batch's commit was sent: its marks are the ones
 * outbox_batch_done(1) settles. */
void	 outbox_batch_sent(void);
/* Writes the marks not committed yet (the store works again). */
void	 outbox_replay(void);
/* Marks not committed yet. */
size_t	 outbox_marks_pending(void);

#endif
