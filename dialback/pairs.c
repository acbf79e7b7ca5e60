/*
 * dialback/pairs.c: the pair table of one inbound stream. See pairs.h.
 */
#include <stdlib.h>
#include <string.h>

#include "pairs.h"
#include "xmalloc.h"

struct db_pair *
db_pairs_find(struct db_pairs *t, const char *remote, const char *local)
{
	int	 i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->v[i].remote, remote) == 0 &&
		    strcmp(t->v[i].local, local) == 0)
			return &t->v[i];
	return NULL;
}

struct db_pair *
db_pairs_add(struct db_pairs *t, const char *remote, const char *local,
    int valid)
{
	struct db_pair	*p;

	if (t->n == DB_PAIRS_MAX)
		return NULL;
	p = &t->v[t->n++];
	p->remote = xstrdup(remote);
	p->local = xstrdup(local);
	p->valid = valid;
	if (valid)
		t->nvalid++;
	return p;
}

void
db_pairs_validate(struct db_pairs *t, struct db_pair *p)
{
	if (p->valid)
		return;
	p->valid = 1;
	t->nvalid++;
}

void
db_pairs_drop(struct db_pairs *t, struct db_pair *p)
{
	if (p->valid)
		t->nvalid--;
	free(p->remote);
	free(p->local);
	*p = t->v[--t->n];
}

void
db_pairs_clear(struct db_pairs *t)
{
	while (t->n > 0)
		db_pairs_drop(t, &t->v[0]);
}

const char *
db_pairs_check(const struct db_pairs *t, const char *fromd, const char *tod,
    const char **text)
{
	int	 i, known = 0;

	if (t->nvalid == 0) {
		*text = "stanza before the sending domain was verified";
		return "not-authorized";
	}
	for (i = 0; i < t->n; i++) {
		if (!t->v[i].valid || strcmp(t->v[i].remote, fromd) != 0)
			continue;
		if (strcmp(t->v[i].local, tod) == 0)
			return NULL;
		known = 1;
	}
	if (!known) {
		*text = "the 'from' domain is not verified on this stream";
		return "invalid-from";
	}
	*text = "the 'to' domain is not hosted here or not verified for "
	    "this sender";
	return "host-unknown";
}
