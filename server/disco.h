/*
 * server/disco.h: what xfed says its domains, its users' accounts and the
 * users' one resource are (XEP-0030 disco#info), and the XEP-0115 caps
 * verification string of the resource, computed from the same list so
 * that both always agree. Answering the IQs is iq.c's job.
 */
#ifndef DISCO_H
#define DISCO_H

#include <stddef.h>

#define NS_DISCO_INFO	"http://jabber.org/protocol/disco#info"
#define NS_DISCO_ITEMS	"http://jabber.org/protocol/disco#items"
#define NS_CAPS		"http://jabber.org/protocol/caps"
/* XEP-0115 node: names the software behind the resource */
#define DISCO_CAPS_NODE	"https://xfed.dev/caps"

struct el;

enum disco_target {
	DISCO_DOMAIN,		/* a hosted domain: server/im */
	DISCO_ACCOUNT,		/* a user's bare JID: account/registered */
	DISCO_RESOURCE,		/* the user's full JID (presence.h) */
};

struct disco_identity {
	const char	*category, *type, *lang, *name;
};

/*
 * Adds to parent a <query xmlns=disco#info> with the target's identities
 * and features (node set when not NULL) and returns it; version says
 * whether jabber:iq:version is answered at the domain.
 */
struct el	*disco_info_add(struct el *parent, enum disco_target,
		    const char *node, int version);
/* 1 when the target answers IQs of namespace ns. */
int		 disco_has(enum disco_target, const char *ns, int version);
/*
 * XEP-0115 5.1: base64 of the SHA-1 over the sorted identities and
 * features. out holds at least DISCO_VER_LEN + 1 bytes. 0 or -1.
 */
#define DISCO_VER_LEN	28
int		 disco_caps_hash(const struct disco_identity *, size_t nids,
		    const char *const *features, size_t nfeatures, char *out);
/* The same with the extended forms' part of the string (5.1 step 7),
 * made by the caller, hashed after the features; NULL: none. */
/* "category/type/lang/name" of an identity (XEP-0115 5.1 step 2), to free. */
char		*disco_identity_str(const struct disco_identity *);
int		 disco_caps_hash_ext(const struct disco_identity *, size_t nids,
		    const char *const *features, size_t nfeatures,
		    const char *ext, char *out);
/* The verification string of DISCO_RESOURCE (computed once). */
const char	*disco_caps_ver(void);

#endif
