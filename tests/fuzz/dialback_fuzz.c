/*
 * tests/fuzz/dialback_fuzz.c: the dialback element handlers (dialback/)
 * on whatever a peer sends. The input is a stream; each top-level element
 * goes through db_parse(), as s2s/in.c and s2s/out.c hand it over.
 * Checked, whatever the input:
 *   - a parsed element has from and to, an id for db:verify, a key for a
 *     request, a condition for an error;
 *   - db_build() of the parsed fields serializes to an element that parses
 *     back to the same fields (what xfed sends, it can read);
 *   - the authoritative answer to a request is a typed db:verify with
 *     from and to swapped and the same id; a key made for those fields
 *     checks as valid, any other does not.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dialback.h"
#include "el.h"
#include "parse_back.h"
#include "xml.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
fz_open(void *arg, struct el *h)
{
	el_free(h);
	return 0;
}

static int
fz_close(void *arg)
{
	return 0;
}

static int
fz_same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* el serialized and parsed again must give the fields of m. */
static void
fz_round_trip(const struct el *el, const struct db_msg *m)
{
	struct db_msg	 m2;
	struct el	*back;
	const char	*errstr;
	char		*s;
	size_t		 len;

	s = el_to_string(el, EL_NS_SERVER, &len);
	back = fz_parse_back(s, len);
	if (db_parse(back, &m2, &errstr) == -1) {
		fprintf(stderr, "built element does not parse back: %s\n", s);
		abort();
	}
	if (m2.verify != m->verify || m2.type != m->type ||
	    !fz_same(m2.from, m->from) || !fz_same(m2.to, m->to) ||
	    (m->verify && !fz_same(m2.id, m->id)) ||
	    (m->type == DB_REQUEST && !fz_same(m2.key, m->key)) ||
	    (m->type == DB_ERROR && !fz_same(m2.cond, m->cond))) {
		fprintf(stderr, "fields differ after a round trip: %s\n", s);
		abort();
	}
	el_free(back);
	free(s);
}

static void
fz_authoritative(const struct db_msg *m)
{
	struct db_msg	 r, good;
	struct el	*a;
	char		 key[DB_KEY_LEN + 1];
	const char	*errstr;

	if ((a = db_authoritative(m, 1)) == NULL ||
	    db_parse(a, &r, &errstr) == -1 || !r.verify ||
	    r.type == DB_REQUEST || !fz_same(r.from, m->to) ||
	    !fz_same(r.to, m->from) || !fz_same(r.id, m->id))
		abort();
	el_free(a);
	db_make_key(m->from, m->to, m->id, key);
	if (db_check_key(m->from, m->to, m->id, key) != 1)
		abort();
	if (strcmp(key, m->key) != 0 &&
	    db_check_key(m->from, m->to, m->id, m->key) != 0)
		abort();
	good = *m;
	good.key = key;
	if ((a = db_authoritative(&good, 1)) == NULL ||
	    db_parse(a, &r, &errstr) == -1 || r.type != DB_VALID)
		abort();
	el_free(a);
}

static int
fz_elem(void *arg, struct el *el)
{
	struct db_msg	 m;
	struct el	*b;
	const char	*errstr;

	if (db_parse(el, &m, &errstr) == 0) {
		if (m.from == NULL || m.to == NULL ||
		    (m.verify && m.id == NULL) ||
		    (m.type == DB_REQUEST && m.key == NULL) ||
		    (m.type == DB_ERROR && m.cond == NULL))
			abort();
		b = db_build(m.verify, m.type, m.from, m.to, m.id, m.key,
		    m.cond);
		fz_round_trip(b, &m);
		el_free(b);
		if (m.verify && m.type == DB_REQUEST)
			fz_authoritative(&m);
	}
	el_free(el);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const struct xml_cb	 cb = { fz_open, fz_elem, fz_close };
	struct xml_parser	*p;
	static int		 init;

	if (!init) {
		db_set_secret("s3cr3tf0rd14lb4ck");
		init = 1;
	}
	p = xml_new(NULL, &cb, NULL);
	xml_feed(p, (const char *)data, len);
	xml_free(p);
	return 0;
}
