/*
 * tests/unit/iq_test.c: server/iq.c, disco.c and vcard.c against a real
 * store in a temporary directory: each IQ xfed answers for a domain, a
 * user's bare JID and the user's resource, the errors for strangers,
 * unknown and disabled users (S2S 8.40-8.43, section 9), the XEP-0115
 * hash with the XEP's own example vectors, and who message.c owes a
 * receipt (XEP-0184).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "caps.h"
#include "conf.h"
#include "disco.h"
#include "el.h"
#include "iq.h"
#include "jid.h"
#include "message.h"
#include "server.h"
#include "store.h"
#include "../t.h"

static struct server	 iq_srv;

/* A fresh daemon context: x.test hosted, users nat (profile, avatar,
 * available, bob@r.test has from), mute (no profile, unavailable),
 * off (disabled). */
static int
setup(const char *extra)
{
	char			 conf[1024], path[512];
	const char		*err = NULL;
	struct store_user	 u;
	struct store_sub	 s;
	int64_t			 id;

	snprintf(path, sizeof(path), "%s/x.db", t_tmpdir());
	snprintf(conf, sizeof(conf), "domain x.test\nstore %s\nrequire_encryption no\n%s", path,
	    extra ? extra : "");
	memset(&iq_srv, 0, sizeof(iq_srv));
	if ((iq_srv.conf = conf_parse("t.conf", conf, strlen(conf),
	    NULL)) == NULL)
		return -1;
	if ((iq_srv.store = store_open(path, STORE_OPEN_CREATE, &err)) == NULL) {
		printf("  %s\n", err);
		return -1;
	}
	iq_srv.started = time(NULL) - 100;
	server = &iq_srv;
	if (store_user_add(iq_srv.store, "nat", "x.test", "Nat Native",
	    &id) == -1)
		return -1;
	memset(&u, 0, sizeof(u));
	u.id = id;
	u.name = "Nat Native";
	u.nickname = "nat";
	u.email = "nat@example.org";
	u.avatar = "\x89PNG\r\n\x1a\n";
	u.avatar_len = 8;
	u.avatar_type = "image/png";
	if (store_user_update(iq_srv.store, &u) == -1 ||
	    store_presence_set(iq_srv.store, "nat", "x.test",
	    STORE_SHOW_AWAY, "out", 0) == -1)
		return -1;
	memset(&s, 0, sizeof(s));
	s.local = "nat";
	s.domain = "x.test";
	s.jid = "bob@r.test";
	s.state = STORE_SUB_FROM;
	if (store_sub_put(iq_srv.store, &s) == -1)
		return -1;
	if (store_user_add(iq_srv.store, "mute", "x.test", NULL, NULL) == -1 ||
	    store_user_add(iq_srv.store, "off", "x.test", "Off", &id) == -1)
		return -1;
	memset(&u, 0, sizeof(u));
	u.id = id;
	u.name = "Off";
	u.disabled = 1;
	if (store_user_update(iq_srv.store, &u) == -1 ||
	    store_presence_set(iq_srv.store, "off", "x.test",
	    STORE_SHOW_AVAILABLE, NULL, 0) == -1)
		return -1;
	return 0;
}

static void
teardown(void)
{
	store_close(iq_srv.store);
	conf_free(iq_srv.conf);
	server = NULL;
}

/*
 * The answer to `<iq type=TYPE from=FROM to=TO id='q'>PAYLOAD</iq>`,
 * serialized ("" when none is owed).
 */
static char *
ask(const char *type, const char *from, const char *to, const char *payload)
{
	char		 xml[2048], tb[JID_BUFSZ], fb[JID_BUFSZ];
	struct el	*st, *r;
	struct jid	 tj, fj;
	const char	*err;
	char		*out;

	snprintf(xml, sizeof(xml), "<iq%s%s%s from='%s' to='%s' id='q'>%s</iq>",
	    type ? " type='" : "", type ? type : "", type ? "'" : "", from, to,
	    payload);
	if ((st = t_parse_stanza(xml)) == NULL ||
	    jid_parse_buf(to, &tj, tb, sizeof(tb), &err) == -1 ||
	    jid_parse_buf(from, &fj, fb, sizeof(fb), &err) == -1) {
		el_free(st);
		return strdup("(bad request in the test)");
	}
	r = iq_answer(st, &tj, &fj);
	out = r != NULL ? el_to_string(r, EL_NS_SERVER, NULL) : strdup("");
	el_free(r);
	el_free(st);
	return out;
}

