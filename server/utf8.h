/*
 * server/utf8.h: well-formed UTF-8 (RFC 3629), one code point at a time.
 * What a caller allows beyond that (JID preparation, XML 1.0 characters)
 * is the caller's.
 */
#ifndef UTF8_H
#define UTF8_H

#include <stddef.h>

/*
 * The code point that starts s[0..n) (n > 0) in *cp, and its length in
 * bytes; 0 when s does not start with one: overlong forms, surrogates,
 * code points past U+10FFFF and sequences cut short are refused.
 */
size_t	 utf8_decode(const unsigned char *s, size_t n, unsigned long *cp);

/*
 * The length of the longest prefix of s (NUL-terminated) of at most max
 * bytes that ends on a code point boundary: text cut to a limit stays
 * UTF-8.
 */
size_t	 utf8_prefix(const char *s, size_t max);

#endif
