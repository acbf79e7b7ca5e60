/*
 * tests/unit/json_test.c: the JSON encoder (server/json.c): any bytes the
 * store holds become valid JSON (invalid UTF-8 as U+FFFD), NULL and unset
 * times as null, base64 both ways with its refusals, the webhook token
 * and HMAC helpers' hex (server/token.c).
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "t.h"
#include "token.h"

static void
test_lossy(void)
{
	static const struct {
		const char	*in, *want;
	} v[] = {
		{ "plain", "\"plain\"" },
		{ "quote \" back \\ nl \n", "\"quote \\\" back \\\\ nl \\n\"" },
		{ "\xc3\xa9 \xe6\x97\xa5", "\"\xc3\xa9 \xe6\x97\xa5\"" },
		{ "bad \xff end", "\"bad \xef\xbf\xbd end\"" },
		{ "overlong \xc0\xaf", "\"overlong \xef\xbf\xbd\xef\xbf\xbd\"" },
		{ "surrogate \xed\xa0\x80", "\"surrogate \xef\xbf\xbd\xef\xbf\xbd"
		    "\xef\xbf\xbd\"" },
		{ "cut \xe6\x97", "\"cut \xef\xbf\xbd\xef\xbf\xbd\"" },
	};
	size_t	 i;
	json_t	*j;
	char	*s;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		j = json_str_lossy(v[i].in);
		REQUIRE(j != NULL);
		s = json_text(j);
		CHECK(strcmp(s, v[i].want) == 0);
		free(s);
		json_decref(j);
	}
	j = json_str_lossy(NULL);
	CHECK(json_is_null(j));
	json_decref(j);
}

static void
test_put(void)
{
	json_t	*o = json_object();
	char	*s;

	json_put_str(o, "a", NULL);
	json_put_time(o, "t", 0);
	json_put_time(o, "u", 5);
	json_put_int(o, "i", -3);
	json_put_bool(o, "b", 1);
	s = json_text(o);
	CHECK(strcmp(s, "{\"a\":null,\"t\":null,\"u\":5,\"i\":-3,\"b\":true}") == 0);
	free(s);
	json_decref(o);
}

static void
test_base64(void)
{
	static const unsigned char	 bin[] = { 0, 1, 2, 0xfe, 0xff };
	unsigned char			*d;
	json_t				*o = json_object();
	size_t				 n;

	json_put_base64(o, "x", bin, sizeof(bin));
	REQUIRE(json_string_value(json_object_get(o, "x")) != NULL);
	CHECK(strcmp(json_string_value(json_object_get(o, "x")), "AAEC/v8=") == 0);
	d = json_base64_decode("AAEC/v8=", &n);
	REQUIRE(d != NULL);
	CHECK(n == sizeof(bin) && memcmp(d, bin, n) == 0);
	free(d);
	d = json_base64_decode("aGk=", &n);
	REQUIRE(d != NULL);
	CHECK(n == 2 && memcmp(d, "hi", 2) == 0);
	free(d);
	CHECK(json_base64_decode("aGk", &n) == NULL);		/* length */
	CHECK(json_base64_decode("a!k=", &n) == NULL);		/* alphabet */
	CHECK(json_base64_decode("a=k=", &n) == NULL);		/* inner pad */
	CHECK(json_base64_decode("aG=k", &n) == NULL);
	json_decref(o);
}

static void
test_token(void)
{
	char	 t1[TOKEN_LEN + 1], t2[TOKEN_LEN + 1], h[TOKEN_HASH_LEN + 1];

	REQUIRE(token_new(t1, sizeof(t1)) == 0);
	REQUIRE(token_new(t2, sizeof(t2)) == 0);
	CHECK(strlen(t1) == TOKEN_LEN && strncmp(t1, "xfed_", 5) == 0);
	CHECK(strcmp(t1, t2) != 0);
	CHECK(token_new(t1, TOKEN_LEN) == -1);
	token_hash("abc", 3, h);
	CHECK(strcmp(h, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad") == 0);
}

static const struct t_case cases[] = {
	{ "lossy", test_lossy },
	{ "put", test_put },
	{ "base64", test_base64 },
	{ "token", test_token },
};

int
main(int argc, char **argv)
{
	return T_RUN(cases, argc, argv);
}
