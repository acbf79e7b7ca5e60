/*
 * s2s/mgr.h: the outbound manager. One route per (local domain, remote
 * domain) pair: its queue, its one outbound stream, its verifications
 * waiting for the remote's authoritative server, its backoff. Streams are
 * out.c's; what a sent or failed outbox row means is the server's, told
 * through s2s_hooks (s2s.h).
 */
#ifndef S2S_MGR_H
#define S2S_MGR_H

#include <stdint.h>

#include "s2s.h"

struct el;
struct evbuffer;
struct s2s_route;
struct s2s_stream;

struct s2s_mgr_conf {
	int		 idle_secs;	/* close an unused outbound stream */
	int		 backoff_min_secs;
	int		 backoff_max_secs;
};

void	 s2s_mgr_init(const struct s2s_mgr_conf *);
void	 s2s_mgr_shutdown(void);
/*
 * Takes stanza: queues it for remote from local and starts a stream if
 * none is up. outbox_id 0 marks a stanza xfed made itself (answers,
 * errors): kept in memory only, dropped with a log line when the remote
 * cannot be reached.
 */
void	 s2s_mgr_send(const char *local, const char *remote, struct el *stanza,
	    int64_t outbox_id);
/* 1 while the route has stanzas or verifications under way. */
int	 s2s_mgr_busy(const struct s2s_route *);
/* 1 when stanzas wait in the route's queue for a ready stream. */
int	 s2s_mgr_waiting(const struct s2s_route *);
/* 1 when the route's stream is wanted only for dialback verifications:
 * nothing of ours waits to go (issue 12, max_verify_per_target). */
int	 s2s_mgr_verify_only(const struct s2s_route *);
/* The remote just proved itself inbound: retry it now, not at backoff end. */
void	 s2s_mgr_remote_alive(const char *local, const char *remote);
/* 1 when remote is backing off (stanzas for it wait without connecting). */
int	 s2s_mgr_backing_off(const char *local, const char *remote,
	    int64_t *until);
/* Frees idle routes; the daemon calls it now and then. */
void	 s2s_mgr_reap(void);
/* Queued stanzas, all routes. */
uint64_t s2s_mgr_queued(void);

/* The route's last attempts, newest first, at most max; their number. */
size_t	 s2s_route_history(const struct s2s_route *, struct s2s_attempt *out,
	    size_t max);

/*
 * in.c: a remote's inbound attempt was refused (stage "dialback", "sasl",
 * "tls", "policy"; text as the peer was told, or why). Kept in a ring of
 * the last S2S_MGR_REFUSALS for every remote, shown by xfedctl peers.
 */
void	 s2s_mgr_refused(const char *local, const char *remote,
	    const char *stage, const char *text);

/* What out.c tells its route. */
const char *s2s_route_local(const struct s2s_route *);
const char *s2s_route_remote(const struct s2s_route *);
/* The peer's header and features are in: db:verify may go out now. */
void	 s2s_mgr_stream_open(struct s2s_route *);
/* Our pair is verified: stanzas may flow. */
void	 s2s_mgr_stream_ready(struct s2s_route *);
/* Everything written so far has left our buffers. */
void	 s2s_mgr_stream_flushed(struct s2s_route *);
/* The peer acknowledged an outbox row (XEP-0198); the route may be gone. */
void	 s2s_mgr_acked(int64_t outbox_id);
/* A row the peer never acknowledged: back to the outbox, to go again. */
void	 s2s_mgr_unacked(int64_t outbox_id);
/* The stream may take more again (acks made room): write what waits. */
void	 s2s_mgr_stream_writable(struct s2s_route *);
/* The attempt failed (before or after ready); the stream is closing. */
void	 s2s_mgr_stream_failed(struct s2s_route *, const struct s2s_failure *);
/* The stream is being freed: forget it. */
void	 s2s_mgr_stream_gone(struct s2s_route *);
/* A db:verify answer arrived on the route's stream. */
void	 s2s_mgr_verify_answer(struct s2s_route *, const char *id,
	    int valid, const char *cond);

#endif
