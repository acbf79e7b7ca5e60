/*
 * server/jid.h: JIDs (RFC 7622): parse, prepare, compare. Domains are kept
 * in their prepared U-label form, lower case, without a trailing dot; DNS
 * gets the A-label form from jid_domain_alabel().
 */
#ifndef JID_H
#define JID_H

#include <stddef.h>

#define JID_PART_MAX	1023	/* bytes per part, RFC 7622 3.1 */
#define JID_MAX		(3 * JID_PART_MAX + 2)

struct jid {
	char	*local;		/* NULL when there is none */
	char	*domain;
	char	*resource;	/* NULL when there is none */
};

/* Prepares domain into out (outsz bytes); -1 with *errstr on failure. */
int	 jid_prep_domain(const char *domain, char *out, size_t outsz,
	    const char **errstr);

#endif
