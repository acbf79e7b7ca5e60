/*
 * server/tls.h: TLS contexts for S2S streams and the checks made on the
 * peer's certificate once a handshake is done (RFC 6120 5, 13.7; RFC 7590;
 * RFC 9525; XEP-0368). The handshake itself, STARTTLS and the decision what
 * a verified or unverified peer may do belong to s2s/.
 *
 * Handshakes accept any peer chain: whether the peer is authenticated is
 * decided afterwards by tls_peer_verified(), so that dialback can still run
 * over TLS with a certificate that does not verify (S2S 2.19, 3.13).
 */
#ifndef TLS_H
#define TLS_H

#include <stddef.h>
#include <time.h>

#include <openssl/ssl.h>

#define TLS_ALPN	"xmpp-server"	/* XEP-0368 */

struct tls_ctx;

/*
 * A new, empty set of contexts. ca_file NULL means the system's default
 * CA store; otherwise only the CAs in that PEM file are trusted. The file
 * is read when the first certificate is added.
 */
struct tls_ctx	*tls_ctx_new(const char *ca_file);
void		 tls_ctx_free(struct tls_ctx *);

/*
 * Adds the certificate chain and key (PEM files) presented for domain, or
 * for every hosted domain without its own pair when domain is NULL. Builds
 * one server and one client SSL_CTX for it. -1 with *errstr, which lives
 * as long as ctx, when a file cannot be read or the key does not fit.
 */
int	 tls_ctx_add_cert(struct tls_ctx *, const char *domain,
	    const char *cert_file, const char *key_file, const char **errstr);

/* 1 when ctx holds at least one certificate. */
int	 tls_ctx_has_cert(const struct tls_ctx *);

/*
 * Warns through report(domain, message, arg) for each hosted domain the
 * certificate it would get does not name by a DNS-ID, and for certificates
 * expired or not valid yet (S2S 2.25). Returns the number of warnings.
 */
int	 tls_ctx_check_names(const struct tls_ctx *, const char *const *domains,
	    size_t ndomains, void (*report)(const char *domain, const char *msg,
	    void *arg), void *arg);

/*
 * Reads every certificate, key and the CA file again from the same paths.
 * All or nothing: on -1 (*errstr lives as long as ctx) ctx is unchanged.
 * SSL objects made before keep the contexts they were made with.
 */
int	 tls_reload(struct tls_ctx *, const char **errstr);

/*
 * Moves the contexts of fresh (built from a new configuration) into live
 * and frees fresh; takes fresh. Same guarantee as tls_reload() for SSL
 * objects already made. Use this when the configured paths changed.
 */
void	 tls_ctx_replace(struct tls_ctx *live, struct tls_ctx *fresh);

/*
 * A server-side SSL for an inbound stream. local_domain, the header `to`
 * when STARTTLS follows a header (NULL for direct TLS), preselects its
 * certificate; SNI from the peer, when it names a domain with its own
 * certificate, overrides it. NULL with *errstr when there is no
 * certificate at all. The caller owns the SSL (SSL_free, or hand it to
 * bufferevent_openssl_*() with BEV_OPT_CLOSE_ON_FREE).
 */
SSL	*tls_server_new(struct tls_ctx *, const char *local_domain,
	    const char **errstr);

/*
 * A client-side SSL for an outbound stream from local_domain (whose
 * certificate is presented) to peer_domain (sent as SNI in A-label form,
 * with ALPN xmpp-server). NULL with *errstr on failure.
 */
SSL	*tls_client_new(struct tls_ctx *, const char *local_domain,
	    const char *peer_domain, const char **errstr);

/*
 * After the handshake: 1 when the peer's chain verified to a trusted CA
 * and the certificate names domain (DNS-ID with the one-label wildcard
 * rule, SRV-ID _xmpp-server, or XmppAddr; never the subject CN, RFC 9525);
 * 0 otherwise with *why saying why, for logs and stream errors
 * ("certificate has expired", "name mismatch: certificate is for x.test,
 * not y.test"). *why lives as long as the SSL. A server-side SSL also
 * accepts a peer certificate whose EKU has serverAuth but not clientAuth,
 * as public CAs issue them now.
 */
int	 tls_peer_verified(SSL *, const char *domain, const char **why);

/*
 * The notAfter of the peer's certificate into *when, so a long-lived
 * stream can be closed when it passes (S2S 2.22). -1 when none.
 */
int	 tls_peer_expiry(SSL *, time_t *when);

/* The peer certificate's subject ("CN = x.test") into buf; -1 when none. */
int	 tls_peer_subject(SSL *, char *buf, size_t bufsz);

/* 1 when the certificate cert names domain as tls_peer_verified() does. */
int	 tls_cert_names(X509 *cert, const char *domain);

/* "TLSv1.3 TLS_AES_256_GCM_SHA384" into buf, for status and logs. */
char	*tls_info(SSL *, char *buf, size_t bufsz);

/* 1 when ALPN settled on xmpp-server. */
int	 tls_alpn_is_xmpp(SSL *);

#endif
