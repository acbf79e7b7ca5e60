/*
 * server/conf.c: the config file. One table (conf_keys) declares each key;
 * parsing reports every error as FILE:LINE and keeps going, and a file with
 * any error is refused whole (so SIGHUP keeps the old config). Relative
 * paths are taken from the config file's directory.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "conf.h"
#include "jid.h"
#include "log.h"
#include "xmalloc.h"

enum conf_kind {
	CK_STRING,	/* char * */
	CK_PATH,	/* char *, relative to the config file */
	CK_BOOL,	/* int, yes|no */
	CK_SIZE,	/* long long bytes, optional k/m suffix */
	CK_SECONDS,	/* long long seconds, optional s/m/h/d suffix */
	CK_LEVEL,	/* int, enum log_level */
	CK_DOMAIN,	/* char *, prepared domain */
	CK_LISTEN,	/* struct conf_addr, port required */
	CK_RESOLVER,	/* struct conf_addr, port 53 by default */
	CK_ROUTE,	/* struct conf_route: DOMAIN HOST:PORT */
	CK_TLSDOM,	/* struct conf_tlsdom: DOMAIN CERT KEY */
	CK_NUMBER,	/* long long, no suffix */
	CK_WEBHOOK,	/* struct conf_webhook: URL [SECRET] */
};

#define CK_REPEAT	0x1

struct conf_key {
	const char	*name;
	enum conf_kind	 kind;
	int		 flags;
	size_t		 off;
	const char	*def;		/* parsed like a value; NULL: none */
	long long	 min, max;	/* for sizes and durations */
	const char	*help;
};

