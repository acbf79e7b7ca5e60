/*
 * server/quota.h: the cap on each native user's unconsumed inbox rows
 * (inbox_quota). What a refused stanza gets is the caller's business.
 */
#ifndef QUOTA_H
#define QUOTA_H

/*
 * 1 when local@domain may get one more inbox row (and counts it), 0 when
 * the user is at the cap. A store error lets the row in.
 */
int	 quota_inbox_take(const char *local, const char *domain);
void	 quota_free(void);

#endif
