/*
 * tests/fuzz/jid_fuzz.c: JID parsing on arbitrary bytes (up to the first
 * NUL), checking what must hold whatever the input: the three entry points
 * agree, a prepared JID prepares to itself, the parts obey the limits,
 * ASCII case before the resource changes nothing, the A-label form of the
 * domain leads back to it, and the ASCII fast path says what libidn2 says.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "jid.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
jid_fuzz_part_ok(const char *p, const char *forbidden)
{
	size_t	 n;

	if (p == NULL)
		return 1;
	n = strlen(p);
	return n > 0 && n <= JID_PART_MAX && strpbrk(p, forbidden) == NULL;
}

static int
jid_fuzz_is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

/* Upper-cases the ASCII letters before the first '/'. */
static void
jid_fuzz_upper(char *s)
{
	for (; *s != '\0' && *s != '/'; s++)
		if (*s >= 'a' && *s <= 'z')
			*s = *s - 'a' + 'A';
}

static void
jid_fuzz_domain(const char *d)
{
	char		 buf[256], back[JID_PART_MAX + 1];
	const char	*a;
	char		*lk = NULL;

	if (d[0] == '[')
		return;
	a = jid_domain_alabel(d, buf, sizeof(buf));
	if (a == NULL || strlen(a) > 253 || !jid_fuzz_is_ascii(a))
		abort();
	if (jid_prep_domain(a, back, sizeof(back), NULL) == -1 ||
	    strcmp(back, d) != 0)
		abort();
	if (jid_fuzz_is_ascii(d)) {
		if (idn2_lookup_u8((const uint8_t *)d, (uint8_t **)&lk,
		    IDN2_NONTRANSITIONAL) != IDN2_OK || strcmp(lk, d) != 0)
			abort();
		idn2_free(lk);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char		*s, out[JID_MAX + 1], again[JID_MAX + 1];
	char		 buf[JID_BUFSZ];
	struct jid	*j, *u, k;
	const char	*e1 = NULL, *e2 = NULL, *e3 = NULL;
	int		 r2, r3;

	if ((s = malloc(len + 1)) == NULL)
		return 0;
	memcpy(s, data, len);
	s[len] = '\0';

	j = jid_parse(s, &e1);
	r2 = jid_prep(s, out, sizeof(out), &e2);
	r3 = jid_parse_buf(s, &k, buf, sizeof(buf), &e3);
	if (j == NULL) {
		if (r2 != -1 || r3 != -1 || e1 == NULL || e1 != e2 ||
		    e2 != e3)
			abort();
		jid_fuzz_upper(s);
		if (jid_prep(s, again, sizeof(again), NULL) != -1)
			abort();
		goto out;
	}
	if (r2 != 0 || r3 != 0 || !jid_eq(j, &k))
		abort();
	if (!jid_fuzz_part_ok(j->local, "@/") ||
	    !jid_fuzz_part_ok(j->domain, "@/") ||
	    !jid_fuzz_part_ok(j->resource, ""))
		abort();
	if (jid_full_str(j, again, sizeof(again)) == NULL ||
	    strcmp(again, out) != 0)
		abort();

	/* Idempotence: the prepared form prepares to itself. */
	if (jid_prep(out, again, sizeof(again), NULL) != 0 ||
	    strcmp(again, out) != 0)
		abort();

	/* The bare form parses to the same bare JID. */
	if (jid_bare_str(j, again, sizeof(again)) == NULL ||
	    (u = jid_parse(again, NULL)) == NULL)
		abort();
	if (!jid_bare_eq(j, u) || !jid_is_bare(u))
		abort();
	jid_free(u);

	jid_fuzz_domain(j->domain);

	/* ASCII case before the resource does not matter. */
	jid_fuzz_upper(s);
	if ((u = jid_parse(s, NULL)) == NULL || !jid_eq(j, u))
		abort();
	jid_free(u);
 out:
	jid_free(j);
	free(s);
	return 0;
}