#define OFF(f)	offsetof(struct conf, f)
static const struct conf_key conf_keys[] = {
	{ "domain", CK_DOMAIN, CK_REPEAT, OFF(domains), NULL, 0, 0,
	    "A domain this server hosts (repeat for several); at least one." },
	{ "listen", CK_LISTEN, CK_REPEAT, OFF(listens), "0.0.0.0:5269", 0, 0,
	    "Address and port to accept S2S streams on (repeatable; IPv6 as [::]:5269)." },
	{ "listen_tls", CK_LISTEN, CK_REPEAT, OFF(listens_tls), NULL, 0, 0,
	    "Address and port for direct TLS (XEP-0368), e.g. 0.0.0.0:5270 (repeatable)." },
	{ "store", CK_PATH, 0, OFF(store), "/var/lib/xfed/xfed.db", 0, 0,
	    "Users, presence, subscriptions, inbox, outbox: a SQLite database "
	    "file, or a postgresql:// URI (xfed built with libpq)." },
	{ "store_group_write", CK_BOOL, 0, OFF(store_group_write), "no", 0, 0,
	    "Create the store, its -wal and -shm 0660 instead of 0640, for a native "
	    "system whose user is in xfed's group and writes the store." },
	{ "tls_certificate", CK_PATH, 0, OFF(tls_certificate), NULL, 0, 0,
	    "PEM certificate chain for the hosted domains." },
	{ "tls_key", CK_PATH, 0, OFF(tls_key), NULL, 0, 0,
	    "PEM private key for tls_certificate." },
	{ "tls_domain", CK_TLSDOM, CK_REPEAT, OFF(tls_domains), NULL, 0, 0,
	    "DOMAIN CERT KEY: a certificate for one hosted domain, chosen by SNI "
	    "and the stream's to (repeatable)." },
	{ "tls_ca_file", CK_PATH, 0, OFF(tls_ca_file), NULL, 0, 0,
	    "PEM CA certificates to verify peers with. Default: the system's store." },
	{ "require_encryption", CK_BOOL, 0, OFF(require_encryption), "yes", 0, 0,
	    "Refuse to exchange stanzas over S2S streams without TLS." },
	{ "secure_auth", CK_BOOL, 0, OFF(secure_auth), "no", 0, 0,
	    "Require a peer certificate that verifies for its domain; no dialback "
	    "without one." },
	{ "dialback_secret", CK_STRING, 0, OFF(dialback_secret), NULL, 0, 0,
	    "Secret for dialback keys; instances serving one domain share it. "
	    "Default: one generated once and kept in the store." },
	{ "instance_name", CK_STRING, 0, OFF(instance_name), NULL, 0, 0,
	    "This daemon's name among the instances sharing one store. "
	    "Default: the host name and the process id." },
	{ "lease_time", CK_SECONDS, 0, OFF(lease_time), "30s", 3, 3600,
	    "How long an instance's lease of a remote domain lasts without "
	    "renewal; another instance takes it over after that." },
	{ "control_socket", CK_PATH, 0, OFF(control_socket), "/run/xfed/xfed.sock",
	    0, 0, "Unix socket xfedctl uses to talk to the running daemon." },
	{ "log_level", CK_LEVEL, 0, OFF(log_level), "info", 0, 0,
	    "error, warn, info or debug." },
	{ "log_stanzas", CK_BOOL, 0, OFF(log_stanzas), "no", 0, 0,
	    "Log every stanza in and out: direction, stream, from, to, kind, size; "
	    "the XML too at log_level debug." },
	{ "route", CK_ROUTE, CK_REPEAT, OFF(routes), NULL, 0, 0,
	    "DOMAIN HOST:PORT: reach DOMAIN there, without DNS (repeatable; "
	    "several for one domain are tried in order)." },
	{ "resolver", CK_RESOLVER, CK_REPEAT, OFF(resolvers), NULL, 0, 0,
	    "IP[:PORT] of a DNS server to use instead of /etc/resolv.conf (repeatable)." },
	{ "max_stanza_size", CK_SIZE, 0, OFF(max_stanza_size), "524288",
	    CONF_MIN_STANZA_SIZE, 64 << 20,
	    "Largest stanza accepted, in bytes (k and m suffixes; at least 10000)." },
	{ "max_unauth_stanza_size", CK_SIZE, 0, OFF(max_unauth_stanza_size),
	    "16k", 4096, 64 << 20,
	    "Largest element accepted on a stream before it is authenticated "
	    "(dialback, TLS and SASL elements and stream features are small); "
	    "bounds what unauthenticated streams make xfed buffer (k and m "
	    "suffixes; at most max_stanza_size is used)." },
	{ "outbound_retry_for", CK_SECONDS, 0, OFF(outbound_retry_for), "2d",
	    1, 365LL * 86400,
	    "How long outgoing messages are retried before they fail (s, m, h, d)." },
	{ "outbound_backoff_min", CK_SECONDS, 0, OFF(outbound_backoff_min), "5s",
	    1, 3600,
	    "First wait before retrying an unreachable domain; doubles up to 1h." },
	{ "idle_timeout", CK_SECONDS, 0, OFF(idle_timeout), "10m", 1, 7 * 86400,
	    "Close an outbound stream that carried nothing for this long; also "
	    "how long a peer may leave an ack request unanswered (at most 2m)." },
	{ "store_wait", CK_SECONDS, 0, OFF(store_wait), "60s", 1, 86400,
	    "How long stanzas wait in memory for a failing store before "
	    "they are refused." },
	{ "http_listen", CK_LISTEN, CK_REPEAT, OFF(http_listens), NULL, 0, 0,
	    "Address and port of the HTTP API, e.g. 127.0.0.1:5280 (repeatable; "
	    "off by default)." },
	{ "http_listen_tls", CK_LISTEN, CK_REPEAT, OFF(http_listens_tls), NULL,
	    0, 0, "Address and port of the HTTP API over TLS with tls_certificate "
	    "(repeatable)." },
	{ "http_socket", CK_PATH, 0, OFF(http_socket), NULL, 0, 0,
	    "Unix socket path to serve the HTTP API on as well." },
	{ "http_max_body", CK_SIZE, 0, OFF(http_max_body), "1m", 1024, 64 << 20,
	    "Largest HTTP request body accepted, in bytes (k and m suffixes)." },
	{ "http_rate", CK_NUMBER, 0, OFF(http_rate), "100", 1, 1000000,
	    "HTTP requests a second allowed per token (bursts of twice that)." },
	{ "http_max_wait", CK_SECONDS, 0, OFF(http_max_wait), "60s", 1, 3600,
	    "Longest wait of a long-polling GET /v1/events." },
	{ "http_max_connections", CK_NUMBER, 0, OFF(http_max_conns), "256", 1,
	    65536, "Open HTTP API connections at most; more are answered 503 "
	    "and closed." },
	{ "http_max_connections_per_source", CK_NUMBER, 0,
	    OFF(http_max_conns_source), "32", 1, 65536, "Open HTTP API "
	    "connections at most from one client address." },
	{ "http_header_timeout", CK_SECONDS, 0, OFF(http_header_timeout), "10s",
	    1, 3600, "Time a client has to send a whole request (and to stay "
	    "idle between requests) before its connection is closed." },
	{ "webhook", CK_WEBHOOK, CK_REPEAT, OFF(webhooks), NULL, 0, 0,
	    "URL [SECRET]: POST every event there as JSON, signed with "
	    "HMAC-SHA256 of SECRET (repeatable)." },
	{ "webhook_timeout", CK_SECONDS, 0, OFF(webhook_timeout), "10s", 1, 600,
	    "How long a webhook receiver may take to answer." },
	{ "webhook_backoff_max", CK_SECONDS, 0, OFF(webhook_backoff_max), "5m",
	    1, 86400, "Longest wait between retries to a failing webhook "
	    "(it doubles from 1s)." },
	{ "events_keep", CK_SECONDS, 0, OFF(events_keep), "7d", 60,
	    365LL * 86400, "How long events stay in the journal once every "
	    "webhook has them." },
	{ "events_journal", CK_BOOL, 0, OFF(events_journal), "no", 0, 0,
	    "Keep the events journal without http_listen, http_socket or "
	    "webhook too (for a native system that reads the events table)." },
	{ "version_reply", CK_BOOL, 0, OFF(version_reply), "yes", 0, 0,
	    "Answer software version requests (XEP-0092) to the domains with "
	    "xfed's name and version." },
	{ "version_os", CK_BOOL, 0, OFF(version_os), "no", 0, 0,
	    "Add the operating system's name to version answers." },
	{ "receipts", CK_BOOL, 0, OFF(receipts), "yes", 0, 0,
	    "Send a delivery receipt (XEP-0184) for a message that asked for "
	    "one when its inbox row is marked consumed." },
	{ "inbox_quota", CK_NUMBER, 0, OFF(inbox_quota), "10000", 0, 100000000,
	    "Unconsumed inbox rows a user may have; beyond, messages are "
	    "refused with resource-constraint (0: no cap)." },
	{ "inbox_retention", CK_SECONDS, 0, OFF(inbox_retention), "0", 0,
	    3650LL * 86400,
	    "Delete inbox rows this long after they were consumed (0: keep)." },
	{ "outbox_retention", CK_SECONDS, 0, OFF(outbox_retention), "0", 0,
	    3650LL * 86400,
	    "Delete sent, delivered, failed and done outbox rows this long "
	    "after their last change (0: keep)." },
	{ "journal_retention", CK_SECONDS, 0, OFF(journal_retention), "1h", 1,
	    30 * 86400,
	    "Delete change journal rows this long after xfed handled them." },
	{ "remote_stanza_rate", CK_NUMBER, 0, OFF(remote_stanza_rate), "200", 0,
	    1000000,
	    "Stanzas a second each remote domain may send, with 2 s of burst; "
	    "above it xfed stops reading its streams for a while (0: no limit)." },
	{ "max_unauth_streams", CK_NUMBER, 0, OFF(max_unauth_streams), "1024",
	    0, 1000000,
	    "Inbound streams not authenticated yet, in all; more are refused "
	    "(0: no limit)." },
	{ "max_unauth_per_ip", CK_NUMBER, 0, OFF(max_unauth_per_ip), "8", 0,
	    1000000,
	    "Inbound streams not authenticated yet from one IP address (0: no "
	    "limit)." },
	{ "max_unauth_per_net", CK_NUMBER, 0, OFF(max_unauth_per_net), "32", 0,
	    1000000,
	    "The same from one IPv6 /64 (0: no limit)." },
	{ "max_pending_per_ip", CK_NUMBER, 0, OFF(max_pending_per_ip), "32", 0,
	    1000000,
	    "Dialback verifications under way for streams from one IP address; "
	    "beyond, resource-constraint (0: no limit)." },
	{ "max_pending_per_net", CK_NUMBER, 0, OFF(max_pending_per_net), "64",
	    0, 1000000,
	    "The same from one IPv6 /64; from one /48, 4 times this (0: no "
	    "limit)." },
	{ "verify_rate_per_domain", CK_NUMBER, 0, OFF(verify_rate_per_domain),
	    "10", 0, 1000000,
	    "Dialback verifications a second xfed asks of one claimed "
	    "domain's server, whatever the sources, with 2 s of burst; a valid "
	    "answer, and a claim xfed refuses for its own limits, do not "
	    "count; beyond, resource-constraint (0: no limit)." },
	{ "verify_rate_per_source", CK_NUMBER, 0, OFF(verify_rate_per_source),
	    "2", 0, 1000000,
	    "The share of verify_rate_per_domain one source network "
	    "(verify_source_prefix4, verify_source_prefix6) may use for one "
	    "claimed domain, a second with 2 s of burst; beyond, "
	    "resource-constraint (0: no share, only the domain's rate)." },
	{ "verify_source_prefix4", CK_NUMBER, 0, OFF(verify_source_prefix4),
	    "24", 8, 32,
	    "The IPv4 network, as a prefix length, that shares one "
	    "verify_rate_per_source." },
	{ "verify_source_prefix6", CK_NUMBER, 0, OFF(verify_source_prefix6),
	    "48", 16, 128,
	    "The same for IPv6." },
	{ "verify_exempt_time", CK_SECONDS, 0, OFF(verify_exempt_time), "1h",
	    0, 30 * 86400,
	    "A source (an IPv4 address, an IPv6 /64) whose claim of a domain was "
	    "verified valid skips verify_rate_per_domain and "
	    "verify_rate_per_source for that domain this long (0: never)." },
	{ "max_pending_per_domain", CK_NUMBER, 0, OFF(max_pending_per_domain),
	    "64", 0, 1000000,
	    "Dialback verifications under way for one claimed domain (0: no "
	    "limit)." },
	{ "verify_failure_cache", CK_SECONDS, 0, OFF(verify_failure_cache),
	    "60s", 0, 86400,
	    "How long a failed dialback verification is answered from memory "
	    "for the same source and domain: an IPv4 address, an IPv6 /64 "
	    "(0: never)." },
	{ "route_idle_time", CK_SECONDS, 0, OFF(route_idle_time), "60s", 1,
	    86400,
	    "A route with no stream, stanza, verification or row in backoff "
	    "is forgotten, with its backoff, after this long unused." },
	{ "max_idle_routes", CK_NUMBER, 0, OFF(max_idle_routes), "1024", 1,
	    1000000,
	    "Such idle routes kept at most; beyond, the least recently used "
	    "are forgotten." },
	{ "header_timeout", CK_SECONDS, 0, OFF(header_timeout), "10s", 1, 30,
	    "An inbound stream whose header does not come this long after the "
	    "connection is cut with connection-timeout (at most 30s)." },
	{ "max_verify_per_target", CK_NUMBER, 0, OFF(max_verify_per_target),
	    "8", 0, 1000000,
	    "Outbound connections opened only to verify dialback keys, in "
	    "their handshake at once, to one address; beyond, the next ones "
	    "wait their turn (0: no limit)." },
	{ "max_verify_wait_per_target", CK_NUMBER, 0,
	    OFF(max_verify_wait_per_target), "64", 0, 1000000,
	    "Verification connections waiting for their turn to one address "
	    "(max_verify_per_target); beyond, the verification gets the "
	    "dialback error resource-constraint, with no backoff." },
	{ "stream_read_rate", CK_SIZE, 0, OFF(stream_read_rate), "1m", 0,
	    1LL << 30,
	    "Bytes a second xfed reads from each stream, with one second of "
	    "burst; above it the socket is not read until the budget returns "
	    "(k and m suffixes; 0: no limit)." },
	{ "block_domain", CK_DOMAIN, CK_REPEAT, OFF(block_domains), NULL, 0, 0,
	    "A remote domain (and its subdomains) refused in both directions "
	    "(repeatable; xfedctl block adds more without a restart)." },
	{ "allow_domain", CK_DOMAIN, CK_REPEAT, OFF(allow_domains), NULL, 0, 0,
	    "When set, only these remote domains (and subdomains) are served "
	    "(repeatable)." },
};
#define NKEYS	(sizeof(conf_keys) / sizeof(conf_keys[0]))

