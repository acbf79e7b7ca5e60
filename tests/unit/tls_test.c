/*
 * tests/unit/tls_test.c: server/tls.c with a PKI made by tests/tls/mkcerts.sh
 * (openssl CLI) and real handshakes over a socketpair in this process:
 * certificate checks both ways (S2S 2.13-2.20), SNI and ALPN (S2S 2.10,
 * 2.11), protocol floor (S2S 2.8), reload, and the start-up name check
 * (S2S 2.25).
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "tests/t.h"
#include "server/tls.h"

static char	 certdir[512];

static void
certs_rm(void)
{
	char	 cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", certdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", certdir);
}

/* The test PKI, made once per run. */
static const char *
certs(void)
{
	const char	*src = getenv("XFED_SRC");
	char		 cmd[1200];

	if (certdir[0] != '\0')
		return certdir;
	snprintf(certdir, sizeof(certdir), "%s", t_tmpdir());
	snprintf(cmd, sizeof(cmd), "sh '%s/tests/tls/mkcerts.sh' '%s' "
	    ">/dev/null 2>&1", src ? src : ".", certdir);
	if (system(cmd) != 0) {
		fprintf(stdout, "  mkcerts.sh failed: %s\n", cmd);
		exit(1);
	}
	atexit(certs_rm);
	return certdir;
}

static char *
path(const char *name, const char *ext)
{
	static char	 buf[4][600];
	static int	 i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s.%s", certs(), name, ext);
	return buf[i];
}

/* A context presenting NAME.pem for domain (NULL: default). */
static struct tls_ctx *
ctx_with(const char *name, const char *domain)
{
	struct tls_ctx	*ctx = tls_ctx_new(path("ca", "pem"));
	const char	*err;

	if (tls_ctx_add_cert(ctx, domain, path(name, "pem"), path(name, "key"),
	    &err) == -1) {
		fprintf(stdout, "  add_cert %s: %s\n", name, err);
		tls_ctx_free(ctx);
		return NULL;
	}
	return ctx;
}

/*
 * Runs client c against server s over a non-blocking socketpair until both
 * are done or one failed. 1 when both finished the handshake.
 */
static int
handshake(SSL *c, SSL *s)
{
	SSL	*ssl[2] = { c, s };
	int	 fds[2], done[2] = { 0, 0 }, failed[2] = { 0, 0 };
	int	 i, k, r, e;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == -1)
		return 0;
	for (k = 0; k < 2; k++) {
		fcntl(fds[k], F_SETFL, O_NONBLOCK);
		SSL_set_fd(ssl[k], fds[k]);
	}
	for (i = 0; i < 1000; i++) {
		for (k = 0; k < 2; k++) {
			if (done[k] || failed[k])
				continue;
			r = SSL_do_handshake(ssl[k]);
			if (r == 1) {
				done[k] = 1;
				continue;
			}
			e = SSL_get_error(ssl[k], r);
			if (e != SSL_ERROR_WANT_READ &&
			    e != SSL_ERROR_WANT_WRITE) {
				failed[k] = 1;
				/* The peer will read an alert or EOF. */
				shutdown(fds[k], SHUT_WR);
			}
		}
		if ((done[0] || failed[0]) && (done[1] || failed[1]))
			break;
	}
	ERR_clear_error();
	close(fds[0]);
	close(fds[1]);
	return done[0] && done[1];
}

struct pair {
	struct tls_ctx	*sctx, *cctx;
	SSL		*s, *c;
	int		 ok;
};

/*
 * Server presenting server_cert, client from client_dom presenting
 * client_cert, dialing peer (SNI).
 */
static int
pair_run(struct pair *p, const char *server_cert, const char *client_cert,
    const char *client_dom, const char *peer)
{
	const char	*err;

	memset(p, 0, sizeof(*p));
	if ((p->sctx = ctx_with(server_cert, NULL)) == NULL ||
	    (p->cctx = ctx_with(client_cert, NULL)) == NULL)
		return 0;
	p->s = tls_server_new(p->sctx, NULL, &err);
	p->c = tls_client_new(p->cctx, client_dom, peer, &err);
	if (p->s == NULL || p->c == NULL)
		return 0;
	p->ok = handshake(p->c, p->s);
	return p->ok;
}

static void
pair_free(struct pair *p)
{
	SSL_free(p->s);
	SSL_free(p->c);
	tls_ctx_free(p->sctx);
	tls_ctx_free(p->cctx);
}

