/*
 * tests/fuzz/sasl_fuzz.c: SASL EXTERNAL (sasl/external.c) on whatever a
 * peer sends. The input is split at NUL bytes into a mechanism, the
 * response text, the stream's from, and (for the initiating side) the
 * name, condition and text of the peer's answer; the first byte sets TLS
 * and certificate flags. Checked, whatever the input:
 *   - success only over TLS, with a valid certificate, for mechanism
 *     EXTERNAL, and an authzid (when given) that is the stream's from;
 *   - every refusal has a reason and a condition with a name that parses
 *     back to it;
 *   - strict base64: what decodes, encodes back to the same text, and
 *     what is encoded decodes back to the same bytes;
 *   - the initiating side's verdict on an answer is one of its three.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "external.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FZ_FIELDS	6

static void
fz_b64(const char *text)
{
	char	 dec[2048], enc[2048 * 4 / 3 + 8];
	size_t	 len = strlen(text), n;

	if (len >= sizeof(dec) ||
	    sasl_b64_decode(text, len, dec, sizeof(dec), &n) == -1)
		return;
	if (sasl_b64_encode(dec, n, enc, sizeof(enc)) == -1 ||
	    strcmp(enc, text) != 0) {
		fprintf(stderr, "base64 '%s' does not encode back\n", text);
		abort();
	}
	/* and the other way round */
	if (sasl_b64_encode(text, len, enc, sizeof(enc)) == -1 ||
	    sasl_b64_decode(enc, strlen(enc), dec, sizeof(dec), &n) == -1 ||
	    n != len || memcmp(dec, text, n) != 0) {
		fprintf(stderr, "'%s' does not decode back\n", text);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char		*buf, *f[FZ_FIELDS], why[256];
	const char	*reason;
	enum sasl_cond	 c, ac;
	int		 i, tls, cert;
	size_t		 at;

	if (len < 1)
		return 0;
	tls = data[0] & 1;
	cert = (data[0] >> 1) & 1;
	buf = malloc(len);
	memcpy(buf, data + 1, len - 1);
	buf[len - 1] = '\0';
	/* fields at NUL bytes; missing ones are NULL */
	for (i = 0, at = 0; i < FZ_FIELDS; i++) {
		f[i] = at < len - 1 || (i == 0) ? buf + at : NULL;
		if (f[i] != NULL)
			at += strlen(f[i]) + 1;
		if (at > len - 1)
			at = len;
	}
	c = sasl_ext_receive((data[0] & 4) ? NULL : f[0], f[1],
	    (data[0] & 8) ? NULL : f[2], tls, cert, &reason);
	if (c == SASL_C_NONE && (!tls || !cert || f[0] == NULL ||
	    strcmp(f[0], SASL_EXT_MECH) != 0 || (data[0] & 4) ||
	    (data[0] & 8))) {
		fprintf(stderr, "success without TLS, certificate, EXTERNAL "
		    "or from\n");
		abort();
	}
	if (c != SASL_C_NONE && (reason == NULL || sasl_cond_name(c) == NULL ||
	    sasl_cond_parse(sasl_cond_name(c)) != c)) {
		fprintf(stderr, "refusal %d without a reason or a name\n", c);
		abort();
	}
	if (f[1] != NULL)
		fz_b64(f[1]);
	ac = SASL_C_NONE;
	switch (sasl_ext_answer(f[3] != NULL ? f[3] : "success", f[4], f[5],
	    &ac, why, sizeof(why))) {
	case SASL_EXT_OK:
	case SASL_EXT_FAILED:
	case SASL_EXT_ABORT:
		break;
	default:
		abort();
	}
	free(buf);
	return 0;
}
