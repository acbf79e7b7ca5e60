/*
 * server/xml.c: one XMPP stream's bytes -> header, elements, close. libxml2's
 * SAX2 push parser does the XML; this file adds what XMPP needs on top:
 *   - restricted XML (RFC 6120 11.1): DTDs, comments, PIs and entities
 *     other than the predefined five end the stream; nothing is expanded
 *     or fetched;
 *   - UTF-8 only (11.6), checked here byte by byte, so the answer does not
 *     depend on how the bytes were split into reads;
 *   - limits (13.12) enforced BEFORE libxml2 buffers the bytes: a small
 *     scanner (xml_lex) follows tags, quotes, CDATA and depth, so a stanza
 *     over max_stanza_size, too deep, or with too many attributes is
 *     refused at the byte that breaks the limit, and libxml2 never holds
 *     more than max_stanza_size bytes (nor runs its quadratic attribute
 *     checks on thousands of attributes);
 *   - whitespace between stanzas (keepalives) never reaches libxml2;
 *   - namespace rules for the stream element and content (4.8).
 * Trees are built straight from the SAX events into each stanza's arena.
 * What the events mean for the stream is s2s/'s business.
 *
 * Between stanzas libxml2's whole state is the open stream element and its
 * namespace declarations, so it can be dropped (xml_compact()) and rebuilt
 * by replaying a header that declares the same namespaces. That keeps idle
 * streams small and bounds the names a long-lived stream accumulates in
 * libxml2's dictionary.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>
#include <libxml/dict.h>

#include "el.h"
#include "log.h"
#include "xmalloc.h"
#include "xml.h"

#define XML_SLICE	4096	/* bytes handed to libxml2 at a time */
#define XML_DICT_MAX	2048	/* names interned before a compaction */
#define XML_ERRMSG_MAX	160

/* Where the scanner is, as far as limits care. */
enum xml_lex {
	XML_LX_TEXT,		/* character data (or the prolog) */
	XML_LX_LT,		/* after '<' */
	XML_LX_STAG,		/* in a start tag */
	XML_LX_SQ,		/* in a start tag, inside '...' */
	XML_LX_DQ,		/* in a start tag, inside "..." */
	XML_LX_ETAG,		/* in an end tag */
	XML_LX_BANG,		/* after "<!" */
	XML_LX_CDATA,		/* inside <![CDATA[ ... ]]> */
	XML_LX_COMMENT,		/* inside <!-- ... --> */
	XML_LX_DECL,		/* <!DOCTYPE ... > and the like */
	XML_LX_PI,		/* <? ... ?>, the XML declaration too */
};

/* What the scanner says about one byte. */
enum xml_lexr {
	XML_LR_FEED,		/* give it to libxml2 */
	XML_LR_SKIP,		/* whitespace between stanzas: drop it */
	XML_LR_END,		/* the '>' that ends a top-level element */
	XML_LR_ERR,		/* p->err is set; not for libxml2 */
};

struct xml_parser {
	struct xml_limits lim;
	struct xml_cb	 cb;
	void		*arg;
	xmlParserCtxtPtr ctxt;		/* NULL when not needed */

	enum xml_err	 err;
	const char	*errstr;	/* static text, or errmsg */
	char		*errmsg;	/* libxml2's words, allocated */
	enum xml_err	 lex_err;	/* the scanner's, not yet told */
	const char	*lex_errstr;

	/* The scanner: byte positions count from the document's start. */
	enum xml_lex	 lex;
	unsigned int	 lexn;		/* progress in "[CDATA[", "]]>" */
	unsigned int	 depth;		/* open elements, stream = 1 */
	unsigned int	 nattrs;	/* '=' seen in this start tag */
	uint64_t	 pos;		/* bytes scanned */
	uint64_t	 start;		/* where this stanza's '<' was */
	uint32_t	 utf8_need;	/* continuation bytes to come */
	unsigned char	 utf8_lo;	/* range of the next one */
	unsigned char	 utf8_hi;
	unsigned int	 slash:1;	/* last tag byte was '/' */
	unsigned int	 header_done:1;	/* header's '>' scanned */
	unsigned int	 closed:1;	/* </stream:stream> scanned */

	/* The SAX side. */
	unsigned int	 level;		/* libxml2's open elements */
	struct el	*stanza;	/* being built; NULL at level 1 */
	struct el	*cur;
	char		*replay;	/* header that rebuilds libxml2 */
	size_t		 replaylen;

	unsigned int	 in_feed:1;
	unsigned int	 stop:1;	/* a callback said stop */
	unsigned int	 reset_pending:1;
	unsigned int	 dead:1;	/* xml_free() inside a callback */
	unsigned int	 replaying:1;
	unsigned int	 replay_shared:1;	/* replay is xml_replay_canon[] */
	unsigned int	 compact_wanted:1;
	unsigned int	 ns_bad:1;	/* a namespace error seen */
};

