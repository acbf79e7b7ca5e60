/*
 * tests/unit/jid_test.c: JID parsing and preparation (server/jid.c,
 * server/precis.c) against tables of vectors: valid forms, every refusal
 * (the examples of RFC 7622 3.5 and RFC 8265 3.5 and 4.3 among them, and
 * the look-alikes of issue 12), case mapping, IDN, limits,
 * IP literals, comparison, formatting, and the allocation-free paths
 * agreeing with jid_parse().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jid.h"
#include "t.h"

struct valid {
	const char	*in;
	const char	*local;		/* NULL: none */
	const char	*domain;
	const char	*resource;	/* NULL: none */
};

static const struct valid valid[] = {
	{ "example.com", NULL, "example.com", NULL },
	{ "juliet@example.com", "juliet", "example.com", NULL },
	{ "juliet@example.com/balcony", "juliet", "example.com", "balcony" },
	{ "example.com/balcony", NULL, "example.com", "balcony" },
	{ "juliet@example.com/foo/bar", "juliet", "example.com", "foo/bar" },
	{ "juliet@example.com/a@b", "juliet", "example.com", "a@b" },
	{ "example.com/a@b", NULL, "example.com", "a@b" },
	{ "example.com/@", NULL, "example.com", "@" },
	{ "a@example.com//", "a", "example.com", "/" },
	{ "a@example.com/ spaced out ", "a", "example.com",
	    " spaced out " },
	{ "a/b@c", NULL, "a", "b@c" },
	{ "x", NULL, "x", NULL },
	{ "a@b", "a", "b", NULL },
	{ "1@2", "1", "2", NULL },
	{ "romeo+tag.x-y_z!#$%*=?^`{|}~@example.net",
	    "romeo+tag.x-y_z!#$%*=?^`{|}~", "example.net", NULL },
	{ "a@ex-ample.com", "a", "ex-ample.com", NULL },
	{ "a@x.example.com./r", "a", "x.example.com", "r" },
	{ "Juliet@Example.COM/Balcony", "juliet", "example.com", "Balcony" },
	{ "\xc3\x84\xc3\x96\xc3\x9c@x", "\xc3\xa4\xc3\xb6\xc3\xbc", "x", NULL },
	{ "\xce\xb8\xcf\x89@x", "\xce\xb8\xcf\x89", "x", NULL },
	{ "fu\xc3\x9f@x", "fu\xc3\x9f", "x", NULL },	/* ß stays (8265 3.5) */
	{ "\xef\xbd\x8a\xef\xbd\x95@x", "ju", "x", NULL },	/* fullwidth */
	/* fullwidth A: width mapping, then lower case (RFC 8265 3.3.2) */
	{ "\xef\xbc\xa1lice@x", "alice", "x", NULL },
	{ "\xef\xbe\x8a@x", "\xe3\x83\x8f", "x", NULL },	/* halfwidth ha */
	/* resources keep width and compatibility forms (OpaqueString) */
	{ "x/\xef\xbc\xa1\xef\xbd\x82", NULL, "x",
	    "\xef\xbc\xa1\xef\xbd\x82" },
	{ "x/\xe2\x85\xa8", NULL, "x", "\xe2\x85\xa8" },	/* Roman nine */
	{ "x/\xef\xbc\x8f", NULL, "x", "\xef\xbc\x8f" },	/* fullwidth '/' */
	{ "x/a\xe3\x80\x80" "b", NULL, "x", "a b" },	/* ideographic space */
	{ "x/e\xcc\x81", NULL, "x", "\xc3\xa9" },		/* NFC */
	{ "e\xcc\x81@x", "\xc3\xa9", "x", NULL },
	{ "\xc4\xb0@x", "i\xcc\x87", "x", NULL },		/* toLowerCase(İ) */
	/* RFC 7622 3.5 */
	{ "juliet@example.com/foo bar", "juliet", "example.com", "foo bar" },
	{ "juliet@example.com/foo@bar", "juliet", "example.com", "foo@bar" },
	{ "foo\\20bar@example.com", "foo\\20bar", "example.com", NULL },
	{ "fussball@example.com", "fussball", "example.com", NULL },
	{ "\xcf\x80@example.com", "\xcf\x80", "example.com", NULL },	/* π */
	{ "\xce\xa3@example.com/foo", "\xcf\x83", "example.com", "foo" },
	{ "\xcf\x82@example.com/foo", "\xcf\x82", "example.com", "foo" },
	{ "king@example.com/\xe2\x99\x9a", "king", "example.com",
	    "\xe2\x99\x9a" },
	{ "a.example.com/b@example.net", NULL, "a.example.com",
	    "b@example.net" },
	/* RFC 8265 4.3: OpaqueString */
	{ "x/Correct Horse Battery Staple", NULL, "x",
	    "Correct Horse Battery Staple" },
	{ "x/\xcf\x80\xc3\x9f\xc3\xa5", NULL, "x", "\xcf\x80\xc3\x9f\xc3\xa5" },
	{ "x/Jack of \xe2\x99\xa6s", NULL, "x", "Jack of \xe2\x99\xa6s" },
	{ "x/foo\xe1\x9a\x80" "bar", NULL, "x", "foo bar" },	/* Ogham space */
	/* context rules (RFC 5892 A.3, A.5, A.7) */
	{ "l\xc2\xb7l@x", "l\xc2\xb7l", "x", NULL },
	{ "\xd7\x90\xd7\xb3@x", "\xd7\x90\xd7\xb3", "x", NULL },
	{ "\xe3\x82\xa2\xe3\x83\xbb@x", "\xe3\x82\xa2\xe3\x83\xbb", "x", NULL },
	{ "\xd7\x90\xd7\x91@x", "\xd7\x90\xd7\x91", "x", NULL },	/* RTL */
	{ "x/caf\xc3\xa9", NULL, "x", "caf\xc3\xa9" },
	{ "x/\xe2\x99\x9e", NULL, "x", "\xe2\x99\x9e" },	/* chess knight */
	{ "m\xc3\xbcnchen.example", NULL, "m\xc3\xbcnchen.example", NULL },
	{ "xn--mnchen-3ya.example", NULL, "m\xc3\xbcnchen.example", NULL },
	{ "fa\xc3\x9f.de", NULL, "fa\xc3\x9f.de", NULL },		/* non-transitional */
	{ "xn--fa-hia.de", NULL, "fa\xc3\x9f.de", NULL },
	{ "example\xe3\x80\x82" "com", NULL, "example.com", NULL },
	{ "192.0.2.1", NULL, "192.0.2.1", NULL },
	{ "a@192.0.2.1/r", "a", "192.0.2.1", "r" },
	{ "[::1]", NULL, "[::1]", NULL },
	{ "a@[2001:DB8::1]/r", "a", "[2001:db8::1]", "r" },
	{ "[2001:db8:0:0:0:0:0:1]", NULL, "[2001:db8::1]", NULL },
	{ "[::ffff:192.0.2.1].", NULL, "[::ffff:192.0.2.1]", NULL },
};

