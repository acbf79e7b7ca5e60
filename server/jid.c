/*
 * server/jid.c: JIDs (RFC 7622): split the string form, prepare each part,
 * format and compare prepared JIDs (RFC 7622). Localparts and resources go
 * through the PRECIS profiles of precis.c (UsernameCaseMapped and
 * OpaqueString), domains through libidn2 (IDNA2008); ASCII input
 * already in prepared form takes fast paths that call neither and allocate
 * nothing, since every stanza's to and from pass through here. Which JIDs
 * are ours, and what to do with the others, is router.c's business.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "jid.h"
#include "utf8.h"
#include "precis.h"
#include "xmalloc.h"

#define JID_DNS_MAX	253	/* A-label form, without the trailing dot */
#define JID_LABEL_MAX	63

/* RFC 7622 3.3.1: not in a localpart, on top of what PRECIS refuses. */
#define JID_LOCAL_PROHIBITED	"\"&'/:<>@"

static void
jid_err(const char **errstr, const char *msg)
{
	if (errstr != NULL)
		*errstr = msg;
}

/*
 * 1 when s[0..n) is well-formed UTF-8 (no overlong forms, surrogates or
 * code points past U+10FFFF); *ascii says whether it is all ASCII. The
 * libraries get only well-formed input.
 */
static int
jid_utf8_check(const char *s, size_t n, int *ascii)
{
	const unsigned char	*p = (const unsigned char *)s;
	unsigned long		 cp;
	size_t			 i = 0, k;

	*ascii = 1;
	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		*ascii = 0;
		if ((k = utf8_decode(p + i, n - i, &cp)) == 0)
			return 0;
		i += k;
	}
	return 1;
}

static int
jid_is_upper(unsigned char c)
{
	return c >= 'A' && c <= 'Z';
}

static unsigned char
jid_lower(unsigned char c)
{
	return jid_is_upper(c) ? c - 'A' + 'a' : c;
}

/* Messages by failure, one table per part. */
struct jid_msgs {
	const char	*disallowed, *prohibited, *context, *bidi, *empty,
			*toolong, *unstable;
};

static const struct jid_msgs jid_local_msgs = {
	"localpart contains a disallowed character",
	"localpart contains a prohibited character",
	"localpart has a joiner or special character out of context",
	"localpart mixes text directions",
	"empty localpart",
	"localpart longer than 1023 bytes",
	"localpart does not prepare to a stable form",
};

static const struct jid_msgs jid_resource_msgs = {
	"resource contains a disallowed character",
	"resource contains a prohibited character",
	"resource has a joiner or special character out of context",
	"resource mixes text directions",
	"empty resource",
	"resource longer than 1023 bytes",
	"resource does not prepare to a stable form",
};

/*
 * Runs a PRECIS profile over in[0..n) into out (outsz bytes); returns the
 * prepared length or -1. The ASCII fast paths give the same answer as the
 * profile for the input they accept.
 */
static int
jid_precis(const char *in, size_t n, char *out, size_t outsz,
    enum precis_err (*profile)(const char *, size_t, char *, size_t, size_t,
    size_t *), const struct jid_msgs *m, const char **errstr)
{
	size_t	 len = 0;

	switch (profile(in, n, out, outsz, JID_PART_MAX, &len)) {
	case PRECIS_OK:
		return (int)len;
	case PRECIS_DISALLOWED:
		jid_err(errstr, m->disallowed);
		break;
	case PRECIS_CONTEXT:
		jid_err(errstr, m->context);
		break;
	case PRECIS_BIDI:
		jid_err(errstr, m->bidi);
		break;
	case PRECIS_EMPTY:
		jid_err(errstr, m->empty);
		break;
	case PRECIS_TOO_LONG:
		jid_err(errstr, m->toolong);
		break;
	case PRECIS_UNSTABLE:
		jid_err(errstr, m->unstable);
		break;
	case PRECIS_NOSPACE:
		jid_err(errstr, "buffer too small");
		break;
	}
	return -1;
}

