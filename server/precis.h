/*
 * server/precis.h: the two PRECIS profiles JIDs need (RFC 8264 string
 * classes, RFC 8265 profiles): UsernameCaseMapped for localparts and
 * OpaqueString for resources. What a JID is, its other rules (the
 * characters RFC 7622 prohibits in localparts, lengths) and its domain
 * (IDNA2008) are jid.c's.
 *
 * Unicode properties, normalization and case mapping come from ICU; the
 * only table here is RFC 5892's list of exceptions, which is part of the
 * PRECIS rules, not of Unicode.
 */
#ifndef PRECIS_H
#define PRECIS_H

#include <stddef.h>

enum precis_err {
	PRECIS_OK = 0,
	PRECIS_DISALLOWED,	/* a code point the string class refuses */
	PRECIS_CONTEXT,		/* CONTEXTJ/CONTEXTO rule not met (RFC 5892) */
	PRECIS_BIDI,		/* the Bidi Rule (RFC 5893) */
	PRECIS_EMPTY,		/* nothing left after preparation */
	PRECIS_TOO_LONG,	/* longer than maxlen bytes once prepared */
	PRECIS_UNSTABLE,	/* does not settle (RFC 8264 7) */
	PRECIS_NOSPACE,		/* fits maxlen but not outsz */
};

/*
 * Enforces the profile on the well-formed UTF-8 in[0..n) and writes the
 * result, NUL-terminated, into out (outsz bytes); at most maxlen bytes of
 * result are accepted. *lenp gets its length. Allocates nothing on the
 * heap (ICU's one-time data set-up aside).
 */
enum precis_err	 precis_username_casemapped(const char *in, size_t n,
		    char *out, size_t outsz, size_t maxlen, size_t *lenp);
enum precis_err	 precis_opaque_string(const char *in, size_t n,
		    char *out, size_t outsz, size_t maxlen, size_t *lenp);

#endif
