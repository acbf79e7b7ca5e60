/*
 * store/sqlite_lock.c: one daemon per SQLite store. Two daemons on one
 * file would both drain the outbox and deliver each row twice, so the
 * daemon holds flock(LOCK_EX) on the store file for its life.
 *
 * flock() and not a byte-range lock: SQLite holds POSIX (fcntl) locks on
 * the same file, and on Linux the two kinds never conflict, so xfedctl,
 * the sqlite3 shell and native systems work beside the daemon as before.
 * The lock is on an fd of its own, closed only after sqlite3_close():
 * closing any fd of a file drops every POSIX lock the process holds on it,
 * SQLite's included. A separate PATH-lock file would need a writable
 * directory and be left behind; the lock dies with the process (kill -9
 * included), so nothing is ever stale. Not for network file systems,
 * where SQLite's own locking is not to be trusted either.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sqlite_int.h"

/* The PID holding a flock() on (dev, ino), from /proc/locks; 0 if none
 * is listed. */
static long
sqlite_lock_holder(dev_t dev, ino_t ino)
{
	FILE		*fp;
	char		 line[256], kind[16];
	unsigned int	 maj, min;
	unsigned long	 i;
	long		 pid, found = 0;

	if ((fp = fopen("/proc/locks", "re")) == NULL)
		return 0;
	/* "1: FLOCK  ADVISORY  WRITE 4171 fd:01:1312 0 EOF" */
	while (found == 0 && fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "%*d: %15s %*s %*s %ld %x:%x:%lu", kind, &pid,
		    &maj, &min, &i) == 5 && strcmp(kind, "FLOCK") == 0 &&
		    maj == major(dev) && min == minor(dev) && i == ino)
			found = pid;
	fclose(fp);
	return found;
}

int
sqlite_lock_take(const char *path, char *err, size_t errsz)
{
	struct stat	 sb;
	long		 pid;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errsz, "%s: cannot open: %s", path,
		    strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	if (errno != EWOULDBLOCK)
		snprintf(err, errsz, "%s: cannot lock: %s", path,
		    strerror(errno));
	else if (fstat(fd, &sb) == 0 &&
	    (pid = sqlite_lock_holder(sb.st_dev, sb.st_ino)) > 0)
		snprintf(err, errsz, "%s: in use by another xfed (PID %ld); "
		    "one daemon per store (xfedctl works beside it)", path,
		    pid);
	else
		snprintf(err, errsz, "%s: in use by another xfed; one daemon "
		    "per store (xfedctl works beside it)", path);
	close(fd);
	return -1;
}
