/*
 * s2s/mgr.h: the outbound manager. One route per (local domain, remote
 * domain) pair: its queue, its one outbound stream, its verifications
 * waiting for the remote's authoritative server, its backoff. Streams are
 * out.c's; what a delivered or failed outbox row means is the caller's,
 * told through the done callback.
 */
#ifndef S2S_MGR_H
#define S2S_MGR_H

#include <stdint.h>

struct el;
struct evbuffer;
struct s2s_route;
struct s2s_stream;

/* How a queued stanza ended. */
enum s2s_result {
	S2S_SENT,		/* written to an authenticated stream, flushed */
	S2S_RETRY,		/* not now: try again at 'next' */
	S2S_FAILED,		/* permanent: cond says why */
};

/* What a failure looked like, for the outbox and the logs. */
struct s2s_failure {
	const char	*stage;		/* "dns", "connect", "tls", "dialback",
					   "stream", "timeout" */
	const char	*text;		/* human text, peer's text included */
	const char	*cond;		/* stanza error condition to report */
	int		 permanent;	/* no point retrying */
};

/*
 * Called for every stanza given with an outbox id, once. next is when to
 * retry (S2S_RETRY). f is NULL for S2S_SENT.
 */
typedef void	 s2s_done_cb(int64_t outbox_id, enum s2s_result, int64_t next,
		    const struct s2s_failure *f);

/*
 * Called for an outbox row a route gave back with S2S_RETRY once the
 * remote is reachable again before the row's retry time: the caller may
 * hand it over again now.
 */
typedef void	 s2s_wake_cb(int64_t outbox_id);

struct s2s_mgr_conf {
	s2s_done_cb	*done;
	s2s_wake_cb	*wake;		/* may be NULL */
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
/*
 * Asks remote's authoritative server whether key is valid for a stream of
 * ours with id sid on which remote claimed to be remote, for local. The
 * verdict goes to s2s_in_verified(in_id, ...). -1 with *cond (a dialback
 * error condition) when too many verifications are under way.
 */
int	 s2s_mgr_verify(const char *local, const char *remote, const char *sid,
	    const char *key, uint64_t in_id, const char **cond);
/* 1 while the route has stanzas or verifications under way. */
int	 s2s_mgr_busy(const struct s2s_route *);
/* The remote just proved itself inbound: retry it now, not at backoff end. */
void	 s2s_mgr_remote_alive(const char *local, const char *remote);
/* 1 when remote is backing off (stanzas for it wait without connecting). */
int	 s2s_mgr_backing_off(const char *local, const char *remote,
	    int64_t *until);
/* Frees idle routes; the daemon calls it now and then. */
void	 s2s_mgr_reap(void);
/* Queued stanzas, all routes. */
uint64_t s2s_mgr_queued(void);

/* How one attempt to reach a remote ended. */
struct s2s_attempt {
	int64_t		 when;
	int		 ok;		/* the pair got verified */
	char		 stage[16];	/* else where it failed (s2s_failure) */
	char		 text[256];	/* and why, the peer's text included */
};

/* Appends per route a CTL_T_ROUTE (queued, backoff, failures) and its
 * recent attempts (CTL_T_ATTEMPT, newest first) to out. */
void	 s2s_mgr_status(struct evbuffer *out);
/* The route's last attempts, newest first, at most max; their number. */
size_t	 s2s_route_history(const struct s2s_route *, struct s2s_attempt *out,
	    size_t max);

/* What out.c tells its route. */
const char *s2s_route_local(const struct s2s_route *);
const char *s2s_route_remote(const struct s2s_route *);
/* The peer's header and features are in: db:verify may go out now. */
void	 s2s_mgr_stream_open(struct s2s_route *);
/* Our pair is verified: stanzas may flow. */
void	 s2s_mgr_stream_ready(struct s2s_route *);
/* Everything written so far has left our buffers. */
void	 s2s_mgr_stream_flushed(struct s2s_route *);
/* The attempt failed (before or after ready); the stream is closing. */
void	 s2s_mgr_stream_failed(struct s2s_route *, const struct s2s_failure *);
/* The stream is being freed: forget it. */
void	 s2s_mgr_stream_gone(struct s2s_route *);
/* A db:verify answer arrived on the route's stream. */
void	 s2s_mgr_verify_answer(struct s2s_route *, const char *id,
	    int valid, const char *cond);

#endif
