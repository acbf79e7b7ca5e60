/*
 * tests/unit/payload_test.c: the checks an outbox row's stanza passes
 * before it may reach a stream (server/payload.c): UTF-8 and XML 1.0
 * characters in every text and attribute of the tree, prepared from/to
 * JIDs, the size limit measured as the serializer writes it, and a
 * message row's type.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "el.h"
#include "payload.h"
#include "store.h"
#include "../t.h"

static struct el *
msg(const char *body)
{
	struct store_outbox	 o;

	memset(&o, 0, sizeof(o));
	o.local = "alice";
	o.domain = "a.example";
	o.kind = STORE_KIND_MESSAGE;
	o.body = body;
	return payload_stanza(&o, "bob@b.example", "xfed-1");
}

static int
check_body(const char *body, char *why, size_t n)
{
	struct el	*el = msg(body);
	int		 rc = payload_check(el, 1 << 20, why, n);

	el_free(el);
	return rc;
}

static void
test_text(void)
{
	size_t	 at;

	CHECK(payload_text_ok("plain ascii", 11, &at));
	CHECK(payload_text_ok("tab\tlf\ncr\r", 10, &at));
	CHECK(payload_text_ok("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, &at));
	CHECK(payload_text_ok("\xef\xbf\xbd", 3, &at));		/* U+FFFD */
	CHECK(!payload_text_ok("ab\xff\xfe", 4, &at) && at == 2);
	CHECK(!payload_text_ok("\xc0\x80", 2, &at) && at == 0);	/* overlong */
	CHECK(!payload_text_ok("\xe0\x80\x80", 3, &at));	/* overlong */
	CHECK(!payload_text_ok("\xed\xa0\x80", 3, &at));	/* surrogate */
	CHECK(!payload_text_ok("\xf4\x90\x80\x80", 4, &at));	/* > U+10FFFF */
	CHECK(!payload_text_ok("a\xc3", 2, &at) && at == 1);	/* cut short */
	CHECK(!payload_text_ok("a\x01", 2, &at) && at == 1);	/* XML 1.0 2.2 */
	CHECK(!payload_text_ok("\x1f", 1, &at));
	CHECK(!payload_text_ok("\xef\xbf\xbe", 3, &at));	/* U+FFFE */
	CHECK(!payload_text_ok("\xef\xbf\xbf", 3, &at));	/* U+FFFF */
	CHECK(!payload_text_ok("a\0b", 3, &at) && at == 1);
}

static void
test_body(void)
{
	char	 why[PAYLOAD_WHY_MAX];

	CHECK(check_body("hello <&> \"quoted\"", why, sizeof(why)) == 0);
	REQUIRE(check_body("\xff\xfe", why, sizeof(why)) == -1);
	CHECK(strcmp(why, "<body/> is not valid UTF-8 (byte 1)") == 0);
	REQUIRE(check_body("ok\x02", why, sizeof(why)) == -1);
	CHECK(strcmp(why, "<body/> holds U+0002, which XML 1.0 does not "
	    "allow (byte 3)") == 0);
}

/* Payload parts added to the tree later are checked by being in it. */
static void
test_any_part(void)
{
	struct el	*el = msg("fine"), *x;
	char		 why[PAYLOAD_WHY_MAX];

	x = el_add(el, "urn:example:ext", "x");
	el_set_attr(x, "ref", "r\xc3");
	REQUIRE(payload_check(el, 1 << 20, why, sizeof(why)) == -1);
	CHECK(strstr(why, "attribute ref of <x/>") != NULL);
	el_set_attr(x, "ref", "r");
	el_add_text(el_add(x, NULL, "y"), "\xed\xbf\xbf", 3);
	REQUIRE(payload_check(el, 1 << 20, why, sizeof(why)) == -1);
	CHECK(strstr(why, "<y/> is not valid UTF-8") != NULL);
	el_free(el);
}

static void
test_jids(void)
{
	struct el	*el = msg("x");
	char		 why[PAYLOAD_WHY_MAX];

	el_set_attr(el, "to", "Bob@B.example");
	REQUIRE(payload_check(el, 1 << 20, why, sizeof(why)) == -1);
	CHECK(strcmp(why, "to address is not prepared") == 0);
	el_set_attr(el, "to", "bob@");
	CHECK(payload_check(el, 1 << 20, why, sizeof(why)) == -1);
	el_set_attr(el, "to", "bob@b.example");
	el_set_attr(el, "from", NULL);
	REQUIRE(payload_check(el, 1 << 20, why, sizeof(why)) == -1);
	CHECK(strcmp(why, "no from address") == 0);
	el_free(el);
}

/* The limit is on the bytes the serializer writes, escapes included. */
static void
test_size(void)
{
	struct el	*el = msg("&&&&");
	char		*s, why[PAYLOAD_WHY_MAX];
	size_t		 len;

	s = el_to_string(el, EL_NS_SERVER, &len);
	CHECK(el_size(el, EL_NS_SERVER) == len);
	CHECK(payload_check(el, len, why, sizeof(why)) == 0);
	CHECK(payload_check(el, len - 1, why, sizeof(why)) == -1);
	CHECK(strstr(why, "larger than") != NULL);
	free(s);
	el_free(el);
}

/*
 * A message row's type: NULL (chat) or chat, normal, headline (RFC 6121
 * 5.2.2 as a native user sends); anything else fails the row, named in
 * the reason only when it is short printable ASCII. Other kinds ignore it.
 */
static void
test_row_type(void)
{
	static const char *const good[] = { NULL, "chat", "normal",
	    "headline" };
	static const char *const bad[] = { "", "groupchat", "error", "Chat",
	    "chat ", "normal\n", "\xff" };
	struct store_outbox	 o;
	char			 why[PAYLOAD_WHY_MAX];
	size_t			 i;

	memset(&o, 0, sizeof(o));
	o.kind = STORE_KIND_MESSAGE;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		o.type = good[i];
		CHECK(payload_row_ok(&o, why, sizeof(why)) == 0);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.type = bad[i];
		why[0] = '\0';
		CHECK(payload_row_ok(&o, why, sizeof(why)) == -1);
		CHECK(strstr(why, "not chat, normal or headline") != NULL);
	}
	o.type = "groupchat";
	CHECK(payload_row_ok(&o, why, sizeof(why)) == -1);
	CHECK_STR(why, "type \"groupchat\" is not chat, normal or headline");
	o.type = "normal\n";
	CHECK(payload_row_ok(&o, why, sizeof(why)) == -1);
	CHECK_STR(why, "type is not chat, normal or headline");
	o.kind = STORE_KIND_SUBSCRIBE;
	CHECK(payload_row_ok(&o, why, sizeof(why)) == 0);
}

static const struct t_case cases[] = {
	{ "text", test_text },
	{ "body", test_body },
	{ "any_part", test_any_part },
	{ "jids", test_jids },
	{ "size", test_size },
	{ "row_type", test_row_type },
};

int
main(int argc, char **argv)
{
	return T_RUN(cases, argc, argv);
}