struct conf_ctx {
	const char	*file;
	char		 dir[PATH_MAX];
	int		 line;
	int		 errors;
	void		(*report)(const char *);
};

static void
conf_error(struct conf_ctx *cx, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
conf_error(struct conf_ctx *cx, const char *key, const char *fmt, ...)
{
	char	 msg[512], line[700];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cx->line > 0)
		snprintf(line, sizeof(line), "%s:%d: %s%s%s", cx->file, cx->line,
		    key ? key : "", key ? ": " : "", msg);
	else
		snprintf(line, sizeof(line), "%s: %s%s%s", cx->file,
		    key ? key : "", key ? ": " : "", msg);
	if (cx->report != NULL)
		cx->report(line);
	else
		fprintf(stderr, "%s\n", line);
	cx->errors++;
}

int
conf_addr_parse(const char *s, int defport, struct conf_addr *a,
    const char **errstr)
{
	char			 host[48];
	const char		*p, *port = NULL;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&a->ss;
	long			 n;
	char			*end;
	int			 v6 = 0;

	memset(a, 0, sizeof(*a));
	if (*s == '[') {
		if ((p = strchr(s, ']')) == NULL) {
			*errstr = "missing ] after IPv6 address";
			return -1;
		}
		if ((size_t)(p - s - 1) >= sizeof(host)) {
			*errstr = "address too long";
			return -1;
		}
		memcpy(host, s + 1, p - s - 1);
		host[p - s - 1] = '\0';
		if (p[1] == ':')
			port = p + 2;
		else if (p[1] != '\0') {
			*errstr = "expected :PORT after ]";
			return -1;
		}
		v6 = 1;
	} else {
		p = strrchr(s, ':');
		if (p != NULL && strchr(s, ':') != p) {
			*errstr = "IPv6 addresses must be written in brackets: [ADDR]:PORT";
			return -1;
		}
		n = p ? p - s : (long)strlen(s);
		if ((size_t)n >= sizeof(host)) {
			*errstr = "address too long";
			return -1;
		}
		memcpy(host, s, n);
		host[n] = '\0';
		if (p != NULL)
			port = p + 1;
	}
	if (port == NULL) {
		if (defport == 0) {
			*errstr = "a port is required (ADDR:PORT)";
			return -1;
		}
		n = defport;
	} else {
		errno = 0;
		n = strtol(port, &end, 10);
		if (*port == '\0' || *end != '\0' || errno != 0 || n < 1 ||
		    n > 65535) {
			*errstr = "port must be a number between 1 and 65535";
			return -1;
		}
	}
	if (v6) {
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
			*errstr = "not an IPv6 address";
			return -1;
		}
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(n);
		a->len = sizeof(*sin6);
		snprintf(a->text, sizeof(a->text), "[%s]:%ld", host, n);
	} else {
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
			*errstr = "not an IPv4 address (IPv6 goes in brackets)";
			return -1;
		}
		sin->sin_family = AF_INET;
		sin->sin_port = htons(n);
		a->len = sizeof(*sin);
		snprintf(a->text, sizeof(a->text), "%s:%ld", host, n);
	}
	return 0;
}

