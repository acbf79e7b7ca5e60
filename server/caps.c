/*
 * server/caps.c: contacts' entity capabilities (XEP-0115) and the PEP
 * notifications (XEP-0163) they ask for. See caps.h.
 *
 * Three small tables, in memory (a restarted xfed learns them again from
 * the presence its start probes bring back):
 *   resources  (user, contact's full JID) -> the ver of its last presence;
 *              a resource not there yet is having its first presence
 *   versions   ver -> the +notify bits of its features, or a query on
 *              its way (sent to the first resource announcing it, from
 *              the user's bare JID, with node#ver, XEP-0115 6.2); an
 *              answer whose identities, features and forms do not hash
 *              to ver is not cached (5.4, S2S 9.20)
 *   waiting    resources whose first presence waits for their ver's
 *              answer, to get the last items then
 *   profiles   user -> its avatar's hash and its nickname's, to tell a
 *              change of those (and which) from any other change of its
 *              row (or of its presence, which comes the same way)
 * Each is bounded (CAPS_*_MAX): beyond, the least recently seen entry
 * goes (a version: one not verified first), which costs notifications,
 * never memory; a contact domain has at most CAPS_JIDS_PER_DOMAIN
 * resources and CAPS_QUERIES_PER_DOMAIN unanswered queries, so that no
 * contact can keep the others' caps from being learnt. A query's id is
 * random, and only the full JID asked may answer it, with the node asked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "caps.h"
#include "disco.h"
#include "el.h"
#include "iq.h"
#include "jid.h"
#include "log.h"
#include "pep.h"
#include "presence.h"
#include "router.h"
#include "server.h"
#include "store.h"
#include "strmap.h"
#include "vcard.h"
#include "xmalloc.h"

#define CAPS_VER_MAX	64	/* longer ver strings are not base64 SHA-1s */

struct caps_res {
	char	*user;			/* local@domain */
	char	*full;
	char	 ver[CAPS_VER_MAX + 1];
	uint64_t used;			/* caps_clock at its last presence */
};

struct caps_ver {
	char	 ver[CAPS_VER_MAX + 1];
	int	 known;			/* bits is the answer */
	int	 bits;
	uint64_t used;			/* caps_clock when last named */
	int64_t	 asked;			/* when the query went (not known) */
	char	 id[2 * CAPS_ID_BYTES + sizeof(CAPS_ID_PREFIX)];
	char	*to;			/* the full JID asked, */
	char	*node;			/* with this node (node#ver) */
};

struct caps_wait {
	char	*user;
	char	*full;
	char	 ver[CAPS_VER_MAX + 1];
};

static struct caps_res	 caps_res[CAPS_JIDS_MAX];
static size_t		 caps_nres;
static struct caps_ver	 caps_vers[CAPS_VERS_MAX];
static size_t		 caps_nvers;
static struct caps_wait	 caps_wait[CAPS_WAIT_MAX];
static size_t		 caps_nwait;
static struct strmap	 caps_profiles;
static int		 caps_profiles_init;
static unsigned long	 caps_seq;
static uint64_t		 caps_clock;	/* ticks at each presence: LRU */

struct caps_profile_data {
	int	 known;
	char	 avatar[VCARD_HASH_LEN + 1];	/* "" without one */
	char	 nick[2 * 20 + 1];		/* SHA-1 of the nickname */
};

static const struct {
	const char	*feature;
	const char	*node;
	int		 bit;
} caps_nodes[] = {
	{ NS_AVATAR_METADATA "+notify", NS_AVATAR_METADATA,
	    CAPS_AVATAR_METADATA },
	{ NS_AVATAR_DATA "+notify", NS_AVATAR_DATA, CAPS_AVATAR_DATA },
	{ NS_NICK "+notify", NS_NICK, CAPS_NICK },
};
#define CAPS_NNODES	(sizeof(caps_nodes) / sizeof(caps_nodes[0]))

static struct caps_ver *
caps_ver_find(const char *ver)
{
	size_t	 i;

	for (i = 0; i < caps_nvers; i++)
		if (strcmp(caps_vers[i].ver, ver) == 0)
			return &caps_vers[i];
	return NULL;
}

