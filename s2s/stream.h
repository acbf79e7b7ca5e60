/*
 * s2s/stream.h: what inbound and outbound S2S streams share: the socket
 * (a bufferevent), the XML parser, stream errors, the close handshake and
 * the deferred free. The direction's own logic (in.c, out.c) is reached
 * through struct s2s_ops.
 *
 * Lifecycle (one close path, free only from the loop): the stream is the
 * first member of the direction's own struct (in.c's, out.c's), allocated
 * and freed with it, so direction state lives exactly as long as the
 * stream. Sending never closes nor frees: a send that would overflow the
 * output cap only marks the stream S2S_F_OVERFLOW, and the outermost
 * callback (read, timer, socket event, drain, or a deferred event for
 * sends made outside any stream callback) closes it afterwards.
 * s2s_stream_close() marks the stream dead and tells the direction
 * (ops->gone); the memory stays valid until the loop frees it, after
 * ops->release. Code holding a stream pointer across a call that may close
 * checks s2s_stream_dead(). Elements handed to ops->elem belong to the
 * callee.
 */
#ifndef S2S_STREAM_H
#define S2S_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <time.h>

struct bufferevent;
struct el;
struct ssl_st;
struct event;
struct evbuffer;
struct evbuffer_cb_entry;
struct s2s_stream;
struct xml_parser;

#define NS_STREAMS	"http://etherx.jabber.org/streams"
#define NS_SERVER	"jabber:server"
#define NS_DIALBACK	"jabber:server:dialback"
#define NS_XMPP_STREAMS	"urn:ietf:params:xml:ns:xmpp-streams"
#define NS_XMPP_STANZAS	"urn:ietf:params:xml:ns:xmpp-stanzas"
#define NS_TLS		"urn:ietf:params:xml:ns:xmpp-tls"
#define NS_SASL		"urn:ietf:params:xml:ns:xmpp-sasl"

#define S2S_SID_LEN	24	/* stream id characters, [A-Za-z0-9] */
#define S2S_SID_MAX	128	/* longest peer stream id kept (Prosody: UUIDs) */
#define S2S_HANDSHAKE_SECS	30	/* S2S 10.11: TLS + auth within 30 s */
#define S2S_CLOSE_SECS		5	/* waiting for the peer's </stream> */
#define S2S_OUT_MAX	(4 * 1024 * 1024) /* bytes queued for a slow peer */
#define S2S_OUT_HIGH	(1024 * 1024)	/* stanzas wait above this */

enum s2s_dir {
	S2S_DIR_IN,
	S2S_DIR_OUT,
};

/*
 * What happens to a stream, as stream.c turns bytes and socket events into
 * them. Each direction has one *_event() switch over its explicit states
 * (in.c, out.c); unit tests feed these without sockets.
 */
enum s2s_ev {
	S2S_EV_OPENED,		/* the peer's stream header (el, taken) */
	S2S_EV_ELEMENT,		/* a depth-1 element (el, taken) */
	S2S_EV_CLOSED,		/* the peer's </stream:stream> */
	S2S_EV_TLS_UP,		/* TLS handshake done (STARTTLS or direct) */
	S2S_EV_CONNECTED,	/* outbound: TCP connected (no TLS yet) */
	S2S_EV_EOF,		/* EOF, socket or TLS error: st->eof_why */
	S2S_EV_TIMEOUT,		/* the stream's timer ran out */
	S2S_EV_DRAINED,		/* everything written has left our buffers */
	S2S_EV_SHUTDOWN,	/* xfed is stopping */
};

struct s2s_ops {
	const char	*name;		/* "in" or "out", for logs */
	/* The direction's state machine; el only with OPENED, ELEMENT. */
	void		(*event)(struct s2s_stream *, enum s2s_ev, struct el *);
	/* Closed: tell others, drop references to the stream (the memory
	 * stays until the loop frees it). */
	void		(*gone)(struct s2s_stream *);
	/* Optional: the loop frees the stream: release what the direction
	 * owns (not the stream's memory, which the loop frees). */
	void		(*release)(struct s2s_stream *);
	/* Optional: milliseconds to wait before reading more (0: read). */
	int		(*hold)(struct s2s_stream *);
};


