/*
 * tests/unit/el_test.c: element trees: building, queries, the arena, copies
 * and the serializer's namespace and escaping rules, checked by parsing
 * the output again with the stream parser.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "el.h"
#include "xml.h"
#include "../t.h"

/* Serialize, parse, serialize: the two strings must be equal. */
static void
check_round_trip(const struct el *el)
{
	char		*a, *b;
	struct el	*back;

	a = el_to_string(el, EL_NS_SERVER, NULL);
	back = t_parse_stanza(a);
	REQUIRE(back != NULL);
	b = el_to_string(back, EL_NS_SERVER, NULL);
	CHECK_STR(b, a);
	free(a);
	free(b);
	el_free(back);
}

static void
test_build_query(void)
{
	struct el	*m, *b, *x, *c;
	int		 n = 0;

	m = el_new(EL_NS_SERVER, "message");
	el_set_attr(m, "to", "romeo@a.example");
	el_set_attr(m, "type", "chat");
	el_set_attr(m, "type", "normal");
	el_set_attr(m, "id", "1");
	el_set_attr(m, "id", NULL);
	b = el_add(m, NULL, "body");
	el_add_text(b, "hello ", 6);
	el_add_text(b, "world", 5);
	x = el_add(m, "urn:x", "x");
	el_add_text(m, "tail", 4);
	c = el_add(x, NULL, "y");
	CHECK_STR(el_attr(m, "type"), "normal");
	CHECK(el_attr(m, "id") == NULL);
	CHECK_STR(b->ns, EL_NS_SERVER);
	CHECK_STR(c->ns, "urn:x");
	CHECK(el_child(m, NULL, "x") == x);
	CHECK(el_child(m, "urn:x", "x") == x);
	CHECK(el_child(m, EL_NS_SERVER, "x") == NULL);
	CHECK(el_child(m, EL_NS_SERVER, "body") == b);
	CHECK_STR(el_text(b), "hello world");
	CHECK(b->children == b->last);		/* merged into one node */
	CHECK_STR(el_text(m), "tail");
	CHECK(el_is(m, EL_NS_SERVER, "message"));
	CHECK(el_is(m, NULL, "message"));
	CHECK(!el_is(m, "urn:x", "message"));
	EL_FOREACH(c, m)
		n++;
	CHECK(n == 2);
	CHECK(el_is_text(m->last));
	el_free(m);
}

static void
test_mixed_text(void)
{
	struct el	*p;
	char		*s;

	p = t_parse_stanza("<message><body>Hello <b>big</b> world<i/>!"
	    "</body></message>");
	REQUIRE(p != NULL);
	CHECK_STR(el_text(el_child(p, NULL, "body")), "Hello  world!");
	s = el_to_string(p, EL_NS_SERVER, NULL);
	CHECK_STR(s, "<message><body>Hello <b>big</b> world<i/>!</body>"
	    "</message>");
	free(s);
	check_round_trip(p);
	el_free(p);
}

static void
test_ns_rules(void)
{
	struct el	*m, *f, *r;
	char		*s;

	m = el_new(EL_NS_SERVER, "message");
	el_add_text(el_add(m, NULL, "body"), "b", 1);
	el_add(el_add(m, "urn:x", "x"), NULL, "y");
	el_add(m, "", "none");
	s = el_to_string(m, EL_NS_SERVER, NULL);
	CHECK_STR(s, "<message><body>b</body><x xmlns='urn:x'><y/></x>"
	    "<none xmlns=''/></message>");
	free(s);
	s = el_to_string(m, NULL, NULL);	/* stored on its own */
	CHECK_STR(s, "<message xmlns='jabber:server'><body>b</body>"
	    "<x xmlns='urn:x'><y/></x><none xmlns=''/></message>");
	free(s);
	check_round_trip(m);
	el_free(m);

	/* stream: and db: are written with the header's prefixes */
	f = el_new(EL_NS_STREAMS, "features");
	el_add(f, "urn:xmpp:features:dialback", "dialback");
	el_add(f, "urn:ietf:params:xml:ns:xmpp-tls", "starttls");
	s = el_to_string(f, EL_NS_SERVER, NULL);
	CHECK_STR(s, "<stream:features><dialback xmlns='urn:xmpp:features:"
	    "dialback'/><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
	    "</stream:features>");
	free(s);
	check_round_trip(f);
	el_free(f);

	r = el_new(EL_NS_DIALBACK, "result");
	el_set_attr(r, "from", "b.example");
	el_add_text(r, "key", 3);
	s = el_to_string(r, EL_NS_SERVER, NULL);
	CHECK_STR(s, "<db:result from='b.example'>key</db:result>");
	free(s);
	/* on its own it declares the prefix it uses */
	s = el_to_string(r, NULL, NULL);
	CHECK_STR(s, "<db:result xmlns:db='jabber:server:dialback' "
	    "from='b.example'>key</db:result>");
	free(s);
	/* a jabber:server child of a db: element inherits the default */
	el_add(r, EL_NS_SERVER, "error");
	s = el_to_string(r, EL_NS_SERVER, NULL);
	CHECK_STR(s, "<db:result from='b.example'>key<error/></db:result>");
	free(s);
	check_round_trip(r);
	el_free(r);
}

