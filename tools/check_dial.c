/*
 * tools/check_dial.c: "xfedctl check", dial part: connects to a domain the
 * way a remote server does (s2s/dns.c's SRV order and fallbacks, or the
 * configured route toward a peer), then STARTTLS (or direct TLS), the
 * certificate, the features and a dialback key (XEP-0220) made with
 * xfed's own secret, one step at a time. The socket is non-blocking and
 * every step (stream header and features, STARTTLS, the TLS handshake,
 * the dialback answer) has one deadline for the whole step, however the
 * peer drips its bytes or whatever else it sends meanwhile.
 *
 * Toward a hosted domain (the self-dial) every header we send under TLS
 * carries a nonce the running daemon handed out (server/probe.h); asking
 * it back afterwards, seen under TLS, proves the dial reached this
 * instance and not another server answering for the domain (a cleartext
 * nonce could be relayed). Toward a peer (--peer) the same path runs as
 * far as it can without the peer's cooperation: its answer to our key
 * needs it to reach our own authoritative server, the running daemon.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "check.h"
#include "dialback.h"
#include "el.h"
#include "probe.h"
#include "s2s/dns.h"
#include "stream.h"
#include "tls.h"
#include "xml.h"
#include "xmalloc.h"

#define DIAL_CONNECT_SECS	5
#define DIAL_IO_SECS		10	/* each step: header+features, TLS */
#define DIAL_DIALBACK_SECS	30	/* the peer asks our server back */
#define DIAL_MAX_ELS		16

struct dial {
	struct chk		*chk;
	const char		*domain;	/* dialed */
	const char		*from;		/* in our headers */
	const char		*ours;		/* our domain: its certificate */
	int			 self;
	char			 nonce[PROBE_NONCE_LEN + 1];
	char			 where[300];	/* "x.test 127.0.0.4:5269" */
	int			 fd;
	time_t			 end;		/* the current step's deadline */
	int			 nonce_sent;	/* in a header under TLS */
	SSL			*ssl;
	struct tls_ctx		*tls;
	struct xml_parser	*xp;
	struct el		*hdr;		/* the last response header */
	struct el		*els[DIAL_MAX_ELS];
	size_t			 nels;
	int			 closed;	/* their </stream> or EOF */
	const char		*ioerr;
	char			 sid[S2S_SID_MAX + 1];
};

static int
dial_xml_open(void *arg, struct el *hdr)
{
	struct dial	*d = arg;

	el_free(d->hdr);
	d->hdr = hdr;
	return 0;
}

static int
dial_xml_elem(void *arg, struct el *el)
{
	struct dial	*d = arg;

	if (d->nels == DIAL_MAX_ELS) {
		el_free(el);
		return 0;
	}
	d->els[d->nels++] = el;
	return 0;
}

static int
dial_xml_close(void *arg)
{
	((struct dial *)arg)->closed = 1;
	return 0;
}

/* Starts a step: everything until the next one within secs. */
static void
dial_step(struct dial *d, int secs)
{
	d->end = time(NULL) + secs;
}

/* Waits until fd is readable (or writable) within the step's deadline;
 * -1 with d->ioerr when it passed. */
static int
dial_wait(struct dial *d, int write)
{
	struct pollfd	 pfd;
	time_t		 left;
	int		 n;

	for (;;) {
		if ((left = d->end - time(NULL)) <= 0) {
			d->ioerr = "no answer in time";
			return -1;
		}
		pfd.fd = d->fd;
		pfd.events = write ? POLLOUT : POLLIN;
		pfd.revents = 0;
		if ((n = poll(&pfd, 1, (int)left * 1000)) > 0)
			return 0;
		if (n == -1 && errno != EINTR) {
			d->ioerr = "the connection broke";
			return -1;
		}
	}
}

/* After an I/O call returned n <= 0: 0 to retry after waiting, -1 with
 * d->ioerr. */
