/*
 * tools/check_cert.c: "xfedctl check", certificate part: the chain and key
 * xfed presents for a hosted domain (tls_domain, else tls_certificate),
 * read from the files as xfed reads them, judged as peers judge them
 * (S2S 2.18, 2.25-2.27): a complete chain to a CA of the CA store
 * (tls_ca_file, else the system's), the key that fits, a DNS-ID for the
 * domain, the days left, and an extended key usage that also allows the
 * certificate as a client's, since xfed presents it when it connects.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "check.h"
#include "tls.h"

#define CHECK_CERT_WARN_DAYS	14	/* renewals run a month ahead */
#define CHECK_CERT_MAX_CHAIN	16

struct check_cert {
	struct chk	*chk;
	const char	*domain, *cert_file, *key_file;
	X509		*chain[CHECK_CERT_MAX_CHAIN];
	int		 n;
	char		 subject[600];	/* "x.test cert.pem" */
};

static void
check_cert_dn(X509_NAME *name, char *buf, size_t len)
{
	BIO	*b = BIO_new(BIO_s_mem());
	int	 n;

	buf[0] = '\0';
	if (b == NULL)
		return;
	X509_NAME_print_ex(b, name, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
	n = BIO_read(b, buf, (int)len - 1);
	buf[n > 0 ? n : 0] = '\0';
	BIO_free(b);
}

/* The dNSName entries of the certificate, for messages. */
static void
check_cert_sans(X509 *x, char *buf, size_t len)
{
	GENERAL_NAMES	*gens;
	GENERAL_NAME	*g;
	int		 i;

	buf[0] = '\0';
	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		if (g->type != GEN_DNS)
			continue;
		if (buf[0] != '\0')
			strncat(buf, " ", len - strlen(buf) - 1);
		strncat(buf, (const char *)ASN1_STRING_get0_data(g->d.dNSName),
		    len - strlen(buf) - 1);
	}
	GENERAL_NAMES_free(gens);
	if (buf[0] == '\0')
		snprintf(buf, len, "no DNS name at all");
}