static void
test_escaping(void)
{
	struct el	*m, *b;
	char		*s;
	const char	*v = "it's \"q\" <&> tab\there\nnl\rcr caf\xc3\xa9 "
	    "\xe6\x97\xa5 \xf0\x9f\x98\x80 ]]>";

	m = el_new(EL_NS_SERVER, "message");
	el_set_attr(m, "id", v);
	el_set_attr(m, "xml:lang", "en");
	b = el_add(m, NULL, "body");
	el_add_text(b, v, strlen(v));
	s = el_to_string(m, EL_NS_SERVER, NULL);
	CHECK_STR(s, "<message id='it&apos;s &quot;q&quot; &lt;&amp;&gt; "
	    "tab&#9;here&#10;nl&#13;cr caf\xc3\xa9 \xe6\x97\xa5 "
	    "\xf0\x9f\x98\x80 ]]&gt;' xml:lang='en'><body>it's \"q\" "
	    "&lt;&amp;&gt; tab\there\nnl&#13;cr caf\xc3\xa9 \xe6\x97\xa5 "
	    "\xf0\x9f\x98\x80 ]]&gt;</body></message>");
	free(s);
	check_round_trip(m);
	el_free(m);

	/* bytes that are not UTF-8 (a store written without checks) and
	 * U+FFFE go out as U+FFFD: the peer's parser never sees them */
	m = el_new(EL_NS_SERVER, "m");
	el_set_attr(m, "a", "x\xc3(y\xef\xbf\xbez");
	el_add_text(m, "a\xc3(b\xff\xc0\xaf" "c\xe6\x97", 11);
	s = el_to_string(m, EL_NS_SERVER, NULL);
	CHECK_STR(s, "<m a='x\xef\xbf\xbd(y\xef\xbf\xbd\xef\xbf\xbd"
	    "\xef\xbf\xbdz'>a\xef\xbf\xbd(b\xef\xbf\xbd\xef\xbf\xbd"
	    "\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd</m>");
	free(s);
	el_free(m);

	/* control characters are not XML: left out */
	m = el_new(EL_NS_SERVER, "m");
	el_set_attr(m, "a", "x\x01y");
	el_add_text(m, "p\x02q\x1f", 4);
	s = el_to_string(m, EL_NS_SERVER, NULL);
	CHECK_STR(s, "<m a='xy'>pq</m>");
	free(s);
	el_free(m);
}

/* Parsed attribute values come back decoded, whatever the quoting. */
static void
test_parsed_values(void)
{
	struct el	*m;

	m = t_parse_stanza("<message a='&amp;&#38;&lt;&gt;&quot;&apos;' "
	    "b=\"x&#10;y&#9;z&#13;\" c='1\n2\t3' d='&amp;#38;'>"
	    "<x:y xmlns:x='urn:a&amp;b' x:z='&amp;'/></message>");
	REQUIRE(m != NULL);
	CHECK_STR(el_attr(m, "a"), "&&<>\"'");
	CHECK_STR(el_attr(m, "b"), "x\ny\tz\r");
	CHECK_STR(el_attr(m, "c"), "1 2 3");
	CHECK_STR(el_attr(m, "d"), "&#38;");
	CHECK_STR(el_first(m)->ns, "urn:a&b");
	CHECK_STR(el_attr(el_first(m), "x:z"), "&");
	check_round_trip(m);
	el_free(m);
}

static void
test_copy(void)
{
	struct el	*m, *x, *c, *d;
	char		*s1, *s2;

	m = t_parse_stanza("<message to='a'><x xmlns='urn:x' k='v'><y>t<z/>u</y>"
	    "</x><body>b</body></message>");
	REQUIRE(m != NULL);
	x = el_child(m, "urn:x", "x");
	REQUIRE(x != NULL);
	c = el_copy(x);
	s1 = el_to_string(x, NULL, NULL);
	el_free(m);			/* the copy owns its own memory */
	CHECK(c->parent == NULL);
	s2 = el_to_string(c, NULL, NULL);
	CHECK_STR(s2, s1);
	CHECK_STR(s2, "<x xmlns='urn:x' k='v'><y>t<z/>u</y></x>");
	free(s2);

	d = el_new(EL_NS_SERVER, "iq");
	el_add_copy(d, c);
	el_add_copy(d, c);
	el_free(c);
	s2 = el_to_string(d, EL_NS_SERVER, NULL);
	CHECK_STR(s2, "<iq><x xmlns='urn:x' k='v'><y>t<z/>u</y></x>"
	    "<x xmlns='urn:x' k='v'><y>t<z/>u</y></x></iq>");
	free(s1);
	free(s2);
	el_free(d);
}

