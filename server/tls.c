/*
 * server/tls.c: the SSL_CTX objects of the S2S streams and the checks made
 * on a peer's certificate after the handshake (RFC 6120 13.7, RFC 9525,
 * XEP-0368). Driving handshakes over sockets is left to s2s/ (libevent's
 * openssl bufferevents); what an unverified peer may do is left to s2s/,
 * dialback/ and sasl/.
 *
 * Each certificate (per hosted domain, or the default one) gets a server
 * and a client SSL_CTX that share one X509_STORE. Both request the peer's
 * certificate and accept any chain during the handshake: the verdict comes
 * afterwards from tls_peer_verified(), so a peer with an unverifiable
 * certificate can still use dialback over the encrypted stream (RFC 7590
 * 3.4). Reloading builds new contexts and swaps them in; an SSL holds a
 * reference to its SSL_CTX, so streams already up keep theirs.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <idn2.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "tls.h"
#include "xmalloc.h"

/*
 * TLS 1.2 suites: forward secrecy and AEAD only (RFC 9325 4.2); TLS 1.3
 * keeps OpenSSL's default suites, all of them fine.
 */
#define TLS_CIPHERS_12	"ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:" \
			"!aNULL:!eNULL:!PSK:!SRP:!DSS"
#define TLS_CIPHERS_13	"TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:" \
			"TLS_AES_256_GCM_SHA384"
#define TLS_SID_CTX	"xfed-s2s"
#define TLS_DOMAIN_MAX	256	/* A-label form, with room for the NUL */
#define TLS_WHY_MAX	640

struct tls_cert {
	char		*domain;	/* A-label, lower case; NULL: default */
	char		*cert_file;
	char		*key_file;
	SSL_CTX		*server;
	SSL_CTX		*client;
};

struct tls_ctx {
	char		*ca_file;	/* NULL: system store */
	struct tls_cert	*certs;
	size_t		 ncerts;
	X509_STORE	*store;		/* shared by every SSL_CTX above */
	char		 err[256];
};

/* Per-SSL state, hung on the SSL as ex_data and freed with it. */
struct tls_conn {
	int		 first_err;	/* first chain error seen, or 0 */
	char		 why[TLS_WHY_MAX];
};

enum tls_id {
	TLS_ID_DNS = 0x1,		/* SAN dNSName */
	TLS_ID_SRV = 0x2,		/* SAN otherName id-on-dnsSRV */
	TLS_ID_XMPP = 0x4,		/* SAN otherName id-on-xmppAddr */
	TLS_ID_ALL = 0x7,
};

static int	 tls_conn_idx = -1;
static const unsigned char tls_alpn_wire[] = "\x0bxmpp-server";

static void
tls_conn_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
    void *argp)
{
	free(ptr);
}

static void
tls_init(void)
{
	if (tls_conn_idx == -1)
		tls_conn_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL,
		    tls_conn_free);
}

static struct tls_conn *
tls_conn_get(SSL *ssl)
{
	struct tls_conn	*c;

	tls_init();
	if ((c = SSL_get_ex_data(ssl, tls_conn_idx)) == NULL) {
		c = xcalloc(1, sizeof(*c));
		SSL_set_ex_data(ssl, tls_conn_idx, c);
	}
	return c;
}

/* NULL while nothing was kept: most connections never need one. */
static struct tls_conn *
tls_conn_peek(SSL *ssl)
{
	return tls_conn_idx == -1 ? NULL : SSL_get_ex_data(ssl, tls_conn_idx);
}