static int
dial_again(struct dial *d, int n, int write)
{
	int	 e;

	if (d->ssl != NULL) {
		e = SSL_get_error(d->ssl, n);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			return dial_wait(d, e == SSL_ERROR_WANT_WRITE);
		d->ioerr = e == SSL_ERROR_ZERO_RETURN || (n == 0 &&
		    e != SSL_ERROR_SSL) ? "the server closed the connection" :
		    "the connection broke";
		ERR_clear_error();
		return -1;
	}
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return dial_wait(d, write);
	d->ioerr = n == 0 ? "the server closed the connection" :
	    "the connection broke";
	return -1;
}

static int
dial_send(struct dial *d, const char *fmt, ...)
{
	char	 buf[2048];
	va_list	 ap;
	int	 n, w, off = 0;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(buf))
		return -1;
	while (off < n) {
		w = d->ssl ? SSL_write(d->ssl, buf + off, n - off) :
		    (int)send(d->fd, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
		if (w > 0)
			off += w;
		else if (dial_again(d, w, 1) == -1) {
			if (d->ioerr == NULL)
				d->ioerr = "write failed";
			return -1;
		}
	}
	return 0;
}

/* One read into the parser, within the step's deadline; -1 with d->ioerr
 * on EOF, timeout or error. */
static int
dial_read(struct dial *d)
{
	char	 buf[8192];
	int	 n;

	for (;;) {
		n = d->ssl ? SSL_read(d->ssl, buf, sizeof(buf)) :
		    (int)recv(d->fd, buf, sizeof(buf), 0);
		if (n > 0)
			break;
		if (dial_again(d, n, 0) == -1) {
			d->closed = 1;
			return -1;
		}
	}
	if (xml_feed(d->xp, buf, (size_t)n) == -1) {
		d->ioerr = "the server sent bytes that are not XMPP";
		d->closed = 1;
		return -1;
	}
	return 0;
}

/* The next top-level element within the step's deadline (the caller
 * frees it), or NULL. */
static struct el *
dial_next(struct dial *d)
{
	struct el	*el;

	while (d->nels == 0) {
		if (d->closed || time(NULL) >= d->end) {
			if (d->ioerr == NULL)
				d->ioerr = d->closed ? "the server closed the "
				    "stream" : "no answer in time";
			return NULL;
		}
		if (dial_read(d) == -1)
			return NULL;
	}
	el = d->els[0];
	memmove(d->els, d->els + 1, --d->nels * sizeof(*d->els));
	return el;
}

/* "stream error host-unknown: text" for a <stream:error/>. */
static const char *
dial_stream_error(const struct el *el, char *buf, size_t len)
{
	const struct el	*c, *text = NULL;
	const char	*cond = "undefined-condition";

	EL_FOREACH(c, el) {
		if (strcmp(c->name, "text") == 0)
			text = c;
		else
			cond = c->name;
	}
	snprintf(buf, len, "stream error %s%s%s", cond, text ? ": " : "",
	    text ? el_text(text) : "");
	return buf;
}

