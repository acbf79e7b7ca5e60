/*
 * server/probe.c: the nonces of probe.h, a small table in memory. Who
 * asks is control.c's business, where headers come from s2s/in.c's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probe.h"

struct probe {
	char		 nonce[PROBE_NONCE_LEN + 1];
	char		 sid[64];
	int64_t		 made;
	int		 seen, tls;
};

static struct probe	 probes[PROBE_MAX];

static struct probe *
probe_find(const char *nonce)
{
	int64_t	 now = (int64_t)time(NULL);
	int	 i;

	if (strlen(nonce) != PROBE_NONCE_LEN)
		return NULL;
	for (i = 0; i < PROBE_MAX; i++)
		if (probes[i].made != 0 && probes[i].made + PROBE_TTL_SECS >=
		    now && strcmp(probes[i].nonce, nonce) == 0)
			return &probes[i];
	return NULL;
}

void
probe_new(char *out)
{
	struct probe	*p = &probes[0];
	uint8_t		 b[PROBE_NONCE_LEN / 2];
	size_t		 i;

	for (i = 1; i < PROBE_MAX; i++)
		if (probes[i].made < p->made)
			p = &probes[i];
	arc4random_buf(b, sizeof(b));
	memset(p, 0, sizeof(*p));
	for (i = 0; i < sizeof(b); i++)
		snprintf(p->nonce + 2 * i, 3, "%02x", b[i]);
	p->made = (int64_t)time(NULL);
	memcpy(out, p->nonce, PROBE_NONCE_LEN + 1);
}

void
probe_seen(const char *id, const char *sid, int tls)
{
	struct probe	*p;

	if ((p = probe_find(id)) == NULL)
		return;
	p->seen = 1;
	p->tls = tls;
	snprintf(p->sid, sizeof(p->sid), "%s", sid);
}

int
probe_check(const char *nonce, char *sid, size_t sidsz, int *tls)
{
	struct probe	*p;

	if ((p = probe_find(nonce)) == NULL)
		return -1;
	if (!p->seen)
		return 0;
	snprintf(sid, sidsz, "%s", p->sid);
	*tls = p->tls;
	return 1;
}