/* Keeps the reason for later; the handshake goes on whatever it is. */
static int
tls_verify_cb(int ok, X509_STORE_CTX *xs)
{
	SSL		*ssl;
	struct tls_conn	*c;

	if (ok)
		return 1;
	ssl = X509_STORE_CTX_get_ex_data(xs,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	if (ssl != NULL && (c = tls_conn_get(ssl)) != NULL &&
	    c->first_err == 0)
		c->first_err = X509_STORE_CTX_get_error(xs);
	return 1;
}

/*
 * The A-label form of domain, lower case, without a trailing dot, as
 * certificates carry names (RFC 9525 6.3). -1 when it is no domain.
 */
static int
tls_alabel(const char *domain, char *out, size_t outsz)
{
	char	 tmp[TLS_DOMAIN_MAX];
	char	*a = NULL;
	size_t	 n = strlen(domain), i;
	int	 ascii = 1;

	if (n > 0 && domain[n - 1] == '.')
		n--;
	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, domain, n);
	tmp[n] = '\0';
	for (i = 0; i < n; i++)
		if ((unsigned char)tmp[i] >= 0x80)
			ascii = 0;
	if (idn2_lookup_u8((const uint8_t *)tmp, (uint8_t **)&a,
	    IDN2_NONTRANSITIONAL) == IDN2_OK) {
		n = strlen(a);
		if (n >= outsz) {
			idn2_free(a);
			return -1;
		}
		memcpy(out, a, n + 1);
		idn2_free(a);
	} else if (ascii && n < outsz) {
		/* Host names IDNA refuses (an underscore) still compare. */
		memcpy(out, tmp, n + 1);
	} else
		return -1;
	for (i = 0; out[i] != '\0'; i++)
		out[i] = tolower((unsigned char)out[i]);
	return 0;
}

/* An ASN.1 string as a C string, refused when it holds a NUL. */
static int
tls_asn1_str(const ASN1_STRING *s, char *out, size_t outsz)
{
	int	 n = ASN1_STRING_length(s);

	if (n <= 0 || (size_t)n >= outsz ||
	    memchr(ASN1_STRING_get0_data(s), '\0', n) != NULL)
		return -1;
	memcpy(out, ASN1_STRING_get0_data(s), n);
	out[n] = '\0';
	return 0;
}

/*
 * A presented DNS-ID against the reference (A-label, lower case). The only
 * wildcard is a whole left-most "*" standing for exactly one label, above
 * at least two labels (RFC 9525 6.3, S2S 2.17).
 */
static int
tls_dns_match(const char *pattern, const char *ref)
{
	char		 p[TLS_DOMAIN_MAX];
	const char	*dot;
	size_t		 n, i;

	n = strlen(pattern);
	if (n > 0 && pattern[n - 1] == '.')
		n--;
	if (n == 0 || n >= sizeof(p))
		return 0;
	memcpy(p, pattern, n);
	p[n] = '\0';
	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return 0;	/* U-labels are not valid DNS-IDs */
	if (p[0] == '*' && p[1] == '.') {
		if (strchr(p + 2, '*') != NULL || strchr(p + 2, '.') == NULL)
			return 0;
		if ((dot = strchr(ref, '.')) == NULL || dot == ref)
			return 0;
		return strcasecmp(p + 2, dot + 1) == 0;
	}
	if (strchr(p, '*') != NULL)
		return 0;
	return strcasecmp(p, ref) == 0;
}

/* SRV-ID "_xmpp-server.<domain>" (RFC 4985, RFC 6120 13.7.1.2.1). */
static int
tls_srv_match(const char *srv, const char *ref)
{
	static const char	 svc[] = "_xmpp-server.";

	if (strncasecmp(srv, svc, sizeof(svc) - 1) != 0)
		return 0;
	srv += sizeof(svc) - 1;
	if (strchr(srv, '*') != NULL)
		return 0;
	return tls_dns_match(srv, ref);
}

/* XmppAddr: a domain JID, compared after domain preparation. */
static int
tls_xmpp_match(const char *addr, const char *ref)
{
	char	 a[TLS_DOMAIN_MAX];

	if (strpbrk(addr, "@/") != NULL || tls_alabel(addr, a, sizeof(a)) == -1)
		return 0;
	return strcmp(a, ref) == 0;
}