static const char *const xml_conditions[] = {
	[XML_E_NONE] = "none",
	[XML_E_BAD_FORMAT] = "bad-format",
	[XML_E_BAD_NAMESPACE_PREFIX] = "bad-namespace-prefix",
	[XML_E_INVALID_NAMESPACE] = "invalid-namespace",
	[XML_E_NOT_WELL_FORMED] = "not-well-formed",
	[XML_E_POLICY_VIOLATION] = "policy-violation",
	[XML_E_RESTRICTED_XML] = "restricted-xml",
	[XML_E_UNSUPPORTED_ENCODING] = "unsupported-encoding",
	[XML_E_INTERNAL_SERVER_ERROR] = "internal-server-error",
};

static xmlSAXHandler	 xml_sax;
static int		 xml_inited;

/*
 * Records the first error and halts libxml2 (safe from inside its
 * callbacks: it only marks the context, which stays allocated).
 */
static void
xml_fail(struct xml_parser *p, enum xml_err err, const char *errstr)
{
	if (p->err != XML_E_NONE)
		return;
	p->err = err;
	p->errstr = errstr;
	if (p->ctxt != NULL)
		xmlStopParser(p->ctxt);
}

/* libxml2's message, trimmed to one printable ASCII line. */
static void
xml_keep_msg(struct xml_parser *p, const char *msg)
{
	size_t	 i;
	char	*d;

	if (p->errmsg != NULL || msg == NULL)
		return;
	d = xmalloc(XML_ERRMSG_MAX);
	for (i = 0; msg[i] != '\0' && msg[i] != '\n' &&
	    i < XML_ERRMSG_MAX - 1; i++)
		d[i] = (msg[i] < ' ' || msg[i] > '~') ? '?' : msg[i];
	d[i] = '\0';
	p->errmsg = d;
}

static void
xml_sax_serror(void *arg, xmlErrorPtr e)
{
	struct xml_parser	*p = arg;

	if (e == NULL || e->level < XML_ERR_ERROR)
		return;
	/*
	 * libxml2 counts a namespace name that is not a valid URI against
	 * namespace well-formedness; the Namespaces spec does not.
	 */
	if (e->domain == XML_FROM_NAMESPACE && e->code == XML_WAR_NS_URI)
		return;
	if (e->domain == XML_FROM_NAMESPACE)
		p->ns_bad = 1;
	xml_keep_msg(p, e->message);
}

static void
xml_quiet(void *ctx, const char *fmt, ...)
{
}

static void
xml_sax_start_document(void *arg)
{
	struct xml_parser	*p = arg;
	xmlParserCtxtPtr	 c = p->ctxt;
	const xmlChar		*enc;

	enc = c->input != NULL && c->input->encoding != NULL ?
	    c->input->encoding : c->encoding;
	if ((enc != NULL && xmlStrcasecmp(enc, BAD_CAST "UTF-8") != 0) ||
	    (c->input != NULL && c->input->buf != NULL &&
	    c->input->buf->encoder != NULL))
		xml_fail(p, XML_E_UNSUPPORTED_ENCODING,
		    "the XML declaration names an encoding other than UTF-8");
	else if (c->standalone == 0)
		xml_fail(p, XML_E_RESTRICTED_XML,
		    "standalone='no' in the XML declaration");
	else if (c->version != NULL &&
	    xmlStrcmp(c->version, BAD_CAST "1.0") != 0)
		xml_fail(p, XML_E_RESTRICTED_XML, "XML version is not 1.0");
}

/* DTDs, comments, PIs, entities: RFC 6120 11.1. */
static void
xml_sax_internal_subset(void *arg, const xmlChar *name, const xmlChar *eid,
    const xmlChar *sid)
{
	xml_fail(arg, XML_E_RESTRICTED_XML, "document type declaration");
}

static void
xml_sax_comment(void *arg, const xmlChar *value)
{
	xml_fail(arg, XML_E_RESTRICTED_XML, "comment");
}

static void
xml_sax_pi(void *arg, const xmlChar *target, const xmlChar *data)
{
	xml_fail(arg, XML_E_RESTRICTED_XML, "processing instruction");
}

static xmlEntityPtr
xml_sax_get_entity(void *arg, const xmlChar *name)
{
	xml_fail(arg, XML_E_RESTRICTED_XML, "entity reference");
	return NULL;
}

static void
xml_sax_reference(void *arg, const xmlChar *name)
{
	xml_fail(arg, XML_E_RESTRICTED_XML, "entity reference");
}

static void
xml_sax_entity_decl(void *arg, const xmlChar *name, int type,
    const xmlChar *publicId, const xmlChar *systemId, xmlChar *content)
{
	xml_fail(arg, XML_E_RESTRICTED_XML, "entity declaration");
}

/*
 * libxml2 (without entity substitution, which stays off) hands over each
 * '&' of an attribute value or namespace name as the five bytes "&#38;",
 * and nothing else produces them: decoding them back is exact. Returns s
 * itself when there is nothing to do, else a copy put in *tofree.
 */