/* Prepares the localpart in[0..n) into out; the prepared length or -1. */
static int
jid_local_n(const char *in, size_t n, char *out, size_t outsz,
    const char **errstr)
{
	const unsigned char	*p = (const unsigned char *)in;
	size_t			 i;
	int			 ascii, k;

	if (n == 0) {
		jid_err(errstr, "empty localpart");
		return -1;
	}
	if (n > JID_PART_MAX) {
		jid_err(errstr, "localpart longer than 1023 bytes");
		return -1;
	}
	if (outsz < n + 1) {
		jid_err(errstr, "buffer too small");
		return -1;
	}
	if (!jid_utf8_check(in, n, &ascii)) {
		jid_err(errstr, "localpart is not UTF-8");
		return -1;
	}
	if (ascii) {
		/*
		 * UsernameCaseMapped on ASCII: '!'..'~' are valid, A-Z
		 * are lower-cased; RFC 7622 3.3.1 prohibits a few more.
		 */
		for (i = 0; i < n; i++) {
			if (p[i] <= ' ' || p[i] == 0x7f)
				break;
			if (strchr(JID_LOCAL_PROHIBITED, p[i]) != NULL) {
				jid_err(errstr, jid_local_msgs.prohibited);
				return -1;
			}
			out[i] = jid_lower(p[i]);
		}
		if (i == n) {
			out[n] = '\0';
			return (int)n;
		}
	}
	if ((k = jid_precis(in, n, out, outsz, precis_username_casemapped,
	    &jid_local_msgs, errstr)) == -1)
		return -1;
	/* after the width mapping: fullwidth '@' is '@' now */
	if (strpbrk(out, JID_LOCAL_PROHIBITED) != NULL) {
		jid_err(errstr, jid_local_msgs.prohibited);
		return -1;
	}
	return k;
}

/* Prepares the resource in[0..n) into out; the prepared length or -1. */
static int
jid_resource_n(const char *in, size_t n, char *out, size_t outsz,
    const char **errstr)
{
	const unsigned char	*p = (const unsigned char *)in;
	size_t			 i;
	int			 ascii;

	if (n == 0) {
		jid_err(errstr, "empty resource");
		return -1;
	}
	if (n > JID_PART_MAX) {
		jid_err(errstr, "resource longer than 1023 bytes");
		return -1;
	}
	if (outsz < n + 1) {
		jid_err(errstr, "buffer too small");
		return -1;
	}
	if (!jid_utf8_check(in, n, &ascii)) {
		jid_err(errstr, "resource is not UTF-8");
		return -1;
	}
	if (ascii) {
		/* OpaqueString keeps printable ASCII, space included. */
		for (i = 0; i < n; i++)
			if (p[i] < ' ' || p[i] == 0x7f)
				break;
		if (i == n) {
			memcpy(out, in, n);
			out[n] = '\0';
			return (int)n;
		}
	}
	return jid_precis(in, n, out, outsz, precis_opaque_string,
	    &jid_resource_msgs, errstr);
}

/*
 * 1 when in[0..n) is a host name libidn2 would return unchanged but for
 * ASCII case: letters, digits, hyphens, 1..63 bytes a label, no hyphen at
 * either end of a label nor in its third and fourth places (that covers
 * "xn--"), 253 bytes at most.
 */
static int
jid_domain_is_ldh(const char *in, size_t n)
{
	const unsigned char	*p = (const unsigned char *)in;
	size_t			 i, start = 0;
	unsigned char		 c;

	if (n > JID_DNS_MAX)
		return 0;
	for (i = 0; i <= n; i++) {
		if (i == n || p[i] == '.') {
			if (i == start || i - start > JID_LABEL_MAX ||
			    p[start] == '-' || p[i - 1] == '-')
				return 0;
			if (i - start >= 4 && p[start + 2] == '-' &&
			    p[start + 3] == '-')
				return 0;
			start = i + 1;
			continue;
		}
		c = jid_lower(p[i]);
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-'))
			return 0;
	}
	return 1;
}