/*
 * 1 when cert names ref (A-label) by one of the identifier types in ids.
 * When names is not NULL, the certificate's names are listed into it.
 */
static int
tls_match(X509 *cert, const char *ref, int ids, char *names, size_t namesz)
{
	GENERAL_NAMES	*sans;
	GENERAL_NAME	*gn;
	char		 s[TLS_DOMAIN_MAX];
	int		 i, found = 0, kind;

	if (names != NULL && namesz > 0)
		names[0] = '\0';
	sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	if (sans == NULL)
		return 0;
	for (i = 0; i < sk_GENERAL_NAME_num(sans); i++) {
		gn = sk_GENERAL_NAME_value(sans, i);
		kind = 0;
		if (gn->type == GEN_DNS) {
			if (tls_asn1_str(gn->d.dNSName, s, sizeof(s)) == -1)
				continue;
			kind = TLS_ID_DNS;
			if ((ids & kind) && tls_dns_match(s, ref))
				found = 1;
		} else if (gn->type == GEN_OTHERNAME) {
			OTHERNAME	*on = gn->d.otherName;
			int		 nid = OBJ_obj2nid(on->type_id);

			if (nid == NID_SRVName &&
			    on->value->type == V_ASN1_IA5STRING) {
				if (tls_asn1_str(on->value->value.ia5string, s,
				    sizeof(s)) == -1)
					continue;
				kind = TLS_ID_SRV;
				if ((ids & kind) && tls_srv_match(s, ref))
					found = 1;
			} else if (nid == NID_XmppAddr &&
			    on->value->type == V_ASN1_UTF8STRING) {
				if (tls_asn1_str(on->value->value.utf8string, s,
				    sizeof(s)) == -1)
					continue;
				kind = TLS_ID_XMPP;
				if ((ids & kind) && tls_xmpp_match(s, ref))
					found = 1;
			}
		}
		if (kind != 0 && names != NULL && namesz > 0) {
			size_t	 len = strlen(names);

			if (len + strlen(s) + 6 < namesz)
				snprintf(names + len, namesz - len, "%s%s",
				    len ? ", " : "", s);
			else if (len + 4 < namesz && strstr(names, "...") == NULL)
				snprintf(names + len, namesz - len, "...");
		}
	}
	GENERAL_NAMES_free(sans);
	return found;
}

int
tls_cert_names(X509 *cert, const char *domain)
{
	char	 ref[TLS_DOMAIN_MAX];

	if (cert == NULL || tls_alabel(domain, ref, sizeof(ref)) == -1)
		return 0;
	return tls_match(cert, ref, TLS_ID_ALL, NULL, 0);
}

static struct tls_cert *
tls_find(const struct tls_ctx *ctx, const char *alabel)
{
	size_t	 i;

	if (alabel != NULL)
		for (i = 0; i < ctx->ncerts; i++)
			if (ctx->certs[i].domain != NULL &&
			    strcasecmp(ctx->certs[i].domain, alabel) == 0)
				return &ctx->certs[i];
	return NULL;
}

/* The entry for domain, else the default one, else the first one. */
static struct tls_cert *
tls_pick(const struct tls_ctx *ctx, const char *domain)
{
	struct tls_cert	*c;
	char		 a[TLS_DOMAIN_MAX];
	size_t		 i;

	if (ctx->ncerts == 0)
		return NULL;
	if (domain != NULL && tls_alabel(domain, a, sizeof(a)) == 0 &&
	    (c = tls_find(ctx, a)) != NULL)
		return c;
	for (i = 0; i < ctx->ncerts; i++)
		if (ctx->certs[i].domain == NULL)
			return &ctx->certs[i];
	return &ctx->certs[0];
}

