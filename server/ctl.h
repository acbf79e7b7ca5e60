/*
 * server/ctl.h: the control protocol between xfed and xfedctl, on the Unix
 * socket named by control_socket. This header is the protocol and nothing
 * else; server/ctl.c alone encodes and decodes it. Bump CTL_VERSION when any
 * message or field below changes meaning.
 *
 * A message is a struct ctl_hdr followed by len bytes of fields; a field is
 * a 16-bit tag, a 32-bit length and that many bytes (integers are 8 bytes,
 * network order). Readers skip tags they do not know, and answers of a
 * type they do not know: new messages and fields are additive and keep
 * the version (xfedctl and xfed of neighbouring releases still talk).
 */
#ifndef CTL_H
#define CTL_H

#include <stddef.h>
#include <stdint.h>

#define CTL_VERSION	1
#define CTL_MAX_MSG	(64 * 1024)	/* payload bytes, either way */

enum ctl_type {			/* numbered in blocks; never reuse a number */
	CTL_T_OK = 1,		/* done; optional CTL_F_TEXT */
	CTL_T_ERR,		/* refused; CTL_F_TEXT says why */
	CTL_T_STATUS = 100,	/* ask: answered by CTL_T_INFO, CTL_T_STREAM...,
				   CTL_T_ROUTE..., CTL_T_OK */
	CTL_T_INFO,		/* daemon figures */
	CTL_T_STREAM,		/* one S2S stream */
	CTL_T_ROUTE,		/* one (local, remote) route: queue, backoff */
	CTL_T_ATTEMPT,		/* one recent attempt of the route before it,
				   newest first: time, result, stage, text;
				   with CTL_F_DIR "in", after the routes: an
				   inbound attempt refused (result
				   "refused"), local and remote named */
	CTL_T_WEBHOOK,		/* one webhook: cursor, backlog, failures */
	CTL_T_PROBE = 200,	/* ask: a nonce for a self-dial; answered by
				   CTL_T_PROBE (CTL_F_NONCE), CTL_T_OK */
	CTL_T_PROBE_SEEN,	/* ask with CTL_F_NONCE: answered by
				   CTL_T_PROBE_SEEN (CTL_F_RESULT "seen",
				   "unseen" or "unknown"; when seen CTL_F_SID
				   and CTL_F_TLS "yes"/"no"), CTL_T_OK */
};

enum ctl_field {
	CTL_F_TEXT = 1,
	CTL_F_VERSION,		/* daemon version string */
	CTL_F_PID,
	CTL_F_UPTIME,		/* seconds */
	CTL_F_DOMAIN,		/* a hosted domain (repeated) */
	CTL_F_STREAMS,		/* number of streams */
	CTL_F_OUTBOX_QUEUED,	/* outbox rows waiting */
	CTL_F_STORE_FAILING,	/* Unix time since the store fails; absent: it works */
	CTL_F_ID = 20,		/* stream: connection id */
	CTL_F_DIR,		/* "in" or "out" */
	CTL_F_LOCAL,		/* our domain of the pair(s) */
	CTL_F_REMOTE,		/* peer domain, "-" until known */
	CTL_F_ADDR,		/* peer address */
	CTL_F_STATE,		/* stream state name */
	CTL_F_AUTH,		/* "none", "dialback", "sasl-external" */
	CTL_F_TLS,		/* "" or "TLSv1.3 CIPHER" */
	CTL_F_AGE,		/* seconds open */
	CTL_F_STANZAS_IN,
	CTL_F_STANZAS_OUT,
	CTL_F_QUEUE,		/* stanzas waiting for this route */
	CTL_F_BACKOFF,		/* seconds until the route retries */
	CTL_F_CERT_SUBJECT,	/* stream: peer certificate's subject */
	CTL_F_CERT_EXPIRY,	/* stream: its notAfter, Unix time */
	CTL_F_FAILURES,		/* route: failed attempts in a row */
	CTL_F_TIME,		/* attempt: when it ended, Unix time */
	CTL_F_RESULT,		/* attempt: "ok" or "failed" */
	CTL_F_STAGE,		/* attempt: "dns", "connect", "tls",
				   "dialback", "stream", "timeout" */
	CTL_F_NONCE,		/* probe: the nonce */
	CTL_F_SID,		/* probe: the stream id answered */
	CTL_F_URL = 50,		/* webhook URL */
	CTL_F_CURSOR,		/* last event delivered */
	CTL_F_BACKLOG,		/* events not delivered yet */
	CTL_F_STATUS,		/* last HTTP status, 0 when none */
};

struct ctl_hdr {
	uint32_t	len;		/* payload bytes that follow */
	uint16_t	type;		/* enum ctl_type */
	uint16_t	version;	/* sender's CTL_VERSION */
};

/* A message being built; ctl_msg_end() finishes the header. */
struct ctl_msg {
	uint8_t		*buf;
	size_t		 len, cap;
};

void	 ctl_msg_begin(struct ctl_msg *, enum ctl_type);
void	 ctl_put_str(struct ctl_msg *, enum ctl_field, const char *);
void	 ctl_put_u64(struct ctl_msg *, enum ctl_field, uint64_t);
/* Returns the bytes to send (header included); the message owns them. */
const uint8_t *ctl_msg_end(struct ctl_msg *, size_t *len);
void	 ctl_msg_free(struct ctl_msg *);

/*
 * Reads the header at buf (avail bytes). Returns the whole message size when
 * it is complete, 0 when more bytes are needed, -1 with *errstr when it can
 * never be valid (too long, other version).
 */
long	 ctl_hdr_read(const uint8_t *buf, size_t avail, struct ctl_hdr *,
	    const char **errstr);
/* Field getters on a payload; -1 when absent or malformed. */
int	 ctl_get_str(const uint8_t *p, size_t len, enum ctl_field, char *out,
	    size_t outsz);
int	 ctl_get_u64(const uint8_t *p, size_t len, enum ctl_field, uint64_t *);
/* Calls fn for each field carrying tag (for repeated fields). */
int	 ctl_each_str(const uint8_t *p, size_t len, enum ctl_field,
	    void (*fn)(void *, const char *), void *arg);

#endif