/* ask() and CHECK that the answer contains want (or is "" when want is). */
#define EXPECT(type, from, to, payload, want) do {			\
	char *got_ = ask(type, from, to, payload);			\
	if ((want)[0] == '\0' ? got_[0] != '\0' :			\
	    strstr(got_, want) == NULL)					\
		t_fail_str(__FILE__, __LINE__, payload, got_, want);	\
	free(got_);							\
} while (0)

#define DINFO	"<query xmlns='http://jabber.org/protocol/disco#info'/>"
#define DITEMS	"<query xmlns='http://jabber.org/protocol/disco#items'/>"
#define PING	"<ping xmlns='urn:xmpp:ping'/>"
#define VERSION	"<query xmlns='jabber:iq:version'/>"
#define TIME	"<time xmlns='urn:xmpp:time'/>"
#define LAST	"<query xmlns='jabber:iq:last'/>"
#define VCARD	"<vCard xmlns='vcard-temp'/>"
#define UNAV	"<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
#define RESULT	"type='result' id='q'"
#define STRANGER "eve@r.test/x"
#define CONTACT	"bob@r.test/phone"
#define PS(node, item) "<pubsub xmlns='http://jabber.org/protocol/pubsub'>" \
	"<items node='" node "'>" item "</items></pubsub>"
#define PNG_SHA1 "4caece539b039b16e16206ea2478f8c5ffb2ca05"

static void
test_domain(void)
{
	REQUIRE(setup(NULL) == 0);
	EXPECT("get", STRANGER, "x.test", DINFO,
	    "<identity category='server' type='im' name='xfed'/>");
	EXPECT("get", STRANGER, "x.test", DINFO, "var='urn:xmpp:ping'");
	EXPECT("get", STRANGER, "x.test", DINFO, "var='jabber:iq:version'");
	EXPECT("get", STRANGER, "x.test", DINFO, "var='urn:xmpp:time'");
	EXPECT("get", STRANGER, "x.test", DINFO, "var='jabber:iq:last'");
	EXPECT("get", STRANGER, "x.test", DITEMS,
	    "<query xmlns='http://jabber.org/protocol/disco#items'/></iq>");
	EXPECT("get", STRANGER, "x.test", PING,
	    "<iq from='x.test' to='eve@r.test/x' type='result' id='q'/>");
	EXPECT("get", STRANGER, "x.test", VERSION,
	    "<name>xfed</name><version>");
	EXPECT("get", STRANGER, "x.test", TIME, "<tzo>");
	EXPECT("get", STRANGER, "x.test", TIME, "Z</utc>");
	EXPECT("get", STRANGER, "x.test", LAST, "seconds='10");
	teardown();
}

/* S2S 9.3: a node the domain does not have. */
static void
test_domain_node(void)
{
	REQUIRE(setup(NULL) == 0);
	EXPECT("get", STRANGER, "x.test",
	    "<query xmlns='http://jabber.org/protocol/disco#info' node='n'/>",
	    "<item-not-found ");
	EXPECT("get", STRANGER, "x.test",
	    "<query xmlns='http://jabber.org/protocol/disco#items' node='n'/>",
	    "<item-not-found ");
	teardown();
}

/* XEP-0092 5, S2S 9.7: the operator hides the version, or adds the OS. */
static void
test_version_settings(void)
{
	char	*got;

	REQUIRE(setup("version_reply no\n") == 0);
	EXPECT("get", STRANGER, "x.test", VERSION, UNAV);
	got = ask("get", STRANGER, "x.test", DINFO);
	CHECK(strstr(got, "jabber:iq:version") == NULL);
	free(got);
	teardown();
	REQUIRE(setup(NULL) == 0);
	got = ask("get", STRANGER, "x.test", VERSION);
	CHECK(strstr(got, "<os>") == NULL);
	free(got);
	teardown();
	REQUIRE(setup("version_os yes\n") == 0);
	EXPECT("get", STRANGER, "x.test", VERSION, "<os>");
	teardown();
}

