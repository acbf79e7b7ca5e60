/*
 * tests/unit/conf_test.c: the config parser. Bad configs are compared
 * against tests/conf/NAME.expected, one FILE:LINE message per line; an
 * expected line ending in '*' matches by prefix.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "conf.h"
#include "t.h"

static char	 got[8192];

static void
collect(const char *line)
{
	const char	*p = strrchr(line, '/');

	/* drop the directory so expected files stay short */
	if (p != NULL && strncmp(line, "tests/conf/", 11) == 0)
		line = p + 1;
	strncat(got, line, sizeof(got) - strlen(got) - 2);
	strcat(got, "\n");
}

static void
test_good(void)
{
	struct conf		*c = conf_load("tests/conf/good.conf", NULL);
	struct sockaddr_in6	*s6;

	REQUIRE(c != NULL);
	CHECK(c->domains.n == 1);
	CHECK_STR(CONF_DOMAIN(c, 0), "example.org");
	CHECK(c->listens.n == 2);
	CHECK_STR(CONF_LISTEN(c, 0)->text, "127.0.0.1:5269");
	CHECK_STR(CONF_LISTEN(c, 1)->text, "[::1]:5269");
	s6 = (struct sockaddr_in6 *)&CONF_LISTEN(c, 1)->ss;
	CHECK(s6->sin6_family == AF_INET6 && ntohs(s6->sin6_port) == 5269);
	CHECK_STR(c->store, "tests/conf/db.sqlite");
	CHECK(c->log_level == LOG_L_DEBUG);
	CHECK(c->routes.n == 2);
	CHECK_STR(CONF_ROUTE(c, 0)->domain, "b.localhost");
	CHECK_STR(CONF_ROUTE(c, 0)->host, "127.0.0.1");
	CHECK(CONF_ROUTE(c, 0)->port == 5270);
	CHECK_STR(CONF_ROUTE(c, 1)->host, "::1");
	CHECK(c->resolvers.n == 2);
	CHECK_STR(CONF_RESOLVER(c, 0)->text, "127.0.0.53:53");
	CHECK_STR(CONF_RESOLVER(c, 1)->text, "[::1]:5353");
	CHECK(c->max_stanza_size == 65536);
	CHECK(c->outbound_retry_for == 3 * 3600);
	CHECK(c->require_encryption == 0);
	CHECK(conf_is_hosted(c, "example.org"));
	CHECK(!conf_is_hosted(c, "other.org"));
	CHECK(c->block_domains.n == 2);
	CHECK_STR(CONF_BLOCK_DOMAIN(c, 0), "spam.example");
	CHECK_STR(CONF_BLOCK_DOMAIN(c, 1), "b2.test");
	CHECK(c->allow_domains.n == 1);
	CHECK_STR(CONF_ALLOW_DOMAIN(c, 0), "ok.test");
	CHECK(c->inbox_quota == 100000000);
	CHECK(c->journal_retention == 30 * 86400);
	CHECK(c->outbox_retention == 0);
	CHECK(c->inbox_retention == 0);		/* the default */
	CHECK(c->remote_stanza_rate == 1000000);
	CHECK(c->max_unauth_per_ip == 0);
	CHECK(c->max_pending_per_domain == 1000000);
	CHECK(c->verify_failure_cache == 86400);
	CHECK(c->verify_rate_per_source == 0 && c->verify_source_prefix6 == 56);
	CHECK(c->verify_source_prefix4 == 24);	/* the default */
	CHECK(c->verify_exempt_time == 30 * 86400);
	CHECK(c->route_idle_time == 86400 && c->max_idle_routes == 1000000);
	CHECK(c->header_timeout == 1);
	CHECK(c->stream_read_rate == 1LL << 30);
	CHECK(c->max_verify_per_target == 0);
	conf_free(c);
}

/* A store that is a URI (PostgreSQL) is kept as written, not taken for a
 * path relative to the config file; a relative path still is. */
static void
test_store_uri(void)
{
	const char	*uri = "domain a.test\nrequire_encryption no\n"
			    "store postgresql://xfed@db/xfed\n";
	const char	*rel = "domain a.test\nrequire_encryption no\n"
			    "store var/x.db\n";
	struct conf	*c;

	c = conf_parse("/etc/xfed/xfed.conf", uri, strlen(uri), NULL);
	REQUIRE(c != NULL);
	CHECK_STR(c->store, "postgresql://xfed@db/xfed");
	conf_free(c);
	c = conf_parse("/etc/xfed/xfed.conf", rel, strlen(rel), NULL);
	REQUIRE(c != NULL);
	CHECK_STR(c->store, "/etc/xfed/var/x.db");
	conf_free(c);
}