/* 1 when the array of strings a holds s. */
static int
conf_arr_has(const struct conf_arr *a, const char *s)
{
	size_t	 i;

	for (i = 0; i < a->n; i++)
		if (strcmp(((char **)a->v)[i], s) == 0)
			return 1;
	return 0;
}

static void *
conf_arr_add(struct conf_arr *arr, size_t size)
{
	char	*p;

	arr->v = xreallocarray(arr->v, arr->n + 1, size);
	p = (char *)arr->v + arr->n * size;
	memset(p, 0, size);
	arr->n++;
	return p;
}

static int
conf_number(const char *v, const char *units, const long long *mult,
    long long *out)
{
	char		*end;
	long long	 n;
	const char	*u;

	if (!isdigit((unsigned char)*v))
		return -1;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0)
		return -1;
	if (*end != '\0') {
		if (end[1] != '\0' || (u = strchr(units, tolower((unsigned char)*end))) == NULL)
			return -1;
		if (n > LLONG_MAX / mult[u - units])
			return -1;
		n *= mult[u - units];
	}
	*out = n;
	return 0;
}

static char *
conf_path(struct conf_ctx *cx, const char *v)
{
	char	*p;

	/* absolute, or a URI (the store's postgresql://) */
	if (v[0] == '/' || cx->dir[0] == '\0' || strstr(v, "://") != NULL)
		return xstrdup(v);
	xasprintf(&p, "%s/%s", cx->dir, v);
	return p;
}

