/*
 * tests/unit/rowxml_test.c: server/rowxml.c, an outbox row's `xml`
 * column into payload elements: what is accepted and how it is added,
 * and each refusal (restricted or broken XML, text, elements of the
 * stanza's own or the stream namespaces, an escape from the wrapper,
 * size and count limits).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "el.h"
#include "rowxml.h"
#include "../t.h"

/* The stanza <message/> with xml added, serialized; or "ERR: why". */
static char *
add(const char *xml)
{
	struct el	*m = el_new(EL_NS_SERVER, "message");
	const char	*err = NULL;
	char		*out, buf[256];

	if (rowxml_add(m, xml, &err) == -1) {
		snprintf(buf, sizeof(buf), "ERR: %s", err);
		out = strdup(buf);
	} else
		out = el_to_string(m, EL_NS_SERVER, NULL);
	el_free(m);
	return out;
}

#define EXPECT(xml, want) do {						\
	char *got_ = add(xml);						\
	if (strstr(got_, want) == NULL)					\
		t_fail_str(__FILE__, __LINE__, xml, got_, want);	\
	free(got_);							\
} while (0)

static void
test_accepts(void)
{
	EXPECT("", "<message/>");
	EXPECT("<received xmlns='urn:xmpp:receipts' id='a&amp;b'/>",
	    "<message><received xmlns='urn:xmpp:receipts' id='a&amp;b'/>"
	    "</message>");
	EXPECT(" <composing xmlns='http://jabber.org/protocol/chatstates'/>\n"
	    "<x xmlns='jabber:x:oob'><url>http://e/?a=1&amp;b</url></x> ",
	    "<composing xmlns='http://jabber.org/protocol/chatstates'/><x "
	    "xmlns='jabber:x:oob'><url>http://e/?a=1&amp;b</url></x>");
	EXPECT("<p:replace xmlns:p='urn:xmpp:message-correct:0' id='1'/>",
	    "<replace xmlns='urn:xmpp:message-correct:0' id='1'/>");
}

static void
test_refuses(void)
{
	char	*big;

	EXPECT("<body>x</body>", "ERR: xml: an element without");
	EXPECT("<body xmlns='jabber:client'>x</body>", "ERR: xml: an element");
	EXPECT("<stream:error xmlns:stream='http://etherx.jabber.org/streams'/>",
	    "ERR: xml: an element");
	EXPECT("<a xmlns='u'/>text", "ERR: xml: text outside");
	EXPECT("text", "ERR: xml: text outside");
	EXPECT("<a xmlns='u'>", "ERR: xml: not a sequence");
	EXPECT("<a xmlns='u'/></payload><message to='x@y'/>",
	    "ERR: xml: reaches outside");
	EXPECT("<a xmlns='u'/></payload></stream:stream>", "ERR: xml:");
	EXPECT("<!DOCTYPE a><a xmlns='u'/>", "ERR: xml:");
	EXPECT("<?pi x?><a xmlns='u'/>", "ERR: xml:");
	EXPECT("<a xmlns='u'>&ext;</a>", "ERR: xml:");
	big = malloc(ROWXML_MAX_BYTES + 2);
	memset(big, ' ', ROWXML_MAX_BYTES + 1);
	big[ROWXML_MAX_BYTES + 1] = '\0';
	EXPECT(big, "ERR: xml: larger than 65536 bytes");
	free(big);
}

static void
test_count(void)
{
	char	 xml[2048] = "";
	int	 i;

	for (i = 0; i < ROWXML_MAX_ELEMENTS; i++)
		strcat(xml, "<a xmlns='u'/>");
	EXPECT(xml, "<message><a xmlns='u'/>");
	strcat(xml, "<a xmlns='u'/>");
	EXPECT(xml, "ERR: xml: more than 32 elements");
}

static const struct t_case cases[] = {
	{ "rowxml_accepts", test_accepts },
	{ "rowxml_refuses", test_refuses },
	{ "rowxml_count", test_count },
};

int
main(int argc, char **argv)
{
	return T_RUN(cases, argc, argv);
}
