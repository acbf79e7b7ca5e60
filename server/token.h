/*
 * server/token.c: API bearer tokens, made and hashed. A token is shown
 * once when made; the store keeps only its SHA-256 (hex), so a copy of
 * the database grants nothing. Storing and checking scopes are others'.
 */
#ifndef TOKEN_H
#define TOKEN_H

#include <stddef.h>

#define TOKEN_LEN	69	/* "xfed_" and 64 hex digits */
#define TOKEN_HASH_LEN	64	/* hex SHA-256 */

/* A new random token into out (TOKEN_LEN + 1 bytes); -1 when the
 * random source fails. */
int	 token_new(char *out, size_t outsz);
/* The hex SHA-256 of token into out (TOKEN_HASH_LEN + 1 bytes). */
void	 token_hash(const char *token, size_t len, char *out);
/* Hex of n bytes into out (2n + 1 bytes). */
void	 token_hex(const unsigned char *b, size_t n, char *out);

#endif
