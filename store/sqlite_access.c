/*
 * store/sqlite_access.c: who may open the store file. Before SQLite sees the
 * path: a new file is made here with the documented mode (0640, 0660 with
 * store_group_write; as root, owned like its directory, so a store that
 * `xfedctl user add` made as root is the daemon's), and an existing file
 * or directory this user cannot write gets an error that names the owner,
 * the mode and the fix instead of SQLite's "attempt to write a readonly
 * database" at the first write. SQLite makes -wal and -shm later with the
 * database file's mode and, as root, its owner; opening and queries are
 * sqlite.c's, which also has SQLite keep -wal and -shm on close, so that
 * a group member needs no write access to the directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "store.h"
#include "sqlite_int.h"

/* A user's (or, with gid set, a group's) name, else the number. */
static const char *
sqlite_access_name(uid_t uid, const gid_t *gid, char *buf, size_t n)
{
	struct passwd	*pw = gid == NULL ? getpwuid(uid) : NULL;
	struct group	*gr = gid != NULL ? getgrgid(*gid) : NULL;

	if (pw != NULL || gr != NULL)
		snprintf(buf, n, "%s", pw != NULL ? pw->pw_name : gr->gr_name);
	else
		snprintf(buf, n, "%ld", gid != NULL ? (long)*gid : (long)uid);
	return buf;
}

unsigned int
sqlite_access_mode(int flags)
{
	return flags & STORE_OPEN_GROUP_WRITE ? 0660 : 0640;
}

/* The directory path is in (for -wal and -shm). */
static void
sqlite_access_dir(const char *path, char *dir, size_t n)
{
	char	 tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(dir, n, "%s", dirname(tmp));
}

/* Whether this process has gid among its groups. */
static int
sqlite_access_in_group(gid_t gid)
{
	gid_t	 gs[256];
	int	 i, n;

	if (getegid() == gid)
		return 1;
	if ((n = getgroups(256, gs)) == -1)
		return 0;
	for (i = 0; i < n; i++)
		if (gs[i] == gid)
			return 1;
	return 0;
}

/*
 * Says what is wrong with what (path or its directory) and the fix that
 * keeps the daemon's access. A chown is advised only to the user whose
 * directory holds the store (the daemon's: /var/lib/xfed), never to a
 * member of the store's group, which would lock xfed out: a reader joins
 * the group, a writer also needs store_group_write (the files become 0660
 * at xfed's next start), or it runs as the owner.
 */
static int
sqlite_access_refuse(const char *path, const char *what, const struct stat *sb,
    const char *problem, char *err, size_t errsz)
{
	struct stat	 dsb;
	char		 me[64], owner[64], group[64], dir[PATH_MAX];
	char		 fix[PATH_MAX + 200];
	int		 member = sqlite_access_in_group(sb->st_gid);
	int		 reading = strstr(problem, "not readable") != NULL ||
			    strstr(problem, "not searchable") != NULL;
	int		 mine;

	sqlite_access_name(geteuid(), NULL, me, sizeof(me));
	sqlite_access_name(sb->st_uid, NULL, owner, sizeof(owner));
	sqlite_access_name(0, &sb->st_gid, group, sizeof(group));
	sqlite_access_dir(path, dir, sizeof(dir));
	mine = what == path && stat(dir, &dsb) == 0 && dsb.st_uid == geteuid();
	if (mine)
		snprintf(fix, sizeof(fix), "chown %s: %s*", me, path);
	else if (what != path && !reading)
		snprintf(fix, sizeof(fix), member ? "start xfed once (it makes "
		    "-wal and -shm and keeps them)" : "chown %s %s", me, what);
	else if (reading)
		snprintf(fix, sizeof(fix), "add user %s to group %s (adduser "
		    "%s %s, then log in again)", me, group, me, group);
	else if (member)
		snprintf(fix, sizeof(fix), "set store_group_write yes in "
		    "xfed.conf and restart xfed (the store becomes 0660)");
	else
		snprintf(fix, sizeof(fix), "add user %s to group %s and set "
		    "store_group_write yes in xfed.conf", me, group);
	if (what == path)
		snprintf(err, errsz, "%s: %s by user %s (owned by %s:%s, mode "
		    "%04o): run as user %s, or %s", path, problem, me,
		    owner, group, (unsigned)(sb->st_mode & 07777), owner, fix);
	else if (reading)
		snprintf(err, errsz, "%s: directory %s is %s by user %s (owned "
		    "by %s:%s, mode %04o): run as user %s, or %s", path, what,
		    problem, me, owner, group, (unsigned)(sb->st_mode & 07777),
		    owner, fix);
	else
		snprintf(err, errsz, "%s: directory %s is %s by user %s (owned "
		    "by %s:%s, mode %04o), and SQLite makes %s-wal and -shm "
		    "there: run as user %s, or %s", path, what, problem,
		    me, owner, group, (unsigned)(sb->st_mode & 07777), path,
		    owner, fix);
	return -1;
}

/* -wal and -shm are there (xfed keeps them) and this user may write them. */
static int
sqlite_access_wal_ok(const char *path)
{
	char	 p[PATH_MAX];

	snprintf(p, sizeof(p), "%s-wal", path);
	if (eaccess(p, R_OK | W_OK) == -1)
		return 0;
	snprintf(p, sizeof(p), "%s-shm", path);
	return eaccess(p, R_OK | W_OK) == 0;
}

/*
 * A reader of a WAL store needs its -shm: without one (removed after a
 * checkpoint by another program) SQLite makes it in the directory, and a
 * reader that may not write there gets "attempt to write a readonly
 * database" instead of the fix.
 */
