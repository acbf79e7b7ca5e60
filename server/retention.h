/*
 * server/retention.h: deleting what is no longer needed: consumed inbox
 * rows (inbox_retention), finished outbox rows (outbox_retention) and
 * handled rows of the change journal (journal_retention), on a timer.
 */
#ifndef RETENTION_H
#define RETENTION_H

void	 retention_init(void);
void	 retention_free(void);

#endif
