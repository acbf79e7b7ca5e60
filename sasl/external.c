/*
 * sasl/external.c: SASL EXTERNAL for S2S (XEP-0178) without I/O. The
 * receiver's verdict rests on three facts the stream supplies: TLS is up,
 * the header `from`, and whether the peer's certificate verified for it;
 * the authzid may only repeat that `from` (S2S 3.5). Whether to offer the
 * mechanism (S2S 3.2), counting failed attempts (S2S 3.8) and answering
 * <abort/> with <aborted/> stay with the stream.
 */
#include <stdio.h>
#include <string.h>

#include "sasl/external.h"
#include "jid.h"
#include "log.h"

static const char *const sasl_cond_names[] = {
	[SASL_C_NONE] = "",
	[SASL_C_ABORTED] = "aborted",
	[SASL_C_ACCOUNT_DISABLED] = "account-disabled",
	[SASL_C_CREDENTIALS_EXPIRED] = "credentials-expired",
	[SASL_C_ENCRYPTION_REQUIRED] = "encryption-required",
	[SASL_C_INCORRECT_ENCODING] = "incorrect-encoding",
	[SASL_C_INVALID_AUTHZID] = "invalid-authzid",
	[SASL_C_INVALID_MECHANISM] = "invalid-mechanism",
	[SASL_C_MALFORMED_REQUEST] = "malformed-request",
	[SASL_C_MECHANISM_TOO_WEAK] = "mechanism-too-weak",
	[SASL_C_NOT_AUTHORIZED] = "not-authorized",
	[SASL_C_TEMPORARY_AUTH_FAILURE] = "temporary-auth-failure",
};
#define SASL_NCONDS	(sizeof(sasl_cond_names) / sizeof(sasl_cond_names[0]))

static const char sasl_b64_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

const char *
sasl_cond_name(enum sasl_cond c)
{
	if ((size_t)c >= SASL_NCONDS)
		return sasl_cond_names[SASL_C_NOT_AUTHORIZED];
	return sasl_cond_names[c];
}

enum sasl_cond
sasl_cond_parse(const char *name)
{
	size_t	 i;

	if (name != NULL)
		for (i = 1; i < SASL_NCONDS; i++)
			if (strcmp(name, sasl_cond_names[i]) == 0)
				return (enum sasl_cond)i;
	return SASL_C_NOT_AUTHORIZED;		/* RFC 6120 6.5, S2S 3.7 */
}

static int
sasl_b64_val(char c)
{
	const char	*p;

	if (c == '\0' || (p = strchr(sasl_b64_alpha, c)) == NULL)
		return -1;
	return p - sasl_b64_alpha;
}

int
sasl_b64_decode(const char *in, size_t len, char *out, size_t outsz,
    size_t *outlen)
{
	size_t	 i, o = 0, pad = 0;
	int	 v[4] = { 0, 0, 0, 0 }, k;

	if (len % 4 != 0)
		return -1;
	if (len >= 1 && in[len - 1] == '=')
		pad++;
	if (len >= 2 && in[len - 2] == '=')
		pad++;
	if (len / 4 * 3 - pad + 1 > outsz)
		return -1;
	for (i = 0; i < len; i += 4) {
		for (k = 0; k < 4; k++) {
			if (i + k >= len - pad)
				v[k] = 0;	/* padding, end only */
			else if ((v[k] = sasl_b64_val(in[i + k])) == -1)
				return -1;
		}
		out[o++] = (v[0] << 2) | (v[1] >> 4);
		if (i + 4 < len || pad < 2)
			out[o++] = ((v[1] & 0xf) << 4) | (v[2] >> 2);
		if (i + 4 < len || pad < 1)
			out[o++] = ((v[2] & 0x3) << 6) | v[3];
	}
	/* The bits the padding leaves unused must be zero (RFC 4648 3.5). */
	if ((pad == 2 && (v[1] & 0xf) != 0) || (pad == 1 && (v[2] & 0x3) != 0))
		return -1;
	out[o] = '\0';
	if (outlen != NULL)
		*outlen = o;
	return 0;
}