/* Many nodes and big strings: chunks chain, text grows in linear time. */
static void
test_arena(void)
{
	struct el	*m, *c;
	char		 name[32], *big, *s;
	size_t		 i, n = 0;

	m = el_new(EL_NS_SERVER, "message");
	for (i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "c%zu", i);
		c = el_add(m, i % 2 ? "urn:odd" : NULL, name);
		el_set_attr(c, "n", name);
	}
	big = malloc((1 << 20) + 1);
	memset(big, 'x', 1 << 20);
	big[1 << 20] = '\0';
	c = el_add(m, NULL, "big");
	for (i = 0; i < (1 << 20); i += 100)
		el_add_text(c, big, (1 << 20) - i < 100 ? (1 << 20) - i : 100);
	el_set_attr(m, "huge", big + (1 << 19));	/* 512 KiB value */
	CHECK(strlen(el_text(c)) == 1 << 20);
	CHECK(c->children == c->last);
	CHECK(strlen(el_attr(m, "huge")) == 1 << 19);
	EL_FOREACH(c, m)
		n++;
	CHECK(n == 10001);
	CHECK_STR(el_attr(el_child(m, "urn:odd", "c9999"), "n"), "c9999");
	printf("  arena: 10001 elements, 1 MiB text, 512 KiB value: %zu "
	    "bytes\n", el_mem(m));
	CHECK(el_mem(m) < 6 * 1024 * 1024);
	s = el_to_string(m, EL_NS_SERVER, &n);
	CHECK(strlen(s) == n);
	free(s);
	free(big);
	el_free(m);
}

static void
test_evbuffer(void)
{
	struct evbuffer	*b = evbuffer_new();
	struct el	*m;
	char		*s, *t;
	size_t		 len, i;

	m = el_new(EL_NS_SERVER, "message");
	for (i = 0; i < 500; i++)
		el_add_text(el_add(m, NULL, "body"), "0123456789&", 11);
	s = el_to_string(m, EL_NS_SERVER, &len);
	CHECK(el_write(b, m, EL_NS_SERVER) == 0);
	REQUIRE(evbuffer_get_length(b) == len);
	t = (char *)evbuffer_pullup(b, -1);
	CHECK(memcmp(s, t, len) == 0);
	free(s);
	el_free(m);
	evbuffer_drain(b, len);

	CHECK(el_write_stream_header(b, "b.example", "a'<.example", "i1",
	    "1.0", "en", 1) == 0);
	CHECK(el_write_stream_close(b) == 0);
	len = evbuffer_get_length(b);
	s = malloc(len + 1);
	evbuffer_remove(b, s, len);
	s[len] = '\0';
	CHECK_STR(s, "<?xml version='1.0'?><stream:stream xmlns='jabber:server'"
	    " xmlns:stream='http://etherx.jabber.org/streams' "
	    "xmlns:db='jabber:server:dialback' from='b.example' "
	    "to='a&apos;&lt;.example' id='i1' version='1.0' xml:lang='en'>"
	    "</stream:stream>");
	free(s);
	CHECK(el_write_stream_header(b, NULL, "a.example", NULL, NULL, NULL,
	    0) == 0);
	len = evbuffer_get_length(b);
	s = malloc(len + 1);
	evbuffer_remove(b, s, len);
	s[len] = '\0';
	CHECK_STR(s, "<?xml version='1.0'?><stream:stream xmlns='jabber:server'"
	    " xmlns:stream='http://etherx.jabber.org/streams' "
	    "to='a.example'>");
	free(s);
	evbuffer_free(b);
}

static const struct t_case cases[] = {
	{ "build_query", test_build_query },
	{ "mixed_text", test_mixed_text },
	{ "ns_rules", test_ns_rules },
	{ "escaping", test_escaping },
	{ "parsed_values", test_parsed_values },
	{ "copy", test_copy },
	{ "arena", test_arena },
	{ "evbuffer", test_evbuffer },
};

int
main(int argc, char **argv)
{
	return T_RUN(cases, argc, argv);
}
