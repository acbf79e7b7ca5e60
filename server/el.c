/*
 * server/el.c: element trees. Each tree is one arena: the root node sits at
 * the start of a 1 KiB block whose rest is the first chunk; more chunks are
 * chained when it fills. A parsed stanza of ordinary size costs one malloc.
 * The serializer writes XMPP's canonical form: resolved namespaces become
 * xmlns on the element where they change, the stream-scoped namespaces
 * become the stream: and db: prefixes, and everything is escaped so that
 * parsing the output gives the same tree back. Parsing lives in xml.c.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "el.h"
#include "utf8.h"
#include "log.h"
#include "xmalloc.h"

#define EL_ROOT_SIZE	1024		/* root node + first chunk */
#define EL_CHUNK_SIZE	4096		/* later chunks, at least */
#define EL_WBUF_SIZE	4096		/* serializer's stack buffer */

struct el_chunk {
	struct el_chunk	*next;
	size_t		 size;		/* bytes, this header included */
};

/* The root node and its arena; the first chunk follows in the block. */
struct el_root {
	struct el	 el;
	char		*pos;		/* free space of the current chunk */
	char		*end;
	struct el_chunk	*chunks;	/* chunks after the first */
	size_t		 mem;		/* bytes of all chunks and the block */
};

/* Interned namespaces: most trees use only these, so they are not copied. */
static const char *const el_known_ns[] = {
	"", EL_NS_SERVER, EL_NS_STREAMS, EL_NS_DIALBACK,
	"urn:ietf:params:xml:ns:xmpp-stanzas",
	"urn:ietf:params:xml:ns:xmpp-streams",
	"urn:ietf:params:xml:ns:xmpp-tls",
	"urn:ietf:params:xml:ns:xmpp-sasl",
	"urn:xmpp:features:dialback",
	"http://jabber.org/protocol/disco#info",
	"http://jabber.org/protocol/disco#items",
	"http://jabber.org/protocol/caps",
	"urn:xmpp:delay",
	"urn:xmpp:receipts",
	"http://jabber.org/protocol/chatstates",
	"urn:xmpp:sid:0",
	"vcard-temp",
	"urn:xmpp:ping",
};

static struct el_root *
el_root_of(const struct el *el)
{
	while (el->parent != NULL)
		el = el->parent;
	return (struct el_root *)el;
}

/* Makes a new current chunk able to hold need bytes at any alignment. */
static void
el_arena_grow(struct el_root *r, size_t need)
{
	struct el_chunk	*c;
	size_t		 size;

	if (need > SIZE_MAX / 4)
		fatalx("el: allocation of %zu bytes", need);
	size = sizeof(*c) + need + sizeof(void *);
	if (size < EL_CHUNK_SIZE)
		size = EL_CHUNK_SIZE;
	c = xmalloc(size);
	c->size = size;
	c->next = r->chunks;
	r->chunks = c;
	r->mem += size;
	r->pos = (char *)(c + 1);
	r->end = (char *)c + size;
}

static void *
el_arena_alloc(struct el_root *r, size_t n, size_t align)
{
	uintptr_t	 p;

	p = ((uintptr_t)r->pos + align - 1) & ~(uintptr_t)(align - 1);
	if (p > (uintptr_t)r->end || n > (uintptr_t)r->end - p) {
		el_arena_grow(r, n);
		p = ((uintptr_t)r->pos + align - 1) &
		    ~(uintptr_t)(align - 1);
	}
	r->pos = (char *)p + n;
	return (void *)p;
}

