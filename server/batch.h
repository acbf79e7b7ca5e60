/*
 * server/batch.h: the daemon's write batches: when they commit, and what
 * happens while the store cannot commit them (back-pressure, batch.c).
 */
#ifndef BATCH_H
#define BATCH_H

#include <time.h>

/* committed, when not NULL, runs after each commit that succeeded. */
void	 batch_init(void (*committed)(void));
/* At exit: a last commit of what is kept; what still fails is logged. */
void	 batch_free(void);
/*
 * Commits the open batch now, before returning (an HTTP request answers
 * once its writes are kept): 0, or -1 while the store fails.
 */
int	 batch_flush_sync(void);
/* Commit the open batch from the loop now, not at its 5 ms. */
void	 batch_flush_now(void);
/*
 * A write failed with a database error (I/O, full disk, locked): the
 * open batch is rolled back, its stanzas and outbox marks are kept, and
 * the store is tried again with backoff. why is logged once.
 */
void	 batch_failed(const char *why);
/*
 * xfed stops: the open batch commits; a failing store gets a last try,
 * and if it still fails, every stanza held is answered with
 * resource-constraint (type wait), inbound streams are read again and
 * what they bring is answered the same way (batch_refusing()).
 */
void	 batch_stop(void);
/* 1 while stanzas are answered instead of held (batch_stop()). */
int	 batch_refusing(void);
/* 1 while the store fails: stanzas and marks wait instead of writing. */
int	 batch_failing(void);
/* Since when the store fails; 0 when it works. */
time_t	 batch_failing_since(void);

#endif