struct invalid {
	const char	*in;
	const char	*why;		/* a word the error message holds */
};

static const struct invalid invalid[] = {
	{ "", "empty domain" },
	{ "@", "empty localpart" },
	{ "/", "empty domain" },
	{ "@/", "empty localpart" },
	{ "@example.com", "empty localpart" },
	{ "example.com/", "empty resource" },
	{ "juliet@example.com/", "empty resource" },
	{ "juliet@", "empty domain" },
	{ "juliet@/r", "empty domain" },
	{ "/r", "empty domain" },
	{ ".", "empty domain" },
	{ "a@.", "empty domain" },
	{ "a@b@c", "domain" },
	{ "a\"b@x", "prohibited" },
	{ "a&b@x", "prohibited" },
	{ "a'b@x", "prohibited" },
	{ "a:b@x", "prohibited" },
	{ "a<b@x", "prohibited" },
	{ "a>b@x", "prohibited" },
	{ "ju liet@x", "disallowed" },
	{ "a\tb@x", "disallowed" },
	{ "a\x7f" "b@x", "disallowed" },
	{ "a\xc2\xa0" "b@x", "disallowed" },		/* no-break space */
	{ "a\xe2\x80\x8e" "b@x", "disallowed" },		/* LRM */
	{ "a\xef\xbc\x82" "b@x", "prohibited" },		/* fullwidth " */
	{ "a\xef\xbc\xa0" "b@x", "prohibited" },		/* fullwidth @ */
	{ "\xc2\xad@x", "disallowed" },			/* soft hyphen */
	{ "\xd7\x90" "a@x", "directions" },		/* RAL then L */
	{ "a\xd7\x90@x", "directions" },			/* L then RAL */
	{ "\xd7\x90" "1\xd9\xa1@x", "directions" },	/* EN and AN */
	/* look-alikes and invisible characters (issue 12) */
	{ "alice\xe2\x80\xae@x", "disallowed" },		/* U+202E RLO */
	{ "\xe2\x80\xae" "ecila@x", "disallowed" },
	{ "al\xe2\x80\x8b" "ice@x", "disallowed" },		/* U+200B ZWSP */
	{ "alice\xef\xbb\xbf@x", "disallowed" },		/* U+FEFF */
	{ "a\xe2\x81\xa0" "b@x", "disallowed" },		/* word joiner */
	{ "a\xe2\x80\x8d" "b@x", "context" },		/* ZWJ, no virama */
	{ "a\xe2\x80\x8c" "b@x", "context" },		/* ZWNJ */
	{ "a\xc2\xb7" "b@x", "context" },			/* middle dot */
	{ "\xd7\xb3@x", "context" },			/* geresh alone */
	{ "\xe3\x83\xbb@x", "context" },			/* katakana dot alone */
	{ "\xd9\xa1\xdb\xb1@x", "context" },		/* both digit sets */
	{ "\xef\xac\x81@x", "disallowed" },		/* fi ligature */
	{ "\xe2\x91\xa0@x", "disallowed" },		/* circled 1 */
	{ "\xc7\x85@x", "disallowed" },			/* titlecase Dž */
	{ "\xcd\xb8@x", "disallowed" },			/* unassigned */
	{ "\xef\xb7\x90@x", "disallowed" },		/* noncharacter */
	{ "\xee\x80\x80@x", "disallowed" },		/* private use */
	/* RFC 7622 3.5, RFC 8265 3.5 */
	{ "\"juliet\"@example.com", "prohibited" },
	{ "foo bar@example.com", "disallowed" },
	{ "henry\xe2\x85\xa3@example.com", "disallowed" },	/* Roman IV */
	{ "\xe2\x99\x9a@example.com", "disallowed" },	/* ♚ */
	{ "@example.com/", "empty localpart" },
	{ "/foobar", "empty domain" },
	/* RFC 8265 4.3: OpaqueString */
	{ "x/my cat is a \x09" "by", "disallowed" },
	{ "x/a\x01" "b", "disallowed" },
	{ "x/\x7f", "disallowed" },
	{ "x/a\xe2\x80\xa8" "b", "disallowed" },		/* line separator */
	{ "x/\xc2\xad", "disallowed" },
	{ "x/a\xe2\x80\x8b" "b", "disallowed" },		/* ZWSP */
	{ "x/a\xe2\x80\xae" "b", "disallowed" },		/* RLO */
	{ "x/\xe1\x84\x86\xcd\xaa\xe1\x85\xae", "disallowed" }, /* old jamo */
	{ "exa mple.com", "domain" },
	{ "a@exa_mple.com", "domain" },
	{ "a@exa@mple.com", "domain" },
	{ "a@b\xef\xbc\xa0" "c.x", "domain" },		/* fullwidth @ */
	{ "a@\xe2\x91\xb4.x", "domain" },			/* (1) */
	{ "a@\xc2\xad.x", "domain" },			/* empty label */
	{ "a@b..c", "domain" },
	{ "a@.b", "domain" },
	{ "a@b.c..", "domain" },
	{ "a@-b.c", "hyphen" },
	{ "a@b-.c", "hyphen" },
	{ "a@ab--c.d", "hyphen" },
	{ "xn--.example", "punycode" },
	{ "xn--ab-.example", "punycode" },
	{ "xn--wca.example", "" },			/* encodes 'Ü' */
	{ "xn--a.example", "" },
	{ "xn--msh.example", "A-label" },			/* U+2481 */
	{ "XN--MSH", "A-label" },
	{ "\xd9\xa1" "a.example", "bi-directional" },
	{ "a@[::1", "IPv6" },
	{ "a@[]", "IPv6" },
	{ "a@[192.0.2.1]", "IPv6" },
	{ "a@[::1%eth0]", "IPv6" },
	{ "a@[v1.x]", "IPv6" },
	{ "a@::1", "domain" },
	{ "\xff@x", "UTF-8" },
	{ "x/\xc0\xaf", "UTF-8" },				/* overlong '/' */
	{ "x/\xe0\x80\xaf", "UTF-8" },
	{ "x/\xed\xa0\x80", "UTF-8" },			/* surrogate */
	{ "x/\xf4\x90\x80\x80", "UTF-8" },		/* past U+10FFFF */
	{ "x/\xe2\x82", "UTF-8" },				/* cut short */
	{ "\xc3@x", "UTF-8" },
	{ "a@\xc3", "UTF-8" },
};

