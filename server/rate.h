/*
 * server/rate.h: the stanza rate of each remote domain (a token bucket,
 * remote_stanza_rate a second with two seconds of burst). The streams
 * act on the answer: s2s/in.c stops reading for as long as it says.
 */
#ifndef RATE_H
#define RATE_H

#include <stdint.h>

#include "strmap.h"

#define RATE_BURST_SECS	2

struct rate_bucket {
	double			 tokens;
	int64_t			 last_ms;	/* when tokens was computed */
	int64_t			 logged_ms;
};

int64_t	 rate_now_ms(void);
/*
 * The bucket of key in m (initialised here when needed), refilled to
 * now_ms at rate tokens a second up to RATE_BURST_SECS of them; a new
 * one is full. Full buckets are forgotten when m grows large, so memory
 * follows the keys that are busy.
 */
struct rate_bucket *rate_bucket_get(struct strmap *m, const char *key,
	    double rate, int64_t now_ms);

/* Refills b to now_ms at rate tokens a second, up to RATE_BURST_SECS of
 * them; 1 when it is full. */
int	 rate_bucket_refill(struct rate_bucket *b, double rate, int64_t now_ms);

/*
 * Counts one stanza from the prepared remote domain: 0 while the domain
 * is within its rate, else the milliseconds until it is again.
 */
int	 rate_stanza(const char *domain);
void	 rate_free(void);

#endif
