/*
 * server/lease.h: this daemon among the instances that share one store:
 * its name, its heartbeat, and the leases of the (local, remote) domain
 * pairs it sends to (store.h, "Several instances on one store").
 */
#ifndef LEASE_H
#define LEASE_H

/* Names this instance, beats once and starts the timer (fatal on a
 * store that fails). */
void		 lease_init(void);
/* A clean stop: frees the leases and the instance's row. */
void		 lease_free(void);
/* This instance's name. */
const char	*lease_name(void);
/*
 * Claims the free or expired leases of pairs with due rows; the number
 * claimed (0 also when the store failed, which is logged).
 */
long long	 lease_claim(void);
/* lease_claim() for outbox_kick(): on a shared store at most once a
 * second (a timer does the rest); nothing on one this daemon alone uses. */
void		 lease_claim_kick(void);
/* On a store this daemon alone uses: the pair of a row read, and
 * lease_claim() once the read is done if one was not held yet. */
void		 lease_note(const char *local, const char *remote);
void		 lease_claim_noted(void);
/* 0 once this instance's leases may have expired without a renewal: it
 * then sends nothing (1 on a store this daemon alone uses). */
int		 lease_fresh(void);
/*
 * 1 when this instance sends local's stanzas to remote: it holds the
 * pair's lease, or takes it now because nobody holds it unexpired.
 */
int		 lease_holds(const char *local, const char *remote);

/* Other instances whose heartbeat is younger than lease_time. */
int		 lease_others(void);

#endif
