/*
 * tests/unit/sasl_test.c: sasl/external.c: strict base64 (S2S 10.14, 3.7),
 * the receiver's authzid rules and verdicts (S2S 3.5, 3.6), our <auth/>
 * text (S2S 3.4, 11.13) and reading the peer's answer (S2S 3.3, 11.5).
 */
#include <string.h>

#include "tests/t.h"
#include "sasl/external.h"

static int
dec(const char *in, char *out, size_t outsz)
{
	size_t	 n;

	return sasl_b64_decode(in, strlen(in), out, outsz, &n);
}

static void
test_b64_valid(void)
{
	static const struct {
		const char	*in, *out;
	} v[] = {				/* RFC 4648 10 */
		{ "", "" },
		{ "Zg==", "f" },
		{ "Zm8=", "fo" },
		{ "Zm9v", "foo" },
		{ "Zm9vYg==", "foob" },
		{ "Zm9vYmE=", "fooba" },
		{ "Zm9vYmFy", "foobar" },
		{ "eC50ZXN0", "x.test" },
		{ "+/+/", "\xfb\xff\xbf" },
	};
	char	 out[64];
	size_t	 i, n;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		CHECK(sasl_b64_decode(v[i].in, strlen(v[i].in), out,
		    sizeof(out), &n) == 0);
		CHECK_STR(out, v[i].out);
		CHECK(n == strlen(v[i].out));
		CHECK(sasl_b64_encode(v[i].out, strlen(v[i].out), out,
		    sizeof(out)) == 0);
		CHECK_STR(out, v[i].in);
	}
}

static void
test_b64_strict(void)
{
	static const char *const bad[] = {
		"=",		/* alone: the caller's empty response, not data */
		"Zg",		/* padding missing */
		"Zg=",
		"Zg===",
		"====",
		"Z===",
		"Zg==Zg==",	/* '=' before the end */
		"Z=g=",
		"Zm9v Yg==",	/* whitespace */
		"Zm9v\nYg==",
		"Zm9vYg==\n",
		"Zm9-",		/* base64url alphabet */
		"Zm9_",
		"Zm9v*A==",
		"Zh==",		/* non-zero padding bits */
		"Zm9=",
		"Zm+=",
	};
	char	 out[64];
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (dec(bad[i], out, sizeof(out)) != -1)
			t_fail_str(__FILE__, __LINE__, "accepted", bad[i], "-1");
	/* A NUL inside the length is outside the alphabet. */
	CHECK(sasl_b64_decode("Zm\0v", 4, out, sizeof(out), NULL) == -1);
}

static void
test_b64_buffer_sizes(void)
{
	char	 out[8];

	CHECK(dec("Zm9vYmFy", out, 7) == 0);	/* 6 bytes and the NUL */
	CHECK(dec("Zm9vYmFy", out, 6) == -1);
	CHECK(sasl_b64_encode("foo", 3, out, 5) == 0);
	CHECK(sasl_b64_encode("foo", 3, out, 4) == -1);
}

static void
test_cond_names(void)
{
	CHECK_STR(sasl_cond_name(SASL_C_INVALID_AUTHZID), "invalid-authzid");
	CHECK_STR(sasl_cond_name(SASL_C_TEMPORARY_AUTH_FAILURE),
	    "temporary-auth-failure");
	CHECK_STR(sasl_cond_name(SASL_C_NONE), "");
	CHECK(sasl_cond_parse("incorrect-encoding") ==
	    SASL_C_INCORRECT_ENCODING);
	CHECK(sasl_cond_parse("aborted") == SASL_C_ABORTED);
	CHECK(sasl_cond_parse("bad-protocol") == SASL_C_NOT_AUTHORIZED);
	CHECK(sasl_cond_parse("") == SASL_C_NOT_AUTHORIZED);
	CHECK(sasl_cond_parse(NULL) == SASL_C_NOT_AUTHORIZED);
}