/* RFC 6120 8.2.3, S2S 9.1, 5.10. */
static void
test_types_and_errors(void)
{
	REQUIRE(setup(NULL) == 0);
	EXPECT("result", STRANGER, "x.test", PING, "");
	EXPECT("error", STRANGER, "x.test", PING, "");
	EXPECT("bogus", STRANGER, "x.test", PING,
	    "<error type='modify'><bad-request ");
	EXPECT(NULL, STRANGER, "x.test", PING,
	    "<error type='modify'><bad-request ");
	EXPECT("get", STRANGER, "x.test", "", "<bad-request ");
	EXPECT("get", STRANGER, "x.test", PING PING, "<bad-request ");
	EXPECT("get", STRANGER, "x.test", "<query xmlns='urn:unknown'/>",
	    "<error type='cancel'>" UNAV);
	EXPECT("set", STRANGER, "x.test", PING, "<feature-not-implemented ");
	EXPECT("get", STRANGER, "x.test", "<other xmlns='urn:xmpp:ping'/>",
	    "<feature-not-implemented ");
	EXPECT("get", STRANGER, "x.test/res", PING, UNAV);
	teardown();
}

static void
test_account(void)
{
	REQUIRE(setup(NULL) == 0);
	/* S2S 9.4: a contact with from sees the account, a stranger not */
	EXPECT("get", CONTACT, "nat@x.test", DINFO,
	    "<identity category='account' type='registered'/>");
	EXPECT("get", CONTACT, "nat@x.test", DINFO, "var='vcard-temp'");
	EXPECT("get", STRANGER, "nat@x.test", DINFO, UNAV);
	/* S2S 9.5: items are empty for anyone, even for nobody */
	EXPECT("get", STRANGER, "nat@x.test", DITEMS,
	    "<query xmlns='http://jabber.org/protocol/disco#items'/>");
	EXPECT("get", STRANGER, "nobody@x.test", DITEMS,
	    "<query xmlns='http://jabber.org/protocol/disco#items'/>");
	/* S2S 9.6 */
	EXPECT("get", CONTACT, "nat@x.test", PING,
	    "<iq from='nat@x.test' to='bob@r.test/phone' " RESULT "/>");
	/* version and time are the server's, not the user's (S2S 9.8) */
	EXPECT("get", CONTACT, "nat@x.test", VERSION, UNAV);
	EXPECT("get", CONTACT, "nat@x.test", TIME, UNAV);
	EXPECT("get", CONTACT, "nat@x.test", "<query xmlns='urn:unknown'/>",
	    UNAV);
	teardown();
}

/* XEP-0012, S2S 9.9. */
static void
test_last(void)
{
	REQUIRE(setup(NULL) == 0);
	EXPECT("get", CONTACT, "nat@x.test", LAST, "seconds='0'/>");
	EXPECT("get", STRANGER, "nat@x.test", LAST,
	    "<error type='auth'><forbidden ");
	REQUIRE(store_presence_set(iq_srv.store, "nat", "x.test",
	    STORE_SHOW_UNAVAILABLE, "gone home", 0) == 0);
	EXPECT("get", CONTACT, "nat@x.test", LAST, "'>gone home</query>");
	teardown();
}

/* XEP-0054, XEP-0153, S2S 9.10. */
static void
test_vcard(void)
{
	REQUIRE(setup(NULL) == 0);
	EXPECT("get", CONTACT, "nat@x.test", VCARD,
	    "<vCard xmlns='vcard-temp'><FN>Nat Native</FN>"
	    "<NICKNAME>nat</NICKNAME><EMAIL><INTERNET/>"
	    "<USERID>nat@example.org</USERID></EMAIL>"
	    "<PHOTO><TYPE>image/png</TYPE><BINVAL>iVBORw0KGgo=</BINVAL></PHOTO>"
	    "</vCard></iq>");
	/* no profile data: no vCard, the same error as for nobody */
	EXPECT("get", CONTACT, "mute@x.test", VCARD, UNAV);
	EXPECT("get", CONTACT, "nobody@x.test", VCARD, UNAV);
	EXPECT("set", CONTACT, "nat@x.test",
	    "<vCard xmlns='vcard-temp'><FN>x</FN></vCard>", "<not-allowed ");
	teardown();
}

