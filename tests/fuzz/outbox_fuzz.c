/*
 * tests/fuzz/outbox_fuzz.c: outbox rows as the native system may write
 * them, turned into stanzas the way server/outbox.c does: payload_stanza()
 * (server/payload.c), the xml column through rowxml_add()
 * (server/rowxml.c), then payload_check(). The input is split at NUL
 * bytes into the row's to, type, stanza id, body, subject, thread and xml;
 * the first byte picks the kind. Checked, whatever the input:
 *   - a stanza that passes payload_check() serializes to XML that the
 *     peers' parser reads back, with the same name, from, to and id, so
 *     no column can change who it is from or to;
 *   - a refusal has a reason.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "el.h"
#include "jid.h"
#include "parse_back.h"
#include "payload.h"
#include "rowxml.h"
#include "store.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FZ_FIELDS	7

static int
fz_same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const enum store_kind kinds[] = {
		STORE_KIND_MESSAGE, STORE_KIND_SUBSCRIBE,
		STORE_KIND_SUBSCRIBED, STORE_KIND_UNSUBSCRIBE,
		STORE_KIND_UNSUBSCRIBED,
	};
	struct store_outbox	 o;
	struct el		*el, *back;
	char			*buf, *f[FZ_FIELDS], to[JID_MAX + 1];
	char			 why[PAYLOAD_WHY_MAX], *s;
	const char		*errstr;
	size_t			 at, n;
	int			 i;

	if (len < 1)
		return 0;
	buf = malloc(len);
	memcpy(buf, data + 1, len - 1);
	buf[len - 1] = '\0';
	for (i = 0, at = 0; i < FZ_FIELDS; i++) {
		f[i] = at < len - 1 || i == 0 ? buf + at : NULL;
		if (f[i] != NULL)
			at += strlen(f[i]) + 1;
		if (at > len - 1)
			at = len;
	}
	memset(&o, 0, sizeof(o));
	o.id = 1;
	o.local = "alice";
	o.domain = "a.test";
	o.kind = kinds[data[0] % (sizeof(kinds) / sizeof(kinds[0]))];
	o.to = f[0];
	o.type = f[1];
	o.stanza_id = f[2];
	o.body = f[3];
	o.subject = f[4];
	o.thread = f[5];
	o.xml = f[6];
	/* as outbox.c: the address first, then the stanza and its payload */
	if (jid_prep(o.to, to, sizeof(to), &errstr) == -1)
		goto out;
	if ((el = payload_stanza(&o, to, o.stanza_id ? o.stanza_id :
	    "xfed-1")) == NULL)
		goto out;
	if (o.kind == STORE_KIND_MESSAGE && o.xml != NULL &&
	    rowxml_add(el, o.xml, &errstr) == -1) {
		if (errstr == NULL)
			abort();
		el_free(el);
		goto out;
	}
	why[0] = '\0';
	if (payload_check(el, 65536, why, sizeof(why)) == -1) {
		if (why[0] == '\0')
			abort();
		el_free(el);
		goto out;
	}
	s = el_to_string(el, EL_NS_SERVER, &n);
	back = fz_parse_back(s, n);
	if (back == NULL || strcmp(back->name, el->name) != 0 ||
	    !fz_same(el_attr(back, "from"), el_attr(el, "from")) ||
	    !fz_same(el_attr(back, "to"), to) ||
	    !fz_same(el_attr(back, "id"), el_attr(el, "id")) ||
	    !fz_same(el_attr(el, "from"), "alice@a.test")) {
		fprintf(stderr, "row's stanza does not read back: %s\n", s);
		abort();
	}
	el_free(back);
	free(s);
	el_free(el);
 out:
	free(buf);
	return 0;
}
