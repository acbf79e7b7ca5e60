/*
 * server/metrics.c: counters and the /metrics text (metrics.h). Names
 * follow the Prometheus conventions: a unit suffix (_seconds, _rows,
 * _events), counters end in _total, label values escaped.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "el.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "server.h"
#include "store.h"
#include "webhook.h"

#define METRICS_KINDS	4

static const char *const metrics_kinds[METRICS_KINDS] = {
	"message", "presence", "iq", "other",
};
static const double metrics_commit_le[] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
};
static const double metrics_batch_le[] = {
	1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000,
};
#define NCOMMIT_LE	(sizeof(metrics_commit_le) / sizeof(double))
#define NBATCH_LE	(sizeof(metrics_batch_le) / sizeof(double))

static struct {
	uint64_t	 stanzas[2][METRICS_KINDS];
	uint64_t	 commit_bucket[NCOMMIT_LE];
	uint64_t	 commit_n;
	double		 commit_sum;
	uint64_t	 batch_bucket[NBATCH_LE];
	double		 batch_sum;
	uint64_t	 commit_failures;
	uint64_t	 dialback[2][3];	/* valid, invalid, error */
	uint64_t	 sasl[2][2];		/* success, failure */
} metrics;
static struct metrics_hooks	 metrics_hooks;
static int			 metrics_om;	/* OpenMetrics 1.0 this time */

void
metrics_init(const struct metrics_hooks *h)
{
	metrics_hooks = *h;
}

void
metrics_stanza(enum metrics_dir dir, const struct el *st)
{
	int	 k = 3;

	if (el_is(st, EL_NS_SERVER, "message"))
		k = 0;
	else if (el_is(st, EL_NS_SERVER, "presence"))
		k = 1;
	else if (el_is(st, EL_NS_SERVER, "iq"))
		k = 2;
	metrics.stanzas[dir][k]++;
}

void
metrics_dialback(enum metrics_dir dir, int valid)
{
	metrics.dialback[dir][valid == 1 ? 0 : valid == 0 ? 1 : 2]++;
}

void
metrics_sasl(enum metrics_dir dir, int success)
{
	metrics.sasl[dir][success ? 0 : 1]++;
}

void
metrics_commit(double secs, uint64_t writes, int ok)
{
	size_t	 i;

	if (!ok) {
		metrics.commit_failures++;
		return;
	}
	metrics.commit_n++;
	metrics.commit_sum += secs;
	metrics.batch_sum += (double)writes;
	for (i = 0; i < NCOMMIT_LE; i++)
		if (secs <= metrics_commit_le[i])
			metrics.commit_bucket[i]++;
	for (i = 0; i < NBATCH_LE; i++)
		if ((double)writes <= metrics_batch_le[i])
			metrics.batch_bucket[i]++;
}

/* In OpenMetrics a counter's family drops the _total of its sample. */
static void
metrics_head(struct evbuffer *b, const char *name, const char *type,
    const char *help)
{
	size_t	 n = strlen(name);

	if (metrics_om && strcmp(type, "counter") == 0 && n > 6 &&
	    strcmp(name + n - 6, "_total") == 0)
		n -= 6;
	evbuffer_add_printf(b, "# HELP %.*s %s\n# TYPE %.*s %s\n", (int)n, name,
	    help, (int)n, name, type);
}

/* A label value with \, " and newlines escaped. */
static void
metrics_label(struct evbuffer *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			evbuffer_add_printf(b, "\\%c", *v);
		else if (*v == '\n')
			evbuffer_add(b, "\\n", 2);
		else
			evbuffer_add(b, v, 1);
	}
}

static void
metrics_histogram(struct evbuffer *b, const char *name, const double *le,
    const uint64_t *bucket, size_t n, double sum, uint64_t count)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		evbuffer_add_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name,
		    le[i], (unsigned long long)bucket[i]);
	evbuffer_add_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n"
	    "%s_count %llu\n", name, (unsigned long long)count, name, sum, name,
	    (unsigned long long)count);
}

/* Streams, grouped by (direction, auth, tls). */
struct metrics_streams {
	struct {
		char	 dir[8], auth[16];
		int	 tls;
		uint64_t n;
	}	 g[24];
	size_t	 n;
};