static struct caps_res *
caps_res_find(const char *user, const char *full)
{
	size_t	 i;

	for (i = 0; i < caps_nres; i++)
		if (strcmp(caps_res[i].full, full) == 0 &&
		    strcmp(caps_res[i].user, user) == 0)
			return &caps_res[i];
	return NULL;
}

static void
caps_res_drop(size_t i)
{
	free(caps_res[i].user);
	free(caps_res[i].full);
	caps_res[i] = caps_res[--caps_nres];
}

/* 1 when the full JID full is at domain. */
static int
caps_at(const char *full, const char *domain)
{
	const char	*d = strchr(full, '@');
	size_t		 n = strlen(domain);

	d = d != NULL && d < full + strcspn(full, "/") ? d + 1 : full;
	return strncmp(d, domain, n) == 0 && (d[n] == '\0' || d[n] == '/');
}

/* The domain of a full JID into out. */
static void
caps_domain(const char *full, char *out, size_t outsz)
{
	const char	*d = strchr(full, '@');

	d = d != NULL && d < full + strcspn(full, "/") ? d + 1 : full;
	snprintf(out, outsz, "%.*s", (int)strcspn(d, "/"), d);
}

/*
 * Room for one more resource: when the table is full, or the contact's
 * domain has CAPS_JIDS_PER_DOMAIN of them, the least recently seen one
 * (of the domain, or of all) goes, so that no contact can keep others
 * out.
 */
static void
caps_res_room(const char *domain)
{
	size_t	 i, n = 0, old = SIZE_MAX, oldall = SIZE_MAX;

	for (i = 0; i < caps_nres; i++) {
		if (oldall == SIZE_MAX || caps_res[i].used <
		    caps_res[oldall].used)
			oldall = i;
		if (!caps_at(caps_res[i].full, domain))
			continue;
		n++;
		if (old == SIZE_MAX || caps_res[i].used < caps_res[old].used)
			old = i;
	}
	if (n >= CAPS_JIDS_PER_DOMAIN)
		caps_res_drop(old);
	else if (caps_nres >= CAPS_JIDS_MAX)
		caps_res_drop(oldall);
}

static void
caps_ver_clear(struct caps_ver *v)
{
	free(v->to);
	free(v->node);
	v->to = v->node = NULL;
	v->id[0] = '\0';
}

static int
caps_ver_pending(const struct caps_ver *v, int64_t now)
{
	return !v->known && v->id[0] != '\0' &&
	    now - v->asked < CAPS_QUERY_SECS;
}

/* Queries to domain still waiting for their answer. */
static size_t
caps_pending(const char *domain, int64_t now)
{
	size_t	 i, n = 0;

	for (i = 0; i < caps_nvers; i++)
		if (caps_ver_pending(&caps_vers[i], now) &&
		    caps_at(caps_vers[i].to, domain))
			n++;
	return n;
}

/*
 * A new entry for ver. When the table is full, one goes: the least
 * recently named string that is not verified and not waited for, else
 * the least recently named of all (a verified one is learnt again).
 */
static struct caps_ver *
caps_ver_new(const char *ver, int64_t now)
{
	struct caps_ver	*v;
	size_t		 i, old = SIZE_MAX, oldall = SIZE_MAX;

	if (caps_nvers < CAPS_VERS_MAX)
		v = &caps_vers[caps_nvers++];
	else {
		for (i = 0; i < caps_nvers; i++) {
			v = &caps_vers[i];
			if (!v->known && !caps_ver_pending(v, now) &&
			    (old == SIZE_MAX || v->used < caps_vers[old].used))
				old = i;
			if (oldall == SIZE_MAX ||
			    v->used < caps_vers[oldall].used)
				oldall = i;
		}
		v = &caps_vers[old != SIZE_MAX ? old : oldall];
		log_debug("caps: %s forgotten for %s", v->ver, ver);
		caps_ver_clear(v);
	}
	memset(v, 0, sizeof(*v));
	snprintf(v->ver, sizeof(v->ver), "%s", ver);
	return v;
}

static void
caps_wait_drop(size_t i)
{
	free(caps_wait[i].user);
	free(caps_wait[i].full);
	memmove(&caps_wait[i], &caps_wait[i + 1],
	    (caps_nwait - i - 1) * sizeof(caps_wait[0]));
	caps_nwait--;
}

