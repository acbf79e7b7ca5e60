/*
 * dialback/key.h: XEP-0185 dialback keys, the secret they are keyed with,
 * and stream ids. Pure computation on OpenSSL; dialback.c decides when a
 * key is sent or checked, the store keeps a generated secret.
 */
#ifndef DB_KEY_H
#define DB_KEY_H

#include <stddef.h>

#define DB_KEY_LEN		64	/* hex digits of an HMAC-SHA256 */
#define DB_SECRET_MIN_LEN	32	/* hex digits: 128 bits */
#define DB_SECRET_LEN		64	/* what a generated secret has: 256 bits */
#define DB_STREAM_ID_MIN_LEN	22	/* base62 digits: > 130 bits */
#define DB_STREAM_ID_LEN	24	/* what callers normally ask for */

/*
 * Writes the key for (receiving, originating, stream_id) into out as 64
 * lowercase hex digits and a NUL (XEP-0185 3, S2S 4.2). The HMAC key is
 * the hex text of SHA-256(secret), not the raw digest.
 */
void	 db_key(const char *secret, size_t secretlen, const char *receiving,
	    const char *originating, const char *stream_id,
	    char out[DB_KEY_LEN + 1]);

/*
 * 1 when key is the key for these inputs, else 0. The comparison takes
 * the same time wherever the first difference is (S2S 4.6).
 */
int	 db_key_verify(const char *secret, size_t secretlen,
	    const char *receiving, const char *originating,
	    const char *stream_id, const char *key);

/*
 * Fills out (n bytes) with n - 1 random lowercase hex digits and a NUL.
 * -1 when n - 1 < DB_SECRET_MIN_LEN or the random generator fails.
 */
int	 db_secret_generate(char *out, size_t n);

/*
 * Fills out (n bytes) with a new stream id: n - 1 characters from
 * [A-Za-z0-9] drawn from the CSPRNG without bias, and a NUL (S2S 1.11,
 * 1.12). -1 when n - 1 < DB_STREAM_ID_MIN_LEN or the generator fails.
 */
int	 db_stream_id(char *out, size_t n);

#endif