static void
metrics_stream_one(void *arg, const char *dir, const char *auth, int tls)
{
	struct metrics_streams	*ms = arg;
	size_t			 i;

	for (i = 0; i < ms->n; i++)
		if (strcmp(ms->g[i].dir, dir) == 0 &&
		    strcmp(ms->g[i].auth, auth) == 0 && ms->g[i].tls == tls) {
			ms->g[i].n++;
			return;
		}
	if (ms->n == sizeof(ms->g) / sizeof(ms->g[0]))
		return;
	snprintf(ms->g[i].dir, sizeof(ms->g[i].dir), "%s", dir);
	snprintf(ms->g[i].auth, sizeof(ms->g[i].auth), "%s", auth);
	ms->g[i].tls = tls;
	ms->g[i].n = 1;
	ms->n++;
}

static void
metrics_outbox_cb(void *arg, const char *state, const char *stage, int64_t n)
{
	struct evbuffer	*b = arg;

	evbuffer_add_printf(b, "xfed_outbox_rows{state=\"");
	metrics_label(b, state);
	evbuffer_add_printf(b, "\",error_stage=\"");
	metrics_label(b, stage);
	evbuffer_add_printf(b, "\"} %lld\n", (long long)n);
}

static void
metrics_webhook_cb(void *arg, const struct webhook_info *w)
{
	struct evbuffer	*b = arg;

	evbuffer_add_printf(b, "xfed_webhook_backlog_events{url=\"");
	metrics_label(b, w->url);
	evbuffer_add_printf(b, "\"} %lld\n", (long long)w->backlog);
}

static void
metrics_webhook_fail_cb(void *arg, const struct webhook_info *w)
{
	struct evbuffer	*b = arg;

	evbuffer_add_printf(b, "xfed_webhook_failing_attempts{url=\"");
	metrics_label(b, w->url);
	evbuffer_add_printf(b, "\"} %d\n", w->failures);
}