/* Server verifying the client's certificate for dom, and the other way. */
static int
server_sees(struct pair *p, const char *dom, const char **why)
{
	return tls_peer_verified(p->s, dom, why);
}

static int
client_sees(struct pair *p, const char *dom, const char **why)
{
	return tls_peer_verified(p->c, dom, why);
}

static void
test_valid_both_ways(void)
{
	struct pair	 p;
	const char	*why = "unset";
	char		 info[128];

	REQUIRE(pair_run(&p, "x", "y", "y.test", "x.test"));
	CHECK(client_sees(&p, "x.test", &why) == 1);
	CHECK(why == NULL);
	CHECK(server_sees(&p, "y.test", &why) == 1);
	CHECK(server_sees(&p, "Y.Test.", &why) == 1);
	CHECK(client_sees(&p, "y.test", &why) == 0);
	CHECK_STR(why, "name mismatch: certificate is for x.test, not y.test");
	CHECK(SSL_version(p.c) == TLS1_3_VERSION);
	tls_info(p.c, info, sizeof(info));
	CHECK(strncmp(info, "TLSv1.3 TLS_", 12) == 0);
	tls_info(p.s, info, sizeof(info));
	CHECK(strncmp(info, "TLSv1.3 TLS_", 12) == 0);
	CHECK(tls_alpn_is_xmpp(p.c));
	CHECK(tls_alpn_is_xmpp(p.s));
	CHECK_STR(SSL_get_servername(p.s, TLSEXT_NAMETYPE_host_name), "x.test");
	pair_free(&p);
}

static void
test_wrong_name(void)
{
	struct pair	 p;
	const char	*why;

	REQUIRE(pair_run(&p, "wrong", "wrong", "y.test", "x.test"));
	CHECK(client_sees(&p, "x.test", &why) == 0);
	CHECK_STR(why,
	    "name mismatch: certificate is for wrong.test, not x.test");
	CHECK(server_sees(&p, "y.test", &why) == 0);
	CHECK_STR(why,
	    "name mismatch: certificate is for wrong.test, not y.test");
	CHECK(server_sees(&p, "wrong.test", &why) == 1);
	pair_free(&p);
}

static void
test_expired(void)
{
	struct pair	 p;
	const char	*why;
	time_t		 t = 0;

	/* The handshake goes through: dialback may still follow. */
	REQUIRE(pair_run(&p, "expired", "expired", "x.test", "x.test"));
	CHECK(client_sees(&p, "x.test", &why) == 0);
	CHECK_STR(why, "certificate has expired");
	CHECK(tls_peer_expiry(p.c, &t) == 0);
	CHECK(t == 1580515200);		/* 2020-02-01T00:00:00Z */
	CHECK(server_sees(&p, "x.test", &why) == 0);
	CHECK_STR(why, "certificate has expired");
	pair_free(&p);
}

static void
test_self_signed(void)
{
	struct pair	 p;
	const char	*why;

	REQUIRE(pair_run(&p, "self", "self", "x.test", "x.test"));
	CHECK(client_sees(&p, "x.test", &why) == 0);
	CHECK_STR(why, "self-signed certificate");
	CHECK(server_sees(&p, "x.test", &why) == 0);
	CHECK_STR(why, "self-signed certificate");
	pair_free(&p);
}

static void
test_unknown_ca(void)
{
	struct tls_ctx	*sctx, *cctx;
	SSL		*s, *c;
	const char	*why;

	/* The client trusts only self.pem as CA. */
	sctx = ctx_with("x", NULL);
	cctx = tls_ctx_new(path("self", "pem"));
	REQUIRE(sctx != NULL);
	REQUIRE(tls_ctx_add_cert(cctx, NULL, path("y", "pem"),
	    path("y", "key"), &why) == 0);
	s = tls_server_new(sctx, NULL, &why);
	c = tls_client_new(cctx, "y.test", "x.test", &why);
	REQUIRE(s != NULL && c != NULL);
	CHECK(handshake(c, s));
	CHECK(tls_peer_verified(c, "x.test", &why) == 0);
	CHECK_STR(why, "certificate is not trusted (unknown issuer)");
	CHECK(tls_peer_verified(s, "y.test", &why) == 1);
	SSL_free(s);
	SSL_free(c);
	tls_ctx_free(sctx);
	tls_ctx_free(cctx);
}

