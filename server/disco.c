/*
 * server/disco.c: the identities and features xfed announces (XEP-0030)
 * for a domain, a user's account and the user's resource, and the XEP-0115
 * verification string of the resource. A feature is listed only where
 * iq.c answers it (S2S 9.2, 9.4, 9.19); the caps hash is computed from the
 * very list disco#info returns, so a client's cache never disagrees.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "disco.h"
#include "el.h"
#include "iq.h"
#include "message.h"
#include "rowxml.h"
#include "pep.h"
#include "vcard.h"
#include "xmalloc.h"


static const char *const disco_domain_features[] = {
	NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, NS_TIME, NS_LAST, NS_VERSION,
};
static const char *const disco_account_features[] = {
	NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, NS_LAST, NS_VCARD, NS_PUBSUB,
};
/* the account is a PEP service too (XEP-0163 6.1) */
static const struct disco_identity disco_pep = { "pubsub", "pep", NULL, NULL };
/* the message payloads a native user sends and receives (payload.h) */
static const char *const disco_resource_features[] = {
	NS_DISCO_INFO, NS_PING, NS_CAPS, NS_CHATSTATES, NS_RECEIPTS,
	NS_MARKERS, NS_CORRECT, NS_OOB,
};

static const struct disco_identity disco_ids[] = {
	[DISCO_DOMAIN] = { "server", "im", NULL, "xfed" },
	[DISCO_ACCOUNT] = { "account", "registered", NULL, NULL },
	[DISCO_RESOURCE] = { "client", "pc", NULL, "xfed" },
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const char *const *
disco_features(enum disco_target t, int version, size_t *n)
{
	switch (t) {
	case DISCO_DOMAIN:
		/* jabber:iq:version is last: left out when switched off */
		*n = NELEM(disco_domain_features) - (version ? 0 : 1);
		return disco_domain_features;
	case DISCO_ACCOUNT:
		*n = NELEM(disco_account_features);
		return disco_account_features;
	case DISCO_RESOURCE:
		break;
	}
	*n = NELEM(disco_resource_features);
	return disco_resource_features;
}

int
disco_has(enum disco_target t, const char *ns, int version)
{
	const char *const	*f;
	size_t			 i, n;

	f = disco_features(t, version, &n);
	for (i = 0; i < n; i++)
		if (strcmp(f[i], ns) == 0)
			return 1;
	return 0;
}

static void
disco_add_identity(struct el *q, const struct disco_identity *id)
{
	struct el	*c = el_add(q, NULL, "identity");

	el_set_attr(c, "category", id->category);
	el_set_attr(c, "type", id->type);
	if (id->name != NULL)
		el_set_attr(c, "name", id->name);
}

struct el *
disco_info_add(struct el *parent, enum disco_target t, const char *node,
    int version)
{
	const char *const		*f;
	struct el			*q, *c;
	size_t				 i, n;

	q = el_add(parent, NS_DISCO_INFO, "query");
	if (node != NULL)
		el_set_attr(q, "node", node);
	disco_add_identity(q, &disco_ids[t]);
	if (t == DISCO_ACCOUNT)
		disco_add_identity(q, &disco_pep);
	f = disco_features(t, version, &n);
	for (i = 0; i < n; i++) {
		c = el_add(q, NULL, "feature");
		el_set_attr(c, "var", f[i]);
	}
	return q;
}

static int
disco_cmp_str(const void *a, const void *b)
{
	/* i;octet: byte order, as strcmp() compares */
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
disco_append(EVP_MD_CTX *md, const char *s)
{
	if (s != NULL)
		EVP_DigestUpdate(md, s, strlen(s));
}

int
disco_caps_hash(const struct disco_identity *ids, size_t nids,
    const char *const *features, size_t nfeatures, char *out)
{
	return disco_caps_hash_ext(ids, nids, features, nfeatures, NULL, out);
}

char *
disco_identity_str(const struct disco_identity *id)
{
	size_t	 len;
	char	*s;

	len = strlen(id->category) + strlen(id->type) +
	    (id->lang ? strlen(id->lang) : 0) +
	    (id->name ? strlen(id->name) : 0) + 4;
	s = xmalloc(len);
	snprintf(s, len, "%s/%s/%s/%s", id->category, id->type,
	    id->lang ? id->lang : "", id->name ? id->name : "");
	return s;
}

int
disco_caps_hash_ext(const struct disco_identity *ids, size_t nids,
    const char *const *features, size_t nfeatures, const char *ext,
    char *out)
{
	char		**idv, **fv;
	size_t		 i;
	unsigned char	 digest[EVP_MAX_MD_SIZE];
	unsigned int	 dlen;
	EVP_MD_CTX	*md;
	int		 rc = -1;

	/* "category/type/lang/name", sorted as whole strings (5.1 steps 2-3) */
	idv = xcalloc(nids + 1, sizeof(*idv));
	for (i = 0; i < nids; i++)
		idv[i] = disco_identity_str(&ids[i]);
	qsort(idv, nids, sizeof(*idv), disco_cmp_str);
	fv = xcalloc(nfeatures + 1, sizeof(*fv));
	memcpy(fv, features, nfeatures * sizeof(*fv));
	qsort(fv, nfeatures, sizeof(*fv), disco_cmp_str);
	if ((md = EVP_MD_CTX_new()) == NULL)
		goto out;
	if (EVP_DigestInit_ex(md, EVP_sha1(), NULL) != 1)
		goto out;
	for (i = 0; i < nids; i++) {
		disco_append(md, idv[i]);
		disco_append(md, "<");
	}
	for (i = 0; i < nfeatures; i++) {
		disco_append(md, fv[i]);
		disco_append(md, "<");
	}
	disco_append(md, ext);
	if (EVP_DigestFinal_ex(md, digest, &dlen) != 1)
		goto out;
	EVP_EncodeBlock((unsigned char *)out, digest, (int)dlen);
	rc = 0;
 out:
	EVP_MD_CTX_free(md);
	for (i = 0; i < nids; i++)
		free(idv[i]);
	free(idv);
	free(fv);
	return rc;
}

const char *
disco_caps_ver(void)
{
	static char	 ver[DISCO_VER_LEN + 1];

	if (ver[0] == '\0' && disco_caps_hash(&disco_ids[DISCO_RESOURCE], 1,
	    disco_resource_features, NELEM(disco_resource_features),
	    ver) == -1)
		ver[0] = '\0';
	return ver;
}