int
caps_bits_of(const struct el *query)
{
	const struct el	*c;
	const char	*var;
	size_t		 i;
	int		 bits = 0;

	EL_FOREACH(c, query) {
		if (!el_is(c, NS_DISCO_INFO, "feature") ||
		    (var = el_attr(c, "var")) == NULL)
			continue;
		for (i = 0; i < CAPS_NNODES; i++)
			if (strcmp(var, caps_nodes[i].feature) == 0)
				bits |= caps_nodes[i].bit;
	}
	return bits;
}

#define NS_XDATA	"jabber:x:data"

/* A growing string of "text<" parts (XEP-0115 5.1 step 7). */
struct caps_buf {
	char	*s;
	size_t	 len, cap;
	int	 bad;		/* a part held '<' (5.4 step 3.3) */
};

static void
caps_buf_add(struct caps_buf *b, const char *text)
{
	size_t	 n = strlen(text);

	if (strchr(text, '<') != NULL)
		b->bad = 1;
	if (b->len + n + 2 > b->cap) {
		b->cap = (b->len + n + 2) * 2;
		b->s = xreallocarray(b->s, b->cap, 1);
	}
	memcpy(b->s + b->len, text, n);
	b->len += n;
	b->s[b->len++] = '<';
	b->s[b->len] = '\0';
}

static int
caps_cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A form's hidden FORM_TYPE value, or NULL (5.4 step 3.6: form ignored). */
static const char *
caps_form_type(const struct el *x)
{
	const struct el	*f, *v;
	const char	*type;

	EL_FOREACH(f, x)
		if (el_is(f, NS_XDATA, "field") && el_attr(f, "var") != NULL &&
		    strcmp(el_attr(f, "var"), "FORM_TYPE") == 0) {
			type = el_attr(f, "type");
			if (type == NULL || strcmp(type, "hidden") != 0 ||
			    (v = el_child(f, NS_XDATA, "value")) == NULL)
				return NULL;
			return el_text(v);
		}
	return NULL;
}

static int
caps_cmp_form(const void *a, const void *b)
{
	return strcmp(caps_form_type(*(const struct el *const *)a),
	    caps_form_type(*(const struct el *const *)b));
}

static int
caps_cmp_field(const void *a, const void *b)
{
	return strcmp(el_attr(*(const struct el *const *)a, "var"),
	    el_attr(*(const struct el *const *)b, "var"));
}

/*
 * The extended forms of query as 5.1 step 7 strings them into b: forms by
 * FORM_TYPE, each its FORM_TYPE, then its fields by var, each var and
 * its values sorted. -1 for two forms of one FORM_TYPE (5.4 step 3.5) or
 * a field without a var.
 */
static int
caps_forms(const struct el *query, struct caps_buf *b)
{
	const struct el	**forms, **fields, *c, *f, *v;
	const char	**vals;
	size_t		 nforms = 0, nfields, nvals, i, j, k, n = 0;
	int		 rc = -1;

	EL_FOREACH(c, query)
		n++;
	forms = xcalloc(n + 1, sizeof(*forms));
	EL_FOREACH(c, query)
		if (el_is(c, NS_XDATA, "x") && caps_form_type(c) != NULL)
			forms[nforms++] = c;
	qsort(forms, nforms, sizeof(*forms), caps_cmp_form);
	for (i = 0; i < nforms; i++) {
		if (i > 0 && caps_cmp_form(&forms[i - 1], &forms[i]) == 0)
			goto out;
		caps_buf_add(b, caps_form_type(forms[i]));
		n = 0;
		EL_FOREACH(f, forms[i])
			n++;
		fields = xcalloc(n + 1, sizeof(*fields));
		nfields = 0;
		EL_FOREACH(f, forms[i]) {
			if (!el_is(f, NS_XDATA, "field"))
				continue;
			if (el_attr(f, "var") == NULL) {
				free(fields);
				goto out;
			}
			if (strcmp(el_attr(f, "var"), "FORM_TYPE") != 0)
				fields[nfields++] = f;
		}
		qsort(fields, nfields, sizeof(*fields), caps_cmp_field);
		for (j = 0; j < nfields; j++) {
			caps_buf_add(b, el_attr(fields[j], "var"));
			n = 0;
			EL_FOREACH(v, fields[j])
				n++;
			vals = xcalloc(n + 1, sizeof(*vals));
			nvals = 0;
			EL_FOREACH(v, fields[j])
				if (el_is(v, NS_XDATA, "value"))
					vals[nvals++] = el_text(v);
			qsort(vals, nvals, sizeof(*vals), caps_cmp_str);
			for (k = 0; k < nvals; k++)
				caps_buf_add(b, vals[k]);
			free(vals);
		}
		free(fields);
	}
	rc = b->bad ? -1 : 0;
 out:
	free(forms);
	return rc;
}