static int
conf_domain(struct conf_ctx *cx, const char *key, const char *v, char **out)
{
	char		 buf[JID_PART_MAX + 1];
	const char	*errstr;

	if (jid_prep_domain(v, buf, sizeof(buf), &errstr) == -1) {
		conf_error(cx, key, "invalid domain \"%s\": %s", v, errstr);
		return -1;
	}
	*out = xstrdup(buf);
	return 0;
}

/* Parses one value of key k into c. */
static void
conf_set(struct conf_ctx *cx, struct conf *c, const struct conf_key *k,
    char *v)
{
	static const long long	 bytes[] = { 1024, 1024 * 1024 };
	static const long long	 secs[] = { 1, 60, 3600, 86400 };
	void			*field = (char *)c + k->off;
	const char		*errstr;
	struct conf_addr	 a;
	struct conf_route	*r;
	long long		 n;
	char			*sp, *d;
	enum log_level		 lvl;

	switch (k->kind) {
	case CK_STRING:
	case CK_PATH:
		if (*(char **)field != NULL) {
			conf_error(cx, k->name, "set more than once");
			return;
		}
		*(char **)field = k->kind == CK_PATH ? conf_path(cx, v) :
		    xstrdup(v);
		return;
	case CK_BOOL:
		if (strcmp(v, "yes") == 0)
			*(int *)field = 1;
		else if (strcmp(v, "no") == 0)
			*(int *)field = 0;
		else
			conf_error(cx, k->name, "expected yes or no, not \"%s\"", v);
		return;
	case CK_SIZE:
	case CK_SECONDS:
	case CK_NUMBER:
		if (k->kind == CK_SIZE ? conf_number(v, "km", bytes, &n) :
		    k->kind == CK_NUMBER ? conf_number(v, "", NULL, &n) :
		    conf_number(v, "smhd", secs, &n)) {
			conf_error(cx, k->name, "\"%s\" is not a %s", v,
			    k->kind == CK_SIZE ? "size (bytes, or with k or m)" :
			    k->kind == CK_NUMBER ? "number" :
			    "duration (seconds, or with s, m, h or d)");
			return;
		}
		if (n < k->min || n > k->max) {
			conf_error(cx, k->name, "must be between %lld and %lld%s",
			    k->min, k->max, k->kind == CK_SIZE ? " bytes" :
			    k->kind == CK_NUMBER ? "" : " seconds");
			return;
		}
		*(long long *)field = n;
		return;
	case CK_LEVEL:
		if (log_level_parse(v, &lvl) == -1)
			conf_error(cx, k->name,
			    "expected error, warn, info or debug, not \"%s\"", v);
		else
			*(int *)field = lvl;
		return;
	case CK_DOMAIN:
		if (conf_domain(cx, k->name, v, &d) == -1)
			return;
		if (conf_arr_has(field, d)) {
			conf_error(cx, k->name, "%s is listed twice", d);
			free(d);
			return;
		}
		*(char **)conf_arr_add(field, sizeof(char *)) = d;
		return;
	case CK_LISTEN:
	case CK_RESOLVER:
		if (conf_addr_parse(v, k->kind == CK_RESOLVER ? 53 : 0, &a,
		    &errstr) == -1) {
			conf_error(cx, k->name, "\"%s\": %s", v, errstr);
			return;
		}
		*(struct conf_addr *)conf_arr_add(field, sizeof(a)) = a;
		return;
	case CK_TLSDOM:
		{
			char			*f[3], *save = NULL;
			struct conf_tlsdom	*t;
			int			 nf = 0;

			for (sp = strtok_r(v, " \t", &save); sp != NULL && nf < 3;
			    sp = strtok_r(NULL, " \t", &save))
				f[nf++] = sp;
			if (nf != 3 || sp != NULL) {
				conf_error(cx, k->name, "expected DOMAIN CERT KEY");
				return;
			}
			if (conf_domain(cx, k->name, f[0], &d) == -1)
				return;
			t = conf_arr_add(field, sizeof(*t));
			t->domain = d;
			t->cert = conf_path(cx, f[1]);
			t->key = conf_path(cx, f[2]);
		}
		return;
	case CK_WEBHOOK:
		{
			struct conf_webhook	*w;

			if ((sp = strpbrk(v, " \t")) != NULL) {
				*sp++ = '\0';
				sp += strspn(sp, " \t");
				if (strpbrk(sp, " \t") != NULL) {
					conf_error(cx, k->name,
					    "expected URL [SECRET]");
					return;
				}
			}
			if ((strncmp(v, "http://", 7) != 0 &&
			    strncmp(v, "https://", 8) != 0) ||
			    v[strcspn(v, ":") + 3] == '\0') {
				conf_error(cx, k->name, "\"%s\": the URL must "
				    "start with http:// or https://", v);
				return;
			}
			w = conf_arr_add(field, sizeof(*w));
			w->url = xstrdup(v);
			w->secret = sp != NULL ? xstrdup(sp) : NULL;
		}
		return;
	case CK_ROUTE:
		if ((sp = strpbrk(v, " \t")) == NULL) {
			conf_error(cx, k->name, "expected DOMAIN HOST:PORT");
			return;
		}
		*sp++ = '\0';
		sp += strspn(sp, " \t");
		if (conf_domain(cx, k->name, v, &d) == -1)
			return;
		{
			char	*colon = strrchr(sp, ':'), *end;
			long	 port;

			if (colon == NULL || colon == sp) {
				conf_error(cx, k->name, "expected HOST:PORT, not \"%s\"", sp);
				free(d);
				return;
			}
			errno = 0;
			port = strtol(colon + 1, &end, 10);
			if (colon[1] == '\0' || *end != '\0' || errno || port < 1 ||
			    port > 65535) {
				conf_error(cx, k->name,
				    "port must be a number between 1 and 65535");
				free(d);
				return;
			}
			*colon = '\0';
			if (*sp == '[' && colon[-1] == ']') {
				colon[-1] = '\0';
				sp++;
			}
			r = conf_arr_add(field, sizeof(*r));
			r->domain = d;
			r->host = xstrdup(sp);
			r->port = (int)port;
		}
		return;
	}
}

