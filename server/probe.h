/*
 * server/probe.h: nonces for "xfedctl check"'s self-dial. xfedctl asks
 * the daemon for one over the control socket, dials the domain as a
 * remote server would with the nonce as its stream header's id, and asks
 * whether this daemon saw it: only then did the dial reach this instance
 * and not another server answering for the domain.
 */
#ifndef PROBE_H
#define PROBE_H

#include <stddef.h>

#define PROBE_NONCE_LEN	32		/* hex digits */
#define PROBE_MAX	16		/* nonces kept at once */
#define PROBE_TTL_SECS	120		/* a nonce is forgotten after this */

/* A fresh nonce into out (PROBE_NONCE_LEN + 1 bytes); the oldest goes
 * when PROBE_MAX are out. */
void	 probe_new(char *out);
/*
 * An inbound stream header carried id: when it is a nonce handed out,
 * remember the stream id (sid) answered and whether TLS was up.
 */
void	 probe_seen(const char *id, const char *sid, int tls);
/* 1 when nonce was seen (sid and tls of the last header that had it),
 * 0 when it was handed out and not seen, -1 when unknown or expired. */
int	 probe_check(const char *nonce, char *sid, size_t sidsz, int *tls);

#endif
