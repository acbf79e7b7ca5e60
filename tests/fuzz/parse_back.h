/*
 * tests/fuzz/parse_back.h: what the fuzz targets share: parse one
 * serialized element back, inside a jabber:server stream with the db
 * prefix bound, as a peer of ours would.
 */
#ifndef FUZZ_PARSE_BACK_H
#define FUZZ_PARSE_BACK_H

#include <stdio.h>
#include <stdlib.h>

#include "el.h"
#include "xml.h"

static struct el	*fz_back;

static int
fz_back_open(void *arg, struct el *h)
{
	el_free(h);
	return 0;
}

static int
fz_back_elem(void *arg, struct el *el)
{
	if (fz_back == NULL)
		fz_back = el;
	else
		el_free(el);
	return 0;
}

static int
fz_back_close(void *arg)
{
	return 0;
}

/* s[0..len) parsed as the first element of a stream (taken by the caller,
 * el_free()); aborts when it does not parse. */
static struct el *
fz_parse_back(const char *s, size_t len)
{
	static const char hdr[] = "<stream:stream xmlns='jabber:server' "
	    "xmlns:stream='http://etherx.jabber.org/streams' "
	    "xmlns:db='jabber:server:dialback'>";
	const struct xml_cb cb = { fz_back_open, fz_back_elem, fz_back_close };
	const struct xml_limits lim = { 1 << 24, 0, 64, 1024 };
	struct xml_parser *p = xml_new(&lim, &cb, NULL);

	fz_back = NULL;
	if (xml_feed(p, hdr, sizeof(hdr) - 1) != 0 ||
	    xml_feed(p, s, len) != 0 || fz_back == NULL) {
		fprintf(stderr, "serialized element refused: %s: %s\n",
		    xml_errstr(p), s);
		abort();
	}
	xml_free(p);
	return fz_back;
}

#endif
