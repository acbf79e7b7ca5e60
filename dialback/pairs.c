/*
 * dialback/pairs.c: the pair table of one inbound stream. See pairs.h.
 */
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "dialback.h"
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
	if (t->n == t->cap) {
		t->cap = t->cap == 0 ? 1 : t->cap * 2;
		if (t->cap > DB_PAIRS_MAX)
			t->cap = DB_PAIRS_MAX;
		t->v = xreallocarray(t->v, t->cap, sizeof(*t->v));
	}
	p = &t->v[t->n++];
	p->remote = xstrdup(remote);
	p->local = xstrdup(local);
	p->valid = valid;
	p->rated = 0;
	p->domslot = 0;
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
	free(t->v);
	t->v = NULL;
	t->cap = 0;
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

enum db_rx
db_receive(struct db_pairs *t, const struct db_msg *m,
    const struct db_rx_ctx *c, char *local, char *remote, const char **cond,
    const char **why)
{
	struct db_pair	*p;
	const char	*errstr;

	*why = NULL;
	if (jid_prep_domain(m->to, local, JID_PART_MAX + 1, &errstr) == -1 ||
	    !conf_is_hosted(c->conf, local)) {
		*cond = "item-not-found";		/* S2S 4.18 */
		return DB_RX_ERROR;
	}
	if (jid_prep_domain(m->from, remote, JID_PART_MAX + 1,
	    &errstr) == -1) {
		*cond = "not-acceptable";
		return DB_RX_ERROR;
	}
	if (conf_is_hosted(c->conf, remote)) {
		*cond = "not-acceptable";		/* S2S 4.19 */
		*why = "peer claims to be a domain hosted here";
		return DB_RX_ERROR;
	}
	if (c->domain_ok != NULL && !c->domain_ok(remote))
		return DB_RX_BLOCKED;
	if (c->conf->require_encryption && !c->tls)
		return DB_RX_NO_TLS;			/* S2S 11.7, 4.25 */
	if (c->conf->secure_auth && (c->cert_for == NULL ||
	    strcmp(c->cert_for, remote) != 0)) {
		*cond = "not-authorized";		/* S2S 4.25 */
		*why = "secure_auth needs a valid certificate";
		return DB_RX_ERROR;
	}
	if ((p = db_pairs_find(t, remote, local)) != NULL)
		return p->valid ? DB_RX_VALID : DB_RX_PENDING;
	if (db_pairs_add(t, remote, local, 0) == NULL) {
		*cond = "resource-constraint";		/* S2S 4.38 */
		return DB_RX_ERROR;
	}
	return DB_RX_VERIFY;
}
