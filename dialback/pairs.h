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

#define DB_PAIRS_MAX	16	/* S2S 4.38: pairs per stream */

struct db_pair {
	char	*remote;
	char	*local;
	int	 valid;		/* else pending */
};

struct db_pairs {
	struct db_pair	 v[DB_PAIRS_MAX];
	int		 n;
	int		 nvalid;
};

struct db_pair	*db_pairs_find(struct db_pairs *, const char *remote,
		    const char *local);
/* A new pair, pending or valid; NULL when the table is full. */
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

#endif