static const struct conf_key *
conf_key_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(conf_keys[i].name, name) == 0)
			return &conf_keys[i];
	return NULL;
}

struct conf *
conf_parse(const char *path, const char *buf, size_t len,
    void (*report)(const char *))
{
	struct conf_ctx		 cx;
	struct conf		*c = xcalloc(1, sizeof(*c));
	const struct conf_key	*k;
	unsigned char		 seen[NKEYS];
	const char		*p = buf, *end = buf + len, *nl, *sl;
	char			 line[4096], *key, *val, *e;
	size_t			 n, i;

	memset(&cx, 0, sizeof(cx));
	memset(seen, 0, sizeof(seen));
	cx.file = path;
	cx.report = report;
	if ((sl = strrchr(path, '/')) != NULL && (size_t)(sl - path) < sizeof(cx.dir))
		memcpy(cx.dir, path, sl != path ? (size_t)(sl - path) : 1);
	c->path = xstrdup(path);

	for (cx.line = 1; p < end; cx.line++, p = nl + 1) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		n = nl - p;
		if (n >= sizeof(line)) {
			conf_error(&cx, NULL, "line longer than %zu bytes",
			    sizeof(line) - 1);
			continue;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		if (memchr(line, '\0', n) != NULL) {
			conf_error(&cx, NULL, "NUL byte in line");
			continue;
		}
		if ((e = strchr(line, '#')) != NULL)
			*e = '\0';
		key = line + strspn(line, " \t\r");
		for (e = key + strlen(key); e > key && isspace((unsigned char)e[-1]); e--)
			*--e = '\0';
		if (*key == '\0')
			continue;
		val = key + strcspn(key, " \t");
		if (*val != '\0') {
			*val++ = '\0';
			val += strspn(val, " \t");
		}
		if ((k = conf_key_find(key)) == NULL) {
			conf_error(&cx, NULL, "unknown key \"%s\"", key);
			continue;
		}
		if (*val == '\0') {
			conf_error(&cx, k->name, "missing value");
			continue;
		}
		i = k - conf_keys;
		if (seen[i] && !(k->flags & CK_REPEAT) && k->kind != CK_STRING &&
		    k->kind != CK_PATH) {
			conf_error(&cx, k->name, "set more than once");
			continue;
		}
		seen[i] = 1;
		conf_set(&cx, c, k, val);
	}

	/* Defaults for what the file left unset, parsed like values. */
	cx.line = 0;
	cx.dir[0] = '\0';
	for (i = 0; i < NKEYS; i++) {
		if (seen[i] || conf_keys[i].def == NULL)
			continue;
		snprintf(line, sizeof(line), "%s", conf_keys[i].def);
		conf_set(&cx, c, &conf_keys[i], line);
	}
	if (c->domains.n == 0)
		conf_error(&cx, NULL, "no domain configured (add a \"domain\" line)");
	if (c->instance_name != NULL && strlen(c->instance_name) > 255)
		conf_error(&cx, NULL, "instance_name is longer than 255 bytes");
	if ((c->tls_certificate == NULL) != (c->tls_key == NULL))
		conf_error(&cx, NULL, "tls_certificate and tls_key go together");
	else if (c->tls_certificate == NULL && c->tls_domains.n == 0 &&
	    c->require_encryption)
		conf_error(&cx, NULL, "require_encryption is yes (the default): "
		    "set tls_certificate and tls_key, or require_encryption no");
	if (c->tls_certificate == NULL && c->http_listens_tls.n)
		conf_error(&cx, NULL, "http_listen_tls needs tls_certificate "
		    "and tls_key");
	if (c->tls_certificate == NULL && c->tls_domains.n == 0 &&
	    (c->secure_auth || c->listens_tls.n))
		conf_error(&cx, NULL, "secure_auth and listen_tls need "
		    "tls_certificate and tls_key");
	if (cx.errors) {
		conf_free(c);
		return NULL;
	}
	return c;
}