/*
 * -1 when a hashed value holds '<' or an identity or a feature comes
 * twice (XEP-0115 5.4 steps 3.3, 3.4): such answers could make another
 * list's string.
 */
static int
caps_ver_check(const struct disco_identity *ids, size_t nids,
    const char **fv, size_t nf)
{
	char	**idv;
	size_t	 i;
	int	 rc = -1;

	idv = xcalloc(nids + 1, sizeof(*idv));
	for (i = 0; i < nids; i++)
		if (strchr((idv[i] = disco_identity_str(&ids[i])), '<') != NULL)
			goto out;
	qsort(idv, nids, sizeof(*idv), caps_cmp_str);
	for (i = 1; i < nids; i++)
		if (strcmp(idv[i - 1], idv[i]) == 0)
			goto out;
	for (i = 0; i < nf; i++)
		if (strchr(fv[i], '<') != NULL)
			goto out;
	qsort(fv, nf, sizeof(*fv), caps_cmp_str);
	for (i = 1; i < nf; i++)
		if (strcmp(fv[i - 1], fv[i]) == 0)
			goto out;
	rc = 0;
 out:
	for (i = 0; i < nids; i++)
		free(idv[i]);
	free(idv);
	return rc;
}

int
caps_ver_of(const struct el *query, char *out)
{
	struct disco_identity	*ids;
	const char		**fv;
	const struct el		*c;
	struct caps_buf		 forms = { NULL, 0, 0, 0 };
	size_t			 nids = 0, nf = 0, n = 0;
	int			 rc = -1;

	EL_FOREACH(c, query)
		n++;
	ids = xcalloc(n + 1, sizeof(*ids));
	fv = xcalloc(n + 1, sizeof(*fv));
	EL_FOREACH(c, query) {
		if (el_is(c, NS_DISCO_INFO, "identity")) {
			if (el_attr(c, "category") == NULL ||
			    el_attr(c, "type") == NULL)
				goto out;
			ids[nids].category = el_attr(c, "category");
			ids[nids].type = el_attr(c, "type");
			ids[nids].lang = el_attr(c, "xml:lang");
			ids[nids].name = el_attr(c, "name");
			nids++;
		} else if (el_is(c, NS_DISCO_INFO, "feature")) {
			if ((fv[nf] = el_attr(c, "var")) == NULL)
				goto out;
			nf++;
		}
	}
	if (caps_ver_check(ids, nids, fv, nf) == 0 &&
	    caps_forms(query, &forms) == 0)
		rc = disco_caps_hash_ext(ids, nids, fv, nf, forms.s, out);
 out:
	free(forms.s);
	free(ids);
	free(fv);
	return rc;
}

/* Each node of bits: the user's current item as a notification. */
struct caps_events {
	int		 bits;
	int		 retract;	/* a change: a nick gone is retracted */
	struct el	*ev[CAPS_NNODES];
	int		 found;		/* the user is there, enabled */
	char		 avatar[VCARD_HASH_LEN + 1];
	char		 nick[2 * 20 + 1];
};

static int
caps_events_cb(void *arg, const struct store_user *u)
{
	struct caps_events	*ce = arg;
	const char		*nick;
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 len, i;
	EVP_MD_CTX		*ctx;
	size_t			 k;

	if (u->disabled)
		return 0;
	for (k = 0; k < CAPS_NNODES; k++)
		if (ce->bits & caps_nodes[k].bit)
			ce->ev[k] = pep_event(u, caps_nodes[k].node,
			    ce->retract);
	/* what the notified nodes show: the avatar's hash and the nick */
	ce->found = 1;
	vcard_photo_hash(u, ce->avatar);
	nick = u->nickname != NULL ? u->nickname : u->name != NULL ?
	    u->name : "";
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return 0;
	if (EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, nick, strlen(nick)) == 1 &&
	    EVP_DigestFinal_ex(ctx, md, &len) == 1)
		for (i = 0; i < len && i < 20; i++)
			snprintf(ce->nick + 2 * i, 3, "%02x", md[i]);
	EVP_MD_CTX_free(ctx);
	return 0;
}

