/*
 * server/jid.c: JID preparation (RFC 7622). Domains through libidn2.
 */
#include <string.h>

#include <idn2.h>

#include "jid.h"

int
jid_prep_domain(const char *in, char *out, size_t outsz, const char **errstr)
{
	char	*a = NULL, *u = NULL;
	size_t	 n = strlen(in);
	int	 rc;

	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n == 0 || n > JID_PART_MAX) {
		*errstr = n ? "domain longer than 1023 bytes" : "empty domain";
		return -1;
	}
	{
		char	 tmp[JID_PART_MAX + 1];

		memcpy(tmp, in, n);
		tmp[n] = '\0';
		rc = idn2_lookup_u8((const uint8_t *)tmp, (uint8_t **)&a,
		    IDN2_NONTRANSITIONAL | IDN2_USE_STD3_ASCII_RULES);
	}
	if (rc != IDN2_OK) {
		*errstr = idn2_strerror(rc);
		return -1;
	}
	rc = idn2_to_unicode_8z8z(a, &u, 0);
	idn2_free(a);
	if (rc != IDN2_OK) {
		*errstr = idn2_strerror(rc);
		return -1;
	}
	if (strlen(u) >= outsz) {
		idn2_free(u);
		*errstr = "domain too long";
		return -1;
	}
	strcpy(out, u);
	idn2_free(u);
	return 0;
}
