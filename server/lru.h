/*
 * server/lru.h: a bounded table of small records by string key (a client
 * address, a token), for per-source state such as the HTTP API's rate
 * buckets: at most max records; adding one more evicts the one used least
 * recently, so a flood of new sources costs a fixed amount of memory and
 * pushes out only the idlest sources. On strmap.h, with a recency list.
 */
#ifndef LRU_H
#define LRU_H

#include <stddef.h>
#include <sys/queue.h>

#include "strmap.h"

#define LRU_KEY_MAX	80	/* longer keys are cut (still distinct enough
				   for addresses and ids) */

struct lru_ent;

struct lru {
	struct strmap		 map;
	TAILQ_HEAD(lru_order, lru_ent) order;		/* most recent first */
	size_t			 max, size;
	unsigned long long	 evicted;
};

/* At most max records of size bytes each. */
void	 lru_init(struct lru *, size_t max, size_t size);
/*
 * The record of key, now the most recent: zeroed and *created set when it
 * was not there (after evicting the least recent one when full). Valid
 * until the next lru_get() that creates, or lru_clear().
 */
void	*lru_get(struct lru *, const char *key, int *created);
/* The record of key without creating it or changing the order; NULL. */
void	*lru_peek(struct lru *, const char *key);
size_t	 lru_count(const struct lru *);
void	 lru_clear(struct lru *);

#endif
