/*
 * tests/unit/xml_test.c: the stream parser. Golden files in tests/xml/
 * (NAME.xml in, NAME.events out) are fed whole, byte by byte and in
 * random chunks, and every way must give the same event dump. Other cases
 * cover timing of delivery, callbacks that stop, reset or free, limits
 * with bounded memory, and print the idle size and a throughput figure.
 */
#include <dirent.h>
#include <malloc.h>
#include <sys/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/xmlmemory.h>

#include "el.h"
#include "xml.h"
#include "../t.h"

#ifdef __SANITIZE_ADDRESS__
size_t	 __sanitizer_get_current_allocated_bytes(void);
#endif

/* Bytes in use on the heap now (mallinfo2 is blind under ASan). */
static ssize_t
heap_now(void)
{
#ifdef __SANITIZE_ADDRESS__
	return __sanitizer_get_current_allocated_bytes();
#else
	return mallinfo2().uordblks;
#endif
}

/* The event dump: one line per event, newlines in text shown as \n. */
struct dump {
	char			*buf;
	size_t			 len, cap;
	struct xml_parser	*p;
	int			 nelem;
	int			 action;	/* ACT_*, below */
};

enum { ACT_NONE, ACT_STOP, ACT_RESET, ACT_FREE };

static void
dump_raw(struct dump *d, const char *s)
{
	size_t	 n = strlen(s);

	if (d->len + n + 1 > d->cap) {
		d->cap = (d->len + n + 1) * 2;
		d->buf = realloc(d->buf, d->cap);
	}
	memcpy(d->buf + d->len, s, n + 1);
	d->len += n;
}

static void
dump_add(struct dump *d, const char *s)
{
	size_t	 n = strlen(s);

	if (d->len + 2 * n + 2 > d->cap) {
		d->cap = (d->len + 2 * n + 2) * 2;
		d->buf = realloc(d->buf, d->cap);
	}
	for (; *s != '\0'; s++) {
		if (*s == '\n' || *s == '\\') {
			d->buf[d->len++] = '\\';
			d->buf[d->len++] = *s == '\n' ? 'n' : '\\';
		} else
			d->buf[d->len++] = *s;
	}
	d->buf[d->len] = '\0';
}

static void
dump_el(struct dump *d, const char *what, struct el *el, const char *ns)
{
	char	*s = el_to_string(el, ns, NULL);

	dump_add(d, what);
	dump_add(d, s);
	dump_raw(d, "\n");
	free(s);
	el_free(el);
}

static int
cb_open(void *arg, struct el *h)
{
	dump_el(arg, "open ", h, "");
	return 0;
}

static int
cb_elem(void *arg, struct el *el)
{
	struct dump	*d = arg;

	d->nelem++;
	dump_el(d, "elem ", el, EL_NS_SERVER);
	switch (d->action) {
	case ACT_STOP:
		return 1;
	case ACT_RESET:
		xml_reset(d->p);
		break;
	case ACT_FREE:
		xml_free(d->p);
		d->p = NULL;
		return 1;
	}
	return 0;
}

static int
cb_close(void *arg)
{
	dump_raw(arg, "close\n");
	return 0;
}

static const struct xml_cb	 test_cb = { cb_open, cb_elem, cb_close };
static const struct xml_limits	 test_lim = { 4096, 1024, 16, 16 };

static unsigned int
rnd(unsigned int *seed)
{
	*seed = *seed * 1103515245 + 12345;
	return (*seed >> 16) & 0x7fff;
}

/*
 * Feeds parts (separated by a line "%reset%", where xml_reset() is
 * called) in chunks: 0 whole, 1 byte by byte, else random sizes seeded.
 */
