/*
 * server/webhook.c: every event POSTed to each configured webhook, at
 * least once and in order, from a cursor kept in the store (see the
 * comment at the top of webhook.c for the wire format).
 */
#ifndef WEBHOOK_H
#define WEBHOOK_H

#include <stdint.h>

struct conf;
struct event_base;

struct webhook_info {
	const char	*url;
	int64_t		 cursor;	/* last event delivered */
	int64_t		 backlog;	/* events after it */
	int		 failures;	/* in a row */
	int		 inflight;
	int		 last_status;
	const char	*last_error;	/* "" when none */
};

/* Opens (or makes) each webhook's row; -1 when the store fails. */
int	 webhook_init(struct event_base *, const struct conf *);
/* The running webhooks become xfed.conf's (c) and the store's managed
 * rows (at SIGHUP, after an API change, now and then for xfedctl's);
 * -1 when the store fails (what could be done is done). */
int	 webhook_sync(const struct conf *c);
/* An http or https URL with a host. */
int	 webhook_url_ok(const char *url);
/* Events were committed: POST what is due. */
void	 webhook_kick(void);
/* The lowest cursor (INT64_MAX without webhooks): older events may go. */
int64_t	 webhook_min_cursor(void);
void	 webhook_foreach(void (*)(void *, const struct webhook_info *),
	    void *arg);
void	 webhook_free(void);

#endif