/*
 * libidn2's answer must be a sequence of non-empty LDH labels: without
 * the STD3 flag it passes other ASCII through (and with it, it drops
 * those characters silently), and it lets empty labels by.
 */
static int
jid_alabel_ok(const char *a)
{
	const unsigned char	*p = (const unsigned char *)a;
	size_t			 i, start = 0;

	for (i = 0;; i++) {
		if (p[i] == '\0' || p[i] == '.') {
			if (i == start)
				return 0;
			if (p[i] == '\0')
				return 1;
			start = i + 1;
		} else if (!((p[i] >= 'a' && p[i] <= 'z') ||
		    (p[i] >= '0' && p[i] <= '9') || p[i] == '-'))
			return 0;
	}
}

/* "[IPv6]" (RFC 7622 3.2, RFC 3986 IP-literal without IPvFuture). */
static int
jid_domain_ip6(const char *in, size_t n, char *out, size_t outsz,
    const char **errstr)
{
	char		 tmp[INET6_ADDRSTRLEN];
	struct in6_addr	 a;
	size_t		 len;

	if (n < 3 || in[n - 1] != ']' || n - 2 >= sizeof(tmp)) {
		jid_err(errstr, "bad IPv6 literal");
		return -1;
	}
	memcpy(tmp, in + 1, n - 2);
	tmp[n - 2] = '\0';
	if (inet_pton(AF_INET6, tmp, &a) != 1 ||
	    inet_ntop(AF_INET6, &a, tmp, sizeof(tmp)) == NULL) {
		jid_err(errstr, "bad IPv6 literal");
		return -1;
	}
	len = strlen(tmp);
	if (len + 3 > outsz) {
		jid_err(errstr, "buffer too small");
		return -1;
	}
	out[0] = '[';
	memcpy(out + 1, tmp, len);
	out[len + 1] = ']';
	out[len + 2] = '\0';
	return (int)len + 2;
}

/* Prepares the domain in[0..n) into out; the prepared length or -1. */
static int
jid_domain_n(const char *in, size_t n, char *out, size_t outsz,
    const char **errstr)
{
	char	 tmp[JID_PART_MAX + 1];
	char	*a = NULL, *a2 = NULL, *u = NULL;
	size_t	 i, len;
	int	 ascii, rc, ret = -1;

	if (n > 0 && in[n - 1] == '.')		/* RFC 7622 3.2, first */
		n--;
	if (n == 0) {
		jid_err(errstr, "empty domain");
		return -1;
	}
	if (n > JID_PART_MAX) {
		jid_err(errstr, "domain longer than 1023 bytes");
		return -1;
	}
	if (in[0] == '[')
		return jid_domain_ip6(in, n, out, outsz, errstr);
	if (!jid_utf8_check(in, n, &ascii)) {
		jid_err(errstr, "domain is not UTF-8");
		return -1;
	}
	if (ascii && jid_domain_is_ldh(in, n)) {
		if (outsz < n + 1) {
			jid_err(errstr, "buffer too small");
			return -1;
		}
		for (i = 0; i < n; i++)
			out[i] = jid_lower(in[i]);
		out[n] = '\0';
		return (int)n;
	}

	memcpy(tmp, in, n);
	tmp[n] = '\0';
	rc = idn2_lookup_u8((const uint8_t *)tmp, (uint8_t **)&a,
	    IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK) {
		jid_err(errstr, idn2_strerror(rc));
		goto out;
	}
	if (!jid_alabel_ok(a)) {
		jid_err(errstr, "domain has an empty label or a character "
		    "other than letters, digits and hyphens");
		goto out;
	}
	if (strlen(a) > JID_DNS_MAX) {
		jid_err(errstr, "domain longer than 253 bytes in DNS");
		goto out;
	}
	rc = idn2_to_unicode_8z8z(a, &u, 0);
	if (rc != IDN2_OK) {
		jid_err(errstr, idn2_strerror(rc));
		goto out;
	}
	/*
	 * libidn2 lets by some A-labels whose U-label is not valid (xn--msh
	 * is U+2481, which UTS #46 maps to "(14)"): the U-labels must look
	 * up to the same A-labels.
	 */
	rc = idn2_lookup_u8((const uint8_t *)u, (uint8_t **)&a2,
	    IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK || strcmp(a, a2) != 0) {
		jid_err(errstr, "domain has an A-label that is not valid");
		goto out;
	}
	len = strlen(u);
	if (len > JID_PART_MAX) {
		jid_err(errstr, "domain longer than 1023 bytes");
		goto out;
	}
	if (len + 1 > outsz) {
		jid_err(errstr, "buffer too small");
		goto out;
	}
	memcpy(out, u, len + 1);
	ret = (int)len;
 out:
	idn2_free(a);
	idn2_free(a2);
	idn2_free(u);
	return ret;
}

