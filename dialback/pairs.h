/*
 * dialback/pairs.h: the domain pairs one inbound stream carries (XEP-0220
 * 2.1.2, 2.6; S2S 4.32-4.38): each (remote, local) pair claimed with a
 * db:result is pending until the authoritative server answers, then valid;
 * a SASL EXTERNAL success makes its pair valid at once. At most
 * DB_PAIRS_MAX per stream. Which stanzas a stream may carry follows from
 * this table alone (db_pairs_check()).
 */
#ifndef DB_PAIRS_H
#define DB_PAIRS_H

#include "jid.h"

struct conf;
struct db_msg;

#define DB_PAIRS_MAX	16	/* S2S 4.38: pairs per stream */

struct db_pair {
	char	*remote;
	char	*local;
	int	 valid;		/* else pending */
	int	 rated;		/* its verification took rate tokens */
	int	 domslot;	/* it holds a max_pending_per_domain slot */
};

/*
 * Zeroed is empty. The slots are allocated as pairs come (most streams
 * carry one pair, so an idle stream holds one slot, not DB_PAIRS_MAX).
 */
struct db_pairs {
	struct db_pair	*v;
	int		 n;
	int		 nvalid;
	int		 cap;
};

struct db_pair	*db_pairs_find(struct db_pairs *, const char *remote,
		    const char *local);
/* A new pair, pending or valid; NULL when the table is full. Other pair
 * pointers may move. */
struct db_pair	*db_pairs_add(struct db_pairs *, const char *remote,
		    const char *local, int valid);
/* A pending pair becomes valid. */
void		 db_pairs_validate(struct db_pairs *, struct db_pair *);
/* Forgets p (pending or valid); other pair pointers may move. */
void		 db_pairs_drop(struct db_pairs *, struct db_pair *);
void		 db_pairs_clear(struct db_pairs *);
/*
 * May a stanza from domain fromd to domain tod come over this stream (S2S
 * 4.36)? NULL when it may, else the stream error condition
 * (not-authorized, invalid-from, host-unknown) and *text.
 */
const char	*db_pairs_check(const struct db_pairs *, const char *fromd,
		    const char *tod, const char **text);

/* The receiving role (XEP-0220 2.1.2, 2.2.1): what a db:result request
 * on this stream comes to. */
enum db_rx {
	DB_RX_ERROR,		/* dialback error cond to the requester */
	DB_RX_NO_TLS,		/* dialback before TLS while TLS is required:
				   policy-violation stream error (S2S 4.25) */
	DB_RX_BLOCKED,		/* the remote domain is refused here:
				   policy-violation stream error */
	DB_RX_VALID,		/* the pair is valid already: say so again */
	DB_RX_PENDING,		/* being checked already: nothing (S2S 4.38) */
	DB_RX_VERIFY,		/* a new pending pair: ask its authoritative
				   server (dialback/verify.c) */
};

struct db_rx_ctx {
	const struct conf *conf;	/* hosted domains, require_encryption,
					   secure_auth */
	int		 tls;		/* the stream is under TLS */
	const char	*cert_for;	/* domain the peer's certificate was
					   verified for, or NULL */
	/* 0 when the prepared remote domain is refused here (blocked, or
	 * not allowed); NULL: every domain is */
	int		(*domain_ok)(const char *remote);
};

/*
 * Decides on the db:result request m (S2S 4.18-4.19, 4.25, 4.38): local
 * and remote get the prepared domains (JID_PART_MAX + 1 bytes each), and
 * with DB_RX_VERIFY the new pair is in the table, pending. With
 * DB_RX_ERROR, *cond is the dialback error and *why (may be NULL) says
 * for the log why it was refused.
 */
enum db_rx	 db_receive(struct db_pairs *, const struct db_msg *m,
		    const struct db_rx_ctx *, char *local, char *remote,
		    const char **cond, const char **why);

#endif