static char *
run_doc(const char *doc, size_t len, int mode)
{
	struct dump	 d = { NULL, 0, 0, NULL, 0, ACT_NONE };
	const char	*part = doc, *end = doc + len, *mark;
	unsigned int	 seed = mode;
	size_t		 off, n, plen;
	int		 rc = 0;

	dump_add(&d, "");
	d.p = xml_new(&test_lim, &test_cb, &d);
	while (part < end) {
		mark = strstr(part, "\n%reset%\n");
		plen = mark != NULL ? (size_t)(mark - part) + 1 :
		    (size_t)(end - part);
		for (off = 0; off < plen && rc == 0; off += n) {
			n = mode == 0 ? plen : mode == 1 ? 1 :
			    1 + rnd(&seed) % 40;
			if (n > plen - off)
				n = plen - off;
			rc = xml_feed(d.p, part + off, n);
		}
		if (rc == -1) {
			dump_add(&d, "error ");
			dump_add(&d, xml_err_condition(xml_error(d.p)));
			dump_raw(&d, "\n");
			break;
		}
		if (mark == NULL)
			break;
		xml_reset(d.p);
		dump_raw(&d, "reset\n");
		rc = 0;
		part = mark + 9;
	}
	xml_free(d.p);
	return d.buf;
}

static const char *
src_dir(void)
{
	const char	*s = getenv("XFED_SRC");

	return s != NULL ? s : ".";
}

static void
test_golden(void)
{
	char		 path[1024], *doc, *want, *got, *other;
	struct dirent	*de;
	DIR		*dir;
	size_t		 len, n;
	int		 mode, files = 0;

	snprintf(path, sizeof(path), "%s/tests/xml", src_dir());
	REQUIRE((dir = opendir(path)) != NULL);
	while ((de = readdir(dir)) != NULL) {
		n = strlen(de->d_name);
		if (n < 5 || strcmp(de->d_name + n - 4, ".xml") != 0)
			continue;
		files++;
		snprintf(path, sizeof(path), "%s/tests/xml/%s", src_dir(),
		    de->d_name);
		doc = t_readfile(path, &len);
		REQUIRE(doc != NULL);
		got = run_doc(doc, len, 0);
		for (mode = 1; mode < 12; mode++) {
			other = run_doc(doc, len, mode);
			if (strcmp(got, other) != 0) {
				printf("  %s: mode %d differs from whole\n",
				    de->d_name, mode);
				CHECK_STR(other, got);
			}
			free(other);
		}
		snprintf(path + strlen(path) - 4, 8, ".events");
		if (getenv("XFED_GOLDEN_UPDATE") != NULL) {
			FILE	*f = fopen(path, "w");

			REQUIRE(f != NULL);
			fputs(got, f);
			fclose(f);
		}
		want = t_readfile(path, NULL);
		if (want == NULL || strcmp(want, got) != 0) {
			printf("  %s:\n", path);
			CHECK_STR(got, want);
		}
		free(want);
		free(got);
		free(doc);
	}
	closedir(dir);
	CHECK(files >= 20);
}

/* Byte by byte: each event comes with the '>' that completes it. */
static void
test_prompt_delivery(void)
{
	const char	*doc = "<?xml version='1.0'?><stream:stream "
	    "xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/"
	    "streams' xmlns:db='jabber:server:dialback' to='a.example'>"
	    "<db:result from='b' to='a'>key</db:result>"
	    "<message to='x@a'><body>hi</body></message>  <iq/>"
	    "</stream:stream>";
	struct dump	 d = { NULL, 0, 0, NULL, 0, ACT_NONE };
	size_t		 i, len = strlen(doc);
	int		 events = 0, now;

	d.p = xml_new(NULL, &test_cb, &d);
	for (i = 0; i < len; i++) {
		REQUIRE(xml_feed(d.p, doc + i, 1) == 0);
		now = 0;
		for (const char *s = d.buf; s != NULL && *s; s++)
			now += *s == '\n';
		if (now != events) {
			/* an event only ever follows a '>' */
			CHECK(doc[i] == '>');
			events = now;
		}
		if (i + 1 == (size_t)(strstr(doc, "'a.example'>") - doc) + 12)
			CHECK(events == 1);
		if (i + 1 == (size_t)(strstr(doc, "</db:result>") - doc) + 12)
			CHECK(events == 2);
		if (i + 1 == (size_t)(strstr(doc, "<iq/>") - doc) + 5)
			CHECK(events == 4);
	}
	CHECK(events == 5);
	xml_free(d.p);
	free(d.buf);
}