struct conf *
conf_load(const char *path, void (*report)(const char *))
{
	FILE		*f;
	char		*buf = NULL, msg[PATH_MAX + 128];
	size_t		 len = 0, cap = 0, n;
	struct conf	*c;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(msg, sizeof(msg), "%s: %s", path, strerror(errno));
		if (report)
			report(msg);
		else
			fprintf(stderr, "%s\n", msg);
		return NULL;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= (1 << 20)) {
				snprintf(msg, sizeof(msg), "%s: file larger than 1 MiB", path);
				report ? report(msg) : (void)fprintf(stderr, "%s\n", msg);
				free(buf);
				fclose(f);
				return NULL;
			}
			cap = cap ? cap * 2 : 4096;
			buf = xreallocarray(buf, cap, 1);
		}
		if ((n = fread(buf + len, 1, cap - len, f)) == 0)
			break;
		len += n;
	}
	fclose(f);
	c = conf_parse(path, buf ? buf : "", len, report);
	free(buf);
	return c;
}

void
conf_free(struct conf *c)
{
	size_t	 i;

	if (c == NULL)
		return;
	for (i = 0; i < c->domains.n; i++)
		free(CONF_DOMAIN(c, i));
	for (i = 0; i < c->tls_domains.n; i++) {
		free(CONF_TLSDOM(c, i)->domain);
		free(CONF_TLSDOM(c, i)->cert);
		free(CONF_TLSDOM(c, i)->key);
	}
	free(c->tls_domains.v);
	for (i = 0; i < c->routes.n; i++) {
		free(CONF_ROUTE(c, i)->domain);
		free(CONF_ROUTE(c, i)->host);
	}
	for (i = 0; i < c->webhooks.n; i++) {
		free(CONF_WEBHOOK(c, i)->url);
		free(CONF_WEBHOOK(c, i)->secret);
	}
	free(c->webhooks.v);
	free(c->http_listens.v);
	free(c->http_listens_tls.v);
	free(c->http_socket);
	for (i = 0; i < c->block_domains.n; i++)
		free(CONF_BLOCK_DOMAIN(c, i));
	for (i = 0; i < c->allow_domains.n; i++)
		free(CONF_ALLOW_DOMAIN(c, i));
	free(c->block_domains.v);
	free(c->allow_domains.v);
	free(c->domains.v);
	free(c->routes.v);
	free(c->listens.v);
	free(c->listens_tls.v);
	free(c->tls_ca_file);
	free(c->resolvers.v);
	free(c->path);
	free(c->store);
	free(c->tls_certificate);
	free(c->tls_key);
	free(c->dialback_secret);
	free(c->instance_name);
	free(c->control_socket);
	free(c);
}

int
conf_is_hosted(const struct conf *c, const char *domain)
{
	return conf_arr_has(&c->domains, domain);
}

void
conf_print_sample(FILE *f)
{
	size_t	 i;

	fprintf(f, "# xfed.conf: one \"key value\" per line; # starts a comment.\n"
	    "# Relative paths are taken from this file's directory.\n");
	for (i = 0; i < NKEYS; i++) {
		fprintf(f, "\n# %s%s\n", conf_keys[i].help,
		    conf_keys[i].flags & CK_REPEAT ? " [repeatable]" : "");
		if (conf_keys[i].def != NULL)
			fprintf(f, "#%s %s\n", conf_keys[i].name, conf_keys[i].def);
		else
			fprintf(f, "#%s\n", conf_keys[i].name);
	}
}
