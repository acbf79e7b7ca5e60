/*
 * server/ctl.c: encoding and decoding of the control protocol (ctl.h),
 * linked into both xfed and xfedctl. Every read is bounds-checked: a
 * payload is untrusted on either side.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "ctl.h"
#include "xmalloc.h"

static void
ctl_reserve(struct ctl_msg *m, size_t n)
{
	while (m->len + n > m->cap) {
		m->cap = m->cap ? m->cap * 2 : 256;
		m->buf = xreallocarray(m->buf, m->cap, 1);
	}
}

static void
ctl_put(struct ctl_msg *m, enum ctl_field tag, const void *v, size_t n)
{
	uint16_t	 t = htons(tag);
	uint32_t	 l = htonl((uint32_t)n);

	ctl_reserve(m, 6 + n);
	memcpy(m->buf + m->len, &t, 2);
	memcpy(m->buf + m->len + 2, &l, 4);
	if (n)
		memcpy(m->buf + m->len + 6, v, n);
	m->len += 6 + n;
}

void
ctl_msg_begin(struct ctl_msg *m, enum ctl_type type)
{
	struct ctl_hdr	 h;

	memset(m, 0, sizeof(*m));
	ctl_reserve(m, sizeof(h));
	memset(&h, 0, sizeof(h));
	h.type = htons(type);
	h.version = htons(CTL_VERSION);
	memcpy(m->buf, &h, sizeof(h));
	m->len = sizeof(h);
}

void
ctl_put_str(struct ctl_msg *m, enum ctl_field tag, const char *s)
{
	ctl_put(m, tag, s, s ? strlen(s) : 0);
}

void
ctl_put_u64(struct ctl_msg *m, enum ctl_field tag, uint64_t v)
{
	uint8_t	 b[8];
	int	 i;

	for (i = 7; i >= 0; i--, v >>= 8)
		b[i] = v & 0xff;
	ctl_put(m, tag, b, 8);
}

const uint8_t *
ctl_msg_end(struct ctl_msg *m, size_t *len)
{
	uint32_t	 l = htonl((uint32_t)(m->len - sizeof(struct ctl_hdr)));

	memcpy(m->buf, &l, 4);
	*len = m->len;
	return m->buf;
}

void
ctl_msg_free(struct ctl_msg *m)
{
	free(m->buf);
	memset(m, 0, sizeof(*m));
}

long
ctl_hdr_read(const uint8_t *buf, size_t avail, struct ctl_hdr *h,
    const char **errstr)
{
	static char	 msg[96];

	if (avail < sizeof(*h))
		return 0;
	memcpy(h, buf, sizeof(*h));
	h->len = ntohl(h->len);
	h->type = ntohs(h->type);
	h->version = ntohs(h->version);
	if (h->version != CTL_VERSION) {
		snprintf(msg, sizeof(msg),
		    "control protocol version %u, expected %u (xfed and xfedctl differ)",
		    h->version, CTL_VERSION);
		*errstr = msg;
		return -1;
	}
	if (h->len > CTL_MAX_MSG) {
		*errstr = "control message too long";
		return -1;
	}
	if (avail < sizeof(*h) + h->len)
		return 0;
	return (long)(sizeof(*h) + h->len);
}

/* Finds the n-th field with tag; returns its bytes and length or NULL. */
static const uint8_t *
ctl_find(const uint8_t *p, size_t len, enum ctl_field tag, int nth,
    uint32_t *flen)
{
	size_t		 off = 0;
	uint16_t	 t;
	uint32_t	 l;

	while (len - off >= 6) {
		memcpy(&t, p + off, 2);
		memcpy(&l, p + off + 2, 4);
		t = ntohs(t);
		l = ntohl(l);
		if (l > len - off - 6)
			return NULL;
		if (t == tag && nth-- == 0) {
			*flen = l;
			return p + off + 6;
		}
		off += 6 + l;
	}
	return NULL;
}

int
ctl_get_str(const uint8_t *p, size_t len, enum ctl_field tag, char *out,
    size_t outsz)
{
	const uint8_t	*v;
	uint32_t	 l;

	if ((v = ctl_find(p, len, tag, 0, &l)) == NULL || l >= outsz ||
	    memchr(v, '\0', l) != NULL)
		return -1;
	memcpy(out, v, l);
	out[l] = '\0';
	return 0;
}

int
ctl_get_u64(const uint8_t *p, size_t len, enum ctl_field tag, uint64_t *out)
{
	const uint8_t	*v;
	uint32_t	 l, i;

	if ((v = ctl_find(p, len, tag, 0, &l)) == NULL || l != 8)
		return -1;
	for (*out = 0, i = 0; i < 8; i++)
		*out = (*out << 8) | v[i];
	return 0;
}

int
ctl_each_str(const uint8_t *p, size_t len, enum ctl_field tag,
    void (*fn)(void *, const char *), void *arg)
{
	const uint8_t	*v;
	uint32_t	 l;
	char		 buf[1024];
	int		 i;

	for (i = 0; (v = ctl_find(p, len, tag, i, &l)) != NULL; i++) {
		if (l >= sizeof(buf) || memchr(v, '\0', l) != NULL)
			return -1;
		memcpy(buf, v, l);
		buf[l] = '\0';
		fn(arg, buf);
	}
	return 0;
}