static const char *
xml_unamp(const char *s, size_t len, size_t *outlen, char **tofree)
{
	char	*d;
	size_t	 i, n = 0;

	*tofree = NULL;
	*outlen = len;
	if (memchr(s, '&', len) == NULL)
		return s;
	d = xmalloc(len + 1);
	for (i = 0; i < len; i++) {
		d[n++] = s[i];
		if (s[i] == '&' && len - i >= 5 &&
		    memcmp(s + i, "&#38;", 5) == 0)
			i += 4;
	}
	d[n] = '\0';
	*outlen = n;
	*tofree = d;
	return d;
}

/* Appends an attribute from libxml2's arrays, '&' decoded. */
static void
xml_attr(struct el *el, const char *prefix, const char *name,
    const char *ns, const char *value, size_t len)
{
	char	*f1, *f2;
	size_t	 n;

	value = xml_unamp(value, len, &len, &f1);
	if (ns != NULL)
		ns = xml_unamp(ns, strlen(ns), &n, &f2);
	else
		f2 = NULL;
	el_append_attr(el, prefix, name, ns, value, len);
	free(f1);
	free(f2);
}

static int
xml_is_space(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' &&
		    s[i] != '\r')
			return 0;
	return 1;
}

static void
xml_sax_text(void *arg, const xmlChar *ch, int len)
{
	struct xml_parser	*p = arg;

	if (p->err != XML_E_NONE || len <= 0)
		return;
	if (p->cur != NULL)
		el_add_text(p->cur, (const char *)ch, len);
	else if (p->level == 1 && !xml_is_space((const char *)ch, len))
		xml_fail(p, XML_E_NOT_WELL_FORMED, "text between stanzas");
}

/*
 * The replays of the S2S stream headers: jabber:server and the streams
 * namespace, with or without the dialback namespace (as xfed, Prosody and
 * ejabberd send them). A header declaring exactly one of these sets, in
 * whatever order, points to it instead of holding a copy while idle.
 */
static const char *const xml_replay_canon[] = {
	"<stream:stream xmlns='" EL_NS_SERVER "' xmlns:stream='"
	    EL_NS_STREAMS "' xmlns:db='" EL_NS_DIALBACK "'>",
	"<stream:stream xmlns='" EL_NS_SERVER "' xmlns:stream='"
	    EL_NS_STREAMS "'>",
};

static void
xml_replay_drop(struct xml_parser *p)
{
	if (!p->replay_shared)
		free(p->replay);
	p->replay = NULL;
	p->replaylen = 0;
	p->replay_shared = 0;
}

/* Which of xml_replay_canon[] the declarations are, or -1. */
static int
xml_replay_canonical(int nb_ns, const xmlChar **ns)
{
	const char	*pfx, *val;
	int		 i, srv = 0, str = 0, db = 0;

	for (i = 0; i < nb_ns; i++) {
		pfx = (const char *)ns[2 * i];
		val = (const char *)ns[2 * i + 1];
		if (pfx == NULL && strcmp(val, EL_NS_SERVER) == 0)
			srv++;
		else if (pfx != NULL && strcmp(pfx, "stream") == 0 &&
		    strcmp(val, EL_NS_STREAMS) == 0)
			str++;
		else if (pfx != NULL && strcmp(pfx, "db") == 0 &&
		    strcmp(val, EL_NS_DIALBACK) == 0)
			db++;
		else
			return -1;
	}
	if (srv != 1 || str != 1 || db > 1)
		return -1;
	return db ? 0 : 1;
}

static void
xml_replay_add(struct xml_parser *p, const char *s, size_t n)
{
	p->replay = xreallocarray(p->replay, 1, p->replaylen + n + 1);
	memcpy(p->replay + p->replaylen, s, n + 1);
	p->replaylen += n;
}

/*
 * The stream header. Its namespace declarations become "xmlns" and
 * "xmlns:P" attributes for the stream layer and the replay header.
 */
