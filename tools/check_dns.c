/*
 * tools/check_dns.c: "xfedctl check", DNS part. Asks the resolvers xfed
 * uses (the `resolver` setting, else /etc/resolv.conf) what a peer would
 * ask (S2S 6.x): _xmpp-server._tcp and _xmpps-server._tcp SRV, each
 * target's A/AAAA, and the domain's own A/AAAA when there is no SRV.
 * For a hosted domain the answers must lead to xfed: ports and addresses
 * it listens on. A blocking c-ares channel: xfedctl has no event loop.
 */
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>

#include <ifaddrs.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ares.h>

#include "check.h"
#include "s2s/dns.h"
#include "xmalloc.h"

#define CHECK_DNS_MAX_ADDRS	8

struct check_dns_ans {
	int		 done;
	int		 status;	/* ARES_* */
	unsigned char	*buf;
	int		 len;
};

/* The addresses of one name, and the canonical name when it is an alias. */
struct check_dns_host {
	struct sockaddr_storage	 ss[CHECK_DNS_MAX_ADDRS];
	size_t			 n;
	char			 cname[256];	/* "" unless an alias */
	int			 failed;	/* a lookup failed, not NODATA */
	const char		*err;
};

struct check_dns {
	struct chk	*chk;
	ares_channel	 ch;
	const char	*domain;
	int		 ours;
};

static void
check_dns_cb(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct check_dns_ans	*a = arg;

	a->done = 1;
	a->status = status;
	if (status == ARES_SUCCESS && abuf != NULL && alen > 0) {
		a->buf = xmalloc((size_t)alen);
		memcpy(a->buf, abuf, (size_t)alen);
		a->len = alen;
	}
}

/* One query, waited for; the answer in *a (free a->buf). */
static void
check_dns_query(struct check_dns *d, const char *name, int type,
    struct check_dns_ans *a)
{
	struct timeval	 tv, *tvp;
	fd_set		 r, w;
	int		 nfds;

	memset(a, 0, sizeof(*a));
	ares_query(d->ch, name, ns_c_in, type, check_dns_cb, a);
	while (!a->done) {
		FD_ZERO(&r);
		FD_ZERO(&w);
		nfds = ares_fds(d->ch, &r, &w);
		if (nfds == 0)
			break;
		tvp = ares_timeout(d->ch, NULL, &tv);
		select(nfds, &r, &w, NULL, tvp);
		ares_process(d->ch, &r, &w);
	}
	if (!a->done) {
		a->done = 1;
		a->status = ARES_ECONNREFUSED;
	}
}

/* 1 when the lookup said "no such record" rather than failing. */
static int
check_dns_none(int status)
{
	return status == ARES_ENOTFOUND || status == ARES_ENODATA;
}

static void
check_dns_addrs(struct check_dns *d, const char *name, int type,
    struct check_dns_host *h)
{
	struct check_dns_ans	 a;
	struct hostent		*he = NULL;
	int			 rc, i;

	check_dns_query(d, name, type, &a);
	rc = a.status;
	if (rc == ARES_SUCCESS)
		rc = type == ns_t_a ? ares_parse_a_reply(a.buf, a.len, &he,
		    NULL, NULL) : ares_parse_aaaa_reply(a.buf, a.len, &he, NULL,
		    NULL);
	free(a.buf);
	if (rc != ARES_SUCCESS) {
		if (!check_dns_none(rc)) {
			h->failed = 1;
			h->err = ares_strerror(rc);
		}
		return;
	}
	/* RFC 2782: a target must be a name with addresses, not an alias;
	 * c-ares follows the CNAME and names the end of the chain. */
	if (he->h_name != NULL && strcasecmp(he->h_name, name) != 0)
		snprintf(h->cname, sizeof(h->cname), "%s", he->h_name);
	for (i = 0; he->h_addr_list[i] != NULL && h->n < CHECK_DNS_MAX_ADDRS;
	    i++) {
		struct sockaddr_storage	*ss = &h->ss[h->n++];

		memset(ss, 0, sizeof(*ss));
		if (he->h_addrtype == AF_INET) {
			struct sockaddr_in	*sin = (void *)ss;

			sin->sin_family = AF_INET;
			memcpy(&sin->sin_addr, he->h_addr_list[i], 4);
		} else {
			struct sockaddr_in6	*sin6 = (void *)ss;

			sin6->sin6_family = AF_INET6;
			memcpy(&sin6->sin6_addr, he->h_addr_list[i], 16);
		}
	}
	ares_free_hostent(he);
}