static void
test_wildcard(void)
{
	struct pair	 p;
	const char	*why;

	REQUIRE(pair_run(&p, "wild", "wild", "a.x.test", "a.x.test"));
	CHECK(client_sees(&p, "a.x.test", &why) == 1);
	CHECK(client_sees(&p, "B.X.TEST", &why) == 1);
	CHECK(client_sees(&p, "x.test", &why) == 0);
	CHECK_STR(why, "name mismatch: certificate is for *.x.test, not x.test");
	CHECK(client_sees(&p, "a.b.x.test", &why) == 0);
	CHECK(server_sees(&p, "a.x.test", &why) == 1);
	CHECK(server_sees(&p, "x.test", &why) == 0);
	pair_free(&p);
}

static void
test_bad_wildcards(void)
{
	FILE	*f;
	X509	*x;

	f = fopen(path("badwild", "pem"), "r");
	REQUIRE(f != NULL);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	REQUIRE(x != NULL);
	CHECK(tls_cert_names(x, "foo.x.test") == 0);	/* f*o */
	CHECK(tls_cert_names(x, "a.b.x.test") == 0);	/* a.*, *.* */
	CHECK(tls_cert_names(x, "a.test") == 0);	/* *.test */
	CHECK(tls_cert_names(x, "xy.x.test") == 0);	/* x* */
	CHECK(tls_cert_names(x, "test") == 0);		/* * */
	CHECK(tls_cert_names(x, "a.x.test") == 0);
	X509_free(x);
}

static void
test_xmppaddr_only(void)
{
	struct pair	 p;
	const char	*why;

	REQUIRE(pair_run(&p, "xmppaddr", "xmppaddr", "x.test", "x.test"));
	CHECK(client_sees(&p, "x.test", &why) == 1);
	CHECK(server_sees(&p, "X.test", &why) == 1);
	CHECK(server_sees(&p, "y.test", &why) == 0);
	CHECK_STR(why, "name mismatch: certificate is for x.test, not y.test");
	pair_free(&p);
}

static void
test_srv_id_only(void)
{
	struct pair	 p;
	const char	*why;

	REQUIRE(pair_run(&p, "srv", "srv", "x.test", "x.test"));
	CHECK(client_sees(&p, "x.test", &why) == 1);
	CHECK(server_sees(&p, "x.test", &why) == 1);
	CHECK(server_sees(&p, "a.x.test", &why) == 0);
	CHECK_STR(why, "name mismatch: certificate is for _xmpp-server.x.test, "
	    "not a.x.test");
	pair_free(&p);
}

static void
test_cn_never_matches(void)
{
	struct pair	 p;
	const char	*why;

	REQUIRE(pair_run(&p, "cnonly", "cnonly", "x.test", "x.test"));
	CHECK(client_sees(&p, "x.test", &why) == 0);
	CHECK_STR(why, "name mismatch: certificate has no subjectAltName for "
	    "any domain (subject CN x.test is not used), not x.test");
	CHECK(server_sees(&p, "x.test", &why) == 0);
	pair_free(&p);
}

static void
test_idn(void)
{
	struct pair	 p;
	const char	*why;

	REQUIRE(pair_run(&p, "idn", "idn", "bücher.test", "bücher.test"));
	CHECK(client_sees(&p, "bücher.test", &why) == 1);
	CHECK(client_sees(&p, "xn--bcher-kva.test", &why) == 1);
	CHECK(server_sees(&p, "BÜCHER.test", &why) == 1);
	CHECK(client_sees(&p, "bucher.test", &why) == 0);
	/* SNI goes out in A-label form. */
	CHECK_STR(SSL_get_servername(p.s, TLSEXT_NAMETYPE_host_name),
	    "xn--bcher-kva.test");
	pair_free(&p);
}

/* serverAuth alone, as public CAs issue now, is fine as client cert. */
static void
test_server_auth_only_as_client(void)
{
	struct pair	 p;
	const char	*why;

	REQUIRE(pair_run(&p, "x", "serveronly", "x.test", "x.test"));
	CHECK(server_sees(&p, "x.test", &why) == 1);
	pair_free(&p);
}

static void
test_client_auth_only_as_server(void)
{
	struct pair	 p;
	const char	*why;

	REQUIRE(pair_run(&p, "clientonly", "clientonly", "x.test", "x.test"));
	CHECK(client_sees(&p, "x.test", &why) == 0);
	CHECK_STR(why, "certificate is not for this use (extended key usage)");
	CHECK(server_sees(&p, "x.test", &why) == 1);
	pair_free(&p);
}