/* RFC 6121 8.5.1, S2S 8.41, 10.12: unknown and disabled look alike. */
static void
test_absent_users(void)
{
	static const char *const users[] = { "nobody@x.test", "off@x.test" };
	size_t	 i;

	REQUIRE(setup(NULL) == 0);
	for (i = 0; i < 2; i++) {
		EXPECT("get", CONTACT, users[i], PING, UNAV);
		EXPECT("get", CONTACT, users[i], DINFO, UNAV);
		EXPECT("get", CONTACT, users[i], LAST, "<forbidden ");
		EXPECT("get", CONTACT, users[i], VCARD, UNAV);
	}
	EXPECT("get", CONTACT, "nobody@x.test/xfed", PING,
	    "from='nobody@x.test/xfed'");
	teardown();
}

/*
 * RFC 6121 8.5.1, S2S 8.36, 8.41, 9.9, 9.15: a stranger learns nothing of
 * who exists. For each request, nat (exists, has a profile, online),
 * mute (exists, no profile), off (disabled) and nobody give the same
 * answer, byte for byte once the address is taken out.
 */
static void
test_stranger_same(void)
{
	static const char *const users[] = { "nat", "mute", "off", "nobody" };
	static const struct { const char *type, *payload, *want; } reqs[] = {
		{ "get", DINFO, UNAV },
		{ "get", DITEMS, "<query xmlns='http://jabber.org/protocol/"
		    "disco#items'/>" },
		{ "get", PING, UNAV },
		{ "set", PING, UNAV },
		{ "get", VCARD, UNAV },
		{ "set", "<vCard xmlns='vcard-temp'><FN>x</FN></vCard>", UNAV },
		{ "get", LAST, "<error type='auth'><forbidden " },
		{ "get", PS("urn:xmpp:avatar:data", ""), "<error type='auth'>"
		    "<not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-"
		    "stanzas'/><presence-subscription-required " },
		{ "get", PS("urn:other", ""), "<not-authorized " },
		{ "set", PS("urn:xmpp:avatar:data", ""), UNAV },
		{ "get", "<query xmlns='urn:unknown'/>", UNAV },
		{ "get", VERSION, UNAV },
	};
	char	 to[64], *first, *got, *p;
	size_t	 i, u;

	REQUIRE(setup(NULL) == 0);
	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		first = NULL;
		for (u = 0; u < 4; u++) {
			snprintf(to, sizeof(to), "%s@x.test", users[u]);
			EXPECT(reqs[i].type, STRANGER, to, reqs[i].payload,
			    reqs[i].want);
			got = ask(reqs[i].type, STRANGER, to, reqs[i].payload);
			/* the answer's from is the address asked */
			if ((p = strstr(got, to)) != NULL)
				memmove(p, p + strlen(users[u]),
				    strlen(p + strlen(users[u])) + 1);
			if (first == NULL)
				first = got;
			else {
				CHECK_STR(got, first);
				free(got);
			}
		}
		free(first);
	}
	teardown();
}

/* RFC 6121 4.6.3, 8.5.3.1, S2S 9.19: who got nat's directed presence may
 * resolve nat's caps; a stranger may not. */
static void
test_resource_directed(void)
{
	char	 node[256], payload[512];

	REQUIRE(setup(NULL) == 0);
	snprintf(node, sizeof(node), "%s#%s", DISCO_CAPS_NODE,
	    disco_caps_ver());
	snprintf(payload, sizeof(payload), "<query xmlns="
	    "'http://jabber.org/protocol/disco#info' node='%s'/>", node);
	EXPECT("get", STRANGER, "nat@x.test/xfed", payload, UNAV);
	REQUIRE(store_directed_add(iq_srv.store, "nat", "x.test",
	    STRANGER) == 0);
	EXPECT("get", STRANGER, "nat@x.test/xfed", payload, node);
	EXPECT("get", STRANGER, "nat@x.test/xfed", PING, RESULT);
	EXPECT("get", "eve@r.test/other", "nat@x.test/xfed", payload, UNAV);
	/* a bare target covers its resources */
	REQUIRE(store_directed_add(iq_srv.store, "nat", "x.test",
	    "dan@r.test") == 0);
	EXPECT("get", "dan@r.test/pc", "nat@x.test/xfed", payload, node);
	/* the bare JID stays closed to them */
	EXPECT("get", STRANGER, "nat@x.test", DINFO, UNAV);
	teardown();
}

