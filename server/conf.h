/*
 * server/conf.h: the configuration, parsed from "key value" lines into a
 * struct conf. One table in conf.c declares every key; the parser, xfed -t,
 * xfed -p (the sample config) and the README's key list follow from it.
 */
#ifndef CONF_H
#define CONF_H

#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>

#include "log.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR	"/etc"
#endif
#define CONF_DEFAULT_PATH	SYSCONFDIR "/xfed/xfed.conf"
#define CONF_MIN_STANZA_SIZE	10000	/* RFC 6120 13.12 */

struct conf_addr {
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	char			 text[80];	/* as written: [::1]:5269 */
};

struct conf_route {
	char		*domain;	/* remote domain, prepared */
	char		*host;		/* host name or address to connect to */
	int		 port;
};

struct conf_tlsdom {
	char		*domain;	/* a hosted domain, prepared */
	char		*cert, *key;	/* paths */
};

struct conf_webhook {
	char		*url;		/* http:// or https:// */
	char		*secret;	/* HMAC key, NULL: unsigned */
};

struct conf_arr {
	void		*v;
	size_t		 n;
};

struct conf {
	char		*path;			/* the file this came from */
	struct conf_arr	 domains;		/* char *, prepared */
	struct conf_arr	 listens;		/* struct conf_addr */
	char		*store;
	int		 store_group_write;
	char		*tls_certificate;
	char		*tls_key;
	char		*tls_ca_file;
	struct conf_arr	 tls_domains;		/* struct conf_tlsdom */
	struct conf_arr	 listens_tls;		/* struct conf_addr */
	int		 require_encryption;
	int		 secure_auth;
	char		*dialback_secret;
	char		*instance_name;		/* NULL: host name and pid */
	long long	 lease_time;		/* seconds */
	char		*control_socket;
	int		 log_level;		/* enum log_level */
	int		 log_stanzas;
	struct conf_arr	 routes;		/* struct conf_route */
	struct conf_arr	 resolvers;		/* struct conf_addr */
	long long	 max_stanza_size;	/* bytes */
	long long	 max_unauth_stanza_size; /* bytes, before authentication */
	long long	 outbound_retry_for;	/* seconds */
	long long	 outbound_backoff_min;	/* seconds */
	long long	 idle_timeout;		/* seconds */
	long long	 store_wait;		/* seconds */
	struct conf_arr	 http_listens;		/* struct conf_addr */
	struct conf_arr	 http_listens_tls;	/* struct conf_addr */
	char		*http_socket;
	long long	 http_max_body;		/* bytes */
	long long	 http_rate;		/* requests a second, per token */
	long long	 http_max_wait;		/* seconds of long polling */
	long long	 http_max_conns;	/* open connections */
	long long	 http_max_conns_source;	/* from one address */
	long long	 http_header_timeout;	/* seconds for a request */
	struct conf_arr	 webhooks;		/* struct conf_webhook */
	long long	 webhook_timeout;	/* seconds */
	long long	 webhook_backoff_max;	/* seconds */
	long long	 events_keep;		/* seconds */
	int		 events_journal;	/* kept without http/webhooks */
	int		 version_reply;		/* XEP-0092 at the domains */
	int		 version_os;		/* ... with <os/> */
	int		 receipts;		/* XEP-0184 on consume */
	long long	 inbox_quota;		/* unconsumed rows a user */
	long long	 inbox_retention;	/* seconds, 0: keep */
	long long	 outbox_retention;	/* seconds, 0: keep */
	long long	 journal_retention;	/* seconds */
	long long	 remote_stanza_rate;	/* stanzas/s per remote domain */
	long long	 max_unauth_streams;	/* unauthenticated, in all */
	long long	 max_unauth_per_ip;
	long long	 max_unauth_per_net;	/* per IPv6 /64 */
	long long	 max_pending_per_ip;	/* dialback verifications */
	long long	 max_pending_per_net;	/* the same per IPv6 /64 */
	long long	 verify_rate_per_domain; /* a second, per claimed domain */
	long long	 verify_rate_per_source; /* the same, one network's share */
	long long	 verify_source_prefix4;	/* that network: IPv4 prefix length */
	long long	 verify_source_prefix6;	/* the same for IPv6 */
	long long	 verify_exempt_time;	/* seconds, after a valid verdict */
	long long	 max_pending_per_domain;
	long long	 verify_failure_cache;	/* seconds */
	long long	 route_idle_time;	/* seconds, an idle route kept */
	long long	 max_idle_routes;
	long long	 header_timeout;	/* seconds, accept to header */
	long long	 stream_read_rate;	/* bytes/s a stream, 0: no cap */
	long long	 max_verify_per_target;	/* verification connections */
	long long	 max_verify_wait_per_target; /* streams queued for one */
	struct conf_arr	 block_domains;		/* char *, prepared */
	struct conf_arr	 allow_domains;		/* char *, prepared */
};

#define CONF_DOMAIN(c, i)	(((char **)(c)->domains.v)[i])
#define CONF_LISTEN(c, i)	(&((struct conf_addr *)(c)->listens.v)[i])
#define CONF_LISTEN_TLS(c, i)	(&((struct conf_addr *)(c)->listens_tls.v)[i])
#define CONF_TLSDOM(c, i)	(&((struct conf_tlsdom *)(c)->tls_domains.v)[i])
#define CONF_ROUTE(c, i)	(&((struct conf_route *)(c)->routes.v)[i])
#define CONF_HTTP(c, i)		(&((struct conf_addr *)(c)->http_listens.v)[i])
#define CONF_HTTP_TLS(c, i)	(&((struct conf_addr *)(c)->http_listens_tls.v)[i])
#define CONF_WEBHOOK(c, i)	(&((struct conf_webhook *)(c)->webhooks.v)[i])
#define CONF_RESOLVER(c, i)	(&((struct conf_addr *)(c)->resolvers.v)[i])
#define CONF_BLOCK_DOMAIN(c, i)	(((char **)(c)->block_domains.v)[i])
#define CONF_ALLOW_DOMAIN(c, i)	(((char **)(c)->allow_domains.v)[i])

/*
 * Parses path into a new conf. Every error is reported as "FILE:LINE: msg"
 * through report (stderr when NULL); on any error the result is NULL.
 */
struct conf	*conf_load(const char *path, void (*report)(const char *));
/* The same, from a buffer; path only names it in messages and sets the
 * directory relative paths are taken from. */
struct conf	*conf_parse(const char *path, const char *buf, size_t len,
		    void (*report)(const char *));
void		 conf_free(struct conf *);
/* Writes a commented sample config with every key and its default. */
void		 conf_print_sample(FILE *);
/* 1 when domain (prepared) is one of ours. */
int		 conf_is_hosted(const struct conf *, const char *domain);
/* Parses "ADDR[:PORT]" or "[ADDR6][:PORT]"; port defaults to defport. */
int		 conf_addr_parse(const char *, int defport, struct conf_addr *,
		    const char **errstr);

#endif
