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
	 * on it, its to and from parsed (borrowed for the call). Returns the
	 * number of the store batch whose commit keeps what it wrote, 0 when
	 * nothing of it waits (XEP-0198 acks wait for s2s_in_settled()).
	 */
	uint64_t (*deliver)(struct el *stanza, const struct jid *to,
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
	/*
	 * An inbound stream header carried an id (meaningless to the stream,
	 * RFC 6120 4.7.3; xfedctl check's self-dial puts a nonce there); sid
	 * is the id of our answer, tls 1 once TLS is up. May be NULL.
	 */
	void	(*header_id)(const char *id, const char *sid, int tls);
	/*
	 * 0 when the prepared remote domain is refused (blocked, or not
	 * allowed): its streams end with policy-violation. May be NULL.
	 */
	int	(*domain_ok)(const char *remote);
	/*
	 * One stanza came from the remote domain: milliseconds the stream
	 * stops reading (the domain is over its rate), or 0. May be NULL.
	 */
	int	(*stanza_rate)(const char *remote);
	/*
	 * 1 when the queued row may be written now; 0: it is dropped
	 * unwritten and unmarked (this instance may no longer hold its
	 * pair; the caller forgot it, the row stays queued). May be NULL.
	 */
	int	(*may_write)(int64_t outbox_id);
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
	const char	*cert_subject;	/* the peer's certificate, or NULL */
	time_t		 cert_expiry;	/* its notAfter, or 0 */
};

/* How one attempt to reach a remote ended. */
struct s2s_attempt {
	int64_t		 when;
	int		 ok;		/* the pair got verified */
	char		 stage[16];	/* else where it failed (s2s_failure) */
	char		 text[256];	/* and why, the peer's text included */
};

/* One route (local, remote) as xfedctl status shows it. */
struct s2s_route_info {
	const char	*local, *remote;
	uint64_t	 queued;
	int64_t		 backoff_until;	/* 0: none */
	const char	*last_error;	/* "" when none */
	int		 failures;	/* in a row */
	const struct s2s_attempt *attempts;	/* newest first */
	size_t		 nattempts;
};

/* Calls cb for every stream that is not closed. */
void	 s2s_stream_foreach(void (*cb)(void *, const struct s2s_stream_info *),
	    void *arg);
/* Calls cb for every route. */
void	 s2s_route_foreach(void (*cb)(void *, const struct s2s_route_info *),
	    void *arg);
/* Calls cb for each inbound attempt refused lately, newest first (the
 * remote's attempt to reach local; a->ok is 0). */
void	 s2s_refused_foreach(void (*cb)(void *, const char *local,
	    const char *remote, const struct s2s_attempt *a), void *arg);

#endif