#define NVALID		(sizeof(valid) / sizeof(valid[0]))
#define NINVALID	(sizeof(invalid) / sizeof(invalid[0]))

/* Checks one expected part; NULL means absent. */
static void
check_part(const char *in, const char *what, const char *got,
    const char *want)
{
	if (got == NULL && want == NULL)
		return;
	if (got == NULL || want == NULL || strcmp(got, want) != 0) {
		printf("  %s: %s\n", in, what);
		t_fail_str(__FILE__, __LINE__, what, got, want);
	}
}

static void
test_valid(void)
{
	struct jid	*j;
	const char	*errstr;
	size_t		 i;

	for (i = 0; i < NVALID; i++) {
		errstr = NULL;
		j = jid_parse(valid[i].in, &errstr);
		if (j == NULL) {
			t_fail_str(__FILE__, __LINE__, valid[i].in, errstr,
			    "valid");
			continue;
		}
		check_part(valid[i].in, "local", j->local, valid[i].local);
		check_part(valid[i].in, "domain", j->domain, valid[i].domain);
		check_part(valid[i].in, "resource", j->resource,
		    valid[i].resource);
		jid_free(j);
	}
}

static void
test_invalid(void)
{
	struct jid	*j;
	const char	*errstr;
	size_t		 i;

	for (i = 0; i < NINVALID; i++) {
		errstr = NULL;
		j = jid_parse(invalid[i].in, &errstr);
		if (j != NULL) {
			t_fail_str(__FILE__, __LINE__, invalid[i].in,
			    j->domain, "refused");
			jid_free(j);
			continue;
		}
		if (errstr == NULL || strstr(errstr, invalid[i].why) == NULL)
			t_fail_str(__FILE__, __LINE__, invalid[i].in, errstr,
			    invalid[i].why);
	}
}