static void
check_dns_host(struct check_dns *d, const char *name,
    struct check_dns_host *h)
{
	memset(h, 0, sizeof(*h));
	check_dns_addrs(d, name, ns_t_aaaa, h);
	check_dns_addrs(d, name, ns_t_a, h);
}

static const char *
check_dns_ntop(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const void	*a = ss->ss_family == AF_INET ?
	    (const void *)&((const struct sockaddr_in *)ss)->sin_addr :
	    (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;

	if (inet_ntop(ss->ss_family, a, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

/* "192.0.2.1 2001:db8::1" */
static void
check_dns_list(const struct check_dns_host *h, char *buf, size_t len)
{
	char	 a[INET6_ADDRSTRLEN];
	size_t	 i;

	buf[0] = '\0';
	for (i = 0; i < h->n; i++) {
		if (i > 0)
			strncat(buf, " ", len - strlen(buf) - 1);
		strncat(buf, check_dns_ntop(&h->ss[i], a, sizeof(a)),
		    len - strlen(buf) - 1);
	}
}

static int
check_dns_port(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ?
	    ntohs(((const struct sockaddr_in *)ss)->sin_port) :
	    ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static int
check_dns_any(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr ==
		    htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(
	    &((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static int
check_dns_same_ip(const struct sockaddr_storage *a,
    const struct sockaddr *b)
{
	if (a->ss_family != b->sa_family)
		return 0;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)(const void *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
	    &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr,
	    16) == 0;
}

/* 1 when this machine has address ss on an interface. */
static int
check_dns_local(const struct sockaddr_storage *ss)
{
	struct ifaddrs	*ifa, *i;
	int		 found = 0;

	if (getifaddrs(&ifa) == -1)
		return 0;
	for (i = ifa; i != NULL && !found; i = i->ifa_next)
		if (i->ifa_addr != NULL && check_dns_same_ip(ss, i->ifa_addr))
			found = 1;
	freeifaddrs(ifa);
	return found;
}

/* "loopback", "private" (RFC 1918, RFC 6598, RFC 4193, link-local), or
 * NULL for an address peers on the Internet may reach. */
static const char *
check_dns_private(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		uint32_t a = ntohl(((const struct sockaddr_in *)ss)->
		    sin_addr.s_addr);

		if ((a >> 24) == 127)
			return "loopback";
		if ((a >> 24) == 10 || (a >> 20) == 0xac1 ||
		    (a >> 16) == 0xc0a8 || (a >> 16) == 0xa9fe ||
		    (a >> 22) == (100 << 2 | 1) || a == 0)
			return "private";
		return NULL;
	} else {
		const struct in6_addr *a =
		    &((const struct sockaddr_in6 *)ss)->sin6_addr;

		if (IN6_IS_ADDR_LOOPBACK(a))
			return "loopback";
		if ((a->s6_addr[0] & 0xfe) == 0xfc ||
		    IN6_IS_ADDR_LINKLOCAL(a) || IN6_IS_ADDR_UNSPECIFIED(a))
			return "private";
		if (IN6_IS_ADDR_V4MAPPED(a)) {
			struct sockaddr_storage	 v4;
			struct sockaddr_in	*sin = (void *)&v4;

			memset(&v4, 0, sizeof(v4));
			sin->sin_family = AF_INET;
			memcpy(&sin->sin_addr, &a->s6_addr[12], 4);
			return check_dns_private(&v4);
		}
		return NULL;
	}
}

/*
 * A target that resolves to loopback or private addresses: peers on the
 * Internet connect to their own machine or network, not to this one
 * (split DNS, an /etc/hosts line in the zone, an internal view).
 */
static void
check_dns_reachable(struct check_dns *d, const char *subject,
    const char *host, const struct check_dns_host *h)
{
	char		 a[INET6_ADDRSTRLEN], bad[300] = "";
	const char	*kind, *what = NULL;
	size_t		 i;

	if (d->chk->private_ok)
		return;
	for (i = 0; i < h->n; i++) {
		if ((kind = check_dns_private(&h->ss[i])) == NULL)
			continue;
		if (what == NULL || strcmp(kind, "loopback") == 0)
			what = kind;
		snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad), "%s%s",
		    bad[0] ? " " : "", check_dns_ntop(&h->ss[i], a,
		    sizeof(a)));
	}
	if (what == NULL)
		return;
	chk_report(d->chk, CHK_WARN, "dns", subject, d->ours ? "publish the "
	    "host's public address in its A/AAAA records (inside one network "
	    "only, run check with --private)" : "nothing to change here: a "
	    "peer inside one network, or its DNS is wrong", "%s resolves to "
	    "%s, a %s address: peers elsewhere cannot connect to it", host,
	    bad, what);
}

/*
 * Does a peer that connects to one of h's addresses on port reach a
 * listener of xfed? 1 yes; 0 no address matches; -1 no listener on port.
 */
static int
check_dns_reaches(const struct conf_arr *listens, int port,
    const struct check_dns_host *h)
{
	const struct conf_addr	*l = listens->v;
	size_t			 i, k;
	int			 portok = 0;

	for (i = 0; i < listens->n; i++) {
		if (check_dns_port(&l[i].ss) != port)
			continue;
		portok = 1;
		for (k = 0; k < h->n; k++) {
			if (check_dns_any(&l[i].ss) ?
			    (h->ss[k].ss_family == l[i].ss.ss_family ||
			    l[i].ss.ss_family == AF_INET6) &&
			    check_dns_local(&h->ss[k]) :
			    check_dns_same_ip(&h->ss[k],
			    (const struct sockaddr *)&l[i].ss))
				return 1;
		}
	}
	return portok ? 0 : -1;
}

static void
check_dns_listens(const struct conf_arr *listens, char *buf, size_t len)
{
	const struct conf_addr	*l = listens->v;
	size_t			 i;

	buf[0] = '\0';
	for (i = 0; i < listens->n; i++) {
		if (i > 0)
			strncat(buf, " ", len - strlen(buf) - 1);
		strncat(buf, l[i].text, len - strlen(buf) - 1);
	}
	if (listens->n == 0)
		snprintf(buf, len, "nothing");
}

/*
 * One place peers connect to: an SRV target and port (srv), or the domain
 * on 5269. subject names the record in the report. Only an SRV target may
 * not be an alias (RFC 2782); the fallback domain may be a CNAME.
 */
static void
check_dns_target(struct check_dns *d, const char *subject, const char *host,
    int port, int direct_tls, int srv)
{
	struct check_dns_host	 h;
	const struct conf	*c = d->chk->ctl->conf;
	const struct conf_arr	*listens = direct_tls ? &c->listens_tls :
	    &c->listens;
	const char		*key = direct_tls ? "listen_tls" : "listen";
	char			 addrs[512], ls[512], fix[512];
	int			 r;

	check_dns_host(d, host, &h);
	check_dns_list(&h, addrs, sizeof(addrs));
	if (srv && h.cname[0] != '\0') {
		snprintf(fix, sizeof(fix), "point the record at %s, the "
		    "canonical name, instead of the alias", h.cname);
		chk_report(d->chk, CHK_FAIL, "dns", subject, fix, "target %s "
		    "is an alias (CNAME to %s); RFC 2782 forbids it and peers "
		    "may refuse it", host, h.cname);
		return;
	}
	if (h.n == 0) {
		if (h.failed)
			chk_report(d->chk, CHK_FAIL, "dns", subject, "check the "
			    "resolver setting and the zone's name servers",
			    "address lookup for %s failed: %s", host, h.err);
		else {
			snprintf(fix, sizeof(fix), "add an A and/or AAAA "
			    "record for %s, or point the record at a host "
			    "that has one", host);
			chk_report(d->chk, CHK_FAIL, "dns", subject, fix,
			    "target %s has no A or AAAA record: peers cannot "
			    "connect", host);
		}
		return;
	}
	check_dns_reachable(d, subject, host, &h);
	if (!d->ours) {
		chk_report(d->chk, CHK_OK, "dns", subject, NULL, "%s port %d: "
		    "%s", host, port, addrs);
		return;
	}
	check_dns_listens(listens, ls, sizeof(ls));
	r = check_dns_reaches(listens, port, &h);
	if (r == -1) {
		if (listens->n == 0)
			snprintf(fix, sizeof(fix), "set %s to an address "
			    "with port %d, or remove the record", key, port);
		else
			snprintf(fix, sizeof(fix), "make the record's port "
			    "%d, or add %s with port %d",
			    check_dns_port(&((const struct conf_addr *)
			    listens->v)[0].ss), key, port);
		chk_report(d->chk, CHK_FAIL, "dns", subject, fix, "peers "
		    "connect to port %d, but xfed's %s is %s", port, key, ls);
	} else if (r == 0)
		chk_report(d->chk, CHK_WARN, "dns", subject, "fine behind NAT "
		    "or a proxy; otherwise make the record lead to this host",
		    "%s (%s) is no address xfed listens on (%s %s)", host,
		    addrs, key, ls);
	else
		chk_report(d->chk, CHK_OK, "dns", subject, NULL, "%s port %d: "
		    "%s, where xfed listens", host, port, addrs);
}

struct check_dns_srv {
	int			 status;	/* ARES_* */
	struct ares_srv_reply	*reply;
	size_t			 usable;	/* records that are not "." */
	size_t			 root;		/* "." records */
};

static void
check_dns_srv(struct check_dns *d, const char *name, struct check_dns_srv *s)
{
	struct check_dns_ans	 a;
	struct ares_srv_reply	*r;

	memset(s, 0, sizeof(*s));
	check_dns_query(d, name, ns_t_srv, &a);
	s->status = a.status;
	if (a.status == ARES_SUCCESS)
		s->status = ares_parse_srv_reply(a.buf, a.len, &s->reply);
	free(a.buf);
	for (r = s->reply; r != NULL; r = r->next)
		if (r->host[0] == '\0' || strcmp(r->host, ".") == 0)
			s->root++;
		else
			s->usable++;
}

/* Every usable record of one SRV set, at most DNS_MAX_SRV. */
static void
check_dns_targets(struct check_dns *d, const char *name,
    const struct check_dns_srv *s, int direct_tls)
{
	struct ares_srv_reply	*r;
	char			 subject[600];
	size_t			 n = 0;

	for (r = s->reply; r != NULL && n < DNS_MAX_SRV; r = r->next) {
		if (r->host[0] == '\0' || strcmp(r->host, ".") == 0)
			continue;
		n++;
		snprintf(subject, sizeof(subject), "%s SRV %u %u %u %s", name,
		    r->priority, r->weight, r->port, r->host);
		check_dns_target(d, subject, r->host, r->port, direct_tls, 1);
	}
}

void
check_dns(struct chk *chk, const char *domain, int ours)
{
	struct check_dns	 d;
	struct check_dns_srv	 x, s;
	const struct conf	*c = chk->ctl->conf;
	struct ares_options	 o;
	const char		*errstr;
	char			 nx[300], ns[300], fix[600];
	int			 rc;

	memset(&d, 0, sizeof(d));
	d.chk = chk;
	d.domain = domain;
	d.ours = ours;
	memset(&o, 0, sizeof(o));
	o.timeout = DNS_TIMEOUT_MS;
	o.tries = DNS_TRIES;
	if ((rc = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS ||
	    (rc = ares_init_options(&d.ch, &o, ARES_OPT_TIMEOUTMS |
	    ARES_OPT_TRIES | ARES_OPT_DOMAINS)) != ARES_SUCCESS) {
		chk_report(chk, CHK_FAIL, "dns", domain, NULL, "c-ares: %s",
		    ares_strerror(rc));
		return;
	}
	if (c->resolvers.n > 0 && dns_set_servers(d.ch, c->resolvers.v,
	    c->resolvers.n, &errstr) == -1) {
		chk_report(chk, CHK_FAIL, "dns", domain, "fix the resolver "
		    "setting", "resolver: %s", errstr);
		goto out;
	}
	snprintf(nx, sizeof(nx), "_xmpp-server._tcp.%s", domain);
	snprintf(ns, sizeof(ns), "_xmpps-server._tcp.%s", domain);
	check_dns_srv(&d, nx, &x);
	check_dns_srv(&d, ns, &s);

	if (x.status != ARES_SUCCESS && !check_dns_none(x.status)) {
		/* S2S 6.5: a failed lookup is not "no record": peers wait */
		chk_report(chk, CHK_FAIL, "dns", nx, "check the resolver "
		    "setting and the zone's name servers", "SRV lookup "
		    "failed: %s; peers retry later instead of connecting",
		    ares_strerror(x.status));
		goto out;
	}
	if (x.root > 0 && x.usable == 0) {
		/* S2S 6.2: "." says there is no service at all */
		snprintf(fix, sizeof(fix), "replace it with \"%s. SRV 0 5 "
		    "5269 HOST.\" naming the host xfed runs on", nx);
		chk_report(chk, CHK_FAIL, "dns", nx, ours ? fix : "nothing to "
		    "change here: the domain does not federate", "the target "
		    "is \".\": the domain says it has no XMPP service and "
		    "peers give up without connecting");
	} else if (x.usable > 0)
		check_dns_targets(&d, nx, &x, 0);

	if (s.status != ARES_SUCCESS && !check_dns_none(s.status))
		chk_report(chk, CHK_WARN, "dns", ns, "check the zone's name "
		    "servers", "SRV lookup failed: %s", ares_strerror(s.status));
	else if (s.usable > 0) {
		if (ours && c->listens_tls.n == 0)
			chk_report(chk, CHK_FAIL, "dns", ns, "set listen_tls, "
			    "or remove the _xmpps-server records", "peers "
			    "that support XEP-0368 start TLS at once there, "
			    "but xfed has no listen_tls");
		else
			check_dns_targets(&d, ns, &s, 1);
	} else if (s.root > 0)
		chk_report(chk, CHK_OK, "dns", ns, NULL, "\".\": no direct "
		    "TLS, peers use _xmpp-server (XEP-0368)");

	if (x.usable == 0 && x.root == 0) {
		/* S2S 6.5: the domain itself on 5269 */
		struct check_dns_host	 h;

		check_dns_host(&d, domain, &h);
		snprintf(fix, sizeof(fix), "add \"%s. SRV 0 5 5269 HOST.\" "
		    "naming the host xfed runs on", nx);
		if (h.n == 0 && h.failed)
			/* S2S 6.5: a failed lookup is not "no address" */
			chk_report(chk, CHK_FAIL, "dns", nx, "check the "
			    "resolver setting and the zone's name servers",
			    "no SRV record, and the A/AAAA lookup of %s to fall "
			    "back to failed (%s): peers cannot connect until "
			    "it answers", domain, h.err);
		else if (h.n == 0 && s.usable == 0)
			chk_report(chk, CHK_FAIL, "dns", nx, ours ? fix : NULL,
			    "no SRV record, and %s has no A or AAAA record "
			    "to fall back to: peers cannot find the server",
			    domain);
		else if (h.n == 0)
			chk_report(chk, CHK_WARN, "dns", nx, fix, "no SRV "
			    "record: peers without XEP-0368 cannot connect");
		else if (!ours)
			chk_report(chk, CHK_OK, "dns", nx, NULL, "no SRV "
			    "record: peers connect to %s port %d", domain,
			    DNS_PORT_DEFAULT);
		else {
			char	 subject[300];

			chk_report(chk, CHK_WARN, "dns", nx, fix, "no SRV "
			    "record: peers fall back to %s port %d", domain,
			    DNS_PORT_DEFAULT);
			snprintf(subject, sizeof(subject), "%s A/AAAA", domain);
			check_dns_target(&d, subject, domain,
			    DNS_PORT_DEFAULT, 0, 0);
		}
	}
	ares_free_data(x.reply);
	ares_free_data(s.reply);
 out:
	ares_destroy(d.ch);
	ares_library_cleanup();
}