static void
dial_fail(struct dial *d, const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
dial_fail(struct dial *d, const char *fix, const char *fmt, ...)
{
	char	 reason[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	chk_report(d->chk, CHK_FAIL, "dial", d->where, fix, "%s", reason);
}

/* Sends our header, reads theirs and their features: the features, or
 * NULL after a report. */
static struct el *
dial_open(struct dial *d, const char *step)
{
	struct el	*el = NULL;
	char		 buf[600];
	int		 nonce = d->self && d->ssl != NULL;

	el_free(d->hdr);
	d->hdr = NULL;
	xml_reset(d->xp);
	dial_step(d, DIAL_IO_SECS);
	if (dial_send(d, "<?xml version='1.0'?><stream:stream "
	    "xmlns='jabber:server' xmlns:stream='%s' xmlns:db='%s' "
	    "from='%s' to='%s'%s%s%s version='1.0'>", EL_NS_STREAMS,
	    EL_NS_DIALBACK, d->from, d->domain, nonce ? " id='" : "",
	    nonce ? d->nonce : "", nonce ? "'" : "") == -1) {
		dial_fail(d, NULL, "%s: %s", step, d->ioerr);
		return NULL;
	}
	d->nonce_sent |= nonce;
	while (d->hdr == NULL && d->nels == 0 && !d->closed)
		if (dial_read(d) == -1)
			break;
	if (d->hdr == NULL) {
		if (d->nels != 0 && (el = dial_next(d)) != NULL &&
		    el_is(el, EL_NS_STREAMS, "error"))
			dial_fail(d, NULL, "%s: no stream header but a %s", step,
			    dial_stream_error(el, buf, sizeof(buf)));
		else
			dial_fail(d, "check that an XMPP server listens there",
			    "%s: no stream header: %s", step, d->ioerr ?
			    d->ioerr : "something else answered");
		el_free(el);
		return NULL;
	}
	snprintf(d->sid, sizeof(d->sid), "%s", el_attr(d->hdr, "id") ?
	    el_attr(d->hdr, "id") : "");
	if ((el = dial_next(d)) == NULL) {
		dial_fail(d, NULL, "%s: no stream features: %s", step, d->ioerr);
		return NULL;
	}
	if (!el_is(el, EL_NS_STREAMS, "features")) {
		if (el_is(el, EL_NS_STREAMS, "error"))
			dial_fail(d, NULL, "%s: %s", step,
			    dial_stream_error(el, buf, sizeof(buf)));
		else
			dial_fail(d, NULL, "%s: <%s/> instead of stream "
			    "features", step, el->name);
		el_free(el);
		return NULL;
	}
	return el;
}

static int
dial_tls(struct dial *d)
{
	const char	*errstr, *why;
	char		 info[128];
	unsigned long	 e;
	int		 rc;

	if ((d->ssl = tls_client_new(d->tls, d->ours, d->domain,
	    &errstr)) == NULL) {
		dial_fail(d, NULL, "TLS: %s", errstr);
		return -1;
	}
	SSL_set_fd(d->ssl, d->fd);
	/* the whole handshake within one deadline (S2S 2.x): a peer that
	 * drips a record byte by byte is cut off */
	dial_step(d, DIAL_IO_SECS);
	while ((rc = SSL_connect(d->ssl)) != 1) {
		e = ERR_peek_last_error();
		if (dial_again(d, rc, 0) == 0)
			continue;
		if (strcmp(d->ioerr, "no answer in time") == 0)
			dial_fail(d, "check the server's TLS settings, or the "
			    "network", "TLS handshake not done in %d s",
			    DIAL_IO_SECS);
		else
			dial_fail(d, "check the server's certificate and TLS "
			    "settings", "TLS handshake failed: %s", e ?
			    ERR_reason_error_string(e) : "the connection broke");
		ERR_clear_error();
		return -1;
	}
	chk_report(d->chk, CHK_OK, "dial", d->where, NULL, "TLS up: %s%s",
	    tls_info(d->ssl, info, sizeof(info)), tls_alpn_is_xmpp(d->ssl) ?
	    ", ALPN xmpp-server" : "");
	if (tls_peer_verified(d->ssl, d->domain, &why))
		chk_report(d->chk, CHK_OK, "dial", d->where, NULL, "the "
		    "certificate it presents verifies for %s", d->domain);
	else
		chk_report(d->chk, d->self ? CHK_FAIL : CHK_WARN, "dial",
		    d->where, d->self ? "see the cert lines: the file xfed "
		    "presents, or the one another server presents" :
		    "nothing to change here unless you require valid "
		    "certificates (secure_auth): then dialback is refused",
		    "the certificate it presents does not verify for %s: "
		    "%s", d->domain, why);
	return 0;
}

/* STARTTLS when offered (RFC 6120 5.4; S2S 2.2: asked for even when not
 * offered, as it can be stripped). Features after TLS, or NULL. */
static struct el *
dial_starttls(struct dial *d, struct el *feat)
{
	struct el	*el;
	int		 offered = el_child(feat, NS_TLS, "starttls") != NULL;

	if (!offered && d->self)
		chk_report(d->chk, CHK_WARN, "dial", d->where, "offer STARTTLS "
		    "(set tls_certificate)", "no STARTTLS offered: peers that "
		    "require TLS (Prosody, ejabberd as packaged) refuse it");
	else if (!offered && !d->chk->ctl->conf->require_encryption) {
		/* as xfed's outbound side does: dialback without TLS */
		chk_report(d->chk, CHK_WARN, "dial", d->where, "nothing to "
		    "change here: the peer's operator can enable TLS", "no "
		    "STARTTLS offered: xfed goes on without TLS "
		    "(require_encryption no)");
		return feat;
	}
	el_free(feat);
	dial_step(d, DIAL_IO_SECS);
	if (dial_send(d, "<starttls xmlns='%s'/>", NS_TLS) == -1 ||
	    (el = dial_next(d)) == NULL) {
		dial_fail(d, NULL, "STARTTLS: %s", d->ioerr);
		return NULL;
	}
	if (!el_is(el, NS_TLS, "proceed")) {
		dial_fail(d, d->self ? "set tls_certificate and tls_key" :
		    "nothing to change here: the peer does not do TLS, and "
		    "xfed requires it (require_encryption)", "STARTTLS "
		    "refused (<%s/>)", el->name);
		el_free(el);
		return NULL;
	}
	el_free(el);
	/* RFC 6120 5.4.3.3: nothing may follow <proceed/> in cleartext;
	 * elements that did were injected before the handshake */
	if (d->nels != 0) {
		dial_fail(d, NULL, "STARTTLS: protocol error: <%s/> sent in "
		    "cleartext after <proceed/>", d->els[0]->name);
		return NULL;
	}
	if (dial_tls(d) == -1)
		return NULL;
	return dial_open(d, "after TLS");
}

static void
dial_features(struct dial *d, const struct el *feat)
{
	const struct el	*m, *c;
	char		 mechs[256] = "";

	if ((m = el_child(feat, NS_SASL, "mechanisms")) != NULL)
		EL_FOREACH(c, m) {
			if (mechs[0] != '\0')
				strncat(mechs, " ", sizeof(mechs) -
				    strlen(mechs) - 1);
			strncat(mechs, el_text(c), sizeof(mechs) -
			    strlen(mechs) - 1);
		}
	chk_report(d->chk, CHK_OK, "dial", d->where, NULL, "features: "
	    "dialback %s, SASL %s", el_child(feat, NS_DIALBACK_FEATURE,
	    "dialback") ? "offered" : "not announced", mechs[0] ? mechs :
	    "none");
}

/* xfed's dialback secret: the configured one, else the store's (opened,
 * never created); -1 after a report. */
static int
dial_secret(struct dial *d)
{
	struct ctl	*ctl = d->chk->ctl;
	const char	*errstr;
	char		*v = NULL;
	int		 rc;

	if (ctl->conf->dialback_secret != NULL) {
		if ((rc = db_set_secret(ctl->conf->dialback_secret)) == -1)
			dial_fail(d, "set another dialback_secret", "dialback: "
			    "the configured dialback_secret is not usable");
		return rc;
	}
	if (ctl->st == NULL && (rc = ctl_open_existing(ctl, &errstr)) != 0) {
		dial_fail(d, rc == -2 ? "start xfed once (it makes the store "
		    "and the secret), or set dialback_secret" : "run as a user "
		    "that can read the store (root, or a member of its group "
		    "xfed), or fix the store's permissions", "dialback: cannot "
		    "read xfed's dialback secret: %s", errstr);
		return -1;
	}
	if (store_state_get(ctl->st, "dialback_secret", &v) != 0) {
		if (store_errcode(ctl->st) == STORE_E_NOTFOUND)
			dial_fail(d, "start xfed once (it makes the secret), "
			    "or set dialback_secret", "dialback: no dialback "
			    "secret in the config or the store");
		else
			dial_fail(d, "see the store's permissions and health "
			    "(xfedctl status)", "dialback: cannot read xfed's "
			    "dialback secret: %s", store_errstr(ctl->st));
		free(v);
		return -1;
	}
	rc = db_set_secret(v);
	free(v);
	if (rc == -1)
		dial_fail(d, "set dialback_secret, or let xfed make a new one",
		    "dialback: the store's dialback secret is not usable");
	return rc;
}

/* The dialback answer to our request, or NULL after a report. */
static struct el *
dial_db_answer(struct dial *d, const char *name)
{
	struct el	*el;
	char		 buf[600];

	/* one deadline for the answer, whatever else arrives meanwhile */
	dial_step(d, DIAL_DIALBACK_SECS);
	while ((el = dial_next(d)) != NULL &&
	    !el_is(el, EL_NS_DIALBACK, name) &&
	    !el_is(el, EL_NS_STREAMS, "error"))
		el_free(el);
	if (el == NULL) {
		dial_fail(d, d->self ? NULL : "check that the server can reach "
		    "this xfed (DNS and port of our domain)", "dialback: no "
		    "answer: %s", d->ioerr);
		return NULL;
	}
	if (el_is(el, EL_NS_STREAMS, "error")) {
		dial_fail(d, NULL, "dialback: %s",
		    dial_stream_error(el, buf, sizeof(buf)));
		el_free(el);
		return NULL;
	}
	return el;
}

/*
 * XEP-0220. Toward a peer, the receiving role's request: our key for this
 * stream, which the peer checks with our authoritative server (the running
 * daemon). Toward ourselves, the other half: as a receiving server would,
 * we ask the server reached, the domain's authoritative server, whether a
 * key made with xfed's secret is valid (db:verify, 2.4).
 */
static void
dial_dialback(struct dial *d)
{
	struct el	*el;
	const char	*type, *errstr;
	struct db_msg	 m;
	char		 key[DB_KEY_LEN + 1];
	int		 rc;

	if (dial_secret(d) == -1)
		return;
	if (d->self) {
		db_make_key(d->from, d->domain, d->sid, key);
		rc = dial_send(d, "<db:verify from='%s' to='%s' id='%s'>%s"
		    "</db:verify>", d->from, d->domain, d->sid, key);
	} else {
		db_make_key(d->domain, d->from, d->sid, key);
		rc = dial_send(d, "<db:result from='%s' to='%s'>%s</db:result>",
		    d->from, d->domain, key);
	}
	if (rc == -1) {
		dial_fail(d, NULL, "dialback: %s", d->ioerr);
		return;
	}
	if ((el = dial_db_answer(d, d->self ? "verify" : "result")) == NULL)
		return;
	type = el_attr(el, "type");
	if (type != NULL && strcmp(type, "valid") == 0 && d->self)
		chk_report(d->chk, CHK_OK, "dial", d->where, NULL, "dialback: "
		    "it holds xfed's dialback secret for %s (db:verify of our "
		    "key: valid)", d->domain);
	else if (type != NULL && strcmp(type, "valid") == 0)
		chk_report(d->chk, CHK_OK, "dial", d->where, NULL, "dialback: "
		    "%s accepted our key for %s", d->domain, d->from);
	else if (type != NULL && strcmp(type, "invalid") == 0 && d->self)
		dial_fail(d, "the server peers reach for the domain must be "
		    "this xfed, or share its dialback_secret", "dialback: it "
		    "does not hold xfed's dialback secret for %s: peers will "
		    "refuse xfed's keys (db:verify: invalid)", d->domain);
	else if (type != NULL && strcmp(type, "invalid") == 0)
		dial_fail(d, "the server that answers for our domain must be "
		    "this xfed, or share its dialback_secret", "dialback: %s "
		    "refused our key for %s (invalid)", d->domain, d->from);
	else {
		memset(&m, 0, sizeof(m));
		db_parse(el, &m, &errstr);
		dial_fail(d, NULL, "dialback: %s answered with error %s%s%s",
		    d->domain, m.cond ? m.cond : "?", m.text ? ": " : "",
		    m.text ? m.text : "");
	}
	el_free(el);
}

/* Non-blocking connect, bounded; 0 with d->fd, or -1 and why. */
static int
dial_connect(struct dial *d, const struct sockaddr *sa, socklen_t len,
    char *why, size_t whylen)
{
	struct pollfd	 pfd;
	socklen_t	 elen = sizeof(int);
	int		 fd, flags, err = 0;

	if ((fd = socket(sa->sa_family, SOCK_STREAM, 0)) == -1) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	if (connect(fd, sa, len) == -1 && errno != EINPROGRESS)
		err = errno;
	else {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, DIAL_CONNECT_SECS * 1000) <= 0)
			err = ETIMEDOUT;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1)
			err = errno;
	}
	if (err != 0) {
		snprintf(why, whylen, "%s", strerror(err));
		close(fd);
		return -1;
	}
	/* stays non-blocking: every step waits in dial_wait() */
	d->fd = fd;
	return 0;
}