static void
test_receive_success(void)
{
	const char	*why = "unset";

	/* base64("x.test"), "=", and no data at all. */
	CHECK(sasl_ext_receive("EXTERNAL", "eC50ZXN0", "x.test", 1, 1,
	    &why) == SASL_C_NONE);
	CHECK(why == NULL);
	CHECK(sasl_ext_receive("EXTERNAL", "=", "x.test", 1, 1, &why) ==
	    SASL_C_NONE);
	CHECK(sasl_ext_receive("EXTERNAL", "", "x.test", 1, 1, &why) ==
	    SASL_C_NONE);
	CHECK(sasl_ext_receive("EXTERNAL", NULL, "x.test", 1, 1, &why) ==
	    SASL_C_NONE);
	/* base64("X.Test.") compares after domain preparation. */
	CHECK(sasl_ext_receive("EXTERNAL", "WC5UZXN0Lg==", "x.test", 1, 1,
	    &why) == SASL_C_NONE);
	/* base64("bücher.test") against the A-label form of the header. */
	CHECK(sasl_ext_receive("EXTERNAL", "YsO8Y2hlci50ZXN0",
	    "xn--bcher-kva.test", 1, 1, &why) == SASL_C_NONE);
}

static void
test_receive_mechanism(void)
{
	const char	*why;

	CHECK(sasl_ext_receive("PLAIN", "=", "x.test", 1, 1, &why) ==
	    SASL_C_INVALID_MECHANISM);
	CHECK(sasl_ext_receive("external", "=", "x.test", 1, 1, &why) ==
	    SASL_C_INVALID_MECHANISM);
	CHECK(sasl_ext_receive(NULL, "=", "x.test", 1, 1, &why) ==
	    SASL_C_INVALID_MECHANISM);
	CHECK_STR(why, "no mechanism given");
}

static void
test_receive_needs_tls(void)
{
	const char	*why;

	CHECK(sasl_ext_receive("EXTERNAL", "=", "x.test", 0, 0, &why) ==
	    SASL_C_ENCRYPTION_REQUIRED);
}

static void
test_receive_bad_encoding(void)
{
	const char	*why;

	CHECK(sasl_ext_receive("EXTERNAL", "eC50ZXN0=", "x.test", 1, 1,
	    &why) == SASL_C_INCORRECT_ENCODING);
	CHECK(sasl_ext_receive("EXTERNAL", "eC50 ZXN0", "x.test", 1, 1,
	    &why) == SASL_C_INCORRECT_ENCODING);
	CHECK(sasl_ext_receive("EXTERNAL", "==", "x.test", 1, 1, &why) ==
	    SASL_C_INCORRECT_ENCODING);
	CHECK_STR(why, "response is not strict base64");
}

static void
test_receive_authzid(void)
{
	char		 big[SASL_EXT_TEXT_MAX + 8];
	const char	*why;

	/* base64("y.test"): another domain than the header's. */
	CHECK(sasl_ext_receive("EXTERNAL", "eS50ZXN0", "x.test", 1, 1,
	    &why) == SASL_C_INVALID_AUTHZID);
	CHECK_STR(why, "authzid is not the stream's from domain");
	/* base64("a@x.test") and base64("x.test/r"): not bare domains. */
	CHECK(sasl_ext_receive("EXTERNAL", "YUB4LnRlc3Q=", "x.test", 1, 1,
	    &why) == SASL_C_INVALID_AUTHZID);
	CHECK_STR(why, "authzid is not a domain");
	CHECK(sasl_ext_receive("EXTERNAL", "eC50ZXN0L3I=", "x.test", 1, 1,
	    &why) == SASL_C_INVALID_AUTHZID);
	/* base64("x.test\0"): a NUL in the authzid. */
	CHECK(sasl_ext_receive("EXTERNAL", "eC50ZXN0AA==", "x.test", 1, 1,
	    &why) == SASL_C_INVALID_AUTHZID);
	/* base64 of invalid UTF-8 "\xff.test". */
	CHECK(sasl_ext_receive("EXTERNAL", "/y50ZXN0", "x.test", 1, 1,
	    &why) == SASL_C_INVALID_AUTHZID);
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(sasl_ext_receive("EXTERNAL", big, "x.test", 1, 1, &why) ==
	    SASL_C_INVALID_AUTHZID);
}

static void
test_receive_not_authorized(void)
{
	const char	*why;

	CHECK(sasl_ext_receive("EXTERNAL", "eC50ZXN0", "x.test", 1, 0,
	    &why) == SASL_C_NOT_AUTHORIZED);
	CHECK_STR(why, "certificate not valid for the stream's from domain");
	CHECK(sasl_ext_receive("EXTERNAL", "=", NULL, 1, 1, &why) ==
	    SASL_C_NOT_AUTHORIZED);
	CHECK_STR(why, "stream header has no from");
	/* The authzid is checked before the certificate. */
	CHECK(sasl_ext_receive("EXTERNAL", "eS50ZXN0", "x.test", 1, 0,
	    &why) == SASL_C_INVALID_AUTHZID);
}

