/*
 * server/block.c: the domain rules and per-user blocks, kept in memory as
 * sorted arrays of prepared strings so that every stanza is checked with
 * a few binary searches (and none at all while the lists are empty). The
 * lists are read whole from the config and the store at start, on SIGHUP
 * and when the store's journal reports a change (xfed.c).
 */
#include <stdlib.h>
#include <string.h>

#include "block.h"
#include "conf.h"
#include "jid.h"
#include "log.h"
#include "server.h"
#include "store.h"
#include "xmalloc.h"

struct block_set {
	char	**v;
	size_t	  n, cap;
};

static struct block_set	 block_deny, block_allow, block_users;

static void
block_set_add(struct block_set *s, const char *str)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->v = xreallocarray(s->v, s->cap, sizeof(*s->v));
	}
	s->v[s->n++] = xstrdup(str);
}

static void
block_set_clear(struct block_set *s)
{
	size_t	 i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	s->n = 0;
}

static int
block_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
block_set_sort(struct block_set *s)
{
	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), block_cmp);
}

static int
block_set_has(const struct block_set *s, const char *str)
{
	return s->n > 0 && bsearch(&str, s->v, s->n, sizeof(*s->v),
	    block_cmp) != NULL;
}

/* d or one of its parent domains is in s. */
static int
block_set_covers(const struct block_set *s, const char *d)
{
	if (s->n == 0 || d[0] == '[')
		return s->n > 0 && block_set_has(s, d);
	for (;;) {
		if (block_set_has(s, d))
			return 1;
		if ((d = strchr(d, '.')) == NULL)
			return 0;
		d++;
	}
}

static int
block_rule_cb(void *arg, const struct store_domain_rule *r)
{
	block_set_add(r->action == STORE_RULE_ALLOW ? &block_allow :
	    &block_deny, r->domain);
	return 0;
}

void
block_load_rules(void)
{
	const struct conf	*c = server->conf;
	size_t			 i;

	block_set_clear(&block_deny);
	block_set_clear(&block_allow);
	for (i = 0; i < c->block_domains.n; i++)
		block_set_add(&block_deny, CONF_BLOCK_DOMAIN(c, i));
	for (i = 0; i < c->allow_domains.n; i++)
		block_set_add(&block_allow, CONF_ALLOW_DOMAIN(c, i));
	if (store_domain_rule_list(server->store, block_rule_cb, NULL) == -1)
		log_warnx("block: domain rules: %s",
		    store_errstr(server->store));
	block_set_sort(&block_deny);
	block_set_sort(&block_allow);
	log_info("block: %zu domain%s blocked, %zu allowed%s", block_deny.n,
	    block_deny.n == 1 ? "" : "s", block_allow.n,
	    block_allow.n ? " (all others refused)" : "");
}

/* Key of a block: "local@domain" LF jid. */
static char *
block_key(char *buf, size_t n, const char *local, const char *domain,
    const char *jid)
{
	int	 len = snprintf(buf, n, "%s@%s\n%s", local, domain, jid);

	return len >= 0 && (size_t)len < n ? buf : NULL;
}

static int
block_user_cb(void *arg, const struct store_block *b)
{
	char	 key[2 * JID_MAX + 4];

	if (block_key(key, sizeof(key), b->local, b->domain, b->jid) != NULL)
		block_set_add(&block_users, key);
	return 0;
}

/* Calls changed for each key of a missing from b (sorted). */
static void
block_set_diff(const struct block_set *a, const struct block_set *b,
    block_changed_fn *changed, int blocked)
{
	char	 key[2 * JID_MAX + 4], *jid, *at;
	size_t	 i;

	for (i = 0; i < a->n; i++) {
		if (block_set_has(b, a->v[i]))
			continue;
		snprintf(key, sizeof(key), "%s", a->v[i]);
		if ((jid = strchr(key, '\n')) == NULL)
			continue;
		*jid++ = '\0';
		/* key is local@domain (a localpart has no '@') */
		if ((at = strchr(key, '@')) == NULL)
			continue;
		*at = '\0';
		changed(key, at + 1, jid, blocked);
	}
}

void
block_load_users(block_changed_fn *changed)
{
	static int		 loaded;
	struct block_set	 was = block_users;

	memset(&block_users, 0, sizeof(block_users));
	if (store_block_list(server->store, NULL, NULL, block_user_cb,
	    NULL) == -1) {
		/* keep what was in force until the store answers again */
		log_warnx("block: %s", store_errstr(server->store));
		block_set_clear(&block_users);
		free(block_users.v);
		block_users = was;
		return;
	}
	block_set_sort(&block_users);
	log_info("block: %zu JID%s blocked by users", block_users.n,
	    block_users.n == 1 ? "" : "s");
	if (loaded && changed != NULL) {
		block_set_diff(&block_users, &was, changed, 1);
		block_set_diff(&was, &block_users, changed, 0);
	}
	loaded = 1;
	block_set_clear(&was);
	free(was.v);
}

void
block_free(void)
{
	block_set_clear(&block_deny);
	block_set_clear(&block_allow);
	block_set_clear(&block_users);
	free(block_deny.v);
	free(block_allow.v);
	free(block_users.v);
	memset(&block_deny, 0, sizeof(block_deny));
	memset(&block_allow, 0, sizeof(block_allow));
	memset(&block_users, 0, sizeof(block_users));
}

int
block_domain_ok(const char *domain)
{
	if (block_deny.n == 0 && block_allow.n == 0)
		return 1;
	if (conf_is_hosted(server->conf, domain))
		return 1;
	if (block_set_covers(&block_deny, domain))
		return 0;
	return block_allow.n == 0 || block_set_covers(&block_allow, domain);
}

/*
 * XEP-0191 matches as XEP-0016 does: an item for the full JID, the bare
 * JID, domain/resource or the domain covers the sender.
 */
int
block_user_blocks(const char *local, const char *domain,
    const struct jid *from)
{
	struct jid	 j;
	char		 jid[JID_MAX + 1], key[2 * JID_MAX + 4];
	int		 full, bare;

	if (block_users.n == 0)
		return 0;
	for (full = 1; full >= 0; full--)
		for (bare = 1; bare >= 0; bare--) {
			j.local = bare ? from->local : NULL;
			j.domain = from->domain;
			j.resource = full ? from->resource : NULL;
			if ((bare && j.local == NULL) ||
			    (full && j.resource == NULL))
				continue;
			if (jid_full_str(&j, jid, sizeof(jid)) != NULL &&
			    block_key(key, sizeof(key), local, domain,
			    jid) != NULL && block_set_has(&block_users, key))
				return 1;
		}
	return 0;
}
