/*
 * server/caps.h: what contacts' resources can do (XEP-0115 entity
 * capabilities, learnt from their presence and a disco#info query, cached
 * by verification string) and the PEP notifications (XEP-0163) of a native
 * user's nodes they ask for with NODE+notify: the XEP-0084 avatar metadata
 * and data and the XEP-0172 nick, sent on a contact's first available
 * presence and when the user's avatar or nickname changes.
 */
#ifndef CAPS_H
#define CAPS_H

#include <stddef.h>
#include <stdint.h>

struct el;
struct jid;

/* Resources remembered, versions cached, queries waiting: at most. */
#define CAPS_JIDS_MAX		4096
#define CAPS_VERS_MAX		1024
#define CAPS_WAIT_MAX		256
/* Of one contact domain: resources remembered, queries unanswered,
 * resources waiting for an answer (a share of CAPS_WAIT_MAX). */
#define CAPS_JIDS_PER_DOMAIN	256
#define CAPS_QUERIES_PER_DOMAIN	8
#define CAPS_WAIT_PER_DOMAIN	32
/* Queries not asked (over a domain's limit): one log line this often. */
#define CAPS_REFUSED_LOG_SECS	10
/* A query unanswered this long may be asked again. */
#define CAPS_QUERY_SECS		60
/* The id prefix of xfed's disco#info queries. */
#define CAPS_ID_PREFIX		"xfedcaps-"
/* Random bytes (as hex) after it. */
#define CAPS_ID_BYTES		12

/*
 * The nodes a +notify feature asks for, as bits: the answer to a caps
 * query, checked against its verification string (XEP-0115 5.4), sets
 * them for every resource announcing that string.
 */
#define CAPS_AVATAR_METADATA	0x1
#define CAPS_AVATAR_DATA	0x2
#define CAPS_NICK		0x4

void	 caps_free(void);

/*
 * An available presence (borrowed) from the contact's resource full to
 * the user, who may see the user's presence (from/both): its caps are
 * remembered (queried when the string is new), and on its first one the
 * resource gets the last item of each node it asks for (XEP-0163 4.3.2).
 */
void	 caps_presence(const char *local, const char *domain,
	    const char *full, const struct el *presence);
/* An unavailable from jid (a full JID, or a bare one: all of it). */
void	 caps_gone(const char *local, const char *domain, const char *jid);
/*
 * 1 when the IQ st (result or error) has the id of a query of ours: taken.
 * It counts only from the full JID asked (from), with the node asked and
 * a list that hashes to the string (XEP-0115 5.4).
 */
int	 caps_answer(const struct el *st, const struct jid *from);
/*
 * The user's row may have changed: when its avatar or nickname did since
 * the last call, the resources of the contacts in from (bare JIDs with
 * from/both, n of them) that ask for a node get its new item (4.3.1);
 * the first call for a user since start counts as a change.
 */
void	 caps_profile(const char *local, const char *domain,
	    char *const *from, size_t n);

/*
 * The XEP-0115 verification string of a disco#info <query/> (borrowed)
 * into out (DISCO_VER_LEN + 1 bytes), extended forms (XEP-0128) included
 * (5.1 step 7); -1 when the answer is ill-formed (an identity without
 * category or type, a feature without var, two forms of one FORM_TYPE:
 * 5.4 step 3).
 */
int	 caps_ver_of(const struct el *query, char *out);
/* The CAPS_* bits the features of a disco#info <query/> ask for. */
int	 caps_bits_of(const struct el *query);

#endif
