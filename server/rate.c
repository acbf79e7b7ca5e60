/*
 * server/rate.c: per-remote-domain token buckets. A bucket holds up to two
 * seconds of remote_stanza_rate and refills continuously; a stanza takes
 * one token and may take the bucket below zero, so the answer is how long
 * until it is back at zero: whoever reads that domain's streams waits that
 * long instead of buffering. Buckets that are full again are forgotten
 * when the table grows, so memory follows the domains that are busy.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "hash.h"
#include "log.h"
#include "rate.h"
#include "server.h"
#include "xmalloc.h"

#define RATE_BUCKETS	1024
#define RATE_SWEEP_AT	4096		/* domains before full ones go */
#define RATE_BURST_SECS	2
#define RATE_LOG_MS	10000		/* one "over its rate" line per 10 s */

struct rate_bucket {
	struct rate_bucket	*next;
	double			 tokens;
	int64_t			 last_ms;	/* when tokens was computed */
	int64_t			 logged_ms;
	char			 domain[];
};

static struct rate_bucket	*rate_tab[RATE_BUCKETS];
static size_t			 rate_n;

static int64_t
rate_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Refills b to now; 1 when it is full. */
static int
rate_refill(struct rate_bucket *b, double rate, int64_t now)
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

/* Forgets the buckets that are full: those domains are quiet. */
static void
rate_sweep(double rate, int64_t now)
{
	struct rate_bucket	**pp, *b;
	size_t			  i;

	for (i = 0; i < RATE_BUCKETS; i++)
		for (pp = &rate_tab[i]; (b = *pp) != NULL;) {
			if (rate_refill(b, rate, now)) {
				*pp = b->next;
				free(b);
				rate_n--;
			} else
				pp = &b->next;
		}
}

int
rate_stanza(const char *domain)
{
	struct rate_bucket	*b;
	double			 rate = (double)server->conf->remote_stanza_rate;
	int64_t			 now, ms;
	uint32_t		 h;
	size_t			 n;

	if (rate <= 0)
		return 0;
	now = rate_now_ms();
	h = hash_str(domain) % RATE_BUCKETS;
	for (b = rate_tab[h]; b != NULL; b = b->next)
		if (strcmp(b->domain, domain) == 0)
			break;
	if (b == NULL) {
		if (rate_n >= RATE_SWEEP_AT)
			rate_sweep(rate, now);
		n = strlen(domain) + 1;
		b = xcalloc(1, sizeof(*b) + n);
		memcpy(b->domain, domain, n);
		b->tokens = rate * RATE_BURST_SECS;
		b->last_ms = now;
		b->logged_ms = now - RATE_LOG_MS;
		b->next = rate_tab[h];
		rate_tab[h] = b;
		rate_n++;
	}
	rate_refill(b, rate, now);
	b->tokens -= 1;
	if (b->tokens >= 0)
		return 0;
	ms = (int64_t)(-b->tokens * 1000.0 / rate) + 1;
	if (now - b->logged_ms >= RATE_LOG_MS) {
		log_info("rate: %s over remote_stanza_rate %lld/s: reading its "
		    "streams paused for %lld ms", domain,
		    server->conf->remote_stanza_rate, (long long)ms);
		b->logged_ms = now;
	}
	return ms > 60000 ? 60000 : (int)ms;
}

void
rate_free(void)
{
	struct rate_bucket	*b;
	size_t			 i;

	for (i = 0; i < RATE_BUCKETS; i++)
		while ((b = rate_tab[i]) != NULL) {
			rate_tab[i] = b->next;
			free(b);
		}
	rate_n = 0;
}