static int
store_access_shm(const char *path, const char *dir, char *err, size_t errsz)
{
	struct stat	 sb;
	char		 p[PATH_MAX];

	snprintf(p, sizeof(p), "%s-shm", path);
	if (access(p, F_OK) == 0 || errno != ENOENT)
		return 0;
	if (stat(dir, &sb) == 0 && eaccess(dir, W_OK | X_OK) == -1 &&
	    errno == EACCES)
		return sqlite_access_refuse(path, dir, &sb, "not writable",
		    err, errsz);
	return 0;
}

/*
 * A symbolic link to nothing: SQLite would make the store (and its -wal,
 * -shm) at the target, which a failed start then cannot tell from the
 * link it removes. The store path names the target instead.
 */
static int
store_access_dangling(const char *path, char *err, size_t errsz)
{
	char	 to[PATH_MAX];
	ssize_t	 n;

	if ((n = readlink(path, to, sizeof(to) - 1)) == -1)
		n = 0;
	to[n] = '\0';
	snprintf(err, errsz, "%s: a symbolic link to %s, which does not exist: "
	    "set store to the target in xfed.conf, or remove the link", path,
	    to);
	return -1;
}

/*
 * The store file is gone but its -wal is there (the file moved or deleted
 * without it, or a backup restored without the file): SQLite would make a
 * new empty store beside the old journal, or tell a reader only that it
 * cannot open a file. Say what is there and the two ways out.
 */
static int
store_access_orphan_wal(const char *path, char *err, size_t errsz)
{
	char	 p[PATH_MAX];

	snprintf(p, sizeof(p), "%s-wal", path);
	if (access(p, F_OK) == -1)
		return 0;
	snprintf(err, errsz, "%s: no such file, but %s-wal is there (the "
	    "store was moved or deleted without it): put the store file back, "
	    "or remove %s-wal and %s-shm to start an empty store", path, path,
	    path, path);
	return -1;
}

int
sqlite_access_check(const char *path, int flags, char *err, size_t errsz)
{
	struct stat	 sb;
	char		 dir[PATH_MAX];

	sqlite_access_dir(path, dir, sizeof(dir));
	if (stat(path, &sb) == 0) {
		if (!S_ISREG(sb.st_mode))
			return 0;		/* SQLite names it */
		if (eaccess(path, R_OK) == -1 && errno == EACCES)
			return sqlite_access_refuse(path, path, &sb,
			    "cannot open: Permission denied: not readable",
			    err, errsz);
		if (flags & STORE_OPEN_READONLY)
			return store_access_shm(path, dir, err, errsz);
		if (eaccess(path, W_OK) == -1 && (errno == EACCES ||
		    errno == EROFS))
			return sqlite_access_refuse(path, path, &sb,
			    errno == EROFS ? "on a read-only file system, not "
			    "writable" : "not writable", err, errsz);
	} else if (errno == EACCES && stat(dir, &sb) == 0)
		return sqlite_access_refuse(path, dir, &sb, "not searchable",
		    err, errsz);
	else if (errno == ENOENT && lstat(path, &sb) == 0 &&
	    S_ISLNK(sb.st_mode))
		return store_access_dangling(path, err, errsz);
	else if (errno == ENOENT && store_access_orphan_wal(path, err,
	    errsz) == -1)
		return -1;
	else if (errno != ENOENT || !(flags & STORE_OPEN_CREATE))
		return 0;			/* SQLite names it */
	if (stat(dir, &sb) == -1) {
		snprintf(err, errsz, "%s: cannot open: directory %s: %s", path,
		    dir, strerror(errno));
		return -1;
	}
	if (S_ISDIR(sb.st_mode) && eaccess(dir, W_OK | X_OK) == -1 &&
	    errno == EACCES && !sqlite_access_wal_ok(path))
		return sqlite_access_refuse(path, dir, &sb, "not writable",
		    err, errsz);
	return 0;
}

int
store_sqlite_path_check(const char *path, int flags, const char **errstr)
{
	static char	 err[700];

	if (sqlite_access_check(path, flags, err, sizeof(err)) == -1) {
		*errstr = err;
		return -1;
	}
	return 0;
}

int
sqlite_access_create(const char *path, int flags, char *err, size_t errsz)
{
	struct stat	 sb;
	char		 dir[PATH_MAX];
	int		 fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    sqlite_access_mode(flags));
	if (fd == -1) {
		if (errno == EEXIST || errno == ENOENT)
			return 0;		/* there, or SQLite names it */
		snprintf(err, errsz, "%s: cannot create: %s", path,
		    strerror(errno));
		return -1;
	}
	/* the umask must not take away group read (or write) */
	if (fchmod(fd, sqlite_access_mode(flags)) == -1)
		goto fail;
	sqlite_access_dir(path, dir, sizeof(dir));
	if (geteuid() == 0 && stat(dir, &sb) == 0 && sb.st_uid != 0 &&
	    fchown(fd, sb.st_uid, sb.st_gid) == -1)
		goto fail;
	close(fd);
	return 1;
 fail:
	snprintf(err, errsz, "%s: cannot set its mode or owner: %s", path,
	    strerror(errno));
	close(fd);
	unlink(path);
	return -1;
}

void
sqlite_access_fix(const char *path, int flags)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	struct stat	 sb;
	char		 p[PATH_MAX];
	mode_t		 want = (mode_t)sqlite_access_mode(flags);
	size_t		 i;

	for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
		if (stat(p, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    sb.st_uid == geteuid() && (sb.st_mode & 0777) != want)
			chmod(p, want);
	}
}