/* S2S 8.42, 9.6, 9.19. */
static void
test_resource(void)
{
	char	 node[256], payload[512];

	REQUIRE(setup(NULL) == 0);
	EXPECT("get", CONTACT, "nat@x.test/xfed", DINFO,
	    "<identity category='client' type='pc' name='xfed'/>");
	EXPECT("get", CONTACT, "nat@x.test/xfed", DINFO,
	    "var='http://jabber.org/protocol/caps'");
	EXPECT("get", CONTACT, "nat@x.test/xfed", PING, RESULT);
	snprintf(node, sizeof(node), "%s#%s", DISCO_CAPS_NODE,
	    disco_caps_ver());
	snprintf(payload, sizeof(payload), "<query xmlns="
	    "'http://jabber.org/protocol/disco#info' node='%s'/>", node);
	EXPECT("get", CONTACT, "nat@x.test/xfed", payload, node);
	EXPECT("get", CONTACT, "nat@x.test/xfed",
	    "<query xmlns='http://jabber.org/protocol/disco#info' node='x'/>",
	    "<item-not-found ");
	/* a stranger, another resource, an offline user: the same error */
	EXPECT("get", STRANGER, "nat@x.test/xfed", PING, UNAV);
	EXPECT("get", CONTACT, "nat@x.test/other", PING,
	    "from='nat@x.test/other'");
	EXPECT("get", CONTACT, "nat@x.test/other", PING, UNAV);
	REQUIRE(store_presence_set(iq_srv.store, "nat", "x.test",
	    STORE_SHOW_UNAVAILABLE, NULL, 0) == 0);
	EXPECT("get", CONTACT, "nat@x.test/xfed", PING, UNAV);
	teardown();
}


/* XEP-0084, XEP-0163, S2S 9.13-9.15. */
static void
test_pep(void)
{
	REQUIRE(setup(NULL) == 0);
	EXPECT("get", CONTACT, "nat@x.test", DINFO,
	    "<identity category='pubsub' type='pep'/>");
	EXPECT("get", CONTACT, "nat@x.test", PS("urn:xmpp:avatar:metadata", ""),
	    "<items node='urn:xmpp:avatar:metadata'><item id='" PNG_SHA1 "'>"
	    "<metadata xmlns='urn:xmpp:avatar:metadata'><info id='" PNG_SHA1
	    "' bytes='8' type='image/png'/></metadata></item></items>");
	EXPECT("get", CONTACT, "nat@x.test", PS("urn:xmpp:avatar:data",
	    "<item id='" PNG_SHA1 "'/>"), "<item id='" PNG_SHA1 "'><data "
	    "xmlns='urn:xmpp:avatar:data'>iVBORw0KGgo=</data></item>");
	EXPECT("get", CONTACT, "nat@x.test", PS("urn:xmpp:avatar:data",
	    "<item id='0000'/>"), "<items node='urn:xmpp:avatar:data'/>");
	EXPECT("get", CONTACT, "nat@x.test", PS("http://jabber.org/protocol/nick",
	    ""), "<item id='current'><nick xmlns='http://jabber.org/protocol/"
	    "nick'>nat</nick></item>");
	EXPECT("get", CONTACT, "nat@x.test", PS("urn:other", ""),
	    "<item-not-found ");
	EXPECT("get", CONTACT, "nat@x.test",
	    "<pubsub xmlns='http://jabber.org/protocol/pubsub'><subscriptions/>"
	    "</pubsub>", "<feature-not-implemented ");
	EXPECT("get", STRANGER, "nat@x.test", PS("urn:xmpp:avatar:data", ""),
	    "<error type='auth'><not-authorized xmlns='urn:ietf:params:xml:ns:"
	    "xmpp-stanzas'/><presence-subscription-required xmlns='http://"
	    "jabber.org/protocol/pubsub#errors'/></error>");
	EXPECT("set", CONTACT, "nat@x.test", PS("urn:xmpp:avatar:data", ""),
	    "<error type='auth'><forbidden ");
	EXPECT("get", CONTACT, "nobody@x.test", PS("urn:xmpp:avatar:data", ""),
	    "<not-authorized ");
	teardown();
}

/* A string of n 'a' followed by tail. */
static char *
longtext(size_t n, const char *tail)
{
	char	*s = malloc(n + strlen(tail) + 1);

	memset(s, 'a', n);
	strcpy(s + n, tail);
	return s;
}