static const char *hdr = "<stream:stream xmlns='jabber:server' "
    "xmlns:stream='http://etherx.jabber.org/streams'>";

/* A callback's nonzero return: the rest of the buffer is not parsed. */
static void
test_stop_in_callback(void)
{
	struct dump	 d = { NULL, 0, 0, NULL, 0, ACT_STOP };
	char		 buf[512];

	snprintf(buf, sizeof(buf), "%s<a/><b/><c/>", hdr);
	d.p = xml_new(NULL, &test_cb, &d);
	CHECK(xml_feed(d.p, buf, strlen(buf)) == XML_STOPPED);
	CHECK(d.nelem == 1);
	CHECK(xml_feed(d.p, "<d/>", 4) == XML_STOPPED);
	CHECK(d.nelem == 1);
	xml_free(d.p);
	free(d.buf);
}

/*
 * xml_reset() from a callback (STARTTLS <proceed/>): bytes after the
 * element are dropped, the next feed is a new document.
 */
static void
test_reset_in_callback(void)
{
	struct dump	 d = { NULL, 0, 0, NULL, 0, ACT_RESET };
	char		 buf[512];

	snprintf(buf, sizeof(buf), "%s<proceed xmlns='urn:ietf:params:xml:"
	    "ns:xmpp-tls'/><message><body>injected</body></message>", hdr);
	d.p = xml_new(NULL, &test_cb, &d);
	CHECK(xml_feed(d.p, buf, strlen(buf)) == XML_STOPPED);
	CHECK(d.nelem == 1);
	CHECK(strstr(d.buf, "injected") == NULL);
	d.action = ACT_NONE;
	snprintf(buf, sizeof(buf), "<?xml version='1.0'?>%s<x/>", hdr);
	CHECK(xml_feed(d.p, buf, strlen(buf)) == 0);
	CHECK(d.nelem == 2);
	CHECK(strstr(d.buf, "\nopen ") != NULL);
	xml_free(d.p);
	free(d.buf);
}

static void
test_free_in_callback(void)
{
	struct dump	 d = { NULL, 0, 0, NULL, 0, ACT_FREE };
	char		 buf[512];

	snprintf(buf, sizeof(buf), "%s<a/><b/>", hdr);
	d.p = xml_new(NULL, &test_cb, &d);
	CHECK(xml_feed(d.p, buf, strlen(buf)) == XML_STOPPED);
	CHECK(d.nelem == 1);
	CHECK(d.p == NULL);
	free(d.buf);
}

/* After xml_compact() the parser goes on where it was. */
static void
test_compact(void)
{
	struct dump	 d = { NULL, 0, 0, NULL, 0, ACT_NONE };
	char		 buf[1024];

	snprintf(buf, sizeof(buf), "<stream:stream xmlns='jabber:server' "
	    "xmlns:stream='http://etherx.jabber.org/streams' xmlns:db="
	    "'jabber:server:dialback' xmlns:x='urn:x&amp;&#10;'><a/><b>");
	d.p = xml_new(NULL, &test_cb, &d);
	CHECK(xml_feed(d.p, buf, strlen(buf)) == 0);
	CHECK(xml_compact(d.p) == -1);		/* inside <b> */
	CHECK(xml_feed(d.p, "</b>", 4) == 0);
	CHECK(xml_compact(d.p) == 0);
	CHECK(xml_compact(d.p) == 0);
	CHECK(xml_feed(d.p, " <db:result>k</db:result><x:y/><c/>", 35) == 0);
	CHECK(xml_feed(d.p, "</stream:stream>", 16) == 0);
	CHECK(d.nelem == 5);
	CHECK(strstr(d.buf, "elem <db:result>k</db:result>\n") != NULL);
	CHECK(strstr(d.buf, "elem <y xmlns='urn:x&amp;\n'/>\n") == NULL);
	CHECK(strstr(d.buf, "elem <y xmlns='urn:x&amp;&#10;'/>\n") != NULL);
	CHECK(strstr(d.buf, "\nclose\n") != NULL);
	xml_free(d.p);
	free(d.buf);
}