static void
test_defaults(void)
{
	const char	*txt = "domain Example.ORG.\ntls_certificate c.pem\n"
			    "tls_key k.pem\n";
	struct conf	*c = conf_parse("/etc/xfed/xfed.conf", txt, strlen(txt), NULL);

	REQUIRE(c != NULL);
	CHECK_STR(CONF_DOMAIN(c, 0), "example.org");
	CHECK(c->listens.n == 1);
	CHECK_STR(CONF_LISTEN(c, 0)->text, "0.0.0.0:5269");
	CHECK_STR(c->store, "/var/lib/xfed/xfed.db");
	CHECK(c->inbox_quota == 10000);
	CHECK(c->inbox_retention == 0 && c->outbox_retention == 0);
	CHECK(c->journal_retention == 3600);
	CHECK(c->remote_stanza_rate == 200);
	CHECK(c->max_unauth_streams == 1024 && c->max_unauth_per_ip == 8 &&
	    c->max_unauth_per_net == 32);
	CHECK(c->max_pending_per_ip == 32 && c->max_pending_per_domain == 64);
	CHECK(c->max_pending_per_net == 64);
	CHECK(c->verify_rate_per_domain == 10);
	CHECK(c->verify_rate_per_source == 2 && c->verify_exempt_time == 3600);
	CHECK(c->verify_source_prefix4 == 24 && c->verify_source_prefix6 == 48);
	CHECK(c->verify_failure_cache == 60 && c->header_timeout == 10);
	CHECK(c->route_idle_time == 60 && c->max_idle_routes == 1024);
	CHECK(c->stream_read_rate == 1024 * 1024);
	CHECK(c->max_verify_per_target == 8);
	CHECK(c->max_verify_wait_per_target == 64);
	CHECK(c->max_unauth_stanza_size == 16384);
	CHECK(c->block_domains.n == 0 && c->allow_domains.n == 0);
	CHECK_STR(c->control_socket, "/run/xfed/xfed.sock");
	CHECK(c->require_encryption == 1);
	CHECK(c->max_stanza_size == 524288);
	CHECK(c->log_level == LOG_L_INFO);
	CHECK(c->dialback_secret == NULL);
	CHECK(c->instance_name == NULL && c->lease_time == 30);
	conf_free(c);
}

static void
test_instance_name_long(void)
{
	char	 txt[400];

	snprintf(txt, sizeof(txt), "domain a.example\nrequire_encryption no\n"
	    "instance_name %0256d\n", 0);
	got[0] = '\0';
	CHECK(conf_parse("x.conf", txt, strlen(txt), collect) == NULL);
	CHECK_STR(got, "x.conf: instance_name is longer than 255 bytes\n");
}

static void
test_bad(void)
{
	char		*want = t_readfile("tests/conf/bad.expected", NULL);
	char		*w, *g, *wl, *gl, *ws = NULL, *gs = NULL;
	size_t		 n;

	REQUIRE(want != NULL);
	got[0] = '\0';
	CHECK(conf_load("tests/conf/bad.conf", collect) == NULL);
	/* compare line by line; '*' at the end of an expected line is a prefix */
	for (w = strtok_r(want, "\n", &ws), g = strtok_r(got, "\n", &gs);
	    w != NULL || g != NULL;
	    w = strtok_r(NULL, "\n", &ws), g = strtok_r(NULL, "\n", &gs)) {
		wl = w ? w : "(none)";
		gl = g ? g : "(none)";
		n = strlen(wl);
		if (n > 0 && wl[n - 1] == '*' ? strncmp(wl, gl, n - 1) != 0 :
		    strcmp(wl, gl) != 0)
			t_fail_str(__FILE__, __LINE__, "error line", gl, wl);
	}
	free(want);
}

static void
test_no_domain(void)
{
	const char	*txt = "listen 127.0.0.1:5269\nrequire_encryption no\n";

	got[0] = '\0';
	CHECK(conf_parse("x.conf", txt, strlen(txt), collect) == NULL);
	CHECK_STR(got, "x.conf: no domain configured (add a \"domain\" line)\n");
}

static void
test_tls_pair(void)
{
	const char	*txt = "domain a.example\ntls_certificate c.pem\n";

	got[0] = '\0';
	CHECK(conf_parse("x.conf", txt, strlen(txt), collect) == NULL);
	CHECK_STR(got, "x.conf: tls_certificate and tls_key go together\n");
}

static void
test_tls_required(void)
{
	const char	*txt = "domain a.example\nsecure_auth yes\n"
			    "require_encryption no\n";

	got[0] = '\0';
	CHECK(conf_parse("x.conf", txt, strlen(txt), collect) == NULL);
	CHECK_STR(got, "x.conf: secure_auth and listen_tls need tls_certificate "
	    "and tls_key\n");
	got[0] = '\0';
	CHECK(conf_parse("x.conf", "domain a.example\n", 17, collect) == NULL);
	CHECK_STR(got, "x.conf: require_encryption is yes (the default): set "
	    "tls_certificate and tls_key, or require_encryption no\n");
}

static void
test_missing_file(void)
{
	got[0] = '\0';
	CHECK(conf_load("tests/conf/does-not-exist.conf", collect) == NULL);
	CHECK_STR(got, "does-not-exist.conf: No such file or directory\n");
}

