/*
 * dialback/dialback.h: Server Dialback (XEP-0220) as the streams use it:
 * the secret, keys for a pair on a stream, the db:result / db:verify
 * elements in both directions, and the originating and authoritative
 * roles. The receiving role's pair table is pairs.h, its pending
 * verifications verify.h. When a stream sends or checks, and what a
 * verdict does to it, is decided in s2s/in.c and s2s/out.c.
 */
#ifndef DIALBACK_H
#define DIALBACK_H

#include "key.h"

struct el;

#define NS_DIALBACK_FEATURE	"urn:xmpp:features:dialback"

enum db_type {
	DB_REQUEST,		/* no type: carries a key */
	DB_VALID,
	DB_INVALID,
	DB_ERROR,
};

/* One db:result or db:verify, parsed; strings borrow from the element. */
struct db_msg {
	int		 verify;	/* 1 for db:verify, 0 for db:result */
	enum db_type	 type;
	const char	*from, *to, *id;	/* id: db:verify only */
	const char	*key;		/* requests */
	const char	*cond;		/* errors: the stanza error condition */
};

/* Sets the secret (copied); NULL or "" is refused. */
int	 db_set_secret(const char *);
/* Key for (receiving, originating, stream id) with the current secret. */
void	 db_make_key(const char *receiving, const char *originating,
	    const char *sid, char out[DB_KEY_LEN + 1]);
int	 db_check_key(const char *receiving, const char *originating,
	    const char *sid, const char *key);

/* Parses el as a dialback element; -1 when it is not a valid one. */
int	 db_parse(const struct el *, struct db_msg *, const char **errstr);
/*
 * Builds a db:result (verify 0) or db:verify (verify 1). id only for
 * db:verify; key for requests; cond for DB_ERROR (stanza condition).
 */
struct el *db_build(int verify, enum db_type, const char *from,
	    const char *to, const char *id, const char *key, const char *cond);

/*
 * The authoritative role: the answer to a db:verify request m (S2S 4.27,
 * 4.28): valid or invalid, or item-not-found when m->to is not hosted here.
 */
struct el *db_authoritative(const struct db_msg *m, int hosted);
/*
 * The originating role (XEP-0220 2.1.1, S2S 4.13): the db:result with our
 * key for local -> remote on a stream whose id (the peer's) is sid.
 */
struct el *db_originate(const char *local, const char *remote,
	    const char *sid);
/* 1 when m is the answer to our own db:result for (local, remote) (S2S
 * 4.15); anything else is unsolicited. */
int	 db_answers_ours(const struct db_msg *m, const char *local,
	    const char *remote);

#endif
