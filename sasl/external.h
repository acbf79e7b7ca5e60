/*
 * sasl/external.h: SASL EXTERNAL on S2S streams (XEP-0178, RFC 6120 6) as
 * pure decisions on strings: what the receiver answers to an <auth/>, what
 * the initiator sends, what the receiver's answer means. Offering the
 * mechanism, sending elements and restarting streams belong to s2s/; the
 * certificate verdict comes from tls_peer_verified().
 */
#ifndef SASL_EXTERNAL_H
#define SASL_EXTERNAL_H

#include <stddef.h>

#define SASL_NS		"urn:ietf:params:xml:ns:xmpp-sasl"
#define SASL_EXT_MECH	"EXTERNAL"
#define SASL_AUTHZID_MAX 1023		/* a domain, RFC 7622 3.1 */
/* base64 of the longest authzid, with padding and the NUL. */
#define SASL_EXT_TEXT_MAX (((SASL_AUTHZID_MAX + 2) / 3) * 4 + 1)

/* RFC 6120 6.5: the SASL failure conditions. */
enum sasl_cond {
	SASL_C_NONE = 0,		/* no failure: <success/> */
	SASL_C_ABORTED,
	SASL_C_ACCOUNT_DISABLED,
	SASL_C_CREDENTIALS_EXPIRED,
	SASL_C_ENCRYPTION_REQUIRED,
	SASL_C_INCORRECT_ENCODING,
	SASL_C_INVALID_AUTHZID,
	SASL_C_INVALID_MECHANISM,
	SASL_C_MALFORMED_REQUEST,
	SASL_C_MECHANISM_TOO_WEAK,
	SASL_C_NOT_AUTHORIZED,
	SASL_C_TEMPORARY_AUTH_FAILURE,
};

/* The element name of a condition ("invalid-authzid"); "" for NONE. */
const char	*sasl_cond_name(enum sasl_cond);
/* A received condition name; unknown or NULL counts as not-authorized. */
enum sasl_cond	 sasl_cond_parse(const char *name);

/*
 * Strict base64 (RFC 4648 4 as RFC 6120 13.9.1 wants it): only the
 * alphabet, padding to a multiple of four and only at the end, zero
 * padding bits. Decodes len bytes of in into out (outsz bytes, NUL added);
 * -1 on any deviation or when out is too small.
 */
int	 sasl_b64_decode(const char *in, size_t len, char *out, size_t outsz,
	    size_t *outlen);
/* Encodes len bytes into out with a NUL; -1 when out is too small. */
int	 sasl_b64_encode(const void *in, size_t len, char *out, size_t outsz);

/*
 * Receiver: the answer to <auth mechanism=M>TEXT</auth>. mechanism is the
 * attribute (NULL when absent); text the character data (NULL or "" when
 * there is none, taken as an empty authzid rather than asking with an
 * empty challenge); from the stream header's `from` (NULL when absent);
 * tls_up whether the stream is encrypted; cert_ok whether
 * tls_peer_verified() held for from. SASL_C_NONE means <success/>: the
 * stream is authenticated for from (S2S 3.9, 3.11). Anything else goes
 * into <failure/>, with *reason as <text/> and for the log; the stream
 * stays open for dialback (S2S 3.6).
 */
enum sasl_cond	 sasl_ext_receive(const char *mechanism, const char *text,
		    const char *from, int tls_up, int cert_ok,
		    const char **reason);

/*
 * Initiator: the character data of our <auth mechanism='EXTERNAL'/>, the
 * base64 of our domain (S2S 3.4, 11.13); out needs SASL_EXT_TEXT_MAX
 * bytes. An empty domain gives "=", the empty authzid. -1 when too long.
 */
int	 sasl_ext_auth_text(const char *domain, char *out, size_t outsz);

/* Initiator: what the receiver's answer to our <auth/> means. */
enum sasl_ext_res {
	SASL_EXT_OK,		/* <success/>: restart the stream (RFC 6120 6.4.6) */
	SASL_EXT_FAILED,	/* <failure/>: log why, dialback on this stream */
	SASL_EXT_ABORT,		/* <challenge/> or other: send <abort/>, dialback */
};

/*
 * name is the answer's element name (in SASL_NS), cond the name of the
 * first child of a <failure/> (NULL if none), text the content of its
 * <text/> (NULL if none). Sets *cond (NONE unless FAILED) and writes a
 * log-safe reason into why ("not-authorized: Your server's certificate is
 * self-signed"), the peer's text escaped (S2S 3.3, 11.5).
 */
enum sasl_ext_res sasl_ext_answer(const char *name, const char *condname,
		    const char *text, enum sasl_cond *cond, char *why,
		    size_t whysz);

#endif