/*
 * The S2S header's namespaces, in any order and whatever came first,
 * share one replay; other declarations keep their own, and the replay
 * rebuilds exactly what the header declared.
 */
static void
test_replay_shared(void)
{
	static const struct {
		const char	*ns;
		int		 shared, db;
	} h[] = {
		/* a first stream with more namespaces does not take the
		 * shared place */
		{ "xmlns='jabber:server' xmlns:stream='http://etherx.jabber."
		  "org/streams' xmlns:db='jabber:server:dialback' xmlns:a0="
		  "'urn:0' xmlns:a1='urn:1' xmlns:a2='urn:2' xmlns:a3='urn:3'",
		  0, 1 },
		/* xfed's and ejabberd's order, Prosody's, another */
		{ "xmlns='jabber:server' xmlns:stream='http://etherx.jabber."
		  "org/streams' xmlns:db='jabber:server:dialback'", 1, 1 },
		{ "xmlns='jabber:server' xmlns:db='jabber:server:dialback' "
		  "xmlns:stream='http://etherx.jabber.org/streams'", 1, 1 },
		{ "xmlns:stream='http://etherx.jabber.org/streams' xmlns:db="
		  "'jabber:server:dialback' xmlns='jabber:server'", 1, 1 },
		/* no dialback namespace: a replay without it */
		{ "xmlns:stream='http://etherx.jabber.org/streams' xmlns="
		  "'jabber:server'", 1, 0 },
		/* db bound elsewhere, another default namespace */
		{ "xmlns='jabber:server' xmlns:stream='http://etherx.jabber."
		  "org/streams' xmlns:db='urn:not-dialback'", 0, 0 },
		{ "xmlns='jabber:client' xmlns:stream='http://etherx.jabber."
		  "org/streams' xmlns:db='jabber:server:dialback'", 0, 1 },
	};
	struct dump	 d = { NULL, 0, 0, NULL, 0, ACT_NONE };
	char		 buf[512];
	size_t		 i;
	int		 r;

	for (i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		snprintf(buf, sizeof(buf), "<stream:stream %s from='b.example'"
		    " to='a.example' version='1.0'>", h[i].ns);
		d.p = xml_new(NULL, &test_cb, &d);
		d.len = 0;
		d.nelem = 0;
		CHECK(xml_replay_held(d.p) == 0);
		CHECK(xml_feed(d.p, buf, strlen(buf)) == 0);
		CHECK((xml_replay_held(d.p) == 0) == h[i].shared);
		CHECK(xml_compact(d.p) == 0);
		r = xml_feed(d.p, "<db:result from='b.example'>k</db:result>",
		    41);
		if (h[i].db) {
			CHECK(r == 0);
			CHECK(d.nelem == 1);
			CHECK(strstr(d.buf, "jabber:server:dialback") != NULL);
		} else if (strstr(h[i].ns, "xmlns:db") == NULL)
			CHECK(r == -1);		/* db: is not declared */
		else
			CHECK(r == 0 && strstr(d.buf, "urn:not-dialback"));
		xml_free(d.p);
	}
	free(d.buf);
}