void
metrics_write(struct evbuffer *b, int openmetrics)
{
	struct metrics_streams	 ms;
	struct store_stats	 ss;
	struct http_stats	 hs;
	int64_t			 v;
	size_t			 i, d;

	metrics_head(b, "xfed_start_time_seconds", "gauge",
	    "When the daemon started, Unix seconds.");
	evbuffer_add_printf(b, "xfed_start_time_seconds %lld\n",
	    (long long)server->started);

	metrics_om = openmetrics;
	memset(&ms, 0, sizeof(ms));
	if (metrics_hooks.streams != NULL)
		metrics_hooks.streams(metrics_stream_one, &ms);
	metrics_head(b, "xfed_streams", "gauge",
	    "Open S2S streams by direction, authentication and TLS.");
	for (i = 0; i < ms.n; i++)
		evbuffer_add_printf(b, "xfed_streams{direction=\"%s\",auth=\"%s\","
		    "tls=\"%s\"} %llu\n", ms.g[i].dir, ms.g[i].auth,
		    ms.g[i].tls ? "yes" : "no", (unsigned long long)ms.g[i].n);

	metrics_head(b, "xfed_stanzas_total", "counter",
	    "Stanzas routed in (to hosted domains) and out, by kind.");
	for (d = 0; d < 2; d++)
		for (i = 0; i < METRICS_KINDS; i++)
			evbuffer_add_printf(b, "xfed_stanzas_total{direction="
			    "\"%s\",kind=\"%s\"} %llu\n", d ? "out" : "in",
			    metrics_kinds[i],
			    (unsigned long long)metrics.stanzas[d][i]);

	metrics_head(b, "xfed_dialback_results_total", "counter",
	    "Dialback verdicts on domain pairs: in, on inbound streams (the "
	    "authoritative server's answer); out, the peer's answer to ours.");
	for (d = 0; d < 2; d++)
		for (i = 0; i < 3; i++)
			evbuffer_add_printf(b, "xfed_dialback_results_total{"
			    "direction=\"%s\",result=\"%s\"} %llu\n",
			    d ? "out" : "in", i == 0 ? "valid" : i == 1 ?
			    "invalid" : "error",
			    (unsigned long long)metrics.dialback[d][i]);
	metrics_head(b, "xfed_sasl_external_total", "counter",
	    "SASL EXTERNAL attempts: in, peers' we judged; out, ours.");
	for (d = 0; d < 2; d++)
		for (i = 0; i < 2; i++)
			evbuffer_add_printf(b, "xfed_sasl_external_total{"
			    "direction=\"%s\",result=\"%s\"} %llu\n",
			    d ? "out" : "in", i == 0 ? "success" : "failure",
			    (unsigned long long)metrics.sasl[d][i]);

	if (metrics_hooks.dns != NULL) {
		uint64_t	 look = 0, bad = 0;

		metrics_hooks.dns(&look, &bad);
		metrics_head(b, "xfed_dns_lookups_total", "counter",
		    "DNS lookups of peer domains (SRV, then addresses).");
		evbuffer_add_printf(b, "xfed_dns_lookups_total %llu\n",
		    (unsigned long long)look);
		metrics_head(b, "xfed_dns_failures_total", "counter",
		    "DNS lookups of peer domains that found no address.");
		evbuffer_add_printf(b, "xfed_dns_failures_total %llu\n",
		    (unsigned long long)bad);
	}

	metrics_head(b, "xfed_outbox_rows", "gauge",
	    "Outbox rows by state and error stage (\"\" when none).");
	if (store_outbox_counts(server->store, metrics_outbox_cb, b) == -1)
		log_warnx("metrics: %s", store_errstr(server->store));
	metrics_head(b, "xfed_outbox_oldest_queued_age_seconds", "gauge",
	    "Age of the oldest queued outbox row (0 when none).");
	if (store_outbox_oldest(server->store, &v) == -1)
		v = 0;
	evbuffer_add_printf(b, "xfed_outbox_oldest_queued_age_seconds %lld\n",
	    v ? (long long)(time(NULL) - v) : 0LL);
	metrics_head(b, "xfed_inbox_unconsumed_rows", "gauge",
	    "Inbox entries not consumed yet.");
	if (store_inbox_unconsumed_all(server->store, &v) == -1)
		v = 0;
	evbuffer_add_printf(b, "xfed_inbox_unconsumed_rows %lld\n",
	    (long long)v);

	metrics_head(b, "xfed_store_commit_duration_seconds", "histogram",
	    "Time of each batch commit of the daemon.");
	metrics_histogram(b, "xfed_store_commit_duration_seconds",
	    metrics_commit_le, metrics.commit_bucket, NCOMMIT_LE,
	    metrics.commit_sum, metrics.commit_n);
	metrics_head(b, "xfed_store_batch_writes", "histogram",
	    "Write statements per batch commit.");
	metrics_histogram(b, "xfed_store_batch_writes", metrics_batch_le,
	    metrics.batch_bucket, NBATCH_LE, metrics.batch_sum,
	    metrics.commit_n);
	store_stats(server->store, &ss);
	metrics_head(b, "xfed_store_failures_total", "counter",
	    "Store statements and commits that failed.");
	evbuffer_add_printf(b, "xfed_store_failures_total %llu\n",
	    (unsigned long long)(ss.failures + metrics.commit_failures));

	metrics_head(b, "xfed_webhook_backlog_events", "gauge",
	    "Events not yet delivered to each webhook.");
	webhook_foreach(metrics_webhook_cb, b);
	metrics_head(b, "xfed_webhook_failing_attempts", "gauge",
	    "Delivery attempts to each webhook failed in a row.");
	webhook_foreach(metrics_webhook_fail_cb, b);
	if (store_event_last(server->store, &v) == 0) {
		metrics_head(b, "xfed_events_last_id", "gauge",
		    "Id of the newest event in the journal.");
		evbuffer_add_printf(b, "xfed_events_last_id %lld\n",
		    (long long)v);
	}

	http_stats(&hs);
	metrics_head(b, "xfed_http_connections", "gauge",
	    "Open HTTP API connections.");
	evbuffer_add_printf(b, "xfed_http_connections %zu\n", hs.connections);
	metrics_head(b, "xfed_http_long_polls", "gauge",
	    "GET /v1/events requests waiting for events.");
	evbuffer_add_printf(b, "xfed_http_long_polls %zu\n", hs.long_polls);
	metrics_head(b, "xfed_http_events_queries_total", "counter",
	    "Store reads of events for GET /v1/events (one a commit for all "
	    "the waiting requests).");
	evbuffer_add_printf(b, "xfed_http_events_queries_total %llu\n",
	    (unsigned long long)hs.events_queries);
	if (openmetrics)
		evbuffer_add_printf(b, "# EOF\n");
}
