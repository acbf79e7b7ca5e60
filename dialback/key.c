/*
 * dialback/key.c: XEP-0185 dialback keys and the random strings around
 * them (the secret when none is configured, stream ids). Which key goes on
 * which stream is dialback.c's business; keeping a secret is the store's.
 *
 * key = HEX(HMAC-SHA256(HEX(SHA-256(secret)), recv SP orig SP id)), all
 * hex lowercase; the HMAC key is the 64-character hex text (S2S 4.2, 4.4).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "log.h"
#include "xmalloc.h"
#include "dialback/key.h"

static const char db_hexdigits[] = "0123456789abcdef";
static const char db_base62[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

static void
db_key_hex(const unsigned char *in, size_t n, char *out)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		out[2 * i] = db_hexdigits[in[i] >> 4];
		out[2 * i + 1] = db_hexdigits[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

void
db_key(const char *secret, size_t secretlen, const char *receiving,
    const char *originating, const char *stream_id, char out[DB_KEY_LEN + 1])
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	char		 k[DB_KEY_LEN + 1], *data;
	int		 datalen;

	if (EVP_Digest(secret, secretlen, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen * 2 != DB_KEY_LEN)
		fatalx("%s: SHA-256 failed", __func__);
	db_key_hex(md, mdlen, k);

	datalen = xasprintf(&data, "%s %s %s", receiving, originating,
	    stream_id);
	if (HMAC(EVP_sha256(), k, DB_KEY_LEN, (unsigned char *)data, datalen,
	    md, &mdlen) == NULL || mdlen * 2 != DB_KEY_LEN)
		fatalx("%s: HMAC-SHA256 failed", __func__);
	db_key_hex(md, mdlen, out);

	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(md, sizeof(md));
	free(data);
}

int
db_key_verify(const char *secret, size_t secretlen, const char *receiving,
    const char *originating, const char *stream_id, const char *key)
{
	char	 want[DB_KEY_LEN + 1];
	int	 ok;

	/* The length is public (always 64); only the digits are compared
	 * in constant time. */
	if (key == NULL || strlen(key) != DB_KEY_LEN)
		return 0;
	db_key(secret, secretlen, receiving, originating, stream_id, want);
	ok = CRYPTO_memcmp(want, key, DB_KEY_LEN) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	return ok;
}

int
db_secret_generate(char *out, size_t n)
{
	unsigned char	 buf[64];
	size_t		 i;

	if (n == 0 || n - 1 < DB_SECRET_MIN_LEN)
		return -1;
	for (i = 0; i < n - 1; i++) {
		/* Each byte gives two digits; refill every 128 digits. */
		if (i % (2 * sizeof(buf)) == 0 &&
		    RAND_bytes(buf, sizeof(buf)) != 1) {
			log_warnx("%s: RAND_bytes failed", __func__);
			return -1;
		}
		out[i] = db_hexdigits[i % 2 == 0 ?
		    buf[(i / 2) % sizeof(buf)] >> 4 :
		    buf[(i / 2) % sizeof(buf)] & 0xf];
	}
	out[i] = '\0';
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}

int
db_stream_id(char *out, size_t n)
{
	unsigned char	 buf[64];
	size_t		 i = 0, j;

	if (n == 0 || n - 1 < DB_STREAM_ID_MIN_LEN)
		return -1;
	while (i < n - 1) {
		if (RAND_bytes(buf, sizeof(buf)) != 1) {
			log_warnx("%s: RAND_bytes failed", __func__);
			return -1;
		}
		/* Bytes from 248 up are dropped: 248 = 4 * 62, so the rest
		 * maps onto the alphabet evenly. */
		for (j = 0; j < sizeof(buf) && i < n - 1; j++)
			if (buf[j] < 248)
				out[i++] = db_base62[buf[j] % 62];
	}
	out[i] = '\0';
	return 0;
}
