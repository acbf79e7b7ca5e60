/*
 * server/quota.c: inbox_quota without a query per stanza. Each recipient
 * has a count: read from the store (store_inbox_unconsumed()) on its
 * first message, then raised by each row put. Rows the native system
 * consumes are not seen here, so a user at the cap is counted again, at
 * most once a second, before anything is refused. The counts live as
 * long as the daemon and cost one entry per recipient, that is at most
 * one per user.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "hash.h"
#include "jid.h"
#include "log.h"
#include "quota.h"
#include "server.h"
#include "store.h"
#include "xmalloc.h"

#define QUOTA_BUCKETS	4096

struct quota_user {
	struct quota_user	*next;
	int64_t			 count;		/* unconsumed rows */
	time_t			 checked;	/* when count was read */
	char			 key[];		/* local@domain */
};

static struct quota_user	*quota_tab[QUOTA_BUCKETS];

static struct quota_user *
quota_user(const char *local, const char *domain)
{
	struct quota_user	*u;
	char			 key[2 * JID_PART_MAX + 2];
	size_t			 n;
	uint32_t		 h;

	n = (size_t)snprintf(key, sizeof(key), "%s@%s", local, domain) + 1;
	h = hash_str(key) % QUOTA_BUCKETS;
	for (u = quota_tab[h]; u != NULL; u = u->next)
		if (strcmp(u->key, key) == 0)
			return u;
	u = xcalloc(1, sizeof(*u) + n);
	memcpy(u->key, key, n);
	u->count = -1;
	u->next = quota_tab[h];
	quota_tab[h] = u;
	return u;
}

int
quota_inbox_take(const char *local, const char *domain)
{
	struct quota_user	*u;
	long long		 cap = server->conf->inbox_quota;
	time_t			 now = time(NULL);
	int64_t			 n;

	if (cap == 0)
		return 1;
	u = quota_user(local, domain);
	if (u->count < 0 || (u->count >= cap && u->checked != now)) {
		if (store_inbox_unconsumed(server->store, local, domain,
		    &n) == -1) {
			log_warnx("quota: %s", store_errstr(server->store));
			return 1;
		}
		u->count = n;
		u->checked = now;
	}
	if (u->count >= cap)
		return 0;
	u->count++;
	return 1;
}

void
quota_free(void)
{
	struct quota_user	*u;
	size_t			 i;

	for (i = 0; i < QUOTA_BUCKETS; i++)
		while ((u = quota_tab[i]) != NULL) {
			quota_tab[i] = u->next;
			free(u);
		}
}