/*
 * CONTRACT.md's limits, whatever the native system wrote: 1024 bytes of
 * name, nickname, email, url and status, 8192 of note, cut on a UTF-8
 * boundary (a 2-byte "\xc3\xa9" across the limit goes whole).
 */
static void
test_profile_bounds(void)
{
	struct store_user	 u;
	char			*name, *note, *status, *want, *got;

	REQUIRE(setup(NULL) == 0);
	name = longtext(1023, "\xc3\xa9tail");
	note = longtext(8191, "\xc3\xa9tail");
	status = longtext(1022, "\xc3\xa9\xc3\xa9");
	memset(&u, 0, sizeof(u));
	REQUIRE(store_user_add(iq_srv.store, "big", "x.test", NULL,
	    &u.id) == 0);
	u.name = name;
	u.nickname = name;
	u.note = note;
	REQUIRE(store_user_update(iq_srv.store, &u) == 0);
	REQUIRE(store_presence_set(iq_srv.store, "big", "x.test",
	    STORE_SHOW_UNAVAILABLE, status, 0) == 0);
	REQUIRE(store_sub_put(iq_srv.store, &(struct store_sub){ .local = "big",
	    .domain = "x.test", .jid = "bob@r.test",
	    .state = STORE_SUB_BOTH }) == 0);
	got = ask("get", CONTACT, "big@x.test", VCARD);
	want = longtext(1023, "</FN>");
	CHECK(strstr(got, want) != NULL);
	free(want);
	want = longtext(8191, "</DESC>");
	CHECK(strstr(got, want) != NULL);
	free(want);
	CHECK(strstr(got, "tail") == NULL);
	free(got);
	got = ask("get", CONTACT, "big@x.test", PS("http://jabber.org/"
	    "protocol/nick", ""));
	want = longtext(1023, "</nick>");
	CHECK(strstr(got, want) != NULL);
	free(want);
	free(got);
	got = ask("get", CONTACT, "big@x.test", LAST);
	want = longtext(1022, "\xc3\xa9</query>");
	CHECK(strstr(got, want) != NULL);
	free(want);
	free(got);
	free(name);
	free(note);
	free(status);
	teardown();
}

/* message_wants_receipt() for <message from=FROM to=nat id=ID>BODY. */
static int
wants(const char *from, const char *id, const char *type)
{
	char		 xml[1024], tb[JID_BUFSZ], fb[JID_BUFSZ];
	struct el	*st;
	struct jid	 tj, fj;
	const char	*err;
	int		 r;

	snprintf(xml, sizeof(xml), "<message from='%s' to='nat@x.test'%s%s%s"
	    "%s%s%s><body>b</body><request xmlns='urn:xmpp:receipts'/>"
	    "</message>", from, id ? " id='" : "", id ? id : "", id ? "'" : "",
	    type ? " type='" : "", type ? type : "", type ? "'" : "");
	if ((st = t_parse_stanza(xml)) == NULL ||
	    jid_parse_buf("nat@x.test", &tj, tb, sizeof(tb), &err) == -1 ||
	    jid_parse_buf(from, &fj, fb, sizeof(fb), &err) == -1) {
		el_free(st);
		return -2;
	}
	r = message_wants_receipt(st, &tj, &fj);
	el_free(st);
	return r;
}

/* XEP-0184 5.3, 8: no receipt to strangers, without an id, in groupchat. */
static void
test_receipts(void)
{
	REQUIRE(setup(NULL) == 0);
	CHECK(wants(CONTACT, "m1", "chat") == 1);
	CHECK(wants(CONTACT, "m1", NULL) == 1);
	CHECK(wants(CONTACT, "", "chat") == 0);
	CHECK(wants(CONTACT, NULL, "chat") == 0);
	CHECK(wants(CONTACT, "m1", "groupchat") == 0);
	CHECK(wants(STRANGER, "m1", "chat") == 0);
	/* a target of nat's directed presence sees nat anyway */
	REQUIRE(store_directed_add(iq_srv.store, "nat", "x.test",
	    "eve@r.test") == 0);
	CHECK(wants(STRANGER, "m1", "chat") == 1);
	teardown();
	REQUIRE(setup("receipts no\n") == 0);
	CHECK(wants(CONTACT, "m1", "chat") == 0);
	teardown();
}

