/* s2s/out.h: outbound S2S streams (out.c), driven by mgr.c. */
#ifndef S2S_OUT_H
#define S2S_OUT_H

#include <stdint.h>

struct dns;
struct el;
struct s2s_route;
struct s2s_stream;

/* The resolver outbound streams use; set once at start. */
void	 s2s_out_set_dns(struct dns *);
/* Starts a stream for the route: route or DNS, connect, header, dialback. */
struct s2s_stream *s2s_out_start(struct s2s_route *);
/*
 * A stream from local to remote in state connect, whose socket nobody
 * connects: s2s_out_start() goes on from here; unit tests feed it events.
 * route may be NULL (nothing is reported then).
 */
struct s2s_stream *s2s_out_new(struct s2s_route *, const char *local,
	    const char *remote);
/*
 * The route is going (xfed stops): the stream no longer reports to it;
 * what the peer did not ack still goes back to the outbox when it closes.
 */
void	 s2s_out_detach(struct s2s_stream *);
/*
 * Writes a stanza on a ready stream (borrows el); outbox_id 0 for one of
 * xfed's own; never closes the stream. -1 when the stanza alone is larger
 * than the output cap (never sendable); 1 when stream management tracks
 * it: the route hears of it through s2s_mgr_acked() or s2s_mgr_unacked(),
 * not through the flush; else 0.
 */
int	 s2s_out_write(struct s2s_stream *, const struct el *,
	    int64_t outbox_id);
/*
 * 1 when a ready stream may take more stanzas (below the high mark, and
 * not too many waiting for the peer's ack).
 */
int	 s2s_out_writable(const struct s2s_stream *);
/* 1 once the peer's header is in, so a db:verify may be sent. */
int	 s2s_out_can_verify(const struct s2s_stream *);
/* Sends a db:verify for a key a peer gave us (authoritative check). */
void	 s2s_out_send_verify(struct s2s_stream *, const char *local,
	    const char *remote, const char *sid, const char *key);
/* Closes a ready stream politely (idle, shutdown). */
void	 s2s_out_close(struct s2s_stream *, const char *reason);

#endif
