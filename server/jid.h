/*
 * server/jid.h: JIDs (RFC 7622): parse, prepare, compare, format. What a
 * JID means for routing (ours, remote, allowed) is left to router.c.
 *
 * Prepared form: the form in which JIDs are kept and compared with strcmp().
 *   localpart  PRECIS UsernameCaseMapped (RFC 8265 3.3, RFC 7622 3.3):
 *              fullwidth and halfwidth forms mapped to their plain forms,
 *              Unicode toLowerCase(), NFC, IdentifierClass code points only
 *              (no spaces, symbols, compatibility forms, controls or
 *              invisible characters), the Bidi Rule; none of "&'/:<>@;
 *              1..1023 bytes
 *   domain     one trailing dot stripped (RFC 7622 3.2), then IDNA2008 with
 *              UTS #46 non-transitional mapping (libidn2); letters, digits
 *              and hyphens only once in A-label form; kept as lower-case
 *              U-labels, A-labels given as input are turned into U-labels.
 *              IPv4 literals pass as they are; "[IPv6]" literals are kept
 *              in the RFC 5952 text form. 1..1023 bytes (DNS caps the
 *              A-label form at 253)
 *   resource   PRECIS OpaqueString (RFC 8265 4.2, RFC 7622 3.4): other
 *              spaces mapped to U+0020, NFC, case and compatibility forms
 *              kept, FreeformClass (no controls or invisible characters);
 *              may hold '@' and '/'; 1..1023 bytes
 * The string form is [local@]domain[/resource]; the resource starts at the
 * first '/', the localpart ends at the first '@' before that '/'. A prepared
 * JID prepares to itself.
 *
 * Ownership: jid_parse() and jid_dup() return one allocation (struct and
 * strings) that the caller frees with jid_free(). jid_parse_buf() and the
 * jid_prep*() functions fill caller buffers and allocate nothing when the
 * input is ASCII already in prepared form (upper-case ASCII letters in a
 * localpart or domain are folded without the libraries too); other input
 * goes through ICU (precis.c) or libidn2, which allocate internally and
 * free before returning. Every *errstr is a static string.
 */
#ifndef JID_H
#define JID_H

#include <stddef.h>

#define JID_PART_MAX	1023	/* bytes per part, RFC 7622 3.1 */
#define JID_MAX		(3 * JID_PART_MAX + 2)	/* whole input string */
#define JID_BUFSZ	(3 * (JID_PART_MAX + 1))  /* jid_parse_buf() buffer */

struct jid {
	char	*local;		/* NULL when there is none */
	char	*domain;
	char	*resource;	/* NULL when there is none */
};

/* Parses and prepares s; NULL with *errstr when s is not a valid JID. */
struct jid	*jid_parse(const char *s, const char **errstr);
struct jid	*jid_dup(const struct jid *);
void		 jid_free(struct jid *);

/*
 * Parses and prepares s into j without allocating: j's strings point into
 * buf, which holds at least JID_BUFSZ bytes and must outlive j.
 */
int	 jid_parse_buf(const char *s, struct jid *j, char *buf, size_t bufsz,
	    const char **errstr);
/* Writes the prepared string form of s into out (JID_MAX + 1 is enough). */
int	 jid_prep(const char *s, char *out, size_t outsz, const char **errstr);

/* One part on its own, prepared into out (JID_PART_MAX + 1 is enough). */
int	 jid_prep_local(const char *local, char *out, size_t outsz,
	    const char **errstr);
int	 jid_prep_domain(const char *domain, char *out, size_t outsz,
	    const char **errstr);
int	 jid_prep_resource(const char *resource, char *out, size_t outsz,
	    const char **errstr);

/*
 * The A-label (ASCII) form of a prepared domain, for DNS, SNI and
 * certificates: prepared_domain itself when it is ASCII (IP literals
 * included), else written into buf (n bytes; 254 is enough). NULL when it
 * does not convert or fit.
 */
const char *jid_domain_alabel(const char *prepared_domain, char *buf,
	    size_t n);

/* local@domain and local@domain/resource into buf; NULL if n is short. */
char	*jid_bare_str(const struct jid *, char *buf, size_t n);
char	*jid_full_str(const struct jid *, char *buf, size_t n);

int	 jid_eq(const struct jid *, const struct jid *);
int	 jid_bare_eq(const struct jid *, const struct jid *);
int	 jid_is_bare(const struct jid *);

#endif
