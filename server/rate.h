/*
 * server/rate.h: the stanza rate of each remote domain (a token bucket,
 * remote_stanza_rate a second with two seconds of burst). The streams
 * act on the answer: s2s/in.c stops reading for as long as it says.
 */
#ifndef RATE_H
#define RATE_H

/*
 * Counts one stanza from the prepared remote domain: 0 while the domain
 * is within its rate, else the milliseconds until it is again.
 */
int	 rate_stanza(const char *domain);
void	 rate_free(void);

#endif