static SSL_CTX *
raw_client(int maxver, int seclevel)
{
	SSL_CTX	*sc = SSL_CTX_new(TLS_client_method());

	SSL_CTX_set_security_level(sc, seclevel);
	SSL_CTX_set_min_proto_version(sc, 0);
	SSL_CTX_set_max_proto_version(sc, maxver);
	SSL_CTX_set_cipher_list(sc, "ALL:@SECLEVEL=0");
	SSL_CTX_set_verify(sc, SSL_VERIFY_NONE, NULL);
	return sc;
}

static void
test_tls11_refused(void)
{
	struct tls_ctx	*sctx = ctx_with("x", NULL);
	SSL_CTX		*cc = raw_client(TLS1_1_VERSION, 0);
	SSL		*s, *c;
	const char	*err;

	REQUIRE(sctx != NULL);
	s = tls_server_new(sctx, NULL, &err);
	c = SSL_new(cc);
	SSL_set_connect_state(c);
	CHECK(handshake(c, s) == 0);
	SSL_free(s);
	SSL_free(c);
	SSL_CTX_free(cc);
	tls_ctx_free(sctx);
}

/* TLS 1.2, no client certificate, no ALPN: up, but nothing verified. */
static void
test_tls12_no_client_cert(void)
{
	struct tls_ctx	*sctx = ctx_with("x", NULL);
	SSL_CTX		*cc = raw_client(TLS1_2_VERSION, 1);
	SSL		*s, *c;
	const char	*why;
	char		 info[128];
	time_t		 t;

	REQUIRE(sctx != NULL);
	s = tls_server_new(sctx, NULL, &why);
	c = SSL_new(cc);
	SSL_set_connect_state(c);
	CHECK(handshake(c, s) == 1);
	CHECK(SSL_version(s) == TLS1_2_VERSION);
	tls_info(s, info, sizeof(info));
	CHECK(strncmp(info, "TLSv1.2 ECDHE-ECDSA-", 20) == 0);
	CHECK(strstr(info, "GCM") != NULL || strstr(info, "CHACHA") != NULL);
	CHECK(tls_peer_verified(s, "x.test", &why) == 0);
	CHECK_STR(why, "no certificate presented");
	CHECK(tls_peer_expiry(s, &t) == -1);
	CHECK(tls_alpn_is_xmpp(s) == 0);
	SSL_free(s);
	SSL_free(c);
	SSL_CTX_free(cc);
	tls_ctx_free(sctx);
}

/*
 * TLS 1.3: ChaCha20-Poly1305 is chosen even when the client lists AES-GCM
 * first (its per-connection cipher state is smaller, which idle streams
 * keep); a client without it still gets AES-GCM.
 */
static void
test_tls13_suite_order(void)
{
	struct tls_ctx	*sctx = ctx_with("x", NULL);
	SSL_CTX		*cc = raw_client(TLS1_3_VERSION, 1);
	SSL		*s, *c;
	const char	*why;
	char		 info[128];
	int		 i;
	static const char *offer[] = {
		"TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256",
		"TLS_AES_128_GCM_SHA256",
	};
	static const char *want[] = {
		"TLSv1.3 TLS_CHACHA20_POLY1305_SHA256",
		"TLSv1.3 TLS_AES_128_GCM_SHA256",
	};

	REQUIRE(sctx != NULL);
	for (i = 0; i < 2; i++) {
		REQUIRE(SSL_CTX_set_ciphersuites(cc, offer[i]) == 1);
		s = tls_server_new(sctx, NULL, &why);
		c = SSL_new(cc);
		SSL_set_connect_state(c);
		CHECK(handshake(c, s) == 1);
		tls_info(s, info, sizeof(info));
		CHECK(strncmp(info, want[i], strlen(want[i])) == 0);
		SSL_free(s);
		SSL_free(c);
	}
	SSL_CTX_free(cc);
	tls_ctx_free(sctx);
}

/* Which certificate does a client dialing peer get from sctx? */
static const char *
served_for(struct tls_ctx *sctx, const char *preselect, const char *peer)
{
	static char	 cn[64];
	struct tls_ctx	*cctx = ctx_with("y", NULL);
	SSL		*s, *c;
	X509		*x;
	const char	*err;

	snprintf(cn, sizeof(cn), "(none)");
	s = tls_server_new(sctx, preselect, &err);
	c = tls_client_new(cctx, "y.test", peer, &err);
	if (s != NULL && c != NULL && handshake(c, s) &&
	    (x = SSL_get1_peer_certificate(c)) != NULL) {
		X509_NAME_get_text_by_NID(X509_get_subject_name(x),
		    NID_commonName, cn, sizeof(cn));
		X509_free(x);
	}
	SSL_free(s);
	SSL_free(c);
	tls_ctx_free(cctx);
	return cn;
}