/* jid_parse() without errstr still refuses. */
static void
test_invalid_null_errstr(void)
{
	CHECK(jid_parse("@", NULL) == NULL);
	CHECK(jid_prep_domain("", (char[8]){ 0 }, 8, NULL) == -1);
}

/* A string of n copies of c. */
static char *
rep(char c, size_t n)
{
	char	*s = malloc(n + 1);

	if (s == NULL)
		abort();
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* 1 when local@domain/resource (NULL parts left out) parses. */
static int
parses(const char *local, const char *domain, const char *resource)
{
	char		 s[JID_MAX + 100];
	struct jid	*j;

	snprintf(s, sizeof(s), "%s%s%s%s%s", local ? local : "",
	    local ? "@" : "", domain, resource ? "/" : "",
	    resource ? resource : "");
	if ((j = jid_parse(s, NULL)) == NULL)
		return 0;
	jid_free(j);
	return 1;
}

static void
test_local_length(void)
{
	char	*ok = rep('a', JID_PART_MAX), *big = rep('a', JID_PART_MAX + 1);

	CHECK(parses(ok, "x", NULL));
	CHECK(!parses(big, "x", NULL));
	/* U+0130 lowers to i + U+0307: 1021 + 2 bytes grow to 1024. */
	memcpy(ok + JID_PART_MAX - 2, "\xc4\xb0", 2);
	CHECK(!parses(ok, "x", NULL));
	/* Fullwidth a (3 bytes) maps to 'a': 1024 bytes in, 1022 out,
	 * refused as the input is too long already. */
	memcpy(big + JID_PART_MAX - 2, "\xef\xbd\x81", 3);
	CHECK(!parses(big, "x", NULL));
	free(ok);
	free(big);
}

static void
test_resource_length(void)
{
	char	*ok = rep('r', JID_PART_MAX), *big = rep('r', JID_PART_MAX + 1);

	CHECK(parses(NULL, "x", ok));
	CHECK(!parses(NULL, "x", big));
	free(ok);
	free(big);
}

/* DNS caps the A-label form: 253 bytes, labels of 63. */
static void
test_domain_length(void)
{
	char	 d[300], *l63 = rep('l', 63), *l64 = rep('l', 64);

	snprintf(d, sizeof(d), "%s.%s.%s.%s", l63, l63, l63, l63 + 2);
	CHECK(strlen(d) == 253);
	CHECK(parses("a", d, NULL));
	strcat(d, ".");				/* trailing dot: 254 */
	CHECK(parses("a", d, NULL));
	snprintf(d, sizeof(d), "%s.%s.%s.%s", l63, l63, l63, l63 + 1);
	CHECK(!parses("a", d, NULL));
	CHECK(parses("a", l63, NULL));
	CHECK(!parses("a", l64, NULL));
	free(l63);
	free(l64);
	l64 = rep('l', JID_PART_MAX + 1);
	CHECK(!parses("a", l64, NULL));
	free(l64);
}

/* Longest JID: 1023@253/1023; one byte more is refused outright. */
static void
test_whole_length(void)
{
	char	 d[300], *l = rep('a', JID_PART_MAX), *l63 = rep('l', 63);
	char	 s[JID_MAX + 2];

	snprintf(d, sizeof(d), "%s.%s.%s.%s", l63, l63, l63, l63 + 2);
	snprintf(s, sizeof(s), "%s@%s/%s", l, d, l);
	CHECK(parses(NULL, s, NULL));
	memset(s, 'a', JID_MAX + 1);
	s[JID_MAX + 1] = '\0';
	CHECK(!parses(NULL, s, NULL));
	free(l);
	free(l63);
}

static void
test_case_folding(void)
{
	static const char	*same[][2] = {
		{ "JULIET@EXAMPLE.COM", "juliet@example.com" },
		{ "JuLiEt@ExAmPlE.cOm/BaLcOnY", "juliet@example.com/BaLcOnY" },
		{ "\xc3\x84@x", "\xc3\xa4@x" },		/* Ä */
		{ "\xce\xa3@x", "\xcf\x83@x" },		/* Σ */
		{ "x@M\xc3\x9cNCHEN.EXAMPLE", "x@m\xc3\xbcnchen.example" },
		{ "x/\xc3\x84", "x/\xc3\x84" },		/* kept */
	};
	char		 out[JID_MAX + 1];
	const char	*errstr;
	size_t		 i;

	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		errstr = NULL;
		if (jid_prep(same[i][0], out, sizeof(out), &errstr) == -1)
			t_fail_str(__FILE__, __LINE__, same[i][0], errstr,
			    same[i][1]);
		else
			CHECK_STR(out, same[i][1]);
	}
}