/* The streams on one connected target, as far as they go. */
static void
dial_streams(struct dial *d, int direct_tls)
{
	struct el	*feat;

	if (direct_tls && dial_tls(d) == -1)
		return;
	if ((feat = dial_open(d, "stream")) == NULL)
		return;
	if (!direct_tls && (feat = dial_starttls(d, feat)) == NULL)
		return;
	dial_features(d, feat);
	el_free(feat);
	dial_dialback(d);
	dial_send(d, "</stream:stream>");
}

struct dial_probe {
	char	 nonce[PROBE_NONCE_LEN + 1];
	char	 result[16], sid[S2S_SID_MAX + 1], tls[8];
};

static int
dial_probe_answer(void *arg, int type, const uint8_t *p, size_t len)
{
	struct dial_probe	*r = arg;

	if (type == CTL_T_PROBE)
		ctl_get_str(p, len, CTL_F_NONCE, r->nonce, sizeof(r->nonce));
	else if (type == CTL_T_PROBE_SEEN) {
		ctl_get_str(p, len, CTL_F_RESULT, r->result, sizeof(r->result));
		ctl_get_str(p, len, CTL_F_SID, r->sid, sizeof(r->sid));
		ctl_get_str(p, len, CTL_F_TLS, r->tls, sizeof(r->tls));
	}
	return 0;
}