#define S2S_F_DEAD	0x01	/* closed: freed by the loop, ignore it */
#define S2S_F_HDR_SENT	0x02	/* our stream header is out */
#define S2S_F_CLOSE_SENT 0x04	/* our </stream:stream> is out */
#define S2S_F_TLS	0x08	/* TLS is up */
#define S2S_F_AUTHED	0x10	/* at least one pair verified */
#define S2S_F_CERT_OK	0x20	/* peer certificate verified for remote */
#define S2S_F_SASL	0x40	/* authenticated by SASL EXTERNAL */
#define S2S_F_FREEING	0x80	/* closed and flushed: the free is scheduled */
#define S2S_F_OVERFLOW	0x100	/* output cap hit: closed by the loop */
#define S2S_F_PAUSED	0x200	/* reading stopped for a while */

/* The direction struct that holds stream st as its member m. */
#define S2S_CONTAINER(st, type, m) \
	((type *)(void *)((char *)(st) - offsetof(type, m)))

struct s2s_stream {
	TAILQ_ENTRY(s2s_stream)	 entry;
	const struct s2s_ops	*ops;
	uint64_t		 id;
	enum s2s_dir		 dir;
	unsigned int		 flags;
	struct bufferevent	*bev;
	struct xml_parser	*xml;
	struct event		*timer;
	char			*local;		/* our domain, NULL until known */
	char			*remote;	/* peer domain, NULL until known */
	char			*sid;		/* ours or the peer's, NULL until known */
	char			 addr[64];	/* peer address, [v6]:port */
	time_t			 opened;
	uint64_t		 nin, nout;	/* stanzas */
	const char		*state_name;	/* for logs and status */
	struct ssl_st		*ssl;		/* owned by bev once TLS is on */
	struct ssl_st		*tls_next;	/* STARTTLS after this read */
	int			 tls_next_accept;
	char			*tls_desc;	/* "TLSv1.3 TLS_AES_...", NULL until up */
	struct evbuffer_cb_entry *sock_cb;	/* on the socket under TLS */
	struct event		*settle_ev;	/* deferred close after overflow, lazily */
	const char		*eof_why;	/* with S2S_EV_EOF */
	struct event		*pause_ev;	/* s2s_stream_pause(), lazily */
	uint64_t		 bytes_in;	/* parsed, after TLS */
	uint64_t		 backlog;	/* when its unread bytes were first
						 * seen (s2s_in_hold()), 0: none */
};

TAILQ_HEAD(s2s_streams, s2s_stream);
extern struct s2s_streams	 s2s_streams;

/*
 * Takes fd: wraps it in a stream of direction dir; fd -1 for an outbound
 * stream that connects later. With ssl (taken), TLS starts at once
 * (direct TLS, XEP-0368). size is that of the direction's struct, whose
 * first member is the stream (zeroed). NULL on failure.
 */
struct s2s_stream *s2s_stream_new(size_t size, int fd, enum s2s_dir,
		    const struct s2s_ops *, const char *addr,
		    struct ssl_st *ssl, int accepting);
/*
 * Outbound, before connecting: a fresh unconnected socket, with TLS from
 * the first byte when ssl (taken) is not NULL.
 */
void		 s2s_stream_new_socket(struct s2s_stream *, struct ssl_st *ssl);
/*
 * STARTTLS (RFC 6120 5.4.3.3): takes ssl; the handshake starts once the
 * current read is done, and the parser starts a new document. ops->tls_up
 * runs when it completes.
 */
void		 s2s_stream_starttls(struct s2s_stream *, struct ssl_st *ssl,
		    int accepting);
/*
 * Hands one event to the direction (takes el), unless the stream is
 * closed, then closes it if a send overflowed meanwhile. stream.c's own
 * callbacks come through here; so do unit tests.
 */
void		 s2s_stream_input(struct s2s_stream *, enum s2s_ev, struct el *);
/*
 * A direction whose </stream:stream> is out (RFC 6120 4.4, S2S 1.23):
 * their closing tag, EOF or the close timer end the stream; stopping
 * changes nothing. 1 when ev was one of those.
 */
int		 s2s_stream_closing_event(struct s2s_stream *, enum s2s_ev);
/* The stream's output, before the socket (for tests). */
struct evbuffer	*s2s_stream_output(struct s2s_stream *);
/* Writes a stream header; from/to/id may be NULL. */
void		 s2s_stream_send_header(struct s2s_stream *, const char *from,
		    const char *to, const char *id, int version);