static int
check_cert_read(struct check_cert *cc)
{
	FILE	*f;
	X509	*x;

	if ((f = fopen(cc->cert_file, "r")) == NULL) {
		chk_report(cc->chk, CHK_FAIL, "cert", cc->subject, "fix the "
		    "path, or the file's permissions for xfed's user",
		    "cannot read %s: %s", cc->cert_file, strerror(errno));
		return -1;
	}
	while (cc->n < CHECK_CERT_MAX_CHAIN &&
	    (x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
		cc->chain[cc->n++] = x;
	fclose(f);
	ERR_clear_error();
	if (cc->n == 0) {
		chk_report(cc->chk, CHK_FAIL, "cert", cc->subject, "put the "
		    "certificate, then its intermediates, in PEM form there",
		    "%s holds no PEM certificate", cc->cert_file);
		return -1;
	}
	return 0;
}

static void
check_cert_key(struct check_cert *cc)
{
	EVP_PKEY	*k = NULL;
	FILE		*f;

	if ((f = fopen(cc->key_file, "r")) == NULL) {
		chk_report(cc->chk, CHK_FAIL, "cert", cc->subject, "fix the "
		    "path, or the file's permissions for xfed's user",
		    "cannot read the key %s: %s", cc->key_file,
		    strerror(errno));
		return;
	}
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (k == NULL)
		chk_report(cc->chk, CHK_FAIL, "cert", cc->subject, "put the "
		    "unencrypted PEM key there", "%s holds no private key "
		    "xfed can read", cc->key_file);
	else if (X509_check_private_key(cc->chain[0], k) != 1)
		chk_report(cc->chk, CHK_FAIL, "cert", cc->subject, "use the "
		    "key the certificate was issued for (or the certificate "
		    "issued for this key)", "the key %s does not match the "
		    "certificate", cc->key_file);
	else
		chk_report(cc->chk, CHK_OK, "cert", cc->subject, NULL,
		    "the key %s matches the certificate", cc->key_file);
	EVP_PKEY_free(k);
	ERR_clear_error();
}

/* The CA store peers are assumed to have: tls_ca_file, else the system's. */
static int
check_cert_load_cas(const struct conf *c, X509_STORE *store)
{
	return c->tls_ca_file != NULL ?
	    X509_STORE_load_file(store, c->tls_ca_file) == 1 :
	    X509_STORE_set_default_paths(store) == 1;
}

/* Chain to a trusted CA; dates are judged apart (check_cert_dates). */
static void
check_cert_chain(struct check_cert *cc)
{
	const struct conf	*c = cc->chk->ctl->conf;
	X509_STORE		*store = X509_STORE_new();
	X509_STORE_CTX		*ctx = X509_STORE_CTX_new();
	STACK_OF(X509)		*untrusted = sk_X509_new_null();
	X509			*bad;
	char			 dn[256], fix[600];
	int			 i, err, depth;
	const char		*cas = c->tls_ca_file ? c->tls_ca_file :
	    "the system's CA store";

	if (store == NULL || ctx == NULL || untrusted == NULL)
		goto out;
	if (!check_cert_load_cas(c, store)) {
		chk_report(cc->chk, CHK_FAIL, "cert", cc->subject, "fix "
		    "tls_ca_file", "cannot read the CA store %s", cas);
		goto out;
	}
	for (i = 1; i < cc->n; i++)
		sk_X509_push(untrusted, cc->chain[i]);
	if (X509_STORE_CTX_init(ctx, store, cc->chain[0], untrusted) != 1)
		goto out;
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_NO_CHECK_TIME);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_ANY);
	if (X509_verify_cert(ctx) == 1) {
		chk_report(cc->chk, CHK_OK, "cert", cc->subject, NULL,
		    "the chain (%d certificate%s in the file) verifies "
		    "against %s", cc->n, cc->n == 1 ? "" : "s", cas);
		goto out;
	}
	err = X509_STORE_CTX_get_error(ctx);
	depth = X509_STORE_CTX_get_error_depth(ctx);
	bad = X509_STORE_CTX_get_current_cert(ctx);
	switch (err) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
		check_cert_dn(X509_get_issuer_name(bad ? bad : cc->chain[0]),
		    dn, sizeof(dn));
		snprintf(fix, sizeof(fix), "append the intermediate "
		    "certificate(s) to %s (the CA's \"full chain\"), or trust "
		    "the issuer in %s", cc->cert_file, cas);
		chk_report(cc->chk, CHK_FAIL, "cert", cc->subject, fix,
		    "incomplete chain: no certificate for the issuer \"%s\" "
		    "in the file nor in %s (depth %d)", dn, cas, depth);
		break;
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		chk_report(cc->chk, CHK_FAIL, "cert", cc->subject, "get a "
		    "certificate from a CA that peers trust", "%s: peers "
		    "will not trust it (%s)", X509_verify_cert_error_string(err),
		    cas);
		break;
	default:
		chk_report(cc->chk, CHK_FAIL, "cert", cc->subject, "get a "
		    "certificate from a CA that peers trust", "the chain does "
		    "not verify against %s: %s (depth %d)", cas,
		    X509_verify_cert_error_string(err), depth);
		break;
	}
 out:
	sk_X509_free(untrusted);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	ERR_clear_error();
}