static void
xml_header(struct xml_parser *p, const xmlChar *localname,
    const xmlChar *prefix, const xmlChar *uri, int nb_ns,
    const xmlChar **ns, int nb_attrs, const xmlChar **attrs)
{
	struct el	*h;
	const char	*pfx, *val;
	char		 ref[8];
	int		 i, c;

	if (p->ns_bad || (uri == NULL && prefix != NULL)) {
		xml_fail(p, XML_E_NOT_WELL_FORMED, "namespace error");
		return;
	}
	for (i = 0; i < nb_attrs; i++) {
		if (attrs[5 * i + 1] != NULL && attrs[5 * i + 2] == NULL) {
			xml_fail(p, XML_E_NOT_WELL_FORMED, "unbound prefix");
			return;
		}
	}
	if (uri == NULL || strcmp((const char *)uri, EL_NS_STREAMS) != 0) {
		xml_fail(p, XML_E_INVALID_NAMESPACE,
		    "the stream element is not in the streams namespace");
		return;
	}
	if (strcmp((const char *)localname, "stream") != 0) {
		xml_fail(p, XML_E_BAD_FORMAT, "the root is not <stream>");
		return;
	}
	if (prefix == NULL || strcmp((const char *)prefix, "stream") != 0) {
		xml_fail(p, XML_E_BAD_NAMESPACE_PREFIX,
		    "the streams namespace prefix is not 'stream'");
		return;
	}
	h = el_new(EL_NS_STREAMS, "stream");
	xml_replay_drop(p);
	if ((c = xml_replay_canonical(nb_ns, ns)) >= 0) {
		p->replay = (char *)xml_replay_canon[c];
		p->replaylen = strlen(p->replay);
		p->replay_shared = 1;
	} else
		xml_replay_add(p, "<stream:stream", 14);
	for (i = 0; i < nb_ns; i++) {
		pfx = (const char *)ns[2 * i];
		val = (const char *)ns[2 * i + 1];
		xml_attr(h, pfx != NULL ? "xmlns" : NULL,
		    pfx != NULL ? pfx : "xmlns", NULL, val, strlen(val));
		if (c >= 0)
			continue;
		xml_replay_add(p, " xmlns", 6);
		if (pfx != NULL) {
			xml_replay_add(p, ":", 1);
			xml_replay_add(p, pfx, strlen(pfx));
		}
		xml_replay_add(p, "='", 2);
		/* libxml2's own form: its "&#38;" must stay as it is */
		for (; *val != '\0'; val++) {
			if (strchr("<>'\"\t\n\r", *val) != NULL) {
				snprintf(ref, sizeof(ref), "&#%d;", *val);
				xml_replay_add(p, ref, strlen(ref));
			} else
				xml_replay_add(p, val, 1);
		}
		xml_replay_add(p, "'", 1);
	}
	if (c < 0)
		xml_replay_add(p, ">", 1);
	for (i = 0; i < nb_attrs; i++)
		xml_attr(h, (const char *)attrs[5 * i + 1],
		    (const char *)attrs[5 * i], (const char *)attrs[5 * i + 2],
		    (const char *)attrs[5 * i + 3],
		    attrs[5 * i + 4] - attrs[5 * i + 3]);
	p->level = 1;
	if (p->cb.open == NULL) {
		el_free(h);
		return;
	}
	if (p->cb.open(p->arg, h) != 0) {
		p->stop = 1;
		xmlStopParser(p->ctxt);
	}
}

static void
xml_sax_start(void *arg, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri, int nb_ns, const xmlChar **ns, int nb_attrs,
    int nb_defaulted, const xmlChar **attrs)
{
	struct xml_parser	*p = arg;
	const char		*ap, *au, *elns;
	char			*tofree;
	struct el		*el;
	size_t			 n;
	int			 i;

	if (p->err != XML_E_NONE || p->stop)
		return;
	if (p->replaying) {
		p->level = 1;
		return;
	}
	if (p->level == 0) {
		xml_header(p, localname, prefix, uri, nb_ns, ns, nb_attrs,
		    attrs);
		return;
	}
	if (p->ns_bad || (uri == NULL && prefix != NULL)) {
		xml_fail(p, XML_E_NOT_WELL_FORMED, "namespace error");
		return;
	}
	if (prefix != NULL && strcmp((const char *)uri, EL_NS_SERVER) == 0) {
		xml_fail(p, XML_E_BAD_NAMESPACE_PREFIX,
		    "prefixed jabber:server element");
		return;
	}
	if (uri == NULL)
		uri = BAD_CAST "";
	elns = xml_unamp((const char *)uri, strlen((const char *)uri), &n,
	    &tofree);
	if (p->cur == NULL)
		el = p->stanza = el_new(elns, (const char *)localname);
	else
		el = el_add(p->cur, elns, (const char *)localname);
	free(tofree);
	for (i = 0; i < nb_attrs; i++) {
		ap = (const char *)attrs[5 * i + 1];
		au = (const char *)attrs[5 * i + 2];
		if (ap != NULL && au == NULL) {
			xml_fail(p, XML_E_NOT_WELL_FORMED, "unbound prefix");
			return;
		}
		/* the serializer owns these two prefixes (S2S 1.1) */
		if (ap != NULL && ((strcmp(ap, "stream") == 0 &&
		    strcmp(au, EL_NS_STREAMS) != 0) ||
		    (strcmp(ap, "db") == 0 &&
		    strcmp(au, EL_NS_DIALBACK) != 0))) {
			xml_fail(p, XML_E_BAD_NAMESPACE_PREFIX,
			    "stream: or db: prefix bound to another namespace");
			return;
		}
		xml_attr(el, ap, (const char *)attrs[5 * i], au,
		    (const char *)attrs[5 * i + 3],
		    attrs[5 * i + 4] - attrs[5 * i + 3]);
	}
	p->cur = el;
	p->level++;
}

