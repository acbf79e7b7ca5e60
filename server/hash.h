/*
 * server/hash.h: the string hash of the small in-memory tables (quota.c,
 * rate.c): FNV-1a, enough for keys that are prepared JIDs and domains.
 */
#ifndef HASH_H
#define HASH_H

#include <stdint.h>

static inline uint32_t
hash_str(const char *s)
{
	uint32_t	 h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

#endif