int
sasl_b64_encode(const void *in, size_t len, char *out, size_t outsz)
{
	const unsigned char	*p = in;
	size_t			 i, o = 0;
	unsigned int		 n;

	if ((len + 2) / 3 * 4 + 1 > outsz)
		return -1;
	for (i = 0; i < len; i += 3) {
		n = p[i] << 16;
		if (i + 1 < len)
			n |= p[i + 1] << 8;
		if (i + 2 < len)
			n |= p[i + 2];
		out[o++] = sasl_b64_alpha[(n >> 18) & 63];
		out[o++] = sasl_b64_alpha[(n >> 12) & 63];
		out[o++] = i + 1 < len ? sasl_b64_alpha[(n >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? sasl_b64_alpha[n & 63] : '=';
	}
	out[o] = '\0';
	return 0;
}

enum sasl_cond
sasl_ext_receive(const char *mechanism, const char *text, const char *from,
    int tls_up, int cert_ok, const char **reason)
{
	char		 authzid[SASL_AUTHZID_MAX + 1];
	char		 a[SASL_AUTHZID_MAX + 1], f[SASL_AUTHZID_MAX + 1];
	const char	*err;
	size_t		 len, n;

	if (mechanism == NULL || strcmp(mechanism, SASL_EXT_MECH) != 0) {
		*reason = mechanism == NULL ? "no mechanism given" :
		    "only EXTERNAL is offered";
		return SASL_C_INVALID_MECHANISM;
	}
	if (!tls_up) {
		*reason = "EXTERNAL needs TLS first";
		return SASL_C_ENCRYPTION_REQUIRED;
	}
	/* "=" is the empty response (RFC 6120 6.4.2); none counts as one. */
	authzid[0] = '\0';
	n = 0;
	len = text != NULL ? strlen(text) : 0;
	if (len > 0 && strcmp(text, "=") != 0) {
		if (len > SASL_EXT_TEXT_MAX - 1) {
			*reason = "authzid is longer than a domain";
			return SASL_C_INVALID_AUTHZID;
		}
		if (sasl_b64_decode(text, len, authzid, sizeof(authzid),
		    &n) == -1) {
			*reason = "response is not strict base64";
			return SASL_C_INCORRECT_ENCODING;
		}
	}
	if (from == NULL) {
		*reason = "stream header has no from";
		return SASL_C_NOT_AUTHORIZED;
	}
	if (n > 0) {
		/* S2S 3.5: a bare domain, and the header's one. */
		if (memchr(authzid, '\0', n) != NULL ||
		    strpbrk(authzid, "@/") != NULL ||
		    jid_prep_domain(authzid, a, sizeof(a), &err) == -1) {
			*reason = "authzid is not a domain";
			return SASL_C_INVALID_AUTHZID;
		}
		if (jid_prep_domain(from, f, sizeof(f), &err) == -1 ||
		    strcmp(a, f) != 0) {
			*reason = "authzid is not the stream's from domain";
			return SASL_C_INVALID_AUTHZID;
		}
	}
	if (!cert_ok) {
		*reason = "certificate not valid for the stream's from domain";
		return SASL_C_NOT_AUTHORIZED;
	}
	*reason = NULL;
	return SASL_C_NONE;
}

int
sasl_ext_auth_text(const char *domain, char *out, size_t outsz)
{
	size_t	 len = strlen(domain);

	if (len > SASL_AUTHZID_MAX)
		return -1;
	if (len == 0) {
		if (outsz < 2)
			return -1;
		memcpy(out, "=", 2);
		return 0;
	}
	return sasl_b64_encode(domain, len, out, outsz);
}

enum sasl_ext_res
sasl_ext_answer(const char *name, const char *condname, const char *text,
    enum sasl_cond *cond, char *why, size_t whysz)
{
	char	 vis[256], c[64];
	size_t	 len;

	*cond = SASL_C_NONE;
	if (name != NULL && strcmp(name, "success") == 0) {
		if (whysz > 0)
			why[0] = '\0';
		return SASL_EXT_OK;
	}
	if (name == NULL || strcmp(name, "failure") != 0) {
		log_vis(vis, sizeof(vis), name ? name : "", name ?
		    strlen(name) : 0);
		snprintf(why, whysz, "unexpected <%s/> after <auth/>", vis);
		return SASL_EXT_ABORT;
	}
	*cond = sasl_cond_parse(condname);
	if (condname != NULL && *cond == SASL_C_NOT_AUTHORIZED &&
	    strcmp(condname, "not-authorized") != 0)
		/* S2S 3.7: unknown counts as not-authorized; keep its name. */
		log_vis(c, sizeof(c), condname, strlen(condname));
	else
		snprintf(c, sizeof(c), "%s", sasl_cond_name(*cond));
	if (text != NULL && (len = strlen(text)) > 0) {
		log_vis(vis, sizeof(vis), text, len);
		snprintf(why, whysz, "%s: %s", c, vis);
	} else
		snprintf(why, whysz, "%s", c);
	return SASL_EXT_FAILED;
}