static int
caps_events_load(const char *local, const char *domain,
    struct caps_events *ce)
{
	if (store_user_get(server->store, local, domain, caps_events_cb,
	    ce) == -1) {
		if (store_errcode(server->store) != STORE_E_NOTFOUND)
			log_warnx("caps: %s", store_errstr(server->store));
		return -1;
	}
	return 0;
}

static void
caps_events_free(struct caps_events *ce)
{
	size_t	 k;

	for (k = 0; k < CAPS_NNODES; k++)
		el_free(ce->ev[k]);
}

/* The notifications of bits, from the user's bare JID to full. */
static void
caps_send(const struct caps_events *ce, const char *user, const char *full,
    int bits)
{
	struct el	*m;
	size_t		 k;
	char		 id[32];

	for (k = 0; k < CAPS_NNODES; k++) {
		if (!(bits & caps_nodes[k].bit) || ce->ev[k] == NULL)
			continue;
		m = el_copy(ce->ev[k]);
		snprintf(id, sizeof(id), "xfedpep-%lu", ++caps_seq);
		el_set_attr(m, "from", user);
		el_set_attr(m, "to", full);
		el_set_attr(m, "id", id);
		log_debug("caps: %s to %s: %s", user, full, caps_nodes[k].node);
		router_send(m, 0);
	}
}

/* The last items a resource asks for, on its first presence (4.3.2). */
static void
caps_send_last(const char *local, const char *domain, const char *full,
    int bits)
{
	struct caps_events	 ce;
	char			 user[JID_MAX + 1];

	if (bits == 0)
		return;
	memset(&ce, 0, sizeof(ce));
	ce.bits = bits;
	if (caps_events_load(local, domain, &ce) == 0) {
		snprintf(user, sizeof(user), "%s@%s", local, domain);
		caps_send(&ce, user, full, bits);
	}
	caps_events_free(&ce);
}

static void
caps_query(const char *user, const char *full, const char *node,
    struct caps_ver *v, int64_t now)
{
	struct el	*iq, *q;
	unsigned char	 rnd[CAPS_ID_BYTES];
	char		 nv[1024];
	size_t		 i, n;

	/* unpredictable: only who was asked can know it */
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		log_warnx("caps: no random bytes for a query id");
		return;
	}
	caps_ver_clear(v);
	n = (size_t)snprintf(v->id, sizeof(v->id), CAPS_ID_PREFIX);
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(v->id + n + 2 * i, 3, "%02x", rnd[i]);
	v->asked = now;
	iq = el_new(EL_NS_SERVER, "iq");
	el_set_attr(iq, "type", "get");
	el_set_attr(iq, "from", user);
	el_set_attr(iq, "to", full);
	el_set_attr(iq, "id", v->id);
	q = el_add(iq, NS_DISCO_INFO, "query");
	snprintf(nv, sizeof(nv), "%s#%s", node, v->ver);
	el_set_attr(q, "node", nv);
	v->to = xstrdup(full);
	v->node = xstrdup(nv);
	log_debug("caps: asking %s what %s is", full, nv);
	router_send(iq, 0);
}

#define CAPS_LOG_MS	10000	/* one "not asked" line per 10 s */

/* A ver not asked (its domain has CAPS_QUERIES_PER_DOMAIN unanswered):
 * one line per CAPS_LOG_MS, with the count of the others, as a contact
 * sending junk strings would repeat it with each presence. */
static void
caps_refusal_log(const char *cdom, const char *ver, size_t pending)
{
	static struct log_every	 every;
	long long		 quiet;

	if (!log_every_due(&every, CAPS_LOG_MS, &quiet))
		return;
	log_info("caps: %zu queries to %s unanswered: %s not asked (and %lld "
	    "more not asked in %d s)", pending, cdom, ver, quiet,
	    CAPS_LOG_MS / 1000);
}