static void
xml_sax_end(void *arg, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri)
{
	struct xml_parser	*p = arg;
	struct el		*el;

	if (p->err != XML_E_NONE || p->stop || p->level == 0)
		return;
	if (p->level == 1) {
		p->level = 0;
		if (p->cb.close != NULL && p->cb.close(p->arg) != 0) {
			p->stop = 1;
			xmlStopParser(p->ctxt);
		}
		return;
	}
	if (--p->level > 1) {
		p->cur = p->cur->parent;
		return;
	}
	if (p->ns_bad) {
		xml_fail(p, XML_E_NOT_WELL_FORMED, "namespace error");
		return;
	}
	el = p->stanza;
	p->stanza = p->cur = NULL;
	if (xmlDictSize(p->ctxt->dict) > XML_DICT_MAX)
		p->compact_wanted = 1;
	if (p->cb.elem == NULL)
		el_free(el);
	else if (p->cb.elem(p->arg, el) != 0) {
		p->stop = 1;
		xmlStopParser(p->ctxt);
	}
}

static void
xml_init(void)
{
	if (xml_inited)
		return;
	xml_inited = 1;
	LIBXML_TEST_VERSION;
	xmlInitParser();
	/*
	 * Input buffers start at twice this (8 KiB by default) and grow
	 * when a stanza needs it; most streams never need more.
	 */
	xmlDefaultBufferSize = 1024;
	xmlThrDefDefaultBufferSize(1024);
	/* errors come through serror; nothing may print to stderr */
	xmlSetGenericErrorFunc(NULL, xml_quiet);
	memset(&xml_sax, 0, sizeof(xml_sax));
	xml_sax.initialized = XML_SAX2_MAGIC;
	xml_sax.startDocument = xml_sax_start_document;
	xml_sax.startElementNs = xml_sax_start;
	xml_sax.endElementNs = xml_sax_end;
	xml_sax.characters = xml_sax_text;
	xml_sax.ignorableWhitespace = xml_sax_text;
	xml_sax.cdataBlock = xml_sax_text;
	xml_sax.internalSubset = xml_sax_internal_subset;
	xml_sax.externalSubset = xml_sax_internal_subset;
	xml_sax.comment = xml_sax_comment;
	xml_sax.processingInstruction = xml_sax_pi;
	xml_sax.getEntity = xml_sax_get_entity;
	xml_sax.getParameterEntity = xml_sax_get_entity;
	xml_sax.reference = xml_sax_reference;
	xml_sax.entityDecl = xml_sax_entity_decl;
	xml_sax.serror = xml_sax_serror;
}

struct xml_parser *
xml_new(const struct xml_limits *lim, const struct xml_cb *cb, void *arg)
{
	struct xml_parser	*p;

	xml_init();
	p = xcalloc(1, sizeof(*p));
	if (lim != NULL)
		p->lim = *lim;
	if (p->lim.max_stanza_size == 0)
		p->lim.max_stanza_size = XML_DEFAULT_MAX_STANZA_SIZE;
	if (p->lim.max_header_size == 0)
		p->lim.max_header_size = XML_DEFAULT_MAX_HEADER_SIZE;
	if (p->lim.max_depth == 0)
		p->lim.max_depth = XML_DEFAULT_MAX_DEPTH;
	if (p->lim.max_attrs == 0)
		p->lim.max_attrs = XML_DEFAULT_MAX_ATTRS;
	p->cb = *cb;
	p->arg = arg;
	p->errstr = "no error";
	return p;
}

static void
xml_drop_ctxt(struct xml_parser *p)
{
	if (p->ctxt != NULL) {
		xmlFreeParserCtxt(p->ctxt);
		p->ctxt = NULL;
	}
}

/* Back to "nothing seen", as after xml_new(). */
static void
xml_clear(struct xml_parser *p)
{
	xml_drop_ctxt(p);
	el_free(p->stanza);
	free(p->errmsg);
	xml_replay_drop(p);
	p->stanza = p->cur = NULL;
	p->errmsg = NULL;
	p->err = p->lex_err = XML_E_NONE;
	p->errstr = "no error";
	p->lex = XML_LX_TEXT;
	p->lexn = p->depth = p->nattrs = 0;
	p->pos = p->start = 0;
	p->utf8_need = 0;
	p->slash = p->header_done = p->closed = 0;
	p->level = 0;
	p->stop = p->reset_pending = p->compact_wanted = p->ns_bad = 0;
}

void
xml_free(struct xml_parser *p)
{
	if (p == NULL)
		return;
	if (p->in_feed) {
		p->dead = 1;
		if (p->ctxt != NULL)
			xmlStopParser(p->ctxt);
		return;
	}
	xml_clear(p);
	free(p);
}

void
xml_reset(struct xml_parser *p)
{
	if (p->in_feed) {
		p->reset_pending = 1;
		if (p->ctxt != NULL)
			xmlStopParser(p->ctxt);
		return;
	}
	xml_clear(p);
}

