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
#include <time.h>

#include "conf.h"
#include "jid.h"
#include "log.h"
#include "quota.h"
#include "server.h"
#include "store.h"
#include "strmap.h"

#define QUOTA_BUCKETS	4096

struct quota_user {
	int64_t		 count;		/* unconsumed rows; -1: not read */
	time_t		 checked;	/* when count was read */
};

static struct strmap	 quota_users;

int
quota_inbox_take(const char *local, const char *domain)
{
	struct quota_user	*u;
	long long		 cap = server->conf->inbox_quota;
	time_t			 now = time(NULL);
	char			 key[2 * JID_PART_MAX + 2];
	int64_t			 n;

	if (cap == 0)
		return 1;
	if (quota_users.tab == NULL)
		strmap_init(&quota_users, QUOTA_BUCKETS);
	snprintf(key, sizeof(key), "%s@%s", local, domain);
	if ((u = strmap_get(&quota_users, key, 0)) == NULL) {
		u = strmap_get(&quota_users, key, sizeof(*u));
		u->count = -1;
	}
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
	strmap_clear(&quota_users);
}