int
jid_prep_local(const char *in, char *out, size_t outsz, const char **errstr)
{
	return jid_local_n(in, strlen(in), out, outsz, errstr) == -1 ? -1 : 0;
}

int
jid_prep_domain(const char *in, char *out, size_t outsz, const char **errstr)
{
	return jid_domain_n(in, strlen(in), out, outsz, errstr) == -1 ? -1 : 0;
}

int
jid_prep_resource(const char *in, char *out, size_t outsz,
    const char **errstr)
{
	return jid_resource_n(in, strlen(in), out, outsz, errstr) == -1 ?
	    -1 : 0;
}

/*
 * The one parser: splits s (RFC 7622 3.1: the resource from the first '/',
 * the localpart up to the first '@' before it) and prepares the parts one
 * after the other into buf. *used is the bytes of buf taken.
 */
static int
jid_parse_into(const char *s, struct jid *j, char *buf, size_t bufsz,
    size_t *used, const char **errstr)
{
	const char	*slash, *at, *d;
	size_t		 len, dlen, off = 0;
	int		 n;

	if (bufsz < JID_BUFSZ) {
		jid_err(errstr, "buffer too small");
		return -1;
	}
	len = strnlen(s, JID_MAX + 1);
	if (len > JID_MAX) {
		jid_err(errstr, "JID longer than 3071 bytes");
		return -1;
	}
	slash = memchr(s, '/', len);
	dlen = slash != NULL ? (size_t)(slash - s) : len;
	at = memchr(s, '@', dlen);

	j->local = j->resource = NULL;
	d = s;
	if (at != NULL) {
		if ((n = jid_local_n(s, at - s, buf, JID_PART_MAX + 1,
		    errstr)) == -1)
			return -1;
		j->local = buf;
		off = n + 1;
		d = at + 1;
		dlen -= at - s + 1;
	}
	if ((n = jid_domain_n(d, dlen, buf + off, JID_PART_MAX + 1,
	    errstr)) == -1)
		return -1;
	j->domain = buf + off;
	off += n + 1;
	if (slash != NULL) {
		if ((n = jid_resource_n(slash + 1, len - (slash - s) - 1,
		    buf + off, JID_PART_MAX + 1, errstr)) == -1)
			return -1;
		j->resource = buf + off;
		off += n + 1;
	}
	*used = off;
	return 0;
}

int
jid_parse_buf(const char *s, struct jid *j, char *buf, size_t bufsz,
    const char **errstr)
{
	size_t	 used;

	return jid_parse_into(s, j, buf, bufsz, &used, errstr);
}

int
jid_prep(const char *s, char *out, size_t outsz, const char **errstr)
{
	char		 buf[JID_BUFSZ];
	struct jid	 j;
	size_t		 used;

	if (jid_parse_into(s, &j, buf, sizeof(buf), &used, errstr) == -1)
		return -1;
	if (jid_full_str(&j, out, outsz) == NULL) {
		jid_err(errstr, "buffer too small");
		return -1;
	}
	return 0;
}