/* A stream that keeps inventing names is compacted as it goes. */
static void
test_dict_bounded(void)
{
	struct dump	 d = { NULL, 0, 0, NULL, 0, ACT_NONE };
	ssize_t		 m0, m1;
	char		 buf[256];
	int		 i;

	d.p = xml_new(NULL, &test_cb, &d);
	CHECK(xml_feed(d.p, hdr, strlen(hdr)) == 0);
	m0 = heap_now();
	for (i = 0; i < 50000; i++) {
		snprintf(buf, sizeof(buf), "<n%d xmlns:p%d='urn:%d' p%d:a%d="
		    "'1'/>", i, i, i, i, i);
		REQUIRE(xml_feed(d.p, buf, strlen(buf)) == 0);
		d.len = 0;
	}
	m1 = heap_now();
	printf("  50000 new names: heap grew %zd bytes\n", m1 - m0);
	CHECK(m1 - m0 < 1024 * 1024);
	CHECK(d.nelem == 50000);
	xml_free(d.p);
	free(d.buf);
}

/* 50 MB of text in one element: refused at the limit, memory bounded. */
static void
test_huge_bounded(void)
{
	struct dump	 d = { NULL, 0, 0, NULL, 0, ACT_NONE };
	struct xml_limits lim = { 524288, 0, 0, 0 };
	size_t		 fed = 0;
	ssize_t		 m0, peak = 0, cur;
	char		*chunk;
	int		 rc = 0, round;

	chunk = malloc(65536);
	memset(chunk, 'a', 65536);
	for (round = 0; round < 3; round++) {
		d.p = xml_new(&lim, &test_cb, &d);
		CHECK(xml_feed(d.p, hdr, strlen(hdr)) == 0);
		if (round == 0)
			rc = xml_feed(d.p, "<message><body>", 15);
		else if (round == 1)
			rc = xml_feed(d.p, "<message to='", 13);
		else
			rc = xml_feed(d.p, "<message><!-- ", 14);
		m0 = heap_now();
		for (fed = 0; rc == 0 && fed < 50 * 1024 * 1024;
		    fed += 65536) {
			rc = xml_feed(d.p, chunk, 65536);
			cur = heap_now() - m0;
			if (cur > peak)
				peak = cur;
		}
		CHECK(rc == -1);
		CHECK(xml_error(d.p) == XML_E_POLICY_VIOLATION);
		CHECK(fed <= 524288 + 65536);
		xml_free(d.p);
	}
	printf("  huge element: refused after %zu bytes, peak heap growth "
	    "%zd bytes\n", fed, peak);
	CHECK(peak < 4 * 1024 * 1024);
	free(chunk);
	free(d.buf);
}

/* 100000 levels deep: refused at max_depth, libxml2 never sees them. */
static void
test_deep_bounded(void)
{
	struct dump	 d = { NULL, 0, 0, NULL, 0, ACT_NONE };
	int		 i, rc = 0;

	d.p = xml_new(NULL, &test_cb, &d);
	CHECK(xml_feed(d.p, hdr, strlen(hdr)) == 0);
	for (i = 0; i < 100000 && rc == 0; i++)
		rc = xml_feed(d.p, "<a>", 3);
	CHECK(rc == -1);
	CHECK(i == XML_DEFAULT_MAX_DEPTH + 1);
	CHECK(xml_error(d.p) == XML_E_POLICY_VIOLATION);
	xml_free(d.p);
	free(d.buf);
}

/* Errors stay: later feeds fail too, until xml_reset(). */
static void
test_error_sticky(void)
{
	struct dump	 d = { NULL, 0, 0, NULL, 0, ACT_NONE };

	d.p = xml_new(NULL, &test_cb, &d);
	CHECK(xml_feed(d.p, hdr, strlen(hdr)) == 0);
	CHECK(xml_feed(d.p, "<a></b>", 7) == -1);
	CHECK(xml_error(d.p) == XML_E_NOT_WELL_FORMED);
	CHECK(strlen(xml_errstr(d.p)) > 0);
	CHECK(xml_feed(d.p, "<c/>", 4) == -1);
	xml_reset(d.p);
	CHECK(xml_error(d.p) == XML_E_NONE);
	CHECK(xml_feed(d.p, hdr, strlen(hdr)) == 0);
	CHECK(xml_feed(d.p, "<c/>", 4) == 0);
	CHECK(d.nelem == 1);
	xml_free(d.p);
	free(d.buf);
}

