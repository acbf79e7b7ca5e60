/*
 * server/lru.c: the bounded table of lru.h. Each record sits in a strmap
 * entry behind a list link and a copy of its key (the strmap keeps its own
 * but does not show it), so the least recent one can be found at the
 * list's tail and removed from the map by name.
 */
#include <stdio.h>
#include <string.h>

#include "lru.h"

struct lru_ent {
	TAILQ_ENTRY(lru_ent)	 entry;
	char			 key[LRU_KEY_MAX];
	max_align_t		 data[];
};

void
lru_init(struct lru *l, size_t max, size_t size)
{
	strmap_init(&l->map, max < 16 ? 16 : max);
	TAILQ_INIT(&l->order);
	l->max = max < 1 ? 1 : max;
	l->size = size;
	l->evicted = 0;
}

void *
lru_get(struct lru *l, const char *key, int *created)
{
	struct lru_ent	*e, *old;
	char		 k[LRU_KEY_MAX];

	snprintf(k, sizeof(k), "%s", key);
	*created = 0;
	if ((e = strmap_get(&l->map, k, 0)) != NULL) {
		if (e != TAILQ_FIRST(&l->order)) {
			TAILQ_REMOVE(&l->order, e, entry);
			TAILQ_INSERT_HEAD(&l->order, e, entry);
		}
		return e->data;
	}
	if (l->map.n >= l->max && (old = TAILQ_LAST(&l->order,
	    lru_order)) != NULL) {
		TAILQ_REMOVE(&l->order, old, entry);
		strmap_del(&l->map, old->key);
		l->evicted++;
	}
	e = strmap_get(&l->map, k, sizeof(*e) + l->size);
	memcpy(e->key, k, sizeof(k));
	TAILQ_INSERT_HEAD(&l->order, e, entry);
	*created = 1;
	return e->data;
}

void *
lru_peek(struct lru *l, const char *key)
{
	struct lru_ent	*e;
	char		 k[LRU_KEY_MAX];

	snprintf(k, sizeof(k), "%s", key);
	return (e = strmap_get(&l->map, k, 0)) != NULL ? e->data : NULL;
}

size_t
lru_count(const struct lru *l)
{
	return l->map.n;
}

void
lru_clear(struct lru *l)
{
	TAILQ_INIT(&l->order);
	strmap_clear(&l->map);
}