/* S2S 2.25: a DNS-ID is the identity both Prosody and ejabberd match. */
static void
check_cert_name(struct check_cert *cc)
{
	X509	*x = cc->chain[0];
	char	 sans[512], fix[300];

	snprintf(fix, sizeof(fix), "get a certificate with DNS:%s in its "
	    "subjectAltName", cc->domain);
	if (X509_check_host(x, cc->domain, strlen(cc->domain),
	    X509_CHECK_FLAG_NEVER_CHECK_SUBJECT |
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1)
		chk_report(cc->chk, CHK_OK, "cert", cc->subject, NULL,
		    "a DNS-ID (subjectAltName) names %s", cc->domain);
	else if (tls_cert_names(x, cc->domain))
		chk_report(cc->chk, CHK_WARN, "cert", cc->subject, fix,
		    "%s is named by an SRV-ID or XmppAddr only; ejabberd "
		    "and others need a DNS-ID", cc->domain);
	else {
		check_cert_sans(x, sans, sizeof(sans));
		chk_report(cc->chk, CHK_FAIL, "cert", cc->subject, fix,
		    "wrong name: the certificate is for %s, not %s", sans,
		    cc->domain);
	}
}

/* The leaf's own dates are check_cert_dates'; only the CAs' count here. */
static int
check_cert_path_cb(int ok, X509_STORE_CTX *ctx)
{
	int	 err = X509_STORE_CTX_get_error(ctx);

	if (!ok && X509_STORE_CTX_get_error_depth(ctx) == 0 &&
	    (err == X509_V_ERR_CERT_HAS_EXPIRED ||
	    err == X509_V_ERR_CERT_NOT_YET_VALID))
		return 1;
	return ok;
}

/*
 * Whether a path valid today leads from the leaf to the CA store, with
 * the file's certificates as candidates: OpenSSL (trusted first) and
 * other current verifiers take it past an out-of-date intermediate, as
 * when the file still carries a cross-signed CA that expired.
 */
static int
check_cert_valid_path(struct check_cert *cc)
{
	X509_STORE	*store = X509_STORE_new();
	X509_STORE_CTX	*ctx = X509_STORE_CTX_new();
	STACK_OF(X509)	*untrusted = sk_X509_new_null();
	int		 i, ok = 0;

	if (store == NULL || ctx == NULL || untrusted == NULL ||
	    !check_cert_load_cas(cc->chk->ctl->conf, store))
		goto out;
	for (i = 1; i < cc->n; i++)
		sk_X509_push(untrusted, cc->chain[i]);
	if (X509_STORE_CTX_init(ctx, store, cc->chain[0], untrusted) != 1)
		goto out;
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_ANY);
	X509_STORE_CTX_set_verify_cb(ctx, check_cert_path_cb);
	ok = X509_verify_cert(ctx) == 1;
 out:
	sk_X509_free(untrusted);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	ERR_clear_error();
	return ok;
}

/*
 * The intermediates the file carries: chain verification above ignores
 * time (NO_CHECK_TIME, to name the first problem only), but a peer
 * refuses a chain with an expired or not yet valid CA certificate (RFC
 * 5280 6.1.3), as after a CA rolled its intermediate and the file kept
 * the old one. Where a path valid today exists through the CA store, it
 * is a WARN: current verifiers take that path, older ones do not.
 */
static void
check_cert_chain_dates(struct check_cert *cc)
{
	const struct conf	*c = cc->chk->ctl->conf;
	const ASN1_TIME		*t;
	struct tm		 tm;
	char			 when[32], dn[256], fix[400];
	int			 i, expired, path = -1;
	const char		*cas = c->tls_ca_file ? c->tls_ca_file :
	    "the system's CA store";

	for (i = 1; i < cc->n; i++) {
		expired = X509_cmp_current_time(
		    X509_get0_notAfter(cc->chain[i])) <= 0;
		if (!expired && X509_cmp_current_time(
		    X509_get0_notBefore(cc->chain[i])) <= 0)
			continue;
		t = expired ? X509_get0_notAfter(cc->chain[i]) :
		    X509_get0_notBefore(cc->chain[i]);
		check_cert_dn(X509_get_subject_name(cc->chain[i]), dn,
		    sizeof(dn));
		if (ASN1_TIME_to_tm(t, &tm) == 1)
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
		else
			snprintf(when, sizeof(when), "an unreadable date");
		snprintf(fix, sizeof(fix), "replace it in %s with the CA's "
		    "current chain (its \"full chain\" file), then send xfed "
		    "SIGHUP", cc->cert_file);
		if (path == -1)
			path = check_cert_valid_path(cc);
		if (path)
			chk_report(cc->chk, CHK_WARN, "cert", cc->subject, fix,
			    "the intermediate \"%s\" (certificate %d in the "
			    "file) %s %s: a path valid today through %s "
			    "exists, but peers that follow the file's chain "
			    "(older verifiers) refuse it", dn, i + 1,
			    expired ? "expired on" : "is not valid until",
			    when, cas);
		else
			chk_report(cc->chk, CHK_FAIL, "cert", cc->subject, fix,
			    "the intermediate \"%s\" (certificate %d in the "
			    "file) %s %s: peers refuse the chain", dn, i + 1,
			    expired ? "expired on" : "is not valid until",
			    when);
	}
}

