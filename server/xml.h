/*
 * server/xml.h: the XML side of one XMPP stream. Bytes from the peer go in
 * through xml_feed(); out come three events: the stream header, each
 * complete top-level element (stanza, db:result, stream:features ...) as a
 * tree, and the closing </stream:stream>. Any error is one RFC 6120 stream
 * error condition; answering it is the stream layer's job.
 *
 * Ownership: the header and each element passed to a callback belong to
 * the callee from then on (it frees them with el_free() or hands them on).
 * The parser keeps no pointer into the caller's buffer after xml_feed().
 *
 * Callbacks return 0 to go on, or nonzero to stop at once: xml_feed() then
 * returns XML_STOPPED without looking at the rest of its buffer, which is
 * what a stream being closed, or restarted after STARTTLS/SASL (RFC 6120
 * 5.3.3, 6.4.6: nothing may be carried across a restart), wants. Inside a
 * callback it is also safe to call xml_reset() (the current xml_feed()
 * stops, and the next one starts a new document) or xml_free() (freed
 * when xml_feed() returns XML_STOPPED; do not touch the parser after).
 */
#ifndef XML_H
#define XML_H

#include <stddef.h>

struct el;
struct xml_parser;

/* The stream error conditions a peer's bytes can cause (RFC 6120 4.9.3). */
enum xml_err {
	XML_E_NONE = 0,
	XML_E_BAD_FORMAT,		/* root is not a stream element */
	XML_E_BAD_NAMESPACE_PREFIX,	/* 4.8.5 */
	XML_E_INVALID_NAMESPACE,	/* 4.8.1, 4.8.3 */
	XML_E_NOT_WELL_FORMED,		/* 11.3 */
	XML_E_POLICY_VIOLATION,		/* a limit below, 13.12 */
	XML_E_RESTRICTED_XML,		/* 11.1 */
	XML_E_UNSUPPORTED_ENCODING,	/* 11.6 */
	XML_E_INTERNAL_SERVER_ERROR,	/* libxml2 out of memory */
};

#define XML_DEFAULT_MAX_STANZA_SIZE	524288
#define XML_DEFAULT_MAX_HEADER_SIZE	8192
#define XML_DEFAULT_MAX_DEPTH		32
#define XML_DEFAULT_MAX_ATTRS		64

/* Zero fields take the defaults above. */
struct xml_limits {
	size_t		 max_stanza_size;	/* first '<' to last '>' */
	size_t		 max_header_size;	/* bytes up to its '>' */
	unsigned int	 max_depth;		/* stanza 1, children 2 ... */
	unsigned int	 max_attrs;		/* per element, xmlns too */
};

/* A NULL callback ignores (and frees) what it would have been given. */
struct xml_cb {
	/*
	 * The <stream:stream> header, takes header. Its namespace
	 * declarations appear as attributes "xmlns" (the default namespace,
	 * which must be jabber:server: the callee checks and answers
	 * invalid-namespace) and "xmlns:PREFIX".
	 */
	int	(*open)(void *arg, struct el *header);
	/* A complete top-level element, takes stanza. */
	int	(*elem)(void *arg, struct el *stanza);
	/* The peer's </stream:stream>. */
	int	(*close)(void *arg);
};

#define XML_STOPPED	1	/* xml_feed(): a callback stopped the parse */

/* limits may be NULL; cb and arg are kept. */
struct xml_parser *xml_new(const struct xml_limits *, const struct xml_cb *,
		    void *arg);
void		 xml_free(struct xml_parser *);
/* Changes max_stanza_size (0: the default) from the next byte on. */
void		 xml_set_max_stanza_size(struct xml_parser *, size_t);
/* 0 all parsed, XML_STOPPED, or -1 on a stream error (xml_error()). */
int		 xml_feed(struct xml_parser *, const char *buf, size_t len);
/* Forget the document: the next byte starts a new one (stream restart). */
void		 xml_reset(struct xml_parser *);
/*
 * Releases libxml2's state between stanzas; the next xml_feed() rebuilds
 * it. The stream layer calls this when a stream goes idle: an idle
 * parser then holds a few hundred bytes. -1 (and nothing done) in the
 * middle of a stanza or before the header is complete.
 */
int		 xml_compact(struct xml_parser *);

/* sizeof(struct xml_parser), for memory figures. */
size_t		 xml_sizeof(void);
/* Bytes of header replay the parser holds itself: 0 before a header, and
 * for the S2S header's namespaces, whose replay is shared. */
size_t		 xml_replay_held(const struct xml_parser *);

enum xml_err	 xml_error(const struct xml_parser *);
/* Human text for the error, for logs and <text/>: never NULL. */
const char	*xml_errstr(const struct xml_parser *);
/* The RFC 6120 condition element name: "not-well-formed" ... */
const char	*xml_err_condition(enum xml_err);

#endif