static void
test_long_line_nul(void)
{
	char		 buf[5000];

	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "domain a.example\n", 17);
	got[0] = '\0';
	CHECK(conf_parse("x.conf", buf, sizeof(buf), collect) == NULL);
	CHECK(strncmp(got, "x.conf:2: line longer than 4095 bytes\n", 38) == 0);
	got[0] = '\0';
	CHECK(conf_parse("x.conf", "domain a.example\nlog_level \0x\n", 30,
	    collect) == NULL);
	CHECK(strncmp(got, "x.conf:2: NUL byte in line\n", 27) == 0);
}

static void
test_sample_parses(void)
{
	char		*buf = NULL, *p;
	size_t		 len = 0;
	FILE		*f = open_memstream(&buf, &len);
	struct conf	*c;

	conf_print_sample(f);
	fclose(f);
	/* the sample is all comments: uncomment the defaults and add a domain */
	for (p = buf; (p = strstr(p, "\n#")) != NULL; p++) {
		size_t	 n = strcspn(p + 1, "\n");

		if (p[2] != ' ' && memchr(p + 1, ' ', n) != NULL)
			p[1] = ' ';
	}
	got[0] = '\0';
	c = conf_parse("s.conf", buf, len, collect);
	CHECK(c == NULL);	/* no domain in the sample */
	CHECK_STR(got, "s.conf: no domain configured (add a \"domain\" line)\n"
	    "s.conf: require_encryption is yes (the default): set "
	    "tls_certificate and tls_key, or require_encryption no\n");
	free(buf);
}

static void
test_http(void)
{
	const char	*txt = "domain a.example\nrequire_encryption no\n"
			    "http_listen 127.0.0.1:5280\nhttp_listen [::1]:5280\n"
			    "http_socket api.sock\nhttp_rate 7\n"
			    "webhook http://127.0.0.1:9/hook s3cret\n"
			    "webhook https://hooks.example/x?y=1\n";
	struct conf	*c = conf_parse("/etc/xfed/xfed.conf", txt, strlen(txt),
			    NULL);

	REQUIRE(c != NULL);
	CHECK(c->http_listens.n == 2);
	CHECK_STR(CONF_HTTP(c, 1)->text, "[::1]:5280");
	CHECK_STR(c->http_socket, "/etc/xfed/api.sock");
	CHECK(c->http_rate == 7);
	CHECK(c->http_max_body == 1024 * 1024);
	CHECK(c->http_max_wait == 60);
	CHECK(c->webhooks.n == 2);
	CHECK_STR(CONF_WEBHOOK(c, 0)->url, "http://127.0.0.1:9/hook");
	CHECK_STR(CONF_WEBHOOK(c, 0)->secret, "s3cret");
	CHECK(CONF_WEBHOOK(c, 1)->secret == NULL);
	CHECK(c->webhook_backoff_max == 300);
	CHECK(c->events_keep == 7 * 86400);
	conf_free(c);
}

static void
test_http_bad(void)
{
	const char	*txt = "domain a.example\nrequire_encryption no\n"
			    "http_listen 127.0.0.1\nhttp_rate 1k\n"
			    "http_rate 0\nwebhook ftp://x/\n"
			    "webhook http://\nwebhook http://x/ a b\n"
			    "http_listen_tls 127.0.0.1:5281\n";

	got[0] = '\0';
	CHECK(conf_parse("x.conf", txt, strlen(txt), collect) == NULL);
	CHECK_STR(got,
	    "x.conf:3: http_listen: \"127.0.0.1\": a port is required "
	    "(ADDR:PORT)\n"
	    "x.conf:4: http_rate: \"1k\" is not a number\n"
	    "x.conf:5: http_rate: set more than once\n"
	    "x.conf:6: webhook: \"ftp://x/\": the URL must start with "
	    "http:// or https://\n"
	    "x.conf:7: webhook: \"http://\": the URL must start with "
	    "http:// or https://\n"
	    "x.conf:8: webhook: expected URL [SECRET]\n"
	    "x.conf: http_listen_tls needs tls_certificate and tls_key\n");
}

static const struct t_case cases[] = {
	{ "conf_good", test_good },
	{ "conf_defaults", test_defaults },
	{ "conf_store_uri", test_store_uri },
	{ "conf_bad_lines", test_bad },
	{ "conf_no_domain", test_no_domain },
	{ "conf_instance_name_long", test_instance_name_long },
	{ "conf_tls_pair", test_tls_pair },
	{ "conf_tls_required", test_tls_required },
	{ "conf_missing_file", test_missing_file },
	{ "conf_long_line_nul", test_long_line_nul },
	{ "conf_sample_parses", test_sample_parses },
	{ "conf_http", test_http },
	{ "conf_http_bad", test_http_bad },
};

int
main(int argc, char **argv)
{
	return T_RUN(cases, argc, argv);
}