void
caps_presence(const char *local, const char *domain, const char *full,
    const struct el *presence)
{
	const struct el	*c = el_child(presence, NS_CAPS, "c");
	const char	*ver, *node, *hash;
	struct caps_res	*r;
	struct caps_ver	*v;
	struct caps_wait *w;
	char		 user[JID_MAX + 1], cdom[JID_MAX + 1];
	int64_t		 now = (int64_t)time(NULL);
	int		 first, changed;

	snprintf(user, sizeof(user), "%s@%s", local, domain);
	/* only sha-1 is hashed here (the one every client uses) */
	if (c == NULL || (ver = el_attr(c, "ver")) == NULL ||
	    (node = el_attr(c, "node")) == NULL ||
	    (hash = el_attr(c, "hash")) == NULL || strcmp(hash, "sha-1") != 0 ||
	    strlen(ver) > CAPS_VER_MAX || strlen(node) > 512)
		return;
	caps_domain(full, cdom, sizeof(cdom));
	caps_clock++;
	if ((r = caps_res_find(user, full)) == NULL) {
		caps_res_room(cdom);
		r = &caps_res[caps_nres++];
		r->user = xstrdup(user);
		r->full = xstrdup(full);
		first = 1;
		changed = 0;
	} else {
		first = strcmp(r->ver, "") == 0;
		/* a client that changed what it supports (XEP-0115 4) */
		changed = !first && strcmp(r->ver, ver) != 0;
	}
	r->used = caps_clock;
	snprintf(r->ver, sizeof(r->ver), "%s", ver);
	if ((v = caps_ver_find(ver)) != NULL)
		v->used = caps_clock;
	if (v != NULL && v->known) {
		if (first || changed)
			caps_send_last(local, domain, full, v->bits);
		return;
	}
	/* the same string again: asked already, or being asked; one that
	 * was evicted meanwhile is asked again (the resource had its items) */
	if (!first && !changed && v != NULL)
		return;
	if (v == NULL || !caps_ver_pending(v, now)) {
		/* a domain's unanswered queries are bounded: junk strings
		 * cost that domain's contacts only */
		if (caps_pending(cdom, now) >= CAPS_QUERIES_PER_DOMAIN) {
			caps_refusal_log(cdom, ver, caps_pending(cdom, now));
			return;
		}
		if (v == NULL) {
			v = caps_ver_new(ver, now);
			v->used = caps_clock;
		}
		caps_query(user, full, node, v, now);
	}
	if (!first && !changed)
		return;
	if (caps_nwait >= CAPS_WAIT_MAX)
		caps_wait_drop(0);
	w = &caps_wait[caps_nwait++];
	w->user = xstrdup(user);
	w->full = xstrdup(full);
	snprintf(w->ver, sizeof(w->ver), "%s", ver);
}

/* 1 when full is jid or, for a bare jid, one of its resources. */
static int
caps_of(const char *full, const char *jid)
{
	size_t	 n = strlen(jid);

	return strncmp(full, jid, n) == 0 &&
	    (full[n] == '\0' || full[n] == '/');
}

void
caps_gone(const char *local, const char *domain, const char *jid)
{
	char	 user[JID_MAX + 1];
	size_t	 i;

	snprintf(user, sizeof(user), "%s@%s", local, domain);
	for (i = 0; i < caps_nres; ) {
		if (strcmp(caps_res[i].user, user) == 0 &&
		    caps_of(caps_res[i].full, jid))
			caps_res_drop(i);
		else
			i++;
	}
	/* gone before its caps were learnt: nothing to send it then */
	for (i = 0; i < caps_nwait; ) {
		if (strcmp(caps_wait[i].user, user) == 0 &&
		    caps_of(caps_wait[i].full, jid))
			caps_wait_drop(i);
		else
			i++;
	}
}