/* One request about a nonce to the running daemon; -1 after a report. */
static int
dial_probe(struct dial *d, enum ctl_type type, struct dial_probe *r)
{
	struct ctl	*ctl = d->chk->ctl;
	struct ctl_msg	 m;
	char		 err[300];
	int		 fd, rc;

	if ((fd = ctl_sock_connect(ctl->conf->control_socket, err,
	    sizeof(err))) == -1) {
		chk_report(d->chk, CHK_FAIL, "dial", d->domain, "start xfed "
		    "(the self-dial needs it to answer)", "%s", err);
		return -1;
	}
	ctl_msg_begin(&m, type);
	if (type == CTL_T_PROBE_SEEN)
		ctl_put_str(&m, CTL_F_NONCE, d->nonce);
	rc = ctl_sock_request(ctl, fd, &m, dial_probe_answer, r);
	close(fd);
	if (rc != CTL_OK || (type == CTL_T_PROBE && r->nonce[0] == '\0')) {
		chk_report(d->chk, CHK_FAIL, "dial", d->domain, "run the "
		    "xfedctl that goes with this xfed", "the daemon did not "
		    "answer the probe request");
		return -1;
	}
	return 0;
}

/* Asks the daemon whether our nonce reached it. */
static void
dial_probe_seen(struct dial *d)
{
	struct dial_probe	 r;

	memset(&r, 0, sizeof(r));
	if (dial_probe(d, CTL_T_PROBE_SEEN, &r) == -1)
		return;
	if (strcmp(r.result, "seen") == 0 && strcmp(r.sid, d->sid) == 0 &&
	    strcmp(r.tls, "yes") == 0)
		chk_report(d->chk, CHK_OK, "dial", d->where, NULL, "reached "
		    "this xfed: it saw our nonce on stream %s under TLS", r.sid);
	else
		chk_report(d->chk, CHK_FAIL, "dial", d->where, "make the "
		    "domain's SRV or A/AAAA records lead to this host, or stop "
		    "the other server", "reached a server for %s that is not "
		    "this xfed: the running daemon never saw our nonce",
		    d->domain);
}

