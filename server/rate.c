/*
 * server/rate.c: token buckets keyed by string (rate_bucket_get), and
 * the per-remote-domain stanza rate with them. A bucket holds up to two
 * seconds of remote_stanza_rate and refills continuously; a stanza takes
 * one token and may take the bucket below zero, so the answer is how long
 * until it is back at zero: whoever reads that domain's streams waits that
 * long instead of buffering. Buckets that are full again are forgotten
 * when the table grows, so memory follows the domains that are busy.
 */
#include <stdint.h>
#include <time.h>

#include "conf.h"
#include "log.h"
#include "rate.h"
#include "server.h"
#include "strmap.h"

#define RATE_BUCKETS	1024
#define RATE_SWEEP_AT	4096		/* domains before full ones go */
#define RATE_LOG_MS	10000		/* one "over its rate" line per 10 s */

struct rate_now {
	double			 rate;
	int64_t			 ms;
};

static struct strmap		 rate_domains;

int64_t
rate_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
rate_bucket_refill(struct rate_bucket *b, double rate, int64_t now)
{
	double	 burst = rate * RATE_BURST_SECS;

	b->tokens += (double)(now - b->last_ms) * rate / 1000.0;
	b->last_ms = now;
	if (b->tokens >= burst) {
		b->tokens = burst;
		return 1;
	}
	return 0;
}

/* The buckets that are full again: those domains are quiet. */
static int
rate_full(void *data, void *arg)
{
	struct rate_now	*now = arg;

	return rate_bucket_refill(data, now->rate, now->ms);
}

struct rate_bucket *
rate_bucket_get(struct strmap *m, const char *key, double rate,
    int64_t now_ms)
{
	struct rate_bucket	*b;
	struct rate_now		 now;

	now.rate = rate;
	now.ms = now_ms;
	if (m->tab == NULL)
		strmap_init(m, RATE_BUCKETS);
	if ((b = strmap_get(m, key, 0)) == NULL) {
		if (m->n >= RATE_SWEEP_AT)
			strmap_sweep(m, rate_full, &now);
		b = strmap_get(m, key, sizeof(*b));
		b->tokens = rate * RATE_BURST_SECS;
		b->last_ms = now_ms;
		b->logged_ms = now_ms - RATE_LOG_MS;
	} else
		rate_bucket_refill(b, rate, now_ms);
	return b;
}

int
rate_stanza(const char *domain)
{
	struct rate_bucket	*b;
	struct rate_now		 now;
	int64_t			 ms;

	now.rate = (double)server->conf->remote_stanza_rate;
	if (now.rate <= 0)
		return 0;
	now.ms = rate_now_ms();
	b = rate_bucket_get(&rate_domains, domain, now.rate, now.ms);
	b->tokens -= 1;
	if (b->tokens >= 0)
		return 0;
	ms = (int64_t)(-b->tokens * 1000.0 / now.rate) + 1;
	if (now.ms - b->logged_ms >= RATE_LOG_MS) {
		log_info("rate: %s over remote_stanza_rate %lld/s: reading its "
		    "streams paused for %lld ms", domain,
		    server->conf->remote_stanza_rate, (long long)ms);
		b->logged_ms = now.ms;
	}
	return ms > 60000 ? 60000 : (int)ms;
}

void
rate_free(void)
{
	strmap_clear(&rate_domains);
}
