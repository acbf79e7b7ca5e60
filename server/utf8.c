/* server/utf8.c: well-formed UTF-8 (RFC 3629 section 4), see utf8.h. */
#include <string.h>

#include "utf8.h"

size_t
utf8_decode(const unsigned char *s, size_t n, unsigned long *cp)
{
	unsigned char	 c = s[0], lo = 0x80, hi = 0xbf;
	size_t		 more, k;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		more = 1;
	else if (c >= 0xe0 && c <= 0xef) {
		more = 2;
		if (c == 0xe0)
			lo = 0xa0;		/* overlong */
		else if (c == 0xed)
			hi = 0x9f;		/* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		more = 3;
		if (c == 0xf0)
			lo = 0x90;		/* overlong */
		else if (c == 0xf4)
			hi = 0x8f;		/* past U+10FFFF */
	} else
		return 0;
	if (n - 1 < more || s[1] < lo || s[1] > hi)
		return 0;
	*cp = c & (0xff >> (more + 2));
	for (k = 1; k <= more; k++) {
		if (s[k] < 0x80 || s[k] > 0xbf)
			return 0;
		*cp = (*cp << 6) | (s[k] & 0x3f);
	}
	return more + 1;
}

size_t
utf8_prefix(const char *s, size_t max)
{
	size_t	 n = strlen(s);

	if (n <= max)
		return n;
	/* s[max] continues a code point: that one goes too */
	for (n = max; n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80; n--)
		;
	return n;
}
