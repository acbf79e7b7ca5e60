/*
 * server/iq.h: IQs to a hosted domain and to its users (S2S 8.40-8.43,
 * section 9): disco, ping, version, time, last activity, vCard. The
 * router hands every inbound IQ here; what is not known gets
 * service-unavailable.
 */
#ifndef IQ_H
#define IQ_H

#define NS_PING		"urn:xmpp:ping"
#define NS_VERSION	"jabber:iq:version"
#define NS_TIME		"urn:xmpp:time"
#define NS_LAST		"jabber:iq:last"

struct el;
struct jid;

/*
 * Takes nothing: answers the inbound IQ stanza (borrowed), for a hosted
 * domain, with its parsed to and from.
 */
void		 iq_in(const struct el *stanza, const struct jid *to,
		    const struct jid *from);
/*
 * The answer iq_in() sends: a new result or error stanza, or NULL when
 * none is owed (results and errors are never answered, RFC 6120 8.2.3).
 */
struct el	*iq_answer(const struct el *stanza, const struct jid *to,
		    const struct jid *from);

#endif