/* SNI picks the certificate when it names a domain with its own pair. */
static int
tls_servername_cb(SSL *ssl, int *alert, void *arg)
{
	struct tls_ctx	*ctx = arg;
	struct tls_cert	*c;
	const char	*sni;
	char		 a[TLS_DOMAIN_MAX];

	sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	if (sni == NULL || tls_alabel(sni, a, sizeof(a)) == -1 ||
	    (c = tls_find(ctx, a)) == NULL)
		return SSL_TLSEXT_ERR_OK;
	if (SSL_get_SSL_CTX(ssl) != c->server &&
	    SSL_set_SSL_CTX(ssl, c->server) == NULL)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	return SSL_TLSEXT_ERR_OK;
}

/* A client offering ALPN without xmpp-server still gets TLS, no ALPN. */
static int
tls_alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	unsigned char	*sel;

	if (SSL_select_next_proto(&sel, outlen, tls_alpn_wire,
	    sizeof(tls_alpn_wire) - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

static void
tls_seterr(struct tls_ctx *ctx, const char *what, const char *file)
{
	unsigned long	 e = ERR_peek_last_error(), q;
	const char	*reason = e ? ERR_reason_error_string(e) : NULL;

#ifdef ERR_SYSTEM_ERROR
	/* "system lib" says less than the errno queued before it */
	while ((q = ERR_get_error()) != 0)
		if (ERR_SYSTEM_ERROR(q))
			reason = strerror(ERR_GET_REASON(q));
#else
	(void)q;
#endif
	snprintf(ctx->err, sizeof(ctx->err), "%s%s%s: %s", what,
	    file ? " " : "", file ? file : "",
	    reason ? reason : "unknown error");
	ERR_clear_error();
}

static X509_STORE *
tls_store_new(struct tls_ctx *ctx, const char *ca_file)
{
	X509_STORE	*st;

	if ((st = X509_STORE_new()) == NULL) {
		tls_seterr(ctx, "cannot make a certificate store", NULL);
		return NULL;
	}
	if (ca_file == NULL ? X509_STORE_set_default_paths(st) != 1 :
	    X509_STORE_load_file(st, ca_file) != 1) {
		tls_seterr(ctx, "cannot load CA file", ca_file ? ca_file :
		    "(system default)");
		X509_STORE_free(st);
		return NULL;
	}
	return st;
}

static SSL_CTX *
tls_sslctx_new(struct tls_ctx *ctx, X509_STORE *store, const char *cert_file,
    const char *key_file, int server)
{
	SSL_CTX	*sc;

	sc = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (sc == NULL) {
		tls_seterr(ctx, "cannot make a TLS context", NULL);
		return NULL;
	}
	/* S2S 2.8, 2.5: TLS 1.2+, no compression, no renegotiation. */
	if (SSL_CTX_set_min_proto_version(sc, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(sc, TLS_CIPHERS_12) != 1 ||
	    SSL_CTX_set_ciphersuites(sc, TLS_CIPHERS_13) != 1) {
		tls_seterr(ctx, "cannot set TLS parameters", NULL);
		goto fail;
	}
	SSL_CTX_set_options(sc, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(sc, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_dh_auto(sc, 1);
	if (SSL_CTX_use_certificate_chain_file(sc, cert_file) != 1) {
		tls_seterr(ctx, "cannot load certificate", cert_file);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(sc, key_file, SSL_FILETYPE_PEM) != 1) {
		if (ERR_GET_REASON(ERR_peek_last_error()) ==
		    X509_R_KEY_VALUES_MISMATCH) {
			ERR_clear_error();
			snprintf(ctx->err, sizeof(ctx->err), "key %s does not "
			    "match certificate %s", key_file, cert_file);
		} else
			tls_seterr(ctx, "cannot load key", key_file);
		goto fail;
	}
	if (SSL_CTX_check_private_key(sc) != 1) {
		tls_seterr(ctx, "key does not match certificate", cert_file);
		goto fail;
	}
	SSL_CTX_set1_cert_store(sc, store);
	SSL_CTX_set_verify(sc, SSL_VERIFY_PEER, tls_verify_cb);
	if (server) {
		/*
		 * The initiator's certificate is checked for serverAuth or
		 * clientAuth in tls_peer_verified(), not by OpenSSL, which
		 * would want clientAuth alone.
		 */
		if (SSL_CTX_set_purpose(sc, X509_PURPOSE_ANY) != 1 ||
		    SSL_CTX_set_session_id_context(sc,
		    (const unsigned char *)TLS_SID_CTX,
		    sizeof(TLS_SID_CTX) - 1) != 1) {
			tls_seterr(ctx, "cannot set TLS parameters", NULL);
			goto fail;
		}
		/* No resumption: every stream shows its certificate. */
		SSL_CTX_set_session_cache_mode(sc, SSL_SESS_CACHE_OFF);
		SSL_CTX_set_options(sc, SSL_OP_NO_TICKET);
		SSL_CTX_set_num_tickets(sc, 0);
		SSL_CTX_set_tlsext_servername_callback(sc, tls_servername_cb);
		SSL_CTX_set_tlsext_servername_arg(sc, ctx);
		SSL_CTX_set_alpn_select_cb(sc, tls_alpn_cb, NULL);
	} else {
		if (SSL_CTX_set_alpn_protos(sc, tls_alpn_wire,
		    sizeof(tls_alpn_wire) - 1) != 0) {
			tls_seterr(ctx, "cannot set ALPN", NULL);
			goto fail;
		}
	}
	return sc;
 fail:
	SSL_CTX_free(sc);
	return NULL;
}

static void
tls_cert_clear(struct tls_cert *c)
{
	free(c->domain);
	free(c->cert_file);
	free(c->key_file);
	SSL_CTX_free(c->server);
	SSL_CTX_free(c->client);
}

struct tls_ctx *
tls_ctx_new(const char *ca_file)
{
	struct tls_ctx	*ctx;

	tls_init();
	ctx = xcalloc(1, sizeof(*ctx));
	if (ca_file != NULL)
		ctx->ca_file = xstrdup(ca_file);
	return ctx;
}

void
tls_ctx_free(struct tls_ctx *ctx)
{
	size_t	 i;

	if (ctx == NULL)
		return;
	for (i = 0; i < ctx->ncerts; i++)
		tls_cert_clear(&ctx->certs[i]);
	free(ctx->certs);
	X509_STORE_free(ctx->store);
	free(ctx->ca_file);
	free(ctx);
}

int
tls_ctx_has_cert(const struct tls_ctx *ctx)
{
	return ctx->ncerts > 0;
}

/* Builds both SSL_CTXs of c from its files into srv and cli. */
static int
tls_cert_build(struct tls_ctx *ctx, X509_STORE *store,
    const struct tls_cert *c, SSL_CTX **srv, SSL_CTX **cli)
{
	*srv = tls_sslctx_new(ctx, store, c->cert_file, c->key_file, 1);
	if (*srv == NULL)
		return -1;
	*cli = tls_sslctx_new(ctx, store, c->cert_file, c->key_file, 0);
	if (*cli == NULL) {
		SSL_CTX_free(*srv);
		*srv = NULL;
		return -1;
	}
	return 0;
}

int
tls_ctx_add_cert(struct tls_ctx *ctx, const char *domain,
    const char *cert_file, const char *key_file, const char **errstr)
{
	struct tls_cert	 c;
	char		 a[TLS_DOMAIN_MAX];
	size_t		 i;

	memset(&c, 0, sizeof(c));
	if (domain != NULL) {
		if (tls_alabel(domain, a, sizeof(a)) == -1) {
			snprintf(ctx->err, sizeof(ctx->err),
			    "%s: not a domain name", domain);
			goto fail;
		}
		if (tls_find(ctx, a) != NULL) {
			snprintf(ctx->err, sizeof(ctx->err),
			    "%s: certificate given twice", domain);
			goto fail;
		}
	} else {
		for (i = 0; i < ctx->ncerts; i++)
			if (ctx->certs[i].domain == NULL) {
				snprintf(ctx->err, sizeof(ctx->err),
				    "default certificate given twice");
				goto fail;
			}
	}
	if (ctx->store == NULL &&
	    (ctx->store = tls_store_new(ctx, ctx->ca_file)) == NULL)
		goto fail;
	c.cert_file = xstrdup(cert_file);
	c.key_file = xstrdup(key_file);
	if (tls_cert_build(ctx, ctx->store, &c, &c.server, &c.client) == -1) {
		tls_cert_clear(&c);
		goto fail;
	}
	if (domain != NULL)
		c.domain = xstrdup(a);
	ctx->certs = xreallocarray(ctx->certs, ctx->ncerts + 1,
	    sizeof(*ctx->certs));
	ctx->certs[ctx->ncerts++] = c;
	return 0;
 fail:
	*errstr = ctx->err;
	return -1;
}

int
tls_reload(struct tls_ctx *ctx, const char **errstr)
{
	X509_STORE	*store;
	SSL_CTX		**srv, **cli;
	size_t		 i, n = ctx->ncerts;
	int		 rc = -1;

	if ((store = tls_store_new(ctx, ctx->ca_file)) == NULL) {
		*errstr = ctx->err;
		return -1;
	}
	srv = xcalloc(n + 1, sizeof(*srv));
	cli = xcalloc(n + 1, sizeof(*cli));
	for (i = 0; i < n; i++)
		if (tls_cert_build(ctx, store, &ctx->certs[i], &srv[i],
		    &cli[i]) == -1) {
			*errstr = ctx->err;
			goto out;
		}
	for (i = 0; i < n; i++) {
		SSL_CTX_free(ctx->certs[i].server);
		SSL_CTX_free(ctx->certs[i].client);
		ctx->certs[i].server = srv[i];
		ctx->certs[i].client = cli[i];
		srv[i] = cli[i] = NULL;
	}
	X509_STORE_free(ctx->store);
	ctx->store = store;
	store = NULL;
	rc = 0;
 out:
	for (i = 0; i < n; i++) {
		SSL_CTX_free(srv[i]);
		SSL_CTX_free(cli[i]);
	}
	free(srv);
	free(cli);
	X509_STORE_free(store);
	return rc;
}

void
tls_ctx_replace(struct tls_ctx *live, struct tls_ctx *fresh)
{
	struct tls_ctx	 tmp;
	size_t		 i;

	tmp = *live;
	live->ca_file = fresh->ca_file;
	live->certs = fresh->certs;
	live->ncerts = fresh->ncerts;
	live->store = fresh->store;
	fresh->ca_file = tmp.ca_file;
	fresh->certs = tmp.certs;
	fresh->ncerts = tmp.ncerts;
	fresh->store = tmp.store;
	/* The SNI callback must find the live set, which outlives fresh. */
	for (i = 0; i < live->ncerts; i++)
		SSL_CTX_set_tlsext_servername_arg(live->certs[i].server, live);
	tls_ctx_free(fresh);
}

SSL *
tls_server_new(struct tls_ctx *ctx, const char *local_domain,
    const char **errstr)
{
	struct tls_cert	*c;
	SSL		*ssl;

	if ((c = tls_pick(ctx, local_domain)) == NULL) {
		*errstr = "no TLS certificate configured";
		return NULL;
	}
	if ((ssl = SSL_new(c->server)) == NULL) {
		tls_seterr(ctx, "cannot make a TLS session", NULL);
		*errstr = ctx->err;
		return NULL;
	}
	SSL_set_accept_state(ssl);
	return ssl;
}

SSL *
tls_client_new(struct tls_ctx *ctx, const char *local_domain,
    const char *peer_domain, const char **errstr)
{
	struct tls_cert	*c;
	SSL		*ssl;
	char		 a[TLS_DOMAIN_MAX];

	if ((c = tls_pick(ctx, local_domain)) == NULL) {
		*errstr = "no TLS certificate configured";
		return NULL;
	}
	if (tls_alabel(peer_domain, a, sizeof(a)) == -1) {
		*errstr = "peer domain has no A-label form";
		return NULL;
	}
	if ((ssl = SSL_new(c->client)) == NULL) {
		tls_seterr(ctx, "cannot make a TLS session", NULL);
		*errstr = ctx->err;
		return NULL;
	}
	/* XEP-0368 3: SNI is the peer's domain; an IP literal gets none. */
	if (strspn(a, "0123456789.") != strlen(a) && strchr(a, ':') == NULL &&
	    SSL_set_tlsext_host_name(ssl, a) != 1) {
		SSL_free(ssl);
		tls_seterr(ctx, "cannot set SNI", NULL);
		*errstr = ctx->err;
		return NULL;
	}
	SSL_set_connect_state(ssl);
	return ssl;
}

static const char *
tls_chain_why(int err)
{
	switch (err) {
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		return "self-signed certificate";
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:	/* a root we lack */
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		return "certificate is not trusted (unknown issuer)";
	case X509_V_ERR_INVALID_PURPOSE:
		return "certificate is not for this use (extended key usage)";
	default:
		return X509_verify_cert_error_string(err);
	}
}

int
tls_peer_verified(SSL *ssl, const char *domain, const char **why)
{
	struct tls_conn	*c = tls_conn_peek(ssl);
	X509		*cert;
	X509_NAME	*subj;
	char		 ref[TLS_DOMAIN_MAX], names[160], cn[80];
	long		 res;
	uint32_t	 xku;
	int		 ok = 0;

	if ((cert = SSL_get1_peer_certificate(ssl)) == NULL) {
		*why = "no certificate presented";
		return 0;
	}
	res = SSL_get_verify_result(ssl);
	if (c != NULL && c->first_err != 0)
		res = c->first_err;
	if (res != X509_V_OK) {
		*why = tls_chain_why((int)res);
		goto out;
	}
	/* A server-side SSL: the peer is a server acting as TLS client. */
	if (SSL_is_server(ssl) &&
	    (X509_get_extension_flags(cert) & EXFLAG_XKUSAGE)) {
		xku = X509_get_extended_key_usage(cert);
		if ((xku & (XKU_SSL_SERVER | XKU_SSL_CLIENT | XKU_ANYEKU)) == 0) {
			*why = tls_chain_why(X509_V_ERR_INVALID_PURPOSE);
			goto out;
		}
	}
	if (tls_alabel(domain, ref, sizeof(ref)) == -1) {
		*why = "name mismatch: the reference is no domain name";
		goto out;
	}
	if (tls_match(cert, ref, TLS_ID_ALL, names, sizeof(names))) {
		*why = NULL;
		ok = 1;
		goto out;
	}
	c = tls_conn_get(ssl);
	if (names[0] != '\0')
		snprintf(c->why, sizeof(c->why),
		    "name mismatch: certificate is for %s, not %s", names, ref);
	else {
		subj = X509_get_subject_name(cert);
		if (X509_NAME_get_text_by_NID(subj, NID_commonName, cn,
		    sizeof(cn)) < 0)
			snprintf(cn, sizeof(cn), "-");
		snprintf(c->why, sizeof(c->why), "name mismatch: certificate "
		    "has no subjectAltName for any domain (subject CN %s is "
		    "not used), not %s", cn, ref);
	}
	*why = c->why;
 out:
	X509_free(cert);
	return ok;
}

int
tls_peer_expiry(SSL *ssl, time_t *when)
{
	X509		*cert;
	struct tm	 tm;
	int		 rc = -1;

	if ((cert = SSL_get1_peer_certificate(ssl)) == NULL)
		return -1;
	if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1) {
		*when = timegm(&tm);
		rc = 0;
	}
	X509_free(cert);
	return rc;
}

int
tls_peer_subject(SSL *ssl, char *buf, size_t bufsz)
{
	X509	*cert;
	BIO	*b;
	int	 n = -1;

	if ((cert = SSL_get1_peer_certificate(ssl)) == NULL)
		return -1;
	if ((b = BIO_new(BIO_s_mem())) != NULL &&
	    X509_NAME_print_ex(b, X509_get_subject_name(cert), 0,
	    XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB) >= 0)
		n = BIO_read(b, buf, (int)bufsz - 1);
	buf[n > 0 ? n : 0] = '\0';
	BIO_free(b);
	X509_free(cert);
	return n > 0 ? 0 : -1;
}

char *
tls_info(SSL *ssl, char *buf, size_t bufsz)
{
	const char	*cipher = SSL_get_cipher_name(ssl);

	snprintf(buf, bufsz, "%s %s", SSL_get_version(ssl),
	    cipher ? cipher : "(none)");
	return buf;
}

int
tls_alpn_is_xmpp(SSL *ssl)
{
	const unsigned char	*p;
	unsigned int		 n;

	SSL_get0_alpn_selected(ssl, &p, &n);
	return n == sizeof(TLS_ALPN) - 1 && memcmp(p, TLS_ALPN, n) == 0;
}

static int
tls_check_chain(const struct tls_ctx *ctx, SSL_CTX *sc, X509 *leaf,
    const char **why)
{
	X509_STORE_CTX	*xs;
	STACK_OF(X509)	*chain = NULL;
	int		 ok;

	if ((xs = X509_STORE_CTX_new()) == NULL)
		return 1;
	SSL_CTX_get0_chain_certs(sc, &chain);
	if (X509_STORE_CTX_init(xs, ctx->store, leaf, chain) != 1) {
		X509_STORE_CTX_free(xs);
		return 1;
	}
	X509_STORE_CTX_set_purpose(xs, X509_PURPOSE_SSL_SERVER);
	ok = X509_verify_cert(xs) == 1;
	if (!ok)
		*why = tls_chain_why(X509_STORE_CTX_get_error(xs));
	X509_STORE_CTX_free(xs);
	return ok;
}

int
tls_ctx_check_names(const struct tls_ctx *ctx, const char *const *domains,
    size_t ndomains, void (*report)(const char *, const char *, void *),
    void *arg)
{
	struct tls_cert	*c;
	X509		*leaf;
	const char	*why;
	char		 ref[TLS_DOMAIN_MAX], msg[512];
	size_t		 i;
	int		 nwarn = 0;

	for (i = 0; i < ctx->ncerts; i++) {
		c = &ctx->certs[i];
		if ((leaf = SSL_CTX_get0_certificate(c->server)) == NULL)
			continue;
		if (!tls_check_chain(ctx, c->server, leaf, &why)) {
			snprintf(msg, sizeof(msg), "certificate %s does not "
			    "verify (%s); peers that check certificates will "
			    "refuse it", c->cert_file, why);
			report(c->domain ? c->domain : "*", msg, arg);
			nwarn++;
		}
	}
	for (i = 0; i < ndomains; i++) {
		if ((c = tls_pick(ctx, domains[i])) == NULL) {
			report(domains[i], "no TLS certificate", arg);
			nwarn++;
			continue;
		}
		leaf = SSL_CTX_get0_certificate(c->server);
		if (tls_alabel(domains[i], ref, sizeof(ref)) == -1 ||
		    leaf == NULL || !tls_match(leaf, ref, TLS_ID_DNS, NULL, 0)) {
			snprintf(msg, sizeof(msg), "certificate %s has no DNS-ID "
			    "(subjectAltName DNS) for this domain; peers will "
			    "refuse it", c->cert_file);
			report(domains[i], msg, arg);
			nwarn++;
		}
	}
	return nwarn;
}