static void
test_sni_selects_certificate(void)
{
	struct tls_ctx	*sctx = ctx_with("x", NULL);
	const char	*err;

	REQUIRE(sctx != NULL);
	REQUIRE(tls_ctx_add_cert(sctx, "Y.test", path("y", "pem"),
	    path("y", "key"), &err) == 0);
	CHECK_STR(served_for(sctx, NULL, "y.test"), "y.test");
	CHECK_STR(served_for(sctx, NULL, "x.test"), "x.test");
	CHECK_STR(served_for(sctx, NULL, "z.test"), "x.test");
	/* The header `to` preselects; an unknown SNI keeps that choice. */
	CHECK_STR(served_for(sctx, "y.test", "z.test"), "y.test");
	CHECK_STR(served_for(sctx, "x.test", "y.test"), "y.test");
	tls_ctx_free(sctx);
}

static void
test_add_cert_errors(void)
{
	struct tls_ctx	*ctx = tls_ctx_new(path("ca", "pem"));
	struct tls_ctx	*bad;
	const char	*err;

	CHECK(tls_ctx_has_cert(ctx) == 0);
	CHECK(tls_server_new(ctx, NULL, &err) == NULL);
	CHECK_STR(err, "no TLS certificate configured");
	CHECK(tls_ctx_add_cert(ctx, NULL, path("nothere", "pem"),
	    path("x", "key"), &err) == -1);
	CHECK(strstr(err, "nothere.pem") != NULL);
	CHECK(tls_ctx_add_cert(ctx, NULL, path("x", "pem"), path("y", "key"),
	    &err) == -1);
	CHECK(strstr(err, "key") != NULL);
	CHECK(tls_ctx_has_cert(ctx) == 0);
	CHECK(tls_ctx_add_cert(ctx, "x.test", path("x", "pem"),
	    path("x", "key"), &err) == 0);
	CHECK(tls_ctx_add_cert(ctx, "X.TEST", path("x", "pem"),
	    path("x", "key"), &err) == -1);
	CHECK(strstr(err, "twice") != NULL);
	CHECK(tls_ctx_has_cert(ctx) == 1);
	tls_ctx_free(ctx);

	bad = tls_ctx_new(path("nothere", "pem"));
	CHECK(tls_ctx_add_cert(bad, NULL, path("x", "pem"), path("x", "key"),
	    &err) == -1);
	CHECK(strstr(err, "CA file") != NULL);
	tls_ctx_free(bad);
}

static int
copy(const char *from, const char *to)
{
	char	 cmd[1400];

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
	return system(cmd);
}

static void
test_reload_keeps_live_sessions(void)
{
	struct tls_ctx	*sctx, *cctx;
	SSL		*old, *neu, *c1, *c2;
	const char	*err;
	char		 cert[600], key[600];

	snprintf(cert, sizeof(cert), "%s", path("live", "pem"));
	snprintf(key, sizeof(key), "%s", path("live", "key"));
	REQUIRE(copy(path("x", "pem"), cert) == 0);
	REQUIRE(copy(path("x", "key"), key) == 0);
	sctx = tls_ctx_new(path("ca", "pem"));
	cctx = ctx_with("y", NULL);
	REQUIRE(tls_ctx_add_cert(sctx, NULL, cert, key, &err) == 0);
	old = tls_server_new(sctx, NULL, &err);
	REQUIRE(old != NULL);

	/* A broken key on disk: the reload fails, nothing changes. */
	REQUIRE(copy(path("y", "pem"), cert) == 0);
	CHECK(tls_reload(sctx, &err) == -1);
	REQUIRE(copy(path("y", "key"), key) == 0);
	CHECK(tls_reload(sctx, &err) == 0);
	neu = tls_server_new(sctx, NULL, &err);
	REQUIRE(neu != NULL);

	c1 = tls_client_new(cctx, "y.test", "x.test", &err);
	c2 = tls_client_new(cctx, "y.test", "y.test", &err);
	CHECK(handshake(c1, old));
	CHECK(handshake(c2, neu));
	CHECK(tls_peer_verified(c1, "x.test", &err) == 1);
	CHECK(tls_peer_verified(c2, "y.test", &err) == 1);
	SSL_free(old);
	SSL_free(neu);
	SSL_free(c1);
	SSL_free(c2);
	tls_ctx_free(sctx);
	tls_ctx_free(cctx);
}

