/*
 * server/rowxml.c: an outbox row's `xml` column into elements of its
 * stanza. The same restricted parser that reads peers reads the column
 * (RFC 6120 11: no DTD, no entities beyond the five, no PI), inside a
 * stream header of its own, so that a row cannot close, open or reach
 * outside the stanza it extends. Top-level elements in jabber:server or
 * jabber:client (body, subject, thread, error, which have columns of
 * their own) and in the stream and dialback namespaces are refused.
 */
#include <string.h>

#include "el.h"
#include "rowxml.h"
#include "xml.h"

#define ROWXML_HDR	"<stream:stream xmlns='jabber:server' " \
			"xmlns:stream='http://etherx.jabber.org/streams'>"

#define PAYLOAD_NS	"urn:xfed:payload"
#define PAYLOAD_OPEN	"<payload xmlns='" PAYLOAD_NS "'>"
#define PAYLOAD_CLOSE	"</payload>"

struct payload_ctx {
	struct el	*stanza;	/* NULL: check only */
	const char	*err;
	int		 n;		/* top-level elements: the wrapper */
};

static int
payload_open(void *arg, struct el *header)
{
	el_free(header);
	return 0;
}

/* The wrapper: each child element checked, no text of its own. */
static int
payload_elem(void *arg, struct el *wrap)
{
	struct payload_ctx	*cx = arg;
	struct el		*c;
	int			 n = 0;
	size_t			 i;

	if (++cx->n > 1 || !el_is(wrap, PAYLOAD_NS, "payload")) {
		cx->err = "xml: reaches outside its elements";
		goto out;
	}
	for (c = wrap->children; c != NULL && cx->err == NULL; c = c->next) {
		if (c->name == NULL) {
			for (i = 0; i < c->len; i++)
				if (strchr(" \t\r\n", c->text[i]) == NULL)
					cx->err = "xml: text outside the "
					    "elements";
			continue;
		}
		if (strcmp(c->ns, EL_NS_SERVER) == 0 ||
		    strcmp(c->ns, "jabber:client") == 0 ||
		    strcmp(c->ns, EL_NS_STREAMS) == 0 ||
		    strcmp(c->ns, EL_NS_DIALBACK) == 0 ||
		    strcmp(c->ns, PAYLOAD_NS) == 0 || c->ns[0] == '\0')
			cx->err = "xml: an element without a namespace of its "
			    "own (body, subject, thread have columns)";
		else if (++n > ROWXML_MAX_ELEMENTS)
			cx->err = "xml: more than 32 elements";
	}
	if (cx->err == NULL && cx->stanza != NULL)
		EL_FOREACH(c, wrap)
			el_add_copy(cx->stanza, c);
 out:
	el_free(wrap);
	return cx->err != NULL;
}

int
rowxml_add(struct el *stanza, const char *xml, const char **errstr)
{
	static const struct xml_limits lim = { ROWXML_MAX_BYTES + 64, 0, 0,
	    0 };
	const struct xml_cb	 cb = { payload_open, payload_elem, NULL };
	struct payload_ctx	 cx = { stanza, NULL, 0 };
	struct xml_parser	*p;
	size_t			 len = strlen(xml);
	int			 rc;

	if (len > ROWXML_MAX_BYTES) {
		*errstr = "xml: larger than 65536 bytes";
		return -1;
	}
	p = xml_new(&lim, &cb, &cx);
	if ((rc = xml_feed(p, ROWXML_HDR PAYLOAD_OPEN,
	    strlen(ROWXML_HDR PAYLOAD_OPEN))) == 0 &&
	    (rc = xml_feed(p, xml, len)) == 0)
		rc = xml_feed(p, PAYLOAD_CLOSE "</stream:stream>",
		    strlen(PAYLOAD_CLOSE "</stream:stream>"));
	if (cx.err != NULL)
		*errstr = cx.err;
	else if (rc != 0 || cx.n != 1)
		*errstr = xml_error(p) == XML_E_RESTRICTED_XML ?
		    "xml: restricted XML (a DTD, comment, processing "
		    "instruction or entity)" :
		    "xml: not a sequence of well-formed elements";
	xml_free(p);
	return cx.err != NULL || rc != 0 || cx.n != 1 ? -1 : 0;
}
