/*
 * tests/fuzz/xml_fuzz.c: the stream parser and the serializer under
 * libFuzzer. The first input byte picks how the rest is cut into chunks
 * (and where xml_compact() is tried); the rest is a stream. Checked:
 *   - chunked (and compacted) parsing gives the same events as one feed;
 *   - every element serializes to XML that parses back to the same text.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "el.h"
#include "parse_back.h"
#include "xml.h"

struct fz {
	char			*buf;
	size_t			 len, cap;
	int			 roundtrip;
};

static void
fz_add(struct fz *f, const char *s, size_t n)
{
	if (f->len + n + 1 > f->cap) {
		f->cap = (f->len + n + 1) * 2;
		f->buf = realloc(f->buf, f->cap);
	}
	memcpy(f->buf + f->len, s, n);
	f->len += n;
	f->buf[f->len] = '\0';
}

/* s parsed as a stanza must serialize to s again. */
static void
fz_round_trip(const char *s, size_t len)
{
	struct el	*back = fz_parse_back(s, len);
	char		*again;

	again = el_to_string(back, EL_NS_SERVER, NULL);
	if (strcmp(again, s) != 0) {
		fprintf(stderr, "round trip differs:\n%s\n%s\n", s, again);
		abort();
	}
	free(again);
	el_free(back);
}

static void
fz_el(struct fz *f, const char *what, struct el *el, const char *ns)
{
	size_t	 n;
	char	*s = el_to_string(el, ns, &n);

	if (strlen(s) != n)
		abort();
	fz_add(f, what, strlen(what));
	fz_add(f, s, n);
	fz_add(f, "\n", 1);
	if (f->roundtrip && ns != NULL && strcmp(ns, EL_NS_SERVER) == 0)
		fz_round_trip(s, n);
	free(s);
	el_free(el);
}

static int
fz_open(void *arg, struct el *h)
{
	fz_el(arg, "open ", h, "");
	return 0;
}

static int
fz_elem(void *arg, struct el *el)
{
	struct el	*c;

	/* queries and copies on whatever the parser built */
	(void)el_text(el);
	EL_FOREACH(c, el)
		(void)el_attr(c, "xml:lang");
	c = el_copy(el);
	el_free(c);
	fz_el(arg, "elem ", el, EL_NS_SERVER);
	return 0;
}

static int
fz_close(void *arg)
{
	fz_add(arg, "close\n", 6);
	return 0;
}

static char *
fz_run(const uint8_t *data, size_t size, unsigned int seed, int roundtrip)
{
	const struct xml_cb cb = { fz_open, fz_elem, fz_close };
	const struct xml_limits lim = { 2048, 512, 8, 8 };
	struct fz	 f = { NULL, 0, 0, roundtrip };
	struct xml_parser *p;
	size_t		 off, n;
	int		 rc = 0;

	fz_add(&f, "", 0);
	p = xml_new(&lim, &cb, &f);
	for (off = 0; off < size && rc == 0; off += n) {
		if (seed == 0)
			n = size;
		else {
			seed = seed * 1103515245 + 12345;
			n = 1 + ((seed >> 16) % 17);
			if ((seed >> 8) % 3 == 0)
				xml_compact(p);
		}
		if (n > size - off)
			n = size - off;
		rc = xml_feed(p, (const char *)data + off, n);
	}
	if (rc == -1) {
		fz_add(&f, "error ", 6);
		fz_add(&f, xml_err_condition(xml_error(p)),
		    strlen(xml_err_condition(xml_error(p))));
	}
	xml_free(p);
	return f.buf;
}

/*
 * The events must match. The final error may not: on broken XML libxml2
 * only looks again when a chunk brings a '>' and it can take a quote for
 * the start of a value, so how the bytes were cut can decide whether its
 * not-well-formed or a later error of ours (bad UTF-8, a limit) is seen
 * first, or whether the error is seen yet at all.
 */
static const char *
fz_error(const char *s)
{
	const char	*nl = strrchr(s, '\n');

	s = nl != NULL ? nl + 1 : s;
	return strncmp(s, "error ", 6) == 0 ? s : NULL;
}

static int
fz_cmp(const char *a, const char *b)
{
	const char	*ea = fz_error(a), *eb = fz_error(b);
	size_t		 la = ea != NULL ? (size_t)(ea - a) : strlen(a);
	size_t		 lb = eb != NULL ? (size_t)(eb - b) : strlen(b);

	if (la != lb || memcmp(a, b, la) != 0)
		return -1;
	if (ea != NULL && eb != NULL && strcmp(ea, eb) != 0 &&
	    strcmp(ea, "error not-well-formed") != 0 &&
	    strcmp(eb, "error not-well-formed") != 0)
		return -1;
	return 0;
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*whole, *chunked;
	unsigned int	 seed;

	if (size < 1)
		return 0;
	seed = data[0] + 1;
	whole = fz_run(data + 1, size - 1, 0, 1);
	chunked = fz_run(data + 1, size - 1, seed, 0);
	if (fz_cmp(whole, chunked) != 0) {
		fprintf(stderr, "whole:\n%s\nchunked (seed %u):\n%s\n", whole,
		    seed, chunked);
		abort();
	}
	free(whole);
	free(chunked);
	return 0;
}