static void
test_replace(void)
{
	struct tls_ctx	*live = ctx_with("x", NULL);
	struct tls_ctx	*fresh;
	const char	*err;

	REQUIRE(live != NULL);
	fresh = tls_ctx_new(path("ca", "pem"));
	REQUIRE(tls_ctx_add_cert(fresh, NULL, path("wrong", "pem"),
	    path("wrong", "key"), &err) == 0);
	REQUIRE(tls_ctx_add_cert(fresh, "y.test", path("y", "pem"),
	    path("y", "key"), &err) == 0);
	tls_ctx_replace(live, fresh);
	CHECK_STR(served_for(live, NULL, "x.test"), "wrong.test");
	CHECK_STR(served_for(live, NULL, "y.test"), "y.test");
	tls_ctx_free(live);
}

struct warns {
	int	 n;
	char	 last[600];
};

static void
report(const char *domain, const char *msg, void *arg)
{
	struct warns	*w = arg;

	w->n++;
	snprintf(w->last, sizeof(w->last), "%s: %s", domain, msg);
}

static void
test_check_names(void)
{
	static const char *const doms[] = { "x.test", "y.test" };
	struct tls_ctx	*ctx;
	struct warns	 w;

	ctx = ctx_with("x", NULL);
	REQUIRE(ctx != NULL);
	memset(&w, 0, sizeof(w));
	CHECK(tls_ctx_check_names(ctx, doms, 1, report, &w) == 0);
	CHECK(tls_ctx_check_names(ctx, doms, 2, report, &w) == 1);
	CHECK(strncmp(w.last, "y.test: certificate ", 20) == 0);
	CHECK(strstr(w.last, "no DNS-ID") != NULL);
	tls_ctx_free(ctx);

	/* An XmppAddr is not enough for ejabberd 23.01 (S2S 2.25). */
	ctx = ctx_with("xmppaddr", NULL);
	REQUIRE(ctx != NULL);
	memset(&w, 0, sizeof(w));
	CHECK(tls_ctx_check_names(ctx, doms, 1, report, &w) == 1);
	tls_ctx_free(ctx);

	ctx = ctx_with("self", "x.test");
	REQUIRE(ctx != NULL);
	memset(&w, 0, sizeof(w));
	CHECK(tls_ctx_check_names(ctx, doms, 1, report, &w) == 1);
	CHECK(strstr(w.last, "self-signed") != NULL);
	tls_ctx_free(ctx);

	ctx = ctx_with("expired", NULL);
	REQUIRE(ctx != NULL);
	memset(&w, 0, sizeof(w));
	CHECK(tls_ctx_check_names(ctx, doms, 1, report, &w) == 1);
	CHECK(strstr(w.last, "expired") != NULL);
	tls_ctx_free(ctx);

	ctx = tls_ctx_new(NULL);
	memset(&w, 0, sizeof(w));
	CHECK(tls_ctx_check_names(ctx, doms, 2, report, &w) == 2);
	CHECK_STR(w.last, "y.test: no TLS certificate");
	tls_ctx_free(ctx);
}

static const struct t_case cases[] = {
	{ "valid_both_ways", test_valid_both_ways },
	{ "wrong_name", test_wrong_name },
	{ "expired", test_expired },
	{ "self_signed", test_self_signed },
	{ "unknown_ca", test_unknown_ca },
	{ "wildcard", test_wildcard },
	{ "bad_wildcards", test_bad_wildcards },
	{ "xmppaddr_only", test_xmppaddr_only },
	{ "srv_id_only", test_srv_id_only },
	{ "cn_never_matches", test_cn_never_matches },
	{ "idn", test_idn },
	{ "server_auth_only_as_client", test_server_auth_only_as_client },
	{ "client_auth_only_as_server", test_client_auth_only_as_server },
	{ "tls11_refused", test_tls11_refused },
	{ "tls12_no_client_cert", test_tls12_no_client_cert },
	{ "tls13_suite_order", test_tls13_suite_order },
	{ "sni_selects_certificate", test_sni_selects_certificate },
	{ "add_cert_errors", test_add_cert_errors },
	{ "reload_keeps_live_sessions", test_reload_keeps_live_sessions },
	{ "replace", test_replace },
	{ "check_names", test_check_names },
};

int
main(int argc, char **argv)
{
	return T_RUN(cases, argc, argv);
}