/* U-labels and A-labels, any case, name the same domain. */
static void
test_idn_forms(void)
{
	static const char	*forms[] = {
		"m\xc3\xbcnchen.example",
		"xn--mnchen-3ya.example",
		"XN--MNCHEN-3YA.EXAMPLE",
		"M\xc3\x9cNCHEN.EXAMPLE",
		"mu\xcc\x88nchen.example",		/* u + combining diaeresis */
		"m\xc3\xbcnchen.example.",
	};
	struct jid	*a, *b;
	size_t		 i;

	REQUIRE((a = jid_parse(forms[0], NULL)) != NULL);
	CHECK_STR(a->domain, "m\xc3\xbcnchen.example");
	for (i = 1; i < sizeof(forms) / sizeof(forms[0]); i++) {
		b = jid_parse(forms[i], NULL);
		if (b == NULL) {
			t_fail_str(__FILE__, __LINE__, forms[i], NULL, "valid");
			continue;
		}
		CHECK(jid_eq(a, b));
		jid_free(b);
	}
	jid_free(a);
}

static void
test_domain_alabel(void)
{
	char		 buf[254];
	const char	*d = "example.com", *a;

	CHECK(jid_domain_alabel(d, buf, sizeof(buf)) == d);	/* no copy */
	a = jid_domain_alabel("m\xc3\xbcnchen.example", buf, sizeof(buf));
	CHECK_STR(a, "xn--mnchen-3ya.example");
	CHECK(a == buf);
	a = jid_domain_alabel("fa\xc3\x9f.de", buf, sizeof(buf));
	CHECK_STR(a, "xn--fa-hia.de");
	CHECK(jid_domain_alabel("m\xc3\xbcnchen.example", buf, 22) == NULL);
	CHECK(jid_domain_alabel("m\xc3\xbcnchen.example", buf, 23) == buf);
}

