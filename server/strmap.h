/*
 * server/strmap.h: a small map from strings (prepared JIDs, domains,
 * addresses) to a block of the caller's data, for the in-memory tables of
 * the abuse controls (quota.c, rate.c, sources.c). Chained hashing with a
 * fixed number of buckets chosen at init; each entry is one allocation.
 */
#ifndef STRMAP_H
#define STRMAP_H

#include <stddef.h>

struct strmap_ent;

struct strmap {
	struct strmap_ent	**tab;
	size_t			  nbuckets;
	size_t			  n;		/* entries */
};

void	 strmap_init(struct strmap *, size_t nbuckets);
/*
 * The data of key: with size 0, NULL when absent; else created, zeroed,
 * size bytes, when absent. Lives until removed; size must not change.
 */
void	*strmap_get(struct strmap *, const char *key, size_t size);
/* The key of data that strmap_get returned. */
const char *strmap_key(const void *data);
/* Removes key, if there. */
void	 strmap_del(struct strmap *, const char *key);
/*
 * Removes every entry whose data drop() says 1 for; stops once the map
 * is empty, so sweeping or clearing an empty map visits no bucket.
 */
void	 strmap_sweep(struct strmap *, int (*drop)(void *data, void *arg),
	    void *arg);
/* Removes everything and frees the buckets. */
void	 strmap_clear(struct strmap *);

#endif
