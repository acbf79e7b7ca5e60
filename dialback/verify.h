/*
 * dialback/verify.h: the receiving role's pending verifications (XEP-0220
 * 2.1.2). Each db:result an inbound stream accepted for checking waits
 * here, per (local, remote) pair, for the authoritative server's answer to
 * our db:verify: at most DB_VERIFY_MAX in all, one per (inbound stream,
 * stream id), each ending after DB_VERIFY_SECS without an answer (S2S
 * 4.38; XEP-0220 2.5). Which outbound stream carries a db:verify, and what
 * a verdict does to the inbound stream, is s2s/'s business, reached
 * through db_verify_hooks.
 */
#ifndef DB_VERIFY_H
#define DB_VERIFY_H

#include <stddef.h>
#include <stdint.h>

struct event_base;

#define DB_VERIFY_MAX	1024	/* db:verify waiting, all pairs */
#define DB_VERIFY_SECS	30	/* for the authoritative server's answer */

struct db_verify_hooks {
	/* Verifications for (local, remote) wait to be sent: a stream to
	 * remote's authoritative server is wanted (db_verify_send()). */
	void	(*wanted)(const char *local, const char *remote);
	/*
	 * The verdict on inbound stream in_id for the pair: valid 1, invalid
	 * 0, or -1 for a dialback error with cond (S2S 4.24); ours 1 when
	 * the error is a local limit (db_verify_refuse()), not the peer's.
	 */
	void	(*verdict)(uint64_t in_id, const char *local,
		    const char *remote, int valid, const char *cond, int ours);
};

void	 db_verify_init(struct event_base *, const struct db_verify_hooks *);
/*
 * Checks key, claimed on inbound stream in_id whose id is sid, with
 * remote's authoritative server: the verdict comes through the hook. -1
 * with *cond (a dialback error condition) when too many are under way.
 */
int	 db_verify_request(const char *local, const char *remote,
	    const char *sid, const char *key, uint64_t in_id,
	    const char **cond);
/* Calls send for every verification of the pair not sent yet; they count
 * as sent from then on. */
void	 db_verify_send(const char *local, const char *remote,
	    void (*send)(void *arg, const char *sid, const char *key),
	    void *arg);
/* The stream they went on is gone: send them again on the next one. */
void	 db_verify_unsend(const char *local, const char *remote);
/* The answer for id on the pair's stream; -1 when none was asked (S2S
 * 4.21: the caller drops it). */
int	 db_verify_answer(const char *local, const char *remote,
	    const char *id, int valid, const char *cond);
/* remote's authoritative server is out of reach: every verification of
 * the pair ends with the dialback error cond (S2S 4.24). */
void	 db_verify_fail(const char *local, const char *remote,
	    const char *cond);
/* A local limit stops the verifications of the pair: they end with
 * resource-constraint, as ours. */
void	 db_verify_refuse(const char *local, const char *remote);
/* Verifications waiting for the pair. */
size_t	 db_verify_pending(const char *local, const char *remote);
/* At exit: forgets them all, without verdicts. */
void	 db_verify_free_all(void);

#endif