size_t
xml_replay_held(const struct xml_parser *p)
{
	return (p->replay == NULL || p->replay_shared) ? 0 : p->replaylen + 1;
}

size_t
xml_sizeof(void)
{
	return sizeof(struct xml_parser);
}

enum xml_err
xml_error(const struct xml_parser *p)
{
	return p->err;
}

const char *
xml_errstr(const struct xml_parser *p)
{
	return p->errstr;
}

const char *
xml_err_condition(enum xml_err e)
{
	if ((unsigned int)e >= sizeof(xml_conditions) /
	    sizeof(xml_conditions[0]))
		return "undefined-condition";
	return xml_conditions[e];
}

/* Maps what libxml2 refused onto a condition; libxml2 said it first. */
static void
xml_libxml_error(struct xml_parser *p)
{
	enum xml_err	 e;

	switch (p->ctxt->errNo) {
	case XML_ERR_UNSUPPORTED_ENCODING:
	case XML_ERR_UNKNOWN_ENCODING:
	case XML_ERR_INVALID_ENCODING:
		e = XML_E_UNSUPPORTED_ENCODING;
		break;
	case XML_ERR_UNDECLARED_ENTITY:
	case XML_WAR_UNDECLARED_ENTITY:
	case XML_ERR_ENTITY_NOT_FINISHED:
		e = XML_E_RESTRICTED_XML;
		break;
	case XML_ERR_NO_MEMORY:
		e = XML_E_INTERNAL_SERVER_ERROR;
		break;
	default:
		e = XML_E_NOT_WELL_FORMED;
		break;
	}
	xml_fail(p, e, p->errmsg != NULL ? p->errmsg : "XML error");
}

/* What libxml2 and the callbacks made of the last chunk. */
static int
xml_check(struct xml_parser *p)
{
	if (p->dead || p->reset_pending || p->stop)
		return XML_STOPPED;
	if (p->err != XML_E_NONE)
		return -1;
	if (p->ctxt != NULL &&
	    (!p->ctxt->wellFormed || p->ns_bad)) {
		xml_libxml_error(p);
		return -1;
	}
	return 0;
}

static int
xml_ctxt_new(struct xml_parser *p)
{
	p->ctxt = xmlCreatePushParserCtxt(&xml_sax, p, NULL, 0, NULL);
	if (p->ctxt == NULL) {
		xml_fail(p, XML_E_INTERNAL_SERVER_ERROR,
		    "cannot create a parser");
		return -1;
	}
	xmlCtxtUseOptions(p->ctxt, XML_PARSE_NONET);
	if (p->header_done && p->replay != NULL) {
		p->replaying = 1;
		xmlParseChunk(p->ctxt, p->replay, p->replaylen, 0);
		p->replaying = 0;
		if (p->level != 1 || xml_check(p) != 0) {
			xml_fail(p, XML_E_INTERNAL_SERVER_ERROR,
			    "cannot rebuild the parser");
			return -1;
		}
	}
	return 0;
}

static int
xml_push(struct xml_parser *p, const char *s, size_t n)
{
	if (n == 0)
		return 0;
	if (p->ctxt == NULL && xml_ctxt_new(p) == -1)
		return -1;
	xmlParseChunk(p->ctxt, s, n, 0);
	return xml_check(p);
}

int
xml_compact(struct xml_parser *p)
{
	if (p->in_feed || p->stop || !p->header_done || p->closed ||
	    p->depth != 1 || p->lex != XML_LX_TEXT || p->level != 1 ||
	    p->stanza != NULL || p->err != XML_E_NONE)
		return -1;
	if (p->ctxt != NULL && p->ctxt->input != NULL &&
	    p->ctxt->input->cur != p->ctxt->input->end)
		return -1;
	xml_drop_ctxt(p);
	p->compact_wanted = 0;
	return 0;
}

/*
 * The scanner runs ahead of libxml2: its error waits until libxml2 has
 * seen the bytes before it, which may hold an earlier error.
 */
static void
xml_lex_fail(struct xml_parser *p, enum xml_err err, const char *errstr)
{
	p->lex_err = err;
	p->lex_errstr = errstr;
}

/*
 * UTF-8 (RFC 3629: no overlong forms, surrogates or code points above
 * U+10FFFF). NUL is not an XML character; saying so here keeps libxml2
 * from guessing UTF-16 from it.
 */
