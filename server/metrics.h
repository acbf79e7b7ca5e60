/*
 * server/metrics.c: the daemon's counters and GET /metrics, in the
 * Prometheus text format 0.0.4 (which promtool checks) or, when the
 * scraper asks for it, OpenMetrics 1.0. Counters are
 * bumped where things happen (router.c, xfed.c's commits); figures kept
 * elsewhere (streams, the store, webhooks) are read when scraped, through
 * hooks, so server/ depends on no layer above it.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stdint.h>

struct el;
struct evbuffer;

enum metrics_dir {
	METRICS_IN = 0,
	METRICS_OUT,
};

/* One stream, as the streams hook reports it. */
typedef void	(*metrics_stream_cb)(void *, const char *direction,
		    const char *auth, int tls);

struct metrics_hooks {
	/* Calls cb once per open S2S stream. */
	void	(*streams)(metrics_stream_cb cb, void *arg);
	/* DNS lookups of peers started, and those that found no address. */
	void	(*dns)(uint64_t *lookups, uint64_t *failures);
};

void	 metrics_init(const struct metrics_hooks *);
/* A stanza routed in (delivered to a hosted domain) or sent out. */
void	 metrics_stanza(enum metrics_dir, const struct el *stanza);
/* A dialback verdict on a domain pair: in, on an inbound stream (the
 * authoritative server's answer to our db:verify); out, the peer's answer
 * to our db:result. valid: 1 valid, 0 invalid, -1 error (or no answer). */
void	 metrics_dialback(enum metrics_dir, int valid);
/* A SASL EXTERNAL attempt (XEP-0178): in, a peer's we judged; out, ours
 * the peer judged. */
void	 metrics_sasl(enum metrics_dir, int success);
/* A batch commit of the daemon: its time, its writes, whether it held. */
void	 metrics_commit(double secs, uint64_t writes, int ok);
/* The whole exposition into buf: the Prometheus text format 0.0.4, or
 * OpenMetrics 1.0 when openmetrics is set. */
void	 metrics_write(struct evbuffer *buf, int openmetrics);

#endif