struct dial_dns {
	struct event_base	*base;
	struct dns_targets	*targets;
	char			 err[512];
};

static void
dial_dns_done(void *arg, struct dns_targets *targets, const char *errstr,
    int permanent)
{
	struct dial_dns	*dd = arg;

	dd->targets = targets;
	if (errstr != NULL)
		snprintf(dd->err, sizeof(dd->err), "%s", errstr);
	event_base_loopbreak(dd->base);
}

/* The places to connect to, as xfed's outbound side finds them; NULL
 * after a report. A `route` for a peer replaces DNS (RFC 6120 3.2.3). */
static struct dns_targets *
dial_targets(struct dial *d)
{
	const struct conf	*c = d->chk->ctl->conf;
	struct dial_dns		 dd;
	struct dns		*dns;
	struct dns_targets	*t;
	struct addrinfo		 hints, *ai, *a;
	const char		*errstr;
	char			 port[16];
	size_t			 i, n = 0;

	for (i = 0; !d->self && i < c->routes.n; i++) {
		const struct conf_route	*r = CONF_ROUTE(c, i);

		if (strcmp(r->domain, d->domain) != 0)
			continue;
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		snprintf(port, sizeof(port), "%d", r->port);
		if (getaddrinfo(r->host, port, &hints, &ai) != 0) {
			dial_fail(d, "fix the route setting", "route %s: "
			    "cannot resolve %s", d->domain, r->host);
			return NULL;
		}
		t = xcalloc(1, sizeof(*t));
		for (a = ai; a != NULL && n < DNS_MAX_ADDRS; a = a->ai_next)
			n++;
		t->v = xcalloc(n, sizeof(*t->v));
		for (a = ai, n = 0; a != NULL && n < DNS_MAX_ADDRS;
		    a = a->ai_next, n++) {
			memcpy(&t->v[n].ss, a->ai_addr, a->ai_addrlen);
			t->v[n].sslen = a->ai_addrlen;
			t->v[n].host = xstrdup(r->host);
			t->v[n].port = r->port;
		}
		t->n = n;
		freeaddrinfo(ai);
		return t;
	}
	memset(&dd, 0, sizeof(dd));
	if ((dd.base = event_base_new()) == NULL ||
	    (dns = dns_new(dd.base, c->resolvers.v, c->resolvers.n,
	    &errstr)) == NULL) {
		dial_fail(d, NULL, "DNS: cannot start a resolver");
		if (dd.base != NULL)
			event_base_free(dd.base);
		return NULL;
	}
	if (dns_resolve_peer(dns, d->domain, dial_dns_done, &dd) != NULL)
		event_base_dispatch(dd.base);
	dns_free(dns);
	event_base_free(dd.base);
	if (dd.targets == NULL)
		dial_fail(d, "see the dns lines", "%s", dd.err[0] ? dd.err :
		    "DNS: no answer");
	return dd.targets;
}

