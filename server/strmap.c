/*
 * server/strmap.c: the string map of strmap.h. An entry is its header,
 * the caller's data (aligned as malloc aligns) and the key, in one
 * allocation. FNV-1a spreads the keys.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"
#include "xmalloc.h"

struct strmap_ent {
	struct strmap_ent	*next;
	const char		*key;
	max_align_t		 data[];
};

static size_t
strmap_hash(const struct strmap *m, const char *s)
{
	uint32_t	 h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % m->nbuckets;
}

const char *
strmap_key(const void *data)
{
	const char	*p = (const char *)data - offsetof(struct strmap_ent, data);

	return ((const struct strmap_ent *)(const void *)p)->key;
}

void
strmap_init(struct strmap *m, size_t nbuckets)
{
	m->tab = xcalloc(nbuckets, sizeof(*m->tab));
	m->nbuckets = nbuckets;
	m->n = 0;
}

void *
strmap_get(struct strmap *m, const char *key, size_t size)
{
	struct strmap_ent	*e;
	size_t			 h, dsz, klen;

	if (m->tab == NULL)
		return NULL;
	h = strmap_hash(m, key);
	for (e = m->tab[h]; e != NULL; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e->data;
	if (size == 0)
		return NULL;
	dsz = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) *
	    sizeof(max_align_t);
	klen = strlen(key) + 1;
	e = xcalloc(1, sizeof(*e) + dsz + klen);
	memcpy((char *)e->data + dsz, key, klen);
	e->key = (char *)e->data + dsz;
	e->next = m->tab[h];
	m->tab[h] = e;
	m->n++;
	return e->data;
}

void
strmap_del(struct strmap *m, const char *key)
{
	struct strmap_ent	**pp, *e;

	if (m->tab == NULL)
		return;
	for (pp = &m->tab[strmap_hash(m, key)]; (e = *pp) != NULL;
	    pp = &e->next)
		if (strcmp(e->key, key) == 0) {
			*pp = e->next;
			free(e);
			m->n--;
			return;
		}
}

void
strmap_sweep(struct strmap *m, int (*drop)(void *, void *), void *arg)
{
	struct strmap_ent	**pp, *e;
	size_t			  i;

	/* stops at the last entry: an empty map costs nothing */
	for (i = 0; m->tab != NULL && m->n > 0 && i < m->nbuckets; i++)
		for (pp = &m->tab[i]; (e = *pp) != NULL;) {
			if (drop(e->data, arg)) {
				*pp = e->next;
				free(e);
				m->n--;
			} else
				pp = &e->next;
		}
}

static int
strmap_all(void *data, void *arg)
{
	return 1;
}

void
strmap_clear(struct strmap *m)
{
	strmap_sweep(m, strmap_all, NULL);
	free(m->tab);
	m->tab = NULL;
	m->nbuckets = 0;
}