/* XEP-0115 5.2 (the simple example, S2S 9.18) and 5.3 (two identities). */
static void
test_caps_vectors(void)
{
	static const struct disco_identity exodus[] = {
		{ "client", "pc", NULL, "Exodus 0.9.1" },
	};
	static const char *const f1[] = {
		"http://jabber.org/protocol/disco#info",
		"http://jabber.org/protocol/disco#items",
		"http://jabber.org/protocol/muc",
		"http://jabber.org/protocol/caps",
	};
	static const struct disco_identity psi[] = {
		{ "client", "pc", "el", "Ψ 0.11" },
		{ "client", "pc", "en", "Psi 0.11" },
	};
	static const char *const f2[] = {
		"http://jabber.org/protocol/muc",
		"http://jabber.org/protocol/disco#info",
		"http://jabber.org/protocol/caps",
		"http://jabber.org/protocol/disco#items",
	};
	char	 ver[DISCO_VER_LEN + 1];

	REQUIRE(disco_caps_hash(exodus, 1, f1, 4, ver) == 0);
	CHECK_STR(ver, "QgayPKawpkPSDYmwT/WM94uAlu0=");
	/* 5.3 without its extended form: identities sorted by lang, features
	 * by bytes; the value is SHA-1 of that string as Python computes it */
	REQUIRE(disco_caps_hash(psi, 2, f2, 4, ver) == 0);
	CHECK_STR(ver, "2ZC2Fe8xb+Ln321QG0/AaqNEfBU=");
	CHECK(strlen(disco_caps_ver()) == DISCO_VER_LEN);
}

/* 1 when a disco#info answer holding inner is not verified. */
static int
caps_fails(const char *inner)
{
	struct el	*st;
	char		 buf[2048], ver[DISCO_VER_LEN + 1];
	int		 rc;

	snprintf(buf, sizeof(buf), "<iq type='result' id='x'><query xmlns="
	    "'http://jabber.org/protocol/disco#info'>%s</query></iq>", inner);
	if ((st = t_parse_stanza(buf)) == NULL)
		return 0;
	rc = caps_ver_of(el_first(st), ver) == -1;
	el_free(st);
	return rc;
}

/*
 * XEP-0115 5.4, S2S 9.20: the answer to a caps query hashed as received
 * (the 5.2 example, features in another order), the +notify bits read
 * from it; the 5.3 example with its extended form (and a form without
 * FORM_TYPE, ignored); ill-formed answers (5.4 step 3) are not verified.
 */