void
check_dial(struct chk *chk, const char *domain, int self)
{
	const struct conf	*c = chk->ctl->conf;
	struct xml_cb		 cb = { dial_xml_open, dial_xml_elem,
	    dial_xml_close };
	struct dial		 d;
	struct dial_probe	 r;
	struct dns_targets	*t = NULL;
	const char		*errstr;
	char			 addr[80], why[256], tried[1024] = "";
	size_t			 i;

	memset(&d, 0, sizeof(d));
	d.chk = chk;
	d.domain = domain;
	d.self = self;
	d.fd = -1;
	/* the self-dial speaks for no domain of ours: xfed refuses a peer
	 * claiming one of its own (RFC 2606 reserves .invalid) */
	d.ours = self ? domain : chk->from != NULL ? chk->from :
	    CONF_DOMAIN(c, 0);
	d.from = self ? "xfedctl-check.invalid" : d.ours;
	snprintf(d.where, sizeof(d.where), "%s", domain);
	if (self) {
		memset(&r, 0, sizeof(r));
		if (dial_probe(&d, CTL_T_PROBE, &r) == -1)
			return;
		memcpy(d.nonce, r.nonce, sizeof(d.nonce));
	}
	/* the certificates xfed presents, the CAs it trusts */
	if ((d.tls = tls_ctx_new(c->tls_ca_file)) == NULL ||
	    (c->tls_certificate != NULL && tls_ctx_add_cert(d.tls, NULL,
	    c->tls_certificate, c->tls_key, &errstr) == -1)) {
		chk_report(chk, CHK_FAIL, "dial", domain, "see the cert lines",
		    "cannot load xfed's TLS settings");
		goto out;
	}
	for (i = 0; i < c->tls_domains.n; i++)
		if (tls_ctx_add_cert(d.tls, CONF_TLSDOM(c, i)->domain,
		    CONF_TLSDOM(c, i)->cert, CONF_TLSDOM(c, i)->key,
		    &errstr) == -1) {
			chk_report(chk, CHK_FAIL, "dial", domain, "see the "
			    "cert lines", "cannot load xfed's TLS settings");
			goto out;
		}
	if ((t = dial_targets(&d)) == NULL)
		goto out;
	/* S2S 6.4: every address of every target in order, until one
	 * connects */
	for (i = 0; i < t->n && d.fd == -1; i++) {
		dns_target_addr(&t->v[i], addr, sizeof(addr));
		if (dial_connect(&d, (struct sockaddr *)&t->v[i].ss,
		    t->v[i].sslen, why, sizeof(why)) == -1) {
			snprintf(tried + strlen(tried), sizeof(tried) -
			    strlen(tried), "%s%s %s (%s)", tried[0] ? ", " : "",
			    t->v[i].host, addr, why);
			continue;
		}
		snprintf(d.where, sizeof(d.where), "%s %s %s", domain,
		    t->v[i].host, addr);
		if (tried[0] != '\0')
			chk_report(chk, CHK_WARN, "dial", d.where, "fix or "
			    "remove the records of the places that fail",
			    "connected after failing at %s", tried);
		else
			chk_report(chk, CHK_OK, "dial", d.where, NULL,
			    "connected%s", t->v[i].direct_tls ?
			    " (direct TLS)" : "");
		d.xp = xml_new(NULL, &cb, &d);
		dial_streams(&d, t->v[i].direct_tls);
		/* the nonce goes only under TLS; without it, the failure
		 * is reported already */
		if (self && d.nonce_sent)
			dial_probe_seen(&d);
		break;
	}
	if (d.fd == -1)
		chk_report(chk, CHK_FAIL, "dial", domain, self ? "start xfed "
		    "or open the port in the firewall; see the dns lines" :
		    "nothing to change here unless the records are yours",
		    "cannot connect: %s", tried);
 out:
	for (i = 0; i < d.nels; i++)
		el_free(d.els[i]);
	el_free(d.hdr);
	if (d.xp != NULL)
		xml_free(d.xp);
	if (d.ssl != NULL)
		SSL_free(d.ssl);
	if (d.fd != -1)
		close(d.fd);
	if (t != NULL)
		dns_targets_free(t);
	if (d.tls != NULL)
		tls_ctx_free(d.tls);
}
