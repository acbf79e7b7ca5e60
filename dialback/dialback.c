/*
 * dialback/dialback.c: the secret and the shapes of dialback elements
 * (XEP-0220 2.1, 2.5, 6.1; S2S 4.7, 4.8). Key arithmetic is key.c's.
 */
#include <stdlib.h>
#include <string.h>

#include "dialback.h"
#include "el.h"
#include "xmalloc.h"

#define NS_STANZAS	"urn:ietf:params:xml:ns:xmpp-stanzas"

static char	*db_secret;

int
db_set_secret(const char *s)
{
	if (s == NULL || *s == '\0')
		return -1;
	free(db_secret);
	db_secret = xstrdup(s);
	return 0;
}

void
db_make_key(const char *receiving, const char *originating, const char *sid,
    char out[DB_KEY_LEN + 1])
{
	db_key(db_secret, strlen(db_secret), receiving, originating, sid, out);
}

int
db_check_key(const char *receiving, const char *originating, const char *sid,
    const char *key)
{
	return db_key_verify(db_secret, strlen(db_secret), receiving,
	    originating, sid, key);
}

int
db_parse(const struct el *el, struct db_msg *m, const char **errstr)
{
	const char	*type;
	struct el	*err, *c;

	memset(m, 0, sizeof(*m));
	if (el_is(el, EL_NS_DIALBACK, "result"))
		m->verify = 0;
	else if (el_is(el, EL_NS_DIALBACK, "verify"))
		m->verify = 1;
	else {
		*errstr = "not a dialback element";
		return -1;
	}
	m->from = el_attr(el, "from");
	m->to = el_attr(el, "to");
	m->id = el_attr(el, "id");
	if (m->from == NULL || m->to == NULL || *m->from == '\0' ||
	    *m->to == '\0') {
		*errstr = "dialback element without from and to";
		return -1;
	}
	if (m->verify && (m->id == NULL || *m->id == '\0')) {
		*errstr = "db:verify without id";
		return -1;
	}
	type = el_attr(el, "type");
	if (type == NULL) {
		m->type = DB_REQUEST;
		m->key = el_text(el);
		if (*m->key == '\0') {
			*errstr = "dialback request without a key";
			return -1;
		}
	} else if (strcmp(type, "valid") == 0)
		m->type = DB_VALID;
	else if (strcmp(type, "invalid") == 0)
		m->type = DB_INVALID;
	else if (strcmp(type, "error") == 0) {
		m->type = DB_ERROR;
		/* S2S 11.8: any condition means "failed for this pair" */
		m->cond = "undefined-condition";
		if ((err = el_child(el, NULL, "error")) != NULL)
			EL_FOREACH(c, err)
				if (strcmp(c->ns, NS_STANZAS) == 0 &&
				    strcmp(c->name, "text") != 0) {
					m->cond = c->name;
					break;
				}
	} else {
		*errstr = "unknown dialback type";
		return -1;
	}
	return 0;
}

struct el *
db_build(int verify, enum db_type type, const char *from, const char *to,
    const char *id, const char *key, const char *cond)
{
	static const char *const names[] = { NULL, "valid", "invalid", "error" };
	struct el	*el, *err;

	el = el_new(EL_NS_DIALBACK, verify ? "verify" : "result");
	el_set_attr(el, "from", from);
	el_set_attr(el, "to", to);
	if (id != NULL)
		el_set_attr(el, "id", id);
	if (type != DB_REQUEST)
		el_set_attr(el, "type", names[type]);
	if (type == DB_REQUEST && key != NULL)
		el_add_text(el, key, strlen(key));
	if (type == DB_ERROR) {
		err = el_add(el, EL_NS_SERVER, "error");
		el_set_attr(err, "type", "cancel");
		el_add(err, NS_STANZAS, cond ? cond : "undefined-condition");
	}
	return el;
}

struct el *
db_authoritative(const struct db_msg *m, int hosted)
{
	int	 ok;

	/* S2S 4.3: receiving = its from, originating = its to */
	if (!hosted)
		return db_build(1, DB_ERROR, m->to, m->from, m->id, NULL,
		    "item-not-found");
	ok = db_check_key(m->from, m->to, m->id, m->key);
	return db_build(1, ok ? DB_VALID : DB_INVALID, m->to, m->from, m->id,
	    NULL, NULL);
}

struct el *
db_originate(const char *local, const char *remote, const char *sid)
{
	char	 key[DB_KEY_LEN + 1];

	db_make_key(remote, local, sid, key);
	return db_build(0, DB_REQUEST, local, remote, NULL, key, NULL);
}

int
db_answers_ours(const struct db_msg *m, const char *local, const char *remote)
{
	return !m->verify && m->type != DB_REQUEST &&
	    strcmp(m->from, remote) == 0 && strcmp(m->to, local) == 0;
}
