/*
 * store/profile.c: the contract's rules for a user's profile columns
 * (CONTRACT.md, users): how long each text may be and which images an
 * avatar may be, told by the image's own first bytes rather than by a
 * name. xfedctl applies them before writing; the daemon leaves out of
 * what it sends an avatar that breaks them.
 */
#include <string.h>

#include "store.h"

const char *
store_avatar_type(const void *data, size_t len)
{
	static const struct {
		const char	*magic;
		size_t		 len, at;
		const char	*type;
	} types[] = {
		{ "\x89PNG\r\n\x1a\n", 8, 0, "image/png" },
		{ "\xff\xd8\xff", 3, 0, "image/jpeg" },
		{ "GIF87a", 6, 0, "image/gif" },
		{ "GIF89a", 6, 0, "image/gif" },
		{ "WEBP", 4, 8, "image/webp" },
	};
	const unsigned char	*p = data;
	size_t			 i;

	if (data == NULL || len == 0 || len > STORE_AVATAR_MAX)
		return NULL;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (len >= types[i].at + types[i].len &&
		    memcmp(p + types[i].at, types[i].magic, types[i].len) == 0)
			return types[i].type;
	return NULL;
}