static int
xml_utf8(struct xml_parser *p, unsigned char c)
{
	if (p->utf8_need > 0) {
		if (c < p->utf8_lo || c > p->utf8_hi) {
			xml_lex_fail(p, XML_E_UNSUPPORTED_ENCODING,
			    "invalid UTF-8");
			return -1;
		}
		p->utf8_need--;
		p->utf8_lo = 0x80;
		p->utf8_hi = 0xbf;
		return 0;
	}
	if (c < 0x80) {
		if (c == 0) {
			xml_lex_fail(p, XML_E_NOT_WELL_FORMED, "NUL byte");
			return -1;
		}
		return 0;
	}
	p->utf8_lo = 0x80;
	p->utf8_hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf)
		p->utf8_need = 1;
	else if (c >= 0xe0 && c <= 0xef) {
		p->utf8_need = 2;
		if (c == 0xe0)
			p->utf8_lo = 0xa0;
		else if (c == 0xed)
			p->utf8_hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		p->utf8_need = 3;
		if (c == 0xf0)
			p->utf8_lo = 0x90;
		else if (c == 0xf4)
			p->utf8_hi = 0x8f;
	} else {
		xml_lex_fail(p, XML_E_UNSUPPORTED_ENCODING, "invalid UTF-8");
		return -1;
	}
	return 0;
}

static int
xml_lex_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A tag's '>': the depth changes, and a top-level element may end. */
enum { XML_TAG_OPEN, XML_TAG_EMPTY, XML_TAG_CLOSE };

static enum xml_lexr
xml_lex_tag_end(struct xml_parser *p, int kind)
{
	p->lex = XML_LX_TEXT;
	if (kind != XML_TAG_CLOSE && p->depth > p->lim.max_depth) {
		xml_lex_fail(p, XML_E_POLICY_VIOLATION,
		    "elements nested too deep");
		return XML_LR_ERR;
	}
	if (kind == XML_TAG_OPEN) {
		if (p->depth++ == 0)
			p->header_done = 1;
		return XML_LR_FEED;
	}
	if (kind == XML_TAG_CLOSE && p->depth > 0)
		p->depth--;
	if (p->depth == 0) {			/* the root ends */
		p->header_done = 1;
		p->closed = 1;
		return XML_LR_FEED;
	}
	return p->depth == 1 ? XML_LR_END : XML_LR_FEED;
}

static enum xml_lexr
xml_lex(struct xml_parser *p, unsigned char c)
{
	enum xml_lexr	 r = XML_LR_FEED;

	switch (p->lex) {
	case XML_LX_TEXT:
		if (c == '<' && !p->closed) {
			p->lex = XML_LX_LT;
			if (p->depth == 1)
				p->start = p->pos;
		} else if (p->depth == 1 || p->closed) {
			if (!xml_lex_space(c)) {
				xml_lex_fail(p, XML_E_NOT_WELL_FORMED,
				    p->closed ? "data after the stream end" :
				    "text between stanzas");
				return XML_LR_ERR;
			}
			r = XML_LR_SKIP;
		}
		break;
	case XML_LX_LT:
		p->lexn = 0;
		if (c == '/')
			p->lex = XML_LX_ETAG;
		else if (c == '!')
			p->lex = XML_LX_BANG;
		else if (c == '?')
			p->lex = XML_LX_PI;
		else {
			p->lex = XML_LX_STAG;
			p->nattrs = 0;
			p->slash = 0;
		}
		break;
	case XML_LX_STAG:
		if (c == '>') {
			r = xml_lex_tag_end(p, p->slash ? XML_TAG_EMPTY :
			    XML_TAG_OPEN);
			if (r == XML_LR_ERR)
				return r;
			break;
		}
		p->slash = c == '/';
		if (c == '<') {
			/* a tag left open: libxml2 would wait for a '>' */
			xml_lex_fail(p, XML_E_NOT_WELL_FORMED, "'<' in a tag");
			return XML_LR_ERR;
		} else if (c == '\'')
			p->lex = XML_LX_SQ;
		else if (c == '"')
			p->lex = XML_LX_DQ;
		else if (c == '=' && ++p->nattrs > p->lim.max_attrs) {
			xml_lex_fail(p, XML_E_POLICY_VIOLATION,
			    "too many attributes");
			return XML_LR_ERR;
		}
		break;
	case XML_LX_SQ:
	case XML_LX_DQ:
		if (c == (p->lex == XML_LX_SQ ? '\'' : '"'))
			p->lex = XML_LX_STAG;
		else if (c == '<') {
			/* not XML, and it would make libxml2 wait */
			xml_lex_fail(p, XML_E_NOT_WELL_FORMED,
			    "'<' in an attribute value");
			return XML_LR_ERR;
		}
		break;
	case XML_LX_ETAG:
		if (c == '>')
			r = xml_lex_tag_end(p, XML_TAG_CLOSE);
		else if (c == '<' || c == '\'' || c == '"') {
			/* libxml2 would take a quote as opening a value */
			xml_lex_fail(p, XML_E_NOT_WELL_FORMED,
			    "bad character in an end tag");
			return XML_LR_ERR;
		}
		break;
	case XML_LX_BANG:
		if (c == "[CDATA["[p->lexn]) {
			if (++p->lexn == 7) {
				p->lex = XML_LX_CDATA;
				p->lexn = 0;
			}
		} else if (p->lexn == 0 && c == '-')
			p->lex = XML_LX_COMMENT;
		else
			p->lex = c == '>' ? XML_LX_TEXT : XML_LX_DECL;
		break;
	case XML_LX_CDATA:
		if (c == '>' && p->lexn >= 2)
			p->lex = XML_LX_TEXT;
		p->lexn = c == ']' ? p->lexn + 1 : 0;
		break;
	case XML_LX_COMMENT:
		if (c == '>' && p->lexn >= 2)
			p->lex = XML_LX_TEXT;
		p->lexn = c == '-' ? p->lexn + 1 : 0;
		break;
	case XML_LX_DECL:
		if (c == '>')
			p->lex = XML_LX_TEXT;
		break;
	case XML_LX_PI:
		if (c == '>' && p->lexn == 1)
			p->lex = XML_LX_TEXT;
		p->lexn = c == '?';
		break;
	}
	if (!p->header_done) {
		if (p->pos + 1 > p->lim.max_header_size) {
			xml_lex_fail(p, XML_E_POLICY_VIOLATION,
			    "stream header too large");
			return XML_LR_ERR;
		}
	} else if ((p->depth > 1 || (p->depth == 1 &&
	    (p->lex != XML_LX_TEXT || r == XML_LR_END))) &&
	    p->pos - p->start + 1 > p->lim.max_stanza_size) {
		xml_lex_fail(p, XML_E_POLICY_VIOLATION, "stanza too large");
		return XML_LR_ERR;
	}
	return r;
}