/* One block: the struct, then the strings; pointers rebased into it. */
static struct jid *
jid_block(const struct jid *src, const char *strs, size_t used)
{
	struct jid	*j;
	char		*p;

	j = xmalloc(sizeof(*j) + used);
	p = (char *)(j + 1);
	memcpy(p, strs, used);
	j->local = src->local != NULL ? p + (src->local - strs) : NULL;
	j->domain = p + (src->domain - strs);
	j->resource = src->resource != NULL ?
	    p + (src->resource - strs) : NULL;
	return j;
}

struct jid *
jid_parse(const char *s, const char **errstr)
{
	char		 buf[JID_BUFSZ];
	struct jid	 j;
	size_t		 used;

	if (jid_parse_into(s, &j, buf, sizeof(buf), &used, errstr) == -1)
		return NULL;
	return jid_block(&j, buf, used);
}

struct jid *
jid_dup(const struct jid *src)
{
	char		 buf[JID_BUFSZ];
	struct jid	 j;
	size_t		 off = 0, n;

	/* The parts of src need not be adjacent: gather them first. */
	j.local = j.resource = NULL;
	if (src->local != NULL) {
		n = strlen(src->local) + 1;
		j.local = memcpy(buf, src->local, n);
		off = n;
	}
	n = strlen(src->domain) + 1;
	j.domain = memcpy(buf + off, src->domain, n);
	off += n;
	if (src->resource != NULL) {
		n = strlen(src->resource) + 1;
		j.resource = memcpy(buf + off, src->resource, n);
		off += n;
	}
	return jid_block(&j, buf, off);
}

void
jid_free(struct jid *j)
{
	free(j);
}

const char *
jid_domain_alabel(const char *domain, char *buf, size_t n)
{
	const unsigned char	*p;
	char			*a = NULL;
	const char		*ret = NULL;

	for (p = (const unsigned char *)domain; *p != '\0'; p++)
		if (*p >= 0x80)
			break;
	if (*p == '\0')
		return domain;
	if (idn2_lookup_u8((const uint8_t *)domain, (uint8_t **)&a,
	    IDN2_NONTRANSITIONAL) == IDN2_OK && strlen(a) < n) {
		memcpy(buf, a, strlen(a) + 1);
		ret = buf;
	}
	idn2_free(a);
	return ret;
}

/* Appends s (sep first unless it is '\0') at *off; 0 or -1 if it is short. */
static int
jid_put(char *buf, size_t n, size_t *off, char sep, const char *s)
{
	size_t	 len = strlen(s);

	if (sep != '\0') {
		if (*off + 1 >= n)
			return -1;
		buf[(*off)++] = sep;
	}
	if (*off + len >= n)
		return -1;
	memcpy(buf + *off, s, len + 1);
	*off += len;
	return 0;
}

static char *
jid_str(const struct jid *j, int full, char *buf, size_t n)
{
	size_t	 off = 0;

	if (n == 0)
		return NULL;
	if (j->local != NULL && (jid_put(buf, n, &off, '\0', j->local) == -1 ||
	    jid_put(buf, n, &off, '@', j->domain) == -1))
		return NULL;
	if (j->local == NULL && jid_put(buf, n, &off, '\0', j->domain) == -1)
		return NULL;
	if (full && j->resource != NULL &&
	    jid_put(buf, n, &off, '/', j->resource) == -1)
		return NULL;
	return buf;
}

char *
jid_bare_str(const struct jid *j, char *buf, size_t n)
{
	return jid_str(j, 0, buf, n);
}

char *
jid_full_str(const struct jid *j, char *buf, size_t n)
{
	return jid_str(j, 1, buf, n);
}

/* Two optional parts match when both are absent or both equal. */
static int
jid_part_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

int
jid_bare_eq(const struct jid *a, const struct jid *b)
{
	return strcmp(a->domain, b->domain) == 0 &&
	    jid_part_eq(a->local, b->local);
}

int
jid_eq(const struct jid *a, const struct jid *b)
{
	return jid_bare_eq(a, b) && jid_part_eq(a->resource, b->resource);
}

int
jid_is_bare(const struct jid *j)
{
	return j->resource == NULL;
}
