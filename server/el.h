/*
 * server/el.h: element trees, the form every stanza takes inside xfed.
 * Build, query, copy and serialize them; parsing is server/xml.c's job.
 *
 * Ownership: a tree is one arena owned by its root. Every node, name,
 * attribute and text of a tree lives in that arena, so el_free(root)
 * releases it all in one go and nothing inside a tree is freed on its own.
 * Only roots are freed; keep a subtree beyond its root's life with
 * el_copy(). Strings returned by queries live as long as the tree.
 *
 * Namespaces are resolved: each element carries its namespace URI ("" for
 * none), never a prefix. Attribute names keep their prefix ("xml:lang").
 */
#ifndef EL_H
#define EL_H

#include <stddef.h>

#define EL_NS_STREAMS	"http://etherx.jabber.org/streams"
#define EL_NS_SERVER	"jabber:server"
#define EL_NS_DIALBACK	"jabber:server:dialback"
#define EL_NS_XML	"http://www.w3.org/XML/1998/namespace"

struct evbuffer;

struct el_attr {
	struct el_attr	*next;
	const char	*name;		/* "to", "xml:lang", "p:x" */
	const char	*ns;		/* URI of a "p:x" name; else NULL */
	const char	*value;
};

/*
 * One node: an element (name != NULL) or a text node (name == NULL).
 * Children keep document order, text and elements mixed.
 */
struct el {
	struct el	*parent;	/* NULL for a root */
	struct el	*next;		/* next sibling, element or text */
	struct el	*children;	/* first child */
	struct el	*last;		/* last child */
	const char	*name;		/* local name; NULL for text */
	const char	*ns;		/* namespace URI, "" for none */
	struct el_attr	*attrs;		/* in document order */
	const char	*text;		/* text node: NUL-terminated */
	size_t		 len;		/* text node: bytes before the NUL */
};

/* Build. Names and values are copied into the tree's arena. */
struct el	*el_new(const char *ns, const char *name);
/* A new last child; ns NULL inherits the parent's namespace. */
struct el	*el_add(struct el *parent, const char *ns, const char *name);
/* Replaces or adds; value NULL removes. Names: plain or "xml:...". */
void		 el_set_attr(struct el *, const char *name, const char *value);
/*
 * Appends an attribute known to be absent, as the parser does: the name is
 * prefix:name when prefix is set; ns is that prefix's URI (kept unless the
 * prefix is xml, so the serializer can declare it).
 */
void		 el_append_attr(struct el *, const char *prefix,
		    const char *name, const char *ns, const char *value,
		    size_t valuelen);
/* Appends text (UTF-8), merged with a text node that ends the children. */
void		 el_add_text(struct el *, const char *text, size_t len);
/* A new last child name holding text; nothing (NULL) when text is NULL. */
struct el	*el_add_text_child(struct el *parent, const char *ns,
		    const char *name, const char *text);
/* Appends a copy of src (from any tree) as the last child of parent. */
struct el	*el_add_copy(struct el *parent, const struct el *src);
/* A new independent tree holding a copy of the subtree at src. */
struct el	*el_copy(const struct el *src);
/* Frees a whole tree; el must be a root. NULL is fine. */
void		 el_free(struct el *root);
/* Bytes the tree's arena holds (for queue accounting). */
size_t		 el_mem(const struct el *);

/* Query. Pointers returned live as long as the tree. */
const char	*el_attr(const struct el *, const char *name);
/* First child element named name (ns NULL: any namespace). */
struct el	*el_child(const struct el *, const char *ns, const char *name);
/* First child element / the element after el among its siblings. */
struct el	*el_first(const struct el *);
struct el	*el_next(const struct el *);
#define EL_FOREACH(c, parent) \
	for ((c) = el_first(parent); (c) != NULL; (c) = el_next(c))
/* The direct text children concatenated ("" when none). */
const char	*el_text(const struct el *);
/* 1 if el is an element named name (NULL: any) in ns (NULL: any). */
int		 el_is(const struct el *, const char *ns, const char *name);
int		 el_is_text(const struct el *);

/*
 * Serialize el as it appears inside an element whose default namespace is
 * parent_ns: on a stream that is "jabber:server", so stanzas get no xmlns;
 * NULL stands for "no context" (storage): the root gets its xmlns and any
 * stream:/db: prefix it uses is declared. Elements in the streams and
 * dialback namespaces are written stream:NAME and db:NAME, whose prefixes
 * the stream header declares (S2S-CHECKLIST 1.1, 1.2, 1.26).
 */
int		 el_write(struct evbuffer *, const struct el *,
		    const char *parent_ns);
/* Same into a new NUL-terminated string (caller frees); len may be NULL. */
char		*el_to_string(const struct el *, const char *parent_ns,
		    size_t *len);

/*
 * The stream header: <?xml version='1.0'?><stream:stream ...> declaring
 * jabber:server, the streams namespace and, when dialback is set,
 * jabber:server:dialback (XEP-0220 2.4.1). NULL arguments are left out.
 */
int		 el_write_stream_header(struct evbuffer *, const char *from,
		    const char *to, const char *id, const char *version,
		    const char *lang, int dialback);
int		 el_write_stream_close(struct evbuffer *);

#endif