static void
test_conditions(void)
{
	CHECK_STR(xml_err_condition(XML_E_NOT_WELL_FORMED),
	    "not-well-formed");
	CHECK_STR(xml_err_condition(XML_E_RESTRICTED_XML), "restricted-xml");
	CHECK_STR(xml_err_condition(XML_E_POLICY_VIOLATION),
	    "policy-violation");
	CHECK_STR(xml_err_condition(XML_E_UNSUPPORTED_ENCODING),
	    "unsupported-encoding");
	CHECK_STR(xml_err_condition(XML_E_BAD_NAMESPACE_PREFIX),
	    "bad-namespace-prefix");
	CHECK_STR(xml_err_condition(XML_E_INVALID_NAMESPACE),
	    "invalid-namespace");
	CHECK_STR(xml_err_condition((enum xml_err)99), "undefined-condition");
}

/* libxml2's live heap, counted through xmlMemSetup(). */
static ssize_t	 xmem_live;

static void *
xmem_malloc(size_t n)
{
	void	*p = malloc(n);

	if (p != NULL)
		xmem_live += malloc_usable_size(p);
	return p;
}

static void *
xmem_realloc(void *p, size_t n)
{
	size_t	 old = p != NULL ? malloc_usable_size(p) : 0;

	p = realloc(p, n);
	if (p != NULL)
		xmem_live += (ssize_t)malloc_usable_size(p) - (ssize_t)old;
	return p;
}

static void
xmem_free(void *p)
{
	if (p != NULL)
		xmem_live -= malloc_usable_size(p);
	free(p);
}

static char *
xmem_strdup(const char *s)
{
	char	*d = xmem_malloc(strlen(s) + 1);

	if (d != NULL)
		strcpy(d, s);
	return d;
}

/*
 * What an idle stream's parser holds after the header: libxml2's heap
 * (counted exactly) plus struct xml_parser and its replay header.
 */
static void
test_idle_size(void)
{
	struct dump	 d = { NULL, 0, 0, NULL, 0, ACT_NONE };
	const char	*h = "<?xml version='1.0'?><stream:stream xmlns="
	    "'jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
	    "xmlns:db='jabber:server:dialback' from='b.example' "
	    "to='a.example' version='1.0' xml:lang='en'>";
	xmlFreeFunc	 of;
	xmlMallocFunc	 om;
	xmlReallocFunc	 or;
	xmlStrdupFunc	 os;
	ssize_t		 x0, x1, x2, x3;

	/* libxml2's global set-up is not the stream's */
	d.p = xml_new(NULL, &test_cb, &d);
	xml_free(d.p);
	xmlMemGet(&of, &om, &or, &os);
	xmlMemSetup(xmem_free, xmem_malloc, xmem_realloc, xmem_strdup);
	x0 = xmem_live;
	d.p = xml_new(NULL, &test_cb, &d);
	CHECK(xml_feed(d.p, h, strlen(h)) == 0);
	x1 = xmem_live - x0;
	CHECK(xml_feed(d.p, "<db:result from='b.example' to='a.example'>"
	    "0123456789abcdef</db:result>", 71) == 0);
	x2 = xmem_live - x0;
	CHECK(xml_compact(d.p) == 0);
	x3 = xmem_live - x0;
	printf("  idle parser after the header: libxml2 %zd bytes (%zd after "
	    "a stanza), %zd after xml_compact(); ours: struct xml_parser %zu "
	    "bytes + the namespace declarations to replay\n", x1, x2, x3,
	    xml_sizeof());
	CHECK(x3 == 0);
	CHECK(xml_feed(d.p, "<iq/></stream:stream>", 21) == 0);
	CHECK(d.nelem == 2);
	xml_free(d.p);
	xmlMemSetup(of, om, or, os);
	free(d.buf);
}

