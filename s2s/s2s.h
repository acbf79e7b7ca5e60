/*
 * s2s/s2s.h: what the server hands the S2S layer at start, and what it may
 * ask of it. s2s/ never calls the router or the outbox: an inbound stanza
 * and what became of an outbox row go up through these hooks (the way
 * libevent takes callbacks), so the layers point one way (STYLE 14).
 * Status is read, not pushed: s2s_stream_foreach(), s2s_route_foreach().
 */
#ifndef S2S_H
#define S2S_H

#include <stdint.h>
#include <time.h>

struct el;
struct jid;

/* What a failure looked like, for the outbox and the logs. */
struct s2s_failure {
	const char	*stage;		/* "dns", "connect", "tls", "dialback",
					   "stream", "timeout", "payload" */
	const char	*text;		/* human text, peer's text included */
	const char	*cond;		/* stanza error condition to report */
	int		 permanent;	/* no point retrying */
};

struct s2s_hooks {
	/*
	 * Takes stanza: received on an inbound stream from a pair verified
	 * on it, its to and from parsed (borrowed for the call).
	 */
	void	(*deliver)(struct el *stanza, const struct jid *to,
		    const struct jid *from);
	/* The row's stanza was written and flushed on an authenticated
	 * stream (once per row given with an outbox id, or failed). */
	void	(*sent)(int64_t outbox_id);
	/* The peer acknowledged the row (XEP-0198); may be NULL. */
	void	(*delivered)(int64_t outbox_id);
	/* Not sent: try again at retry_at, or never when retry_at is 0. */
	void	(*failed)(int64_t outbox_id, int64_t retry_at,
		    const struct s2s_failure *);
	/*
	 * A row given back to retry later may go now (its remote is
	 * reachable again before the retry time); may be NULL.
	 */
	void	(*wake)(int64_t outbox_id);
};

/* Set once at start, before any stream (copied). */
void	 s2s_init(const struct s2s_hooks *);
extern struct s2s_hooks	 s2s_hooks;

/* One stream as xfedctl status shows it. */
struct s2s_stream_info {
	uint64_t	 id;
	const char	*dir;		/* "in", "out" */
	const char	*local, *remote;	/* "-" while unknown */
	const char	*addr;
	const char	*state;
	const char	*auth;		/* "sasl-external", "dialback", "none" */
	const char	*tls;		/* "" without TLS */
	time_t		 opened;
	uint64_t	 nin, nout;	/* stanzas */
};

/* One route (local, remote) as xfedctl status shows it. */
struct s2s_route_info {
	const char	*local, *remote;
	uint64_t	 queued;
	int64_t		 backoff_until;	/* 0: none */
	const char	*last_error;	/* "" when none */
};

/* Calls cb for every stream that is not closed. */
void	 s2s_stream_foreach(void (*cb)(void *, const struct s2s_stream_info *),
	    void *arg);
/* Calls cb for every route. */
void	 s2s_route_foreach(void (*cb)(void *, const struct s2s_route_info *),
	    void *arg);

#endif