/*
 * The sends never close nor free the stream: past the output cap they
 * mark it S2S_F_OVERFLOW and write nothing more; the loop closes it.
 */
void		 s2s_stream_send_raw(struct s2s_stream *, const char *, size_t);
/*
 * Serializes el onto the stream (borrows el). -1, with nothing written
 * and the stream untouched, when el alone is larger than the output cap:
 * it can never be sent.
 */
int		 s2s_stream_send(struct s2s_stream *, const struct el *);
/* The same, then frees el (takes el). */
void		 s2s_stream_send_el_free(struct s2s_stream *, struct el *);
/*
 * Sends <stream:error><cond/></stream:error></stream:stream> (after a response
 * header when none was sent, S2S 1.29) and closes. text may be NULL.
 */
void		 s2s_stream_error(struct s2s_stream *, const char *cond,
		    const char *text);
/*
 * The same with an application-specific condition (RFC 6120 4.9.4) after
 * the defined one and the text, when app is not NULL (takes app).
 */
void		 s2s_stream_error_app(struct s2s_stream *, const char *cond,
		    const char *text, struct el *app);
/* Ends the stream: our close tag if not sent, then free once flushed. */
void		 s2s_stream_close(struct s2s_stream *, const char *reason);
int		 s2s_stream_dead(const struct s2s_stream *);
/* Bytes written and not yet handed to the kernel. */
size_t		 s2s_stream_queued(const struct s2s_stream *);
/* 1 when the stream is dead or marked for closing (no use writing). */
int		 s2s_stream_failing(const struct s2s_stream *);
/*
 * Stops reading for ms milliseconds: nothing more is taken from the
 * socket, and what is buffered waits (at most 16 KiB more are
 * parsed); then reading goes on by itself.
 */
void		 s2s_stream_pause(struct s2s_stream *, int ms);
/* The bytes of st that wait to be read: in its buffer and the socket's. */
size_t		 s2s_stream_unread(struct s2s_stream *);
/* (Re)arms the stream's timer; S2S_EV_TIMEOUT when it fires. */
void		 s2s_stream_timer(struct s2s_stream *, int secs);
/* Stops the timer and gives its event back (an idle stream holds none). */
void		 s2s_stream_timer_stop(struct s2s_stream *);
void		 s2s_stream_set_state(struct s2s_stream *, const char *);
/* S2S_F_AUTHED, and the parser takes elements up to max_stanza_size. */
void		 s2s_stream_set_authed(struct s2s_stream *);
/* 1 when the header declares jabber:server as default namespace. */
int		 s2s_stream_header_ns_ok(const struct el *hdr);
/* Logs a line prefixed with the stream's id, peer and address. */
void		 s2s_log(const struct s2s_stream *, int level, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
/*
 * Stops (1) or resumes (0) reading from every inbound stream, new ones
 * included: the peers' bytes wait in their socket buffers and then in
 * TCP (back-pressure while the store cannot keep what comes in). Outbound
 * streams go on. What was read already is parsed when reading resumes.
 */
void		 s2s_stream_pause_reading(int pause);
/*
 * xfed is stopping: S2S_EV_SHUTDOWN to every stream of direction dir,
 * which ends the way its direction says (inbound: our </stream:stream>,
 * then reading on until theirs; outbound: once what its route holds is
 * written, <system-shutdown/>). The server stops the inbound streams
 * first and the outbound ones once those are closed: the answers to the
 * stanzas read meanwhile go out on them (S2S 1.19, 1.23).
 */
void		 s2s_stream_shutdown(enum s2s_dir dir);
/* 1 once s2s_stream_shutdown(dir) ran: no new stream of dir is opened. */
int		 s2s_stream_stopped(enum s2s_dir dir);
/* Streams of direction dir not closed yet, with every flag of flags. */
size_t		 s2s_stream_count(enum s2s_dir, unsigned int flags);
/*
 * At exit, after the loop: closes every stream still open (a stream
 * accepted while stopping, say). The caller runs the loop once more
 * without blocking, so that the callbacks this defers (TLS bufferevents
 * hold a reference until theirs run) release them before
 * s2s_stream_free_all().
 */
void		 s2s_stream_close_all(const char *reason);
/* At exit, after the loop: frees every stream left, and forgets
 * s2s_stream_shutdown(). */
void		 s2s_stream_free_all(void);

#endif
