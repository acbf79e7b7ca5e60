/* s2s/in.h: inbound S2S streams (in.c). */
#ifndef S2S_IN_H
#define S2S_IN_H

#include <stdint.h>
#include <sys/socket.h>

struct s2s_stream;

/* Takes fd: a connection accepted on a listen (direct 0) or listen_tls
 * (direct 1, XEP-0368) address. The new stream, or NULL. */
struct s2s_stream *s2s_in_accept(int fd, const struct sockaddr *, socklen_t,
	    int direct);

/*
 * The authoritative server's verdict on a db:result received on inbound
 * stream in_id for (local, remote): valid 1, invalid 0, or -1 for a
 * dialback error with cond, ours 1 when that is a local limit. A stream
 * that is gone is ignored (S2S 4.21).
 */
void	 s2s_in_verified(uint64_t in_id, const char *local, const char *remote,
	    int valid, const char *cond, int ours);

/*
 * The claims waiting their turn (verify_rate_per_domain, sources_wait) at
 * time now (rate_now_ms): refilled tokens to the oldest first, their
 * verifications asked; those that waited too long refused with
 * resource-constraint. A timer calls it while claims wait.
 */
void	 s2s_in_waits_run(int64_t now);

/*
 * Every store batch up to and including batch is settled: inbound streams
 * with XEP-0198 answer the <r/> that waited for it.
 */
void	 s2s_in_settled(uint64_t batch);
/* Frees the table and timer of the refusal lines and the timer of the
 * claims waiting their turn (xfed stopping). */
void	 s2s_in_refusals_free(void);

#endif