static void
test_auth_text(void)
{
	char	 out[SASL_EXT_TEXT_MAX];
	char	 big[SASL_AUTHZID_MAX + 2];

	CHECK(sasl_ext_auth_text("x.test", out, sizeof(out)) == 0);
	CHECK_STR(out, "eC50ZXN0");
	CHECK(sasl_ext_auth_text("example.org", out, sizeof(out)) == 0);
	CHECK_STR(out, "ZXhhbXBsZS5vcmc=");
	CHECK(sasl_ext_auth_text("", out, sizeof(out)) == 0);
	CHECK_STR(out, "=");
	memset(big, 'a', SASL_AUTHZID_MAX);
	big[SASL_AUTHZID_MAX] = '\0';
	CHECK(sasl_ext_auth_text(big, out, sizeof(out)) == 0);
	CHECK(strlen(out) == SASL_EXT_TEXT_MAX - 1);
	big[SASL_AUTHZID_MAX] = 'a';
	big[SASL_AUTHZID_MAX + 1] = '\0';
	CHECK(sasl_ext_auth_text(big, out, sizeof(out)) == -1);
	CHECK(sasl_ext_auth_text("x.test", out, 8) == -1);
}

/* What we send, the receiver accepts. */
static void
test_round_trip(void)
{
	char		 out[SASL_EXT_TEXT_MAX];
	const char	*why;

	REQUIRE(sasl_ext_auth_text("xfed.test", out, sizeof(out)) == 0);
	CHECK(sasl_ext_receive("EXTERNAL", out, "xfed.test", 1, 1, &why) ==
	    SASL_C_NONE);
}

static void
test_answer(void)
{
	enum sasl_cond	 c;
	char		 why[128];

	CHECK(sasl_ext_answer("success", NULL, NULL, &c, why, sizeof(why)) ==
	    SASL_EXT_OK);
	CHECK(c == SASL_C_NONE);
	CHECK_STR(why, "");

	/* Prosody with secure auth (S2S 2.27). */
	CHECK(sasl_ext_answer("failure", "not-authorized",
	    "Your server's certificate is self-signed", &c, why,
	    sizeof(why)) == SASL_EXT_FAILED);
	CHECK(c == SASL_C_NOT_AUTHORIZED);
	CHECK_STR(why,
	    "not-authorized: Your server's certificate is self-signed");

	CHECK(sasl_ext_answer("failure", "invalid-authzid", NULL, &c, why,
	    sizeof(why)) == SASL_EXT_FAILED);
	CHECK(c == SASL_C_INVALID_AUTHZID);
	CHECK_STR(why, "invalid-authzid");

	/* An empty <failure/>, and a condition we do not know. */
	CHECK(sasl_ext_answer("failure", NULL, NULL, &c, why, sizeof(why)) ==
	    SASL_EXT_FAILED);
	CHECK(c == SASL_C_NOT_AUTHORIZED);
	CHECK(sasl_ext_answer("failure", "bad-protocol", "x", &c, why,
	    sizeof(why)) == SASL_EXT_FAILED);
	CHECK(c == SASL_C_NOT_AUTHORIZED);
	CHECK_STR(why, "bad-protocol: x");

	/* The peer's text is escaped for the log. */
	CHECK(sasl_ext_answer("failure", "not-authorized", "a\nb\x1b", &c,
	    why, sizeof(why)) == SASL_EXT_FAILED);
	CHECK_STR(why, "not-authorized: a\\x0ab\\x1b");

	CHECK(sasl_ext_answer("challenge", NULL, NULL, &c, why,
	    sizeof(why)) == SASL_EXT_ABORT);
	CHECK(c == SASL_C_NONE);
	CHECK_STR(why, "unexpected <challenge/> after <auth/>");
}

static const struct t_case cases[] = {
	{ "b64_valid", test_b64_valid },
	{ "b64_strict", test_b64_strict },
	{ "b64_buffer_sizes", test_b64_buffer_sizes },
	{ "cond_names", test_cond_names },
	{ "receive_success", test_receive_success },
	{ "receive_mechanism", test_receive_mechanism },
	{ "receive_needs_tls", test_receive_needs_tls },
	{ "receive_bad_encoding", test_receive_bad_encoding },
	{ "receive_authzid", test_receive_authzid },
	{ "receive_not_authorized", test_receive_not_authorized },
	{ "auth_text", test_auth_text },
	{ "round_trip", test_round_trip },
	{ "answer", test_answer },
};

int
main(int argc, char **argv)
{
	return T_RUN(cases, argc, argv);
}