static char *
el_arena_strndup(struct el_root *r, const char *s, size_t len)
{
	char	*d;

	d = el_arena_alloc(r, len + 1, 1);
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

static const char *
el_arena_ns(struct el_root *r, const char *ns)
{
	size_t	 i;

	for (i = 0; i < sizeof(el_known_ns) / sizeof(el_known_ns[0]); i++)
		if (strcmp(ns, el_known_ns[i]) == 0)
			return el_known_ns[i];
	return el_arena_strndup(r, ns, strlen(ns));
}

static struct el *
el_node(struct el_root *r)
{
	struct el	*n;

	n = el_arena_alloc(r, sizeof(*n), sizeof(void *));
	memset(n, 0, sizeof(*n));
	return n;
}

static void
el_link(struct el *parent, struct el *n)
{
	n->parent = parent;
	if (parent->last != NULL)
		parent->last->next = n;
	else
		parent->children = n;
	parent->last = n;
}

struct el *
el_new(const char *ns, const char *name)
{
	struct el_root	*r;

	r = xmalloc(EL_ROOT_SIZE);
	memset(&r->el, 0, sizeof(r->el));
	r->pos = (char *)(r + 1);
	r->end = (char *)r + EL_ROOT_SIZE;
	r->chunks = NULL;
	r->mem = EL_ROOT_SIZE;
	r->el.name = el_arena_strndup(r, name, strlen(name));
	r->el.ns = el_arena_ns(r, ns != NULL ? ns : "");
	return &r->el;
}

struct el *
el_add(struct el *parent, const char *ns, const char *name)
{
	struct el_root	*r = el_root_of(parent);
	struct el	*n;

	n = el_node(r);
	n->name = el_arena_strndup(r, name, strlen(name));
	if (ns == NULL || strcmp(ns, parent->ns) == 0)
		n->ns = parent->ns;
	else
		n->ns = el_arena_ns(r, ns);
	el_link(parent, n);
	return n;
}

/* Adds an attribute known not to be there yet; used by the parser too. */
static struct el_attr *
el_attr_new(struct el_root *r, const char *name, size_t namelen,
    const char *value, size_t valuelen)
{
	struct el_attr	*a;

	a = el_arena_alloc(r, sizeof(*a), sizeof(void *));
	a->next = NULL;
	a->ns = NULL;
	a->name = el_arena_strndup(r, name, namelen);
	a->value = el_arena_strndup(r, value, valuelen);
	return a;
}

void
el_append_attr(struct el *el, const char *prefix, const char *name,
    const char *ns, const char *value, size_t valuelen)
{
	struct el_root	*r = el_root_of(el);
	struct el_attr	*a, **ap;
	char		*n;
	size_t		 plen, nlen;

	a = el_arena_alloc(r, sizeof(*a), sizeof(void *));
	a->next = NULL;
	a->value = el_arena_strndup(r, value, valuelen);
	nlen = strlen(name);
	if (prefix == NULL) {
		a->name = el_arena_strndup(r, name, nlen);
		a->ns = NULL;
	} else {
		plen = strlen(prefix);
		n = el_arena_alloc(r, plen + 1 + nlen + 1, 1);
		memcpy(n, prefix, plen);
		n[plen] = ':';
		memcpy(n + plen + 1, name, nlen + 1);
		a->name = n;
		a->ns = strcmp(prefix, "xml") == 0 || ns == NULL ? NULL :
		    el_arena_ns(r, ns);
	}
	for (ap = &el->attrs; *ap != NULL; ap = &(*ap)->next)
		;
	*ap = a;
}

void
el_set_attr(struct el *el, const char *name, const char *value)
{
	struct el_root	*r = el_root_of(el);
	struct el_attr	**ap, *a;

	for (ap = &el->attrs; (a = *ap) != NULL; ap = &a->next) {
		if (strcmp(a->name, name) != 0)
			continue;
		if (value == NULL)
			*ap = a->next;
		else
			a->value = el_arena_strndup(r, value, strlen(value));
		return;
	}
	if (value != NULL)
		*ap = el_attr_new(r, name, strlen(name), value, strlen(value));
}

struct el *
el_add_text_child(struct el *parent, const char *ns, const char *name,
    const char *text)
{
	struct el	*c;

	if (text == NULL)
		return NULL;
	c = el_add(parent, ns, name);
	el_add_text(c, text, strlen(text));
	return c;
}

/*
 * Text that ends the arena's current chunk grows in place; otherwise it
 * moves to a chunk twice its size, so appending piece by piece (as the
 * parser does) stays linear.
 */
void
el_add_text(struct el *el, const char *text, size_t len)
{
	struct el_root	*r = el_root_of(el);
	struct el	*t = el->last;
	char		*d;
	size_t		 total;

	if (len == 0)
		return;
	if (t == NULL || t->name != NULL) {
		t = el_node(r);
		t->text = el_arena_strndup(r, text, len);
		t->len = len;
		el_link(el, t);
		return;
	}
	if (len > SIZE_MAX / 4 - t->len)
		fatalx("el: text of %zu bytes", t->len);
	total = t->len + len;
	if (t->text + t->len + 1 == r->pos &&
	    (size_t)(r->end - r->pos) >= len) {
		d = (char *)t->text;
		r->pos += len;
	} else {
		if ((size_t)(r->end - r->pos) < total + 1)
			el_arena_grow(r, 2 * (total + 1));
		d = el_arena_alloc(r, total + 1, 1);
		memcpy(d, t->text, t->len);
	}
	memcpy(d + t->len, text, len);
	d[total] = '\0';
	t->text = d;
	t->len = total;
}

static struct el *
el_copy_into(struct el_root *r, struct el *n, const struct el *src)
{
	const struct el_attr	*sa;
	struct el_attr		*a, **tail;
	const struct el		*sc;
	struct el		*c;

	if (n->ns == NULL)
		n->ns = el_arena_ns(r, src->ns);
	tail = &n->attrs;
	for (sa = src->attrs; sa != NULL; sa = sa->next) {
		a = el_attr_new(r, sa->name, strlen(sa->name), sa->value,
		    strlen(sa->value));
		if (sa->ns != NULL)
			a->ns = el_arena_ns(r, sa->ns);
		*tail = a;
		tail = &a->next;
	}
	for (sc = src->children; sc != NULL; sc = sc->next) {
		c = el_node(r);
		if (sc->name == NULL) {
			c->text = el_arena_strndup(r, sc->text, sc->len);
			c->len = sc->len;
		} else {
			c->name = el_arena_strndup(r, sc->name,
			    strlen(sc->name));
			if (strcmp(sc->ns, n->ns) == 0)
				c->ns = n->ns;
			el_copy_into(r, c, sc);
		}
		el_link(n, c);
	}
	return n;
}

struct el *
el_add_copy(struct el *parent, const struct el *src)
{
	struct el_root	*r = el_root_of(parent);
	struct el	*n;

	n = el_node(r);
	if (src->name == NULL) {
		n->text = el_arena_strndup(r, src->text, src->len);
		n->len = src->len;
	} else {
		n->name = el_arena_strndup(r, src->name, strlen(src->name));
		el_copy_into(r, n, src);
	}
	el_link(parent, n);
	return n;
}

struct el *
el_copy(const struct el *src)
{
	struct el	*n;

	if (src->name == NULL)
		fatalx("el_copy: text node");
	n = el_new(src->ns, src->name);
	return el_copy_into(el_root_of(n), n, src);
}

void
el_free(struct el *el)
{
	struct el_root	*r = (struct el_root *)el;
	struct el_chunk	*c, *next;

	if (el == NULL)
		return;
	if (el->parent != NULL)
		fatalx("el_free: %s is not a root", el->name);
	for (c = r->chunks; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(r);
}

size_t
el_mem(const struct el *el)
{
	return el_root_of(el)->mem;
}

const char *
el_attr(const struct el *el, const char *name)
{
	const struct el_attr	*a;

	for (a = el->attrs; a != NULL; a = a->next)
		if (strcmp(a->name, name) == 0)
			return a->value;
	return NULL;
}

struct el *
el_first(const struct el *el)
{
	struct el	*c;

	for (c = el->children; c != NULL && c->name == NULL; c = c->next)
		;
	return c;
}

struct el *
el_next(const struct el *el)
{
	struct el	*c;

	for (c = el->next; c != NULL && c->name == NULL; c = c->next)
		;
	return c;
}

int
el_is(const struct el *el, const char *ns, const char *name)
{
	return el->name != NULL && (name == NULL || strcmp(el->name, name) == 0) &&
	    (ns == NULL || strcmp(el->ns, ns) == 0);
}

int
el_is_text(const struct el *el)
{
	return el->name == NULL;
}

struct el *
el_child(const struct el *el, const char *ns, const char *name)
{
	struct el	*c;

	EL_FOREACH(c, el)
		if (el_is(c, ns, name))
			return c;
	return NULL;
}

/*
 * One text child (the usual case) is returned as it is; several, as in
 * mixed content, are joined once into the arena, which a const tree still
 * owns: the join is a cache, not a change the caller can see.
 */
const char *
el_text(const struct el *el)
{
	const struct el	*c, *one = NULL;
	size_t		 n = 0, total = 0;
	char		*d;

	for (c = el->children; c != NULL; c = c->next) {
		if (c->name != NULL)
			continue;
		one = c;
		n++;
		total += c->len;
	}
	if (n == 0)
		return "";
	if (n == 1)
		return one->text;
	d = el_arena_alloc(el_root_of(el), total + 1, 1);
	total = 0;
	for (c = el->children; c != NULL; c = c->next) {
		if (c->name != NULL)
			continue;
		memcpy(d + total, c->text, c->len);
		total += c->len;
	}
	d[total] = '\0';
	return d;
}

/*
 * The serializer's output: a growable string, or a stack buffer flushed
 * into an evbuffer so that a stanza costs a few evbuffer_add() calls.
 */
struct el_w {
	struct evbuffer	*ev;
	char		*buf;
	size_t		 len;
	size_t		 cap;
	int		 err;
};

static void
el_w_flush(struct el_w *w)
{
	if (w->len > 0 && evbuffer_add(w->ev, w->buf, w->len) == -1)
		w->err = -1;
	w->len = 0;
}

static void
el_w_put(struct el_w *w, const char *s, size_t n)
{
	if (w->ev == NULL && w->buf == NULL) {	/* el_size(): count only */
		w->len += n;
		return;
	}
	if (n > w->cap - w->len) {
		if (w->ev != NULL) {
			el_w_flush(w);
			if (n > w->cap) {
				if (evbuffer_add(w->ev, s, n) == -1)
					w->err = -1;
				return;
			}
		} else {
			while (n > w->cap - w->len) {
				if (w->cap > SIZE_MAX / 4)
					fatalx("el: output too large");
				w->cap *= 2;
			}
			w->buf = xreallocarray(w->buf, 1, w->cap);
		}
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void
el_w_str(struct el_w *w, const char *s)
{
	el_w_put(w, s, strlen(s));
}

/*
 * Escapes per byte: text needs & < > (and > because of "]]>"), plus \r,
 * which a parser would turn into \n. Attribute values need both quotes and
 * \t \n \r too, as a parser normalizes those to spaces. Other control
 * characters are not XML at all and are left out.
 */
enum { EL_ESC_TEXT = 1, EL_ESC_ATTR = 2 };

static const char *
el_esc_of(unsigned char c, int mode)
{
	switch (c) {
	case '&':	return "&amp;";
	case '<':	return "&lt;";
	case '>':	return "&gt;";
	case '\r':	return "&#13;";
	case '"':	return mode == EL_ESC_ATTR ? "&quot;" : NULL;
	case '\'':	return mode == EL_ESC_ATTR ? "&apos;" : NULL;
	case '\t':	return mode == EL_ESC_ATTR ? "&#9;" : NULL;
	case '\n':	return mode == EL_ESC_ATTR ? "&#10;" : NULL;
	default:
		return c < 0x20 ? "" : NULL;
	}
}

static void
el_w_esc(struct el_w *w, const char *s, size_t n, int mode)
{
	const char	*run = s, *e;
	size_t		 i, k;
	unsigned long	 cp;

	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] >= 0x80) {
			/* text from the store may not be UTF-8: what is not
			 * (or not an XML character) becomes U+FFFD, never
			 * bytes that would end the peer's stream */
			k = utf8_decode((const unsigned char *)s + i, n - i,
			    &cp);
			if (k != 0 && cp != 0xfffe && cp != 0xffff) {
				i += k - 1;
				continue;
			}
			el_w_put(w, run, s + i - run);
			el_w_put(w, "\xef\xbf\xbd", 3);
			run = s + i + 1;
			continue;
		}
		if ((unsigned char)s[i] > '>' ||
		    (e = el_esc_of((unsigned char)s[i], mode)) == NULL)
			continue;
		el_w_put(w, run, s + i - run);
		el_w_str(w, e);
		run = s + i + 1;
	}
	el_w_put(w, run, s + n - run);
}

static void
el_w_attr(struct el_w *w, const char *name, const char *value)
{
	el_w_put(w, " ", 1);
	el_w_str(w, name);
	el_w_put(w, "='", 2);
	el_w_esc(w, value, strlen(value), EL_ESC_ATTR);
	el_w_put(w, "'", 1);
}

static const char *
el_prefix_of(const char *ns)
{
	if (strcmp(ns, EL_NS_STREAMS) == 0)
		return "stream";
	if (strcmp(ns, EL_NS_DIALBACK) == 0)
		return "db";
	return NULL;
}

/* Which of the stream: and db: prefixes a tree uses: bit 1 and bit 2. */
static int
el_prefixes_used(const struct el *el)
{
	const struct el	*c;
	const char	*p;
	int		 used = 0;

	if ((p = el_prefix_of(el->ns)) != NULL)
		used |= p[0] == 's' ? 1 : 2;
	for (c = el->children; c != NULL; c = c->next)
		if (c->name != NULL)
			used |= el_prefixes_used(c);
	return used;
}

static void
el_w_attrs(struct el_w *w, const struct el *el)
{
	const struct el_attr	*a, *b;
	const char		*colon;
	char			 decl[64];
	size_t			 plen;

	for (a = el->attrs; a != NULL; a = a->next) {
		if (a->ns != NULL && (colon = strchr(a->name, ':')) != NULL &&
		    (plen = colon - a->name) < sizeof(decl) - 7 &&
		    strncmp(a->name, "xml:", 4) != 0) {
			/* declared already for an earlier attribute? */
			for (b = el->attrs; b != a; b = b->next)
				if (b->ns != NULL &&
				    strncmp(b->name, a->name, plen + 1) == 0)
					break;
			if (b == a) {
				memcpy(decl, "xmlns:", 6);
				memcpy(decl + 6, a->name, plen);
				decl[6 + plen] = '\0';
				el_w_attr(w, decl, a->ns);
			}
		}
		el_w_attr(w, a->name, a->value);
	}
}

static void
el_w_el(struct el_w *w, const struct el *el, const char *parent_ns, int top)
{
	const struct el	*c;
	const char	*prefix, *inner_ns;
	int		 used;

	if (el->name == NULL) {
		el_w_esc(w, el->text, el->len, EL_ESC_TEXT);
		return;
	}
	prefix = el_prefix_of(el->ns);
	el_w_put(w, "<", 1);
	if (prefix != NULL) {
		el_w_str(w, prefix);
		el_w_put(w, ":", 1);
	}
	el_w_str(w, el->name);
	inner_ns = parent_ns != NULL ? parent_ns : "";
	if (prefix == NULL) {
		if (strcmp(el->ns, inner_ns) != 0)
			el_w_attr(w, "xmlns", el->ns);
		inner_ns = el->ns;
	}
	if (top && parent_ns == NULL) {
		used = el_prefixes_used(el);
		if (used & 1)
			el_w_attr(w, "xmlns:stream", EL_NS_STREAMS);
		if (used & 2)
			el_w_attr(w, "xmlns:db", EL_NS_DIALBACK);
	}
	el_w_attrs(w, el);
	if (el->children == NULL) {
		el_w_put(w, "/>", 2);
		return;
	}
	el_w_put(w, ">", 1);
	for (c = el->children; c != NULL; c = c->next)
		el_w_el(w, c, inner_ns, 0);
	el_w_put(w, "</", 2);
	if (prefix != NULL) {
		el_w_str(w, prefix);
		el_w_put(w, ":", 1);
	}
	el_w_str(w, el->name);
	el_w_put(w, ">", 1);
}

int
el_write(struct evbuffer *out, const struct el *el, const char *parent_ns)
{
	char		 buf[EL_WBUF_SIZE];
	struct el_w	 w = { out, buf, 0, sizeof(buf), 0 };

	el_w_el(&w, el, parent_ns, 1);
	el_w_flush(&w);
	return w.err;
}

char *
el_to_string(const struct el *el, const char *parent_ns, size_t *lenp)
{
	struct el_w	 w = { NULL, NULL, 0, 256, 0 };

	w.buf = xmalloc(w.cap);
	el_w_el(&w, el, parent_ns, 1);
	el_w_put(&w, "", 1);
	if (lenp != NULL)
		*lenp = w.len - 1;
	return w.buf;
}

size_t
el_size(const struct el *el, const char *parent_ns)
{
	struct el_w	 w = { NULL, NULL, 0, 0, 0 };

	el_w_el(&w, el, parent_ns, 1);
	return w.len;
}

int
el_write_stream_header(struct evbuffer *out, const char *from,
    const char *to, const char *id, const char *version, const char *lang,
    int dialback)
{
	char		 buf[1024];
	struct el_w	 w = { out, buf, 0, sizeof(buf), 0 };

	el_w_str(&w, "<?xml version='1.0'?><stream:stream");
	el_w_attr(&w, "xmlns", EL_NS_SERVER);
	el_w_attr(&w, "xmlns:stream", EL_NS_STREAMS);
	if (dialback)
		el_w_attr(&w, "xmlns:db", EL_NS_DIALBACK);
	if (from != NULL)
		el_w_attr(&w, "from", from);
	if (to != NULL)
		el_w_attr(&w, "to", to);
	if (id != NULL)
		el_w_attr(&w, "id", id);
	if (version != NULL)
		el_w_attr(&w, "version", version);
	if (lang != NULL)
		el_w_attr(&w, "xml:lang", lang);
	el_w_put(&w, ">", 1);
	el_w_flush(&w);
	return w.err;
}

int
el_write_stream_close(struct evbuffer *out)
{
	return evbuffer_add(out, "</stream:stream>", 16);
}