static void
test_trailing_dot(void)
{
	char	 out[JID_MAX + 1];

	CHECK(jid_prep("example.com.", out, sizeof(out), NULL) == 0);
	CHECK_STR(out, "example.com");
	CHECK(jid_prep("a@example.com./r.", out, sizeof(out), NULL) == 0);
	CHECK_STR(out, "a@example.com/r.");
	CHECK(jid_prep("a.@x", out, sizeof(out), NULL) == 0);
	CHECK_STR(out, "a.@x");
	CHECK(jid_prep("example.com..", out, sizeof(out), NULL) == -1);
	CHECK(jid_prep(".", out, sizeof(out), NULL) == -1);
	CHECK(jid_prep_domain("example.com.", out, sizeof(out), NULL) == 0);
	CHECK_STR(out, "example.com");
}

static void
test_ip_literals(void)
{
	char	 out[JID_MAX + 1];

	CHECK(jid_prep("a@192.0.2.1", out, sizeof(out), NULL) == 0);
	CHECK_STR(out, "a@192.0.2.1");
	CHECK(jid_prep("[2001:0DB8:0000::0001]/r", out, sizeof(out), NULL) ==
	    0);
	CHECK_STR(out, "[2001:db8::1]/r");
	CHECK(jid_prep("[::]", out, sizeof(out), NULL) == 0);
	CHECK_STR(out, "[::]");
	CHECK(jid_prep("[::1]:5269", out, sizeof(out), NULL) == -1);
	CHECK(jid_prep("[fe80::1%25eth0]", out, sizeof(out), NULL) == -1);
	CHECK(jid_prep("[1:2:3:4:5:6:7:8:9]", out, sizeof(out), NULL) == -1);
	CHECK(jid_prep_domain("[2001:db8::1]", out, 14, NULL) == 0);
	CHECK(jid_prep_domain("[2001:db8::1]", out, 13, NULL) == -1);
}