static void
test_caps_answer(void)
{
	struct el	*st;
	char		 ver[DISCO_VER_LEN + 1];

	st = t_parse_stanza("<iq type='result' id='x'><query xmlns='http://"
	    "jabber.org/protocol/disco#info' node='n#v'>"
	    "<feature var='http://jabber.org/protocol/muc'/>"
	    "<identity category='client' type='pc' name='Exodus 0.9.1'/>"
	    "<feature var='http://jabber.org/protocol/disco#info'/>"
	    "<feature var='http://jabber.org/protocol/disco#items'/>"
	    "<feature var='http://jabber.org/protocol/caps'/>"
	    "</query></iq>");
	REQUIRE(st != NULL);
	CHECK(caps_ver_of(el_first(st), ver) == 0);
	CHECK_STR(ver, "QgayPKawpkPSDYmwT/WM94uAlu0=");
	CHECK(caps_bits_of(el_first(st)) == 0);
	el_free(st);
	st = t_parse_stanza("<iq type='result' id='x'><query xmlns='http://"
	    "jabber.org/protocol/disco#info'>"
	    "<identity category='client' type='phone'/>"
	    "<feature var='urn:xmpp:avatar:metadata+notify'/>"
	    "<feature var='http://jabber.org/protocol/nick+notify'/>"
	    "<feature var='urn:xmpp:avatar:data'/>"
	    "</query></iq>");
	REQUIRE(st != NULL);
	CHECK(caps_bits_of(el_first(st)) ==
	    (CAPS_AVATAR_METADATA | CAPS_NICK));
	el_free(st);
	/* 5.3: two identities, an extended form (hashed), in any order; a
	 * form without FORM_TYPE is ignored */
	st = t_parse_stanza("<iq type='result' id='x'><query xmlns='http://"
	    "jabber.org/protocol/disco#info'>"
	    "<identity xml:lang='en' category='client' name='Psi 0.11' "
	    "type='pc'/>"
	    "<identity xml:lang='el' category='client' name='\xce\xa8 0.11' "
	    "type='pc'/>"
	    "<feature var='http://jabber.org/protocol/disco#info'/>"
	    "<feature var='http://jabber.org/protocol/disco#items'/>"
	    "<feature var='http://jabber.org/protocol/muc'/>"
	    "<feature var='http://jabber.org/protocol/caps'/>"
	    "<x xmlns='jabber:x:data' type='result'>"
	    "<field var='FORM_TYPE' type='hidden'>"
	    "<value>urn:xmpp:dataforms:softwareinfo</value></field>"
	    "<field var='ip_version'><value>ipv6</value><value>ipv4</value>"
	    "</field>"
	    "<field var='os'><value>Mac</value></field>"
	    "<field var='os_version'><value>10.5.1</value></field>"
	    "<field var='software'><value>Psi</value></field>"
	    "<field var='software_version'><value>0.11</value></field>"
	    "</x><x xmlns='jabber:x:data' type='result'><field var='a'>"
	    "<value>b</value></field></x></query></iq>");
	REQUIRE(st != NULL);
	CHECK(caps_ver_of(el_first(st), ver) == 0);
	CHECK_STR(ver, "q07IKJEyjvHSyhy//CH0CxmKi8w=");
	el_free(st);
	/* 5.4 step 3.5: two forms of one FORM_TYPE */
	st = t_parse_stanza("<iq type='result' id='x'><query xmlns='http://"
	    "jabber.org/protocol/disco#info'>"
	    "<identity category='client' type='pc'/>"
	    "<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' "
	    "type='hidden'><value>urn:a</value></field></x>"
	    "<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' "
	    "type='hidden'><value>urn:a</value></field></x></query></iq>");
	REQUIRE(st != NULL);
	CHECK(caps_ver_of(el_first(st), ver) == -1);
	el_free(st);
	st = t_parse_stanza("<iq type='result' id='x'><query xmlns='http://"
	    "jabber.org/protocol/disco#info'><identity category='client'/>"
	    "</query></iq>");
	REQUIRE(st != NULL);
	CHECK(caps_ver_of(el_first(st), ver) == -1);
	el_free(st);
	/* 5.4 step 3.3: '<' in a hashed value could fake another list (the
	 * first name strings like an identity and two features) */
	CHECK(caps_fails("<identity category='client' type='phone' "
	    "name='C&lt;http://jabber.org/protocol/disco#info"
	    "&lt;urn:xmpp:ping'/>"));
	CHECK(caps_fails("<identity category='client' type='pc'/>"
	    "<feature var='a&lt;b'/>"));
	CHECK(caps_fails("<identity category='client' type='pc'/>"
	    "<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' "
	    "type='hidden'><value>urn:a</value></field><field var='f'>"
	    "<value>x&lt;y</value></field></x>"));
	/* 5.4 step 3.4: an identity or a feature twice */
	CHECK(caps_fails("<identity category='client' type='pc' name='a'/>"
	    "<identity category='client' type='pc' name='a'/>"));
	CHECK(caps_fails("<identity category='client' type='pc'/>"
	    "<feature var='urn:b'/><feature var='urn:a'/>"
	    "<feature var='urn:b'/>"));
	CHECK(!caps_fails("<identity category='client' type='pc'/>"
	    "<feature var='urn:b'/><feature var='urn:a'/>"));
}

static const struct t_case cases[] = {
	{ "iq_domain", test_domain },
	{ "iq_domain_node", test_domain_node },
	{ "iq_version_settings", test_version_settings },
	{ "iq_types_and_errors", test_types_and_errors },
	{ "iq_account", test_account },
	{ "iq_last", test_last },
	{ "iq_vcard", test_vcard },
	{ "iq_absent_users", test_absent_users },
	{ "iq_stranger_same", test_stranger_same },
	{ "iq_resource_directed", test_resource_directed },
	{ "iq_resource", test_resource },
	{ "iq_pep", test_pep },
	{ "iq_caps_vectors", test_caps_vectors },
	{ "iq_caps_answer", test_caps_answer },
	{ "iq_receipts", test_receipts },
	{ "iq_profile_bounds", test_profile_bounds },
};

int
main(int argc, char **argv)
{
	return T_RUN(cases, argc, argv);
}
