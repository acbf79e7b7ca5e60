/*
 * server/token.c: making and hashing API tokens (token.h).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "token.h"

void
token_hex(const unsigned char *b, size_t n, char *out)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * n] = '\0';
}

int
token_new(char *out, size_t outsz)
{
	unsigned char	 b[32];

	if (outsz < TOKEN_LEN + 1 || RAND_bytes(b, sizeof(b)) != 1)
		return -1;
	memcpy(out, "xfed_", 5);
	token_hex(b, sizeof(b), out + 5);
	return 0;
}

void
token_hash(const char *token, size_t len, char *out)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 n = 0;

	EVP_Digest(token, len, md, &n, EVP_sha256(), NULL);
	token_hex(md, n, out);
}