int
caps_answer(const struct el *st, const struct jid *from)
{
	const char	*id = el_attr(st, "id"), *type = el_attr(st, "type");
	const char	*node;
	const struct el	*q;
	struct caps_ver	*v = NULL;
	char		 ver[DISCO_VER_LEN + 1], *at, full[JID_MAX + 1];
	size_t		 i;

	if (type == NULL || (strcmp(type, "result") != 0 &&
	    strcmp(type, "error") != 0) || id == NULL ||
	    strncmp(id, CAPS_ID_PREFIX, strlen(CAPS_ID_PREFIX)) != 0)
		return 0;
	for (i = 0; i < caps_nvers; i++)
		if (!caps_vers[i].known && caps_vers[i].id[0] != '\0' &&
		    strcmp(caps_vers[i].id, id) == 0)
			v = &caps_vers[i];
	if (v == NULL)
		return 1;	/* late, or answered already */
	/* only the JID asked answers (RFC 6120 8.2.3); anyone else's
	 * answer is dropped and the query still waits for the right one */
	if (jid_full_str(from, full, sizeof(full)) == NULL ||
	    strcmp(full, v->to) != 0) {
		log_info("caps: an answer to the query to %s came from %s: "
		    "ignored", v->to, el_attr(st, "from"));
		return 1;
	}
	q = el_child(st, NS_DISCO_INFO, "query");
	if (strcmp(type, "result") != 0 || q == NULL ||
	    (node = el_attr(q, "node")) == NULL ||
	    strcmp(node, v->node) != 0 ||
	    caps_ver_of(q, ver) == -1 || strcmp(ver, v->ver) != 0) {
		/* XEP-0115 5.4: not what the string promised, not cached */
		log_info("caps: %s did not verify %s", el_attr(st, "from"),
		    v->ver);
		caps_ver_clear(v);
		return 1;
	}
	caps_ver_clear(v);
	v->known = 1;
	v->bits = caps_bits_of(q);
	log_debug("caps: %s verified, +notify bits %#x", v->ver, v->bits);
	/* the resources that waited for it: their first presence's items */
	for (i = 0; i < caps_nwait; ) {
		if (strcmp(caps_wait[i].ver, v->ver) != 0) {
			i++;
			continue;
		}
		if ((at = strchr(caps_wait[i].user, '@')) != NULL) {
			*at = '\0';
			caps_send_last(caps_wait[i].user, at + 1,
			    caps_wait[i].full, v->bits);
		}
		caps_wait_drop(i);
	}
	return 1;
}

static int
caps_is_from(const char *full, char *const *from, size_t n)
{
	size_t	 i, len;

	for (i = 0; i < n; i++) {
		len = strlen(from[i]);
		if (strncmp(full, from[i], len) == 0 &&
		    (full[len] == '/' || full[len] == '\0'))
			return 1;
	}
	return 0;
}

void
caps_profile(const char *local, const char *domain, char *const *from,
    size_t n)
{
	struct caps_profile_data	*p;
	struct caps_events		 ce;
	struct caps_ver			*v;
	char				 user[JID_MAX + 1];
	size_t				 i;
	int				 changed = 0;

	snprintf(user, sizeof(user), "%s@%s", local, domain);
	if (!caps_profiles_init) {
		strmap_init(&caps_profiles, 256);
		caps_profiles_init = 1;
	}
	memset(&ce, 0, sizeof(ce));
	if (caps_events_load(local, domain, &ce) == -1 || !ce.found)
		return;
	/* not known yet (the first change since start): sent too, which
	 * at worst repeats an item a resource has */
	p = strmap_get(&caps_profiles, user, sizeof(*p));
	if (!p->known || strcmp(p->avatar, ce.avatar) != 0)
		changed |= CAPS_AVATAR_METADATA | CAPS_AVATAR_DATA;
	if (!p->known || strcmp(p->nick, ce.nick) != 0)
		changed |= CAPS_NICK;
	p->known = 1;
	memcpy(p->avatar, ce.avatar, sizeof(p->avatar));
	memcpy(p->nick, ce.nick, sizeof(p->nick));
	if (changed == 0)
		return;
	ce.bits = changed;
	ce.retract = 1;
	if (caps_events_load(local, domain, &ce) == -1)
		goto out;
	for (i = 0; i < caps_nres; i++) {
		if (strcmp(caps_res[i].user, user) != 0 ||
		    !caps_is_from(caps_res[i].full, from, n) ||
		    (v = caps_ver_find(caps_res[i].ver)) == NULL || !v->known)
			continue;
		caps_send(&ce, user, caps_res[i].full, v->bits & changed);
	}
 out:
	caps_events_free(&ce);
}

void
caps_free(void)
{
	while (caps_nres > 0)
		caps_res_drop(caps_nres - 1);
	while (caps_nwait > 0)
		caps_wait_drop(caps_nwait - 1);
	while (caps_nvers > 0)
		caps_ver_clear(&caps_vers[--caps_nvers]);
	if (caps_profiles_init)
		strmap_clear(&caps_profiles);
	caps_profiles_init = 0;
}