static void
check_cert_dates(struct check_cert *cc)
{
	X509		*x = cc->chain[0];
	const ASN1_TIME	*na = X509_get0_notAfter(x);
	struct tm	 tm;
	char		 when[32], fix[300];
	int		 days, secs;

	snprintf(fix, sizeof(fix), "renew it (%s), then send xfed SIGHUP",
	    cc->cert_file);
	if (ASN1_TIME_to_tm(na, &tm) != 1 ||
	    ASN1_TIME_diff(&days, &secs, NULL, na) != 1) {
		chk_report(cc->chk, CHK_FAIL, "cert", cc->subject, fix,
		    "unreadable expiry date");
		return;
	}
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
	if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0)
		chk_report(cc->chk, CHK_FAIL, "cert", cc->subject, "check "
		    "this machine's clock, or wait", "not valid yet");
	else if (days < 0 || (days == 0 && secs <= 0))
		chk_report(cc->chk, CHK_FAIL, "cert", cc->subject, fix,
		    "expired on %s: peers refuse it", when);
	else if (days < CHECK_CERT_WARN_DAYS)
		chk_report(cc->chk, CHK_WARN, "cert", cc->subject, fix,
		    "expires on %s, in %d day%s", when, days,
		    days == 1 ? "" : "s");
	else
		chk_report(cc->chk, CHK_OK, "cert", cc->subject, NULL,
		    "expires on %s, in %d days", when, days);
	check_cert_chain_dates(cc);
}

static void
check_cert_eku(struct check_cert *cc)
{
	X509		*x = cc->chain[0];
	uint32_t	 eku;

	if ((X509_get_extension_flags(x) & EXFLAG_XKUSAGE) == 0) {
		chk_report(cc->chk, CHK_OK, "cert", cc->subject, NULL,
		    "no extended key usage: any use allowed");
		return;
	}
	eku = X509_get_extended_key_usage(x);
	if ((eku & XKU_SSL_SERVER) == 0)
		chk_report(cc->chk, CHK_FAIL, "cert", cc->subject, "get a "
		    "certificate with the serverAuth (and clientAuth) "
		    "extended key usage", "extended key usage lacks "
		    "serverAuth: peers refuse it");
	else if ((eku & XKU_SSL_CLIENT) == 0)
		chk_report(cc->chk, CHK_WARN, "cert", cc->subject, "ask the "
		    "CA for serverAuth and clientAuth; meanwhile such peers "
		    "fall back to dialback or refuse", "extended key usage "
		    "is serverAuth only: xfed presents it as a client when "
		    "it connects, and some peers refuse that");
	else
		chk_report(cc->chk, CHK_OK, "cert", cc->subject, NULL,
		    "extended key usage allows serverAuth and clientAuth");
}

void
check_cert(struct chk *chk, const char *domain)
{
	const struct conf	*c = chk->ctl->conf;
	struct check_cert	 cc;
	size_t			 i;

	memset(&cc, 0, sizeof(cc));
	cc.chk = chk;
	cc.domain = domain;
	cc.cert_file = c->tls_certificate;
	cc.key_file = c->tls_key;
	for (i = 0; i < c->tls_domains.n; i++)
		if (strcmp(CONF_TLSDOM(c, i)->domain, domain) == 0) {
			cc.cert_file = CONF_TLSDOM(c, i)->cert;
			cc.key_file = CONF_TLSDOM(c, i)->key;
		}
	if (cc.cert_file == NULL) {
		chk_report(chk, CHK_FAIL, "cert", domain, "set tls_certificate "
		    "and tls_key (or tls_domain)", "no certificate: peers "
		    "that require TLS (Prosody and ejabberd as packaged) "
		    "refuse %s", domain);
		return;
	}
	snprintf(cc.subject, sizeof(cc.subject), "%s %s", domain, cc.cert_file);
	if (check_cert_read(&cc) == 0) {
		check_cert_chain(&cc);
		check_cert_key(&cc);
		check_cert_name(&cc);
		check_cert_dates(&cc);
		check_cert_eku(&cc);
	}
	for (i = 0; i < (size_t)cc.n; i++)
		X509_free(cc.chain[i]);
}