static void
test_eq(void)
{
	struct jid	*a = jid_parse("Juliet@Example.com/Balcony", NULL);
	struct jid	*b = jid_parse("juliet@EXAMPLE.COM/Balcony", NULL);
	struct jid	*c = jid_parse("juliet@example.com/balcony", NULL);
	struct jid	*d = jid_parse("juliet@example.com", NULL);
	struct jid	*e = jid_parse("example.com", NULL);
	struct jid	*f = jid_parse("example.com/Balcony", NULL);
	struct jid	*g = jid_parse("romeo@example.com", NULL);

	REQUIRE(a && b && c && d && e && f && g);
	CHECK(jid_eq(a, b));
	CHECK(!jid_eq(a, c));		/* resources keep their case */
	CHECK(jid_bare_eq(a, c));
	CHECK(!jid_eq(a, d));
	CHECK(jid_bare_eq(a, d));
	CHECK(jid_eq(d, d));
	CHECK(!jid_bare_eq(d, e));	/* localpart against none */
	CHECK(!jid_bare_eq(e, d));
	CHECK(jid_bare_eq(e, f));
	CHECK(!jid_eq(e, f));
	CHECK(!jid_bare_eq(d, g));
	CHECK(jid_is_bare(d));
	CHECK(jid_is_bare(e));
	CHECK(!jid_is_bare(a));
	CHECK(!jid_is_bare(f));
	jid_free(a);
	jid_free(b);
	jid_free(c);
	jid_free(d);
	jid_free(e);
	jid_free(f);
	jid_free(g);
}

static void
test_str(void)
{
	struct jid	*j = jid_parse("juliet@example.com/balcony", NULL);
	struct jid	*k = jid_parse("example.com/r", NULL);
	char		 buf[64];

	REQUIRE(j != NULL && k != NULL);
	CHECK_STR(jid_bare_str(j, buf, sizeof(buf)), "juliet@example.com");
	CHECK_STR(jid_full_str(j, buf, sizeof(buf)),
	    "juliet@example.com/balcony");
	CHECK_STR(jid_bare_str(k, buf, sizeof(buf)), "example.com");
	CHECK_STR(jid_full_str(k, buf, sizeof(buf)), "example.com/r");
	/* Exactly enough, and one byte short, at each part. */
	CHECK(jid_full_str(j, buf, 27) == buf);
	CHECK(jid_full_str(j, buf, 26) == NULL);
	CHECK(jid_full_str(j, buf, 20) == NULL);	/* the '/' */
	CHECK(jid_full_str(j, buf, 8) == NULL);		/* the '@' */
	CHECK(jid_full_str(j, buf, 6) == NULL);
	CHECK(jid_bare_str(j, buf, 19) == buf);
	CHECK(jid_bare_str(j, buf, 18) == NULL);
	CHECK(jid_bare_str(k, buf, 0) == NULL);
	jid_free(j);
	jid_free(k);
}

static void
test_dup(void)
{
	struct jid	 parts = { "juliet", "example.com", "balcony" };
	struct jid	*a, *b;

	a = jid_dup(&parts);
	CHECK(jid_eq(a, &parts));
	CHECK(a->local != parts.local);
	b = jid_dup(a);
	jid_free(a);
	CHECK_STR(b->local, "juliet");
	CHECK_STR(b->domain, "example.com");
	CHECK_STR(b->resource, "balcony");
	jid_free(b);
	parts.local = parts.resource = NULL;
	a = jid_dup(&parts);
	CHECK(a->local == NULL && a->resource == NULL);
	CHECK_STR(a->domain, "example.com");
	jid_free(a);
}

/* jid_prep() and jid_parse_buf() say what jid_parse() says, byte for byte. */
static void
test_noalloc_agrees(void)
{
	char		 out[JID_MAX + 1], full[JID_MAX + 1], buf[JID_BUFSZ];
	struct jid	*j, k;
	const char	*e1, *e2, *e3;
	size_t		 i;

	for (i = 0; i < NVALID; i++) {
		REQUIRE((j = jid_parse(valid[i].in, NULL)) != NULL);
		REQUIRE(jid_full_str(j, full, sizeof(full)) != NULL);
		CHECK(jid_prep(valid[i].in, out, sizeof(out), NULL) == 0);
		CHECK_STR(out, full);
		CHECK(jid_parse_buf(valid[i].in, &k, buf, sizeof(buf),
		    NULL) == 0);
		CHECK(jid_eq(j, &k));
		CHECK(k.domain >= buf && k.domain < buf + sizeof(buf));
		jid_free(j);
	}
	for (i = 0; i < NINVALID; i++) {
		e1 = e2 = e3 = NULL;
		CHECK(jid_parse(invalid[i].in, &e1) == NULL);
		CHECK(jid_prep(invalid[i].in, out, sizeof(out), &e2) == -1);
		CHECK(jid_parse_buf(invalid[i].in, &k, buf, sizeof(buf),
		    &e3) == -1);
		CHECK(e1 != NULL && e1 == e2 && e2 == e3);
	}
}