static int
bench_elem(void *arg, struct el *el)
{
	(*(int *)arg)++;
	el_free(el);
	return 0;
}

static int
bench_open(void *arg, struct el *el)
{
	el_free(el);
	return 0;
}

static void
test_bench(void)
{
	const struct xml_cb cb = { bench_open, bench_elem, NULL };
	const char	*st = "<message to='u@a' from='v@b' type='chat' "
	    "id='x'><body>hello</body></message>";
	size_t		 stlen = strlen(st), len, off, n;
	char		*buf;
	struct xml_parser *p;
	struct timespec	 t0, t1;
	double		 secs;
	int		 i, count = 0;

	len = strlen(hdr) + 100000 * stlen;
	buf = malloc(len);
	memcpy(buf, hdr, strlen(hdr));
	for (i = 0, off = strlen(hdr); i < 100000; i++, off += stlen)
		memcpy(buf + off, st, stlen);
	p = xml_new(NULL, &cb, &count);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (off = 0; off < len; off += n) {
		n = len - off < 16384 ? len - off : 16384;
		REQUIRE(xml_feed(p, buf + off, n) == 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("  bench: %d stanzas in %.3f s: %.0f stanzas/s\n", count,
	    secs, count / secs);
	CHECK(count == 100000);
	xml_free(p);

	/* one stanza per read, compacted after each: the worst case */
	count = 0;
	p = xml_new(NULL, &cb, &count);
	REQUIRE(xml_feed(p, hdr, strlen(hdr)) == 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 100000; i++) {
		REQUIRE(xml_feed(p, st, stlen) == 0);
		REQUIRE(xml_compact(p) == 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("  bench: one stanza per feed + xml_compact(): %.0f "
	    "stanzas/s\n", count / secs);
	CHECK(count == 100000);
	xml_free(p);
	free(buf);
}

/* More than libxml2's 10 MB lookup limit through one stream. */
static void
test_long_stream(void)
{
	const struct xml_cb cb = { bench_open, bench_elem, NULL };
	char		 st[256];
	struct xml_parser *p;
	size_t		 total = 0;
	int		 i, count = 0;

	p = xml_new(NULL, &cb, &count);
	REQUIRE(xml_feed(p, hdr, strlen(hdr)) == 0);
	for (i = 0; i < 150000; i++) {
		snprintf(st, sizeof(st), "<message to='u@a' from='v@b' "
		    "id='%d'><body>%0100d</body></message>\n", i, i);
		REQUIRE(xml_feed(p, st, strlen(st)) == 0);
		total += strlen(st);
	}
	REQUIRE(xml_feed(p, "</stream:stream>", 16) == 0);
	CHECK(count == 150000);
	CHECK(total > 20 * 1000 * 1000);
	xml_free(p);
}

/*
 * The stanza size limit falls on the same byte whether the text before
 * it is scanned in a run (xml_feed's fast path) or byte by byte: a
 * stanza of exactly max_stanza_size bytes passes, one more is refused,
 * fed whole and one byte at a time; a NUL, a byte over 0x7f and a '<'
 * end a run and are judged as before.
 */
static void
test_text_run_limits(void)
{
	static const struct xml_limits lim = { 100, 1024, 16, 16 };
	static const char *const tails[] = { "\xc3\xa9</body></message>",
	    "\xff</body></message>", "\0</body></message>" };
	struct dump	 d = { NULL, 0, 0, NULL, 0, ACT_NONE };
	char		 st[256];
	static const char xs[] =
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
	size_t		 n, off, step, k;
	int		 rc, extra, form, run;

	/* in text and in an attribute value, fed whole and byte by byte:
	 * 32 and 16 bytes around the x's */
	for (run = 0; run < 8; run++) {
		form = run & 1;
		extra = (run >> 1) & 1;
		step = run >> 2;
		n = snprintf(st, sizeof(st), form == 0 ?
		    "<message><body>%.*s</body></message>" :
		    "<message id='%.*s'/>", (form == 0 ? 68 : 84) + extra, xs);
		REQUIRE(n == (size_t)(100 + extra));
		d.p = xml_new(&lim, &test_cb, &d);
		REQUIRE(xml_feed(d.p, hdr, strlen(hdr)) == 0);
		for (off = 0, rc = 0; off < n && rc == 0; off += k) {
			k = step == 0 ? n : 1;
			rc = xml_feed(d.p, st + off, k);
		}
		CHECK(rc == (extra ? -1 : 0));
		if (extra)
			CHECK(xml_error(d.p) == XML_E_POLICY_VIOLATION);
		xml_free(d.p);
	}
	/* a value's run ends at its own quote, a '<' or a byte over 0x7f */
	d.p = xml_new(NULL, &test_cb, &d);
	REQUIRE(xml_feed(d.p, hdr, strlen(hdr)) == 0);
	CHECK(xml_feed(d.p, "<message id=\"a'b\" to='c\"d'/>", 28) == 0);
	CHECK(strstr(d.buf, "id='a&apos;b'") != NULL ||
	    strstr(d.buf, "id=\"a'b\"") != NULL);
	CHECK(xml_feed(d.p, "<message id='xxxx<'/>", 21) == -1);
	CHECK(xml_error(d.p) == XML_E_NOT_WELL_FORMED);
	xml_free(d.p);
	d.p = xml_new(NULL, &test_cb, &d);
	REQUIRE(xml_feed(d.p, hdr, strlen(hdr)) == 0);
	CHECK(xml_feed(d.p, "<message id='xxxx\xff'/>", 20) == -1);
	CHECK(xml_error(d.p) == XML_E_UNSUPPORTED_ENCODING);
	xml_free(d.p);
	for (k = 0; k < sizeof(tails) / sizeof(tails[0]); k++) {
		n = snprintf(st, sizeof(st), "<message><body>xxxxxxxxxxxxxxxx");
		memcpy(st + n, tails[k], k == 2 ? 18 : strlen(tails[k]));
		n += k == 2 ? 18 : strlen(tails[k]);
		d.p = xml_new(NULL, &test_cb, &d);
		REQUIRE(xml_feed(d.p, hdr, strlen(hdr)) == 0);
		rc = xml_feed(d.p, st, n);
		if (k == 0)
			CHECK(rc == 0);
		else {
			CHECK(rc == -1);
			CHECK(xml_error(d.p) == (k == 1 ?
			    XML_E_UNSUPPORTED_ENCODING : XML_E_NOT_WELL_FORMED));
		}
		xml_free(d.p);
	}
	free(d.buf);
}

static const struct t_case cases[] = {
	{ "golden", test_golden },
	{ "text_run_limits", test_text_run_limits },
	{ "prompt_delivery", test_prompt_delivery },
	{ "stop_in_callback", test_stop_in_callback },
	{ "reset_in_callback", test_reset_in_callback },
	{ "free_in_callback", test_free_in_callback },
	{ "compact", test_compact },
	{ "replay_shared", test_replay_shared },
	{ "dict_bounded", test_dict_bounded },
	{ "huge_bounded", test_huge_bounded },
	{ "deep_bounded", test_deep_bounded },
	{ "error_sticky", test_error_sticky },
	{ "conditions", test_conditions },
	{ "idle_size", test_idle_size },
	{ "long_stream", test_long_stream },
	{ "bench", test_bench },
};

int
main(int argc, char **argv)
{
	return T_RUN(cases, argc, argv);
}