void
xml_set_max_stanza_size(struct xml_parser *p, size_t n)
{
	p->lim.max_stanza_size = n != 0 ? n : XML_DEFAULT_MAX_STANZA_SIZE;
}

int
xml_feed(struct xml_parser *p, const char *buf, size_t len)
{
	const char	*seg = buf;
	size_t		 i;
	int		 rc = 0;
	char		 quote;

	if (p->in_feed)
		fatalx("xml_feed: called from its own callback");
	if (p->err != XML_E_NONE)
		return -1;
	if (p->stop)
		return XML_STOPPED;
	p->in_feed = 1;
	for (i = 0; i < len; i++) {
		/*
		 * The common case, text inside a stanza or an attribute
		 * value once the header is done: a byte that is ASCII, not
		 * NUL, not '<' and not the value's quote changes nothing
		 * xml_utf8() and xml_lex() track but the position, so a run
		 * of them is only counted, up to the stanza's size limit
		 * (the byte at start + max_stanza_size is the slow path's
		 * to refuse) and in the same slices (make bench: the
		 * scanner was a sixth of xfed's instructions inbound).
		 */
		if (p->utf8_need == 0 && p->header_done && !p->closed &&
		    ((p->lex == XML_LX_TEXT && p->depth > 1) ||
		    p->lex == XML_LX_SQ || p->lex == XML_LX_DQ)) {
			quote = p->lex == XML_LX_SQ ? '\'' :
			    p->lex == XML_LX_DQ ? '"' : '<';
			while (i < len && p->pos < p->start +
			    p->lim.max_stanza_size &&
			    (unsigned char)buf[i] != '\0' &&
			    (unsigned char)buf[i] < 0x80 && buf[i] != '<' &&
			    buf[i] != quote) {
				p->pos++;
				i++;
				if (buf + i - seg >= XML_SLICE) {
					if ((rc = xml_push(p, seg,
					    buf + i - seg)) != 0)
						goto out;
					seg = buf + i;
				}
			}
			if (i == len)
				break;
		}
		if (xml_utf8(p, buf[i]) == -1)
			goto fail;
		switch (xml_lex(p, buf[i])) {
		case XML_LR_FEED:
			break;
		case XML_LR_SKIP:
			if ((rc = xml_push(p, seg, buf + i - seg)) != 0)
				goto out;
			seg = buf + i + 1;
			break;
		case XML_LR_END:
			if (!p->compact_wanted)
				break;
			if ((rc = xml_push(p, seg, buf + i + 1 - seg)) != 0)
				goto out;
			seg = buf + i + 1;
			p->in_feed = 0;
			xml_compact(p);
			p->in_feed = 1;
			break;
		case XML_LR_ERR:
			goto fail;
		}
		p->pos++;
		if (buf + i + 1 - seg >= XML_SLICE) {
			if ((rc = xml_push(p, seg, buf + i + 1 - seg)) != 0)
				goto out;
			seg = buf + i + 1;
		}
	}
	rc = xml_push(p, seg, buf + len - seg);
	goto out;
 fail:
	/* libxml2 sees the bytes before first: their error came first */
	rc = xml_push(p, seg, buf + i - seg);
	if (rc == 0) {
		xml_fail(p, p->lex_err, p->lex_errstr);
		rc = -1;
	}
 out:
	p->in_feed = 0;
	if (p->dead) {
		p->dead = 0;
		xml_free(p);
		return XML_STOPPED;
	}
	if (p->reset_pending) {
		xml_clear(p);
		return XML_STOPPED;
	}
	return rc;
}