/* The prepared form prepares to itself. */
static void
test_idempotent(void)
{
	char	 once[JID_MAX + 1], twice[JID_MAX + 1];
	size_t	 i;

	for (i = 0; i < NVALID; i++) {
		REQUIRE(jid_prep(valid[i].in, once, sizeof(once), NULL) == 0);
		REQUIRE(jid_prep(once, twice, sizeof(twice), NULL) == 0);
		CHECK_STR(twice, once);
	}
}

static void
test_small_buffers(void)
{
	char		 out[JID_BUFSZ];
	struct jid	 k;
	const char	*errstr = NULL;

	CHECK(jid_prep("juliet@example.com", out, 18, &errstr) == -1);
	CHECK_STR(errstr, "buffer too small");
	CHECK(jid_prep("juliet@example.com", out, 19, NULL) == 0);
	CHECK(jid_parse_buf("x", &k, out, JID_BUFSZ - 1, NULL) == -1);
	CHECK(jid_prep_local("juliet", out, 6, NULL) == -1);
	CHECK(jid_prep_local("juliet", out, 7, NULL) == 0);
	CHECK(jid_prep_local("JUL\xc3\x84", out, 5, NULL) == -1);
	CHECK(jid_prep_domain("example.com", out, 11, NULL) == -1);
	CHECK(jid_prep_domain("m\xc3\xbcnchen.de", out, 11, NULL) == -1);
	CHECK(jid_prep_domain("m\xc3\xbcnchen.de", out, 12, NULL) == 0);
	CHECK(jid_prep_resource("r", out, 1, NULL) == -1);
}

static void
test_part_preps(void)
{
	char		 out[JID_PART_MAX + 1];
	const char	*errstr;

	CHECK(jid_prep_local("JuLiEt", out, sizeof(out), NULL) == 0);
	CHECK_STR(out, "juliet");
	CHECK(jid_prep_local("a@b", out, sizeof(out), &errstr) == -1);
	CHECK(jid_prep_local("a/b", out, sizeof(out), &errstr) == -1);
	CHECK(jid_prep_local("", out, sizeof(out), &errstr) == -1);
	CHECK(jid_prep_resource("Res/With@", out, sizeof(out), NULL) == 0);
	CHECK_STR(out, "Res/With@");
	CHECK(jid_prep_resource("", out, sizeof(out), &errstr) == -1);
	CHECK(jid_prep_domain("XN--MNCHEN-3YA.DE.", out, sizeof(out),
	    NULL) == 0);
	CHECK_STR(out, "m\xc3\xbcnchen.de");
	CHECK(jid_prep_domain("a@b", out, sizeof(out), &errstr) == -1);
}

static const struct t_case cases[] = {
	{ "valid", test_valid },
	{ "invalid", test_invalid },
	{ "invalid_null_errstr", test_invalid_null_errstr },
	{ "local_length", test_local_length },
	{ "resource_length", test_resource_length },
	{ "domain_length", test_domain_length },
	{ "whole_length", test_whole_length },
	{ "case_folding", test_case_folding },
	{ "idn_forms", test_idn_forms },
	{ "domain_alabel", test_domain_alabel },
	{ "trailing_dot", test_trailing_dot },
	{ "ip_literals", test_ip_literals },
	{ "eq", test_eq },
	{ "str", test_str },
	{ "dup", test_dup },
	{ "noalloc_agrees", test_noalloc_agrees },
	{ "idempotent", test_idempotent },
	{ "small_buffers", test_small_buffers },
	{ "part_preps", test_part_preps },
};

int
main(int argc, char **argv)
{
	return T_RUN(cases, argc, argv);
}
