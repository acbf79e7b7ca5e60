/*
 * server/block.h: who may talk to the hosted domains and their users.
 * Remote domains are blocked, or only some allowed, by xfed.conf
 * (block_domain, allow_domain) and by the store's domain_rules; each
 * native user blocks remote JIDs in the store's blocks table (XEP-0191).
 * What a refusal looks like on a stream or for a stanza is decided by the
 * callers (s2s/in.c, router.c).
 */
#ifndef BLOCK_H
#define BLOCK_H

struct jid;

/* Loads the config's and the store's lists; again after any change. */
void	 block_load_rules(void);
/*
 * The users' blocks. From the second load on, changed (when not NULL) is
 * called for each item added (blocked 1) or removed (blocked 0) since
 * the load before: XEP-0191 3.3.2 and 3.4.2 have presence follow.
 */
typedef void	 block_changed_fn(const char *local, const char *domain,
		    const char *jid, int blocked);
void	 block_load_users(block_changed_fn *changed);
void	 block_free(void);

/*
 * 1 when stanzas may come from or go to the prepared remote domain: it
 * (or a parent domain) is not blocked, and when any allow rule exists,
 * it (or a parent) is allowed. Hosted domains always may.
 */
int	 block_domain_ok(const char *domain);
/* 1 when the native user local@domain blocks jid (XEP-0191 matching). */
int	 block_user_blocks(const char *local, const char *domain,
	    const struct jid *jid);

#endif
