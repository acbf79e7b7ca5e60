/*
 * server/log.c: the log sink. Callers format their own prefixes (a stream's
 * id, peer and address come from s2s_log()); this file decides where a line
 * goes (stderr in the foreground; else syslog, or stderr when there is no
 * syslog socket) and whether its level is on. log_stanza() is the stanza
 * trace (log_stanzas), called where each direction hands over a stanza.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "el.h"
#include "log.h"

#define LOG_SYSLOG_PATH	"/dev/log"	/* glibc's syslog() socket */

static int		 log_foreground = 1;
static enum log_level	 log_level = LOG_L_INFO;
static int		 log_stanzas;
static int		 log_startup_fd = -1;

static const char *const log_names[] = { "error", "warn", "info", "debug" };

int
log_init(int foreground, enum log_level level)
{
	struct stat	 sb;

	log_level = level;
	/* without a syslog socket, syslog() drops every line: keep stderr */
	log_foreground = foreground || stat(LOG_SYSLOG_PATH, &sb) == -1 ||
	    !S_ISSOCK(sb.st_mode);
	if (!log_foreground)
		openlog("xfed", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	else if (!foreground)
		log_warnx("no syslog socket %s: logging to stderr",
		    LOG_SYSLOG_PATH);
	return log_foreground;
}

void
log_set_startup(int fd)
{
	log_startup_fd = fd;
}

void
log_set_stanzas(int on)
{
	log_stanzas = on;
}

static char	*log_vis_as(char *, size_t, const char *, size_t, int);

/* RFC 6120 8.2.3, RFC 6121 4.7.1 and 5.2.2: what a missing type means. */
static const char *
log_stanza_type(const struct el *el)
{
	const char	*t = el_attr(el, "type");

	if (t != NULL)
		return t;
	if (el_is(el, NULL, "message"))
		return "normal";
	if (el_is(el, NULL, "presence"))
		return "available";
	return "-";
}

void
log_stanza(const char *dir, unsigned long long stream, const struct el *el)
{
	char		*xml, from[400], to[400], type[64], vis[2048];
	const char	*f, *t;
	size_t		 len;

	if (!log_stanzas || log_level < LOG_L_INFO)
		return;
	f = el_attr(el, "from");
	t = el_attr(el, "to");
	/* each field one word: a peer's attribute cannot forge a field or
	 * a line */
	log_vis_as(from, sizeof(from), f ? f : "-", 400, 1);
	log_vis_as(to, sizeof(to), t ? t : "-", 400, 1);
	log_vis_as(type, sizeof(type), log_stanza_type(el), 64, 1);
	xml = el_to_string(el, EL_NS_SERVER, &len);
	if (log_level >= LOG_L_DEBUG)
		log_at(LOG_L_DEBUG, "stanza %s#%llu from=%s to=%s kind=%s/%s "
		    "size=%zu xml=%s", dir, stream, from, to, el->name,
		    type, len, log_vis(vis, sizeof(vis), xml,
		    len));
	else
		log_at(LOG_L_INFO, "stanza %s#%llu from=%s to=%s kind=%s/%s "
		    "size=%zu", dir, stream, from, to, el->name,
		    type, len);
	free(xml);
}

void
log_setlevel(enum log_level level)
{
	log_level = level;
}

int
log_getlevel(void)
{
	return log_level;
}

const char *
log_level_name(enum log_level l)
{
	return log_names[l];
}

int
log_level_parse(const char *s, enum log_level *out)
{
	size_t	 i;

	for (i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++)
		if (strcmp(s, log_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return -1;
}

/* An error or warning before ready, for the parent that waits. */
static void
log_startup(const char *fmt, va_list ap)
{
	char	 line[1024];
	int	 n;

	n = snprintf(line, sizeof(line), "xfed: ");
	vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	n = strlen(line);
	line[n++] = '\n';
	(void)!write(log_startup_fd, line, n);
}

void
log_msg(enum log_level level, const char *fmt, va_list ap)
{
	static const int	 prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char			 ts[32];
	struct timeval		 tv;
	struct tm		 tm;
	int			 saved = errno;

	/* before ready, without -f: the parent that waits prints the
	 * errors and the warnings that name their cause, whatever the
	 * log level (syslog has them too) */
	if (!log_foreground && log_startup_fd != -1 && level <= LOG_L_WARN) {
		va_list	 ap2;

		va_copy(ap2, ap);
		log_startup(fmt, ap2);
		va_end(ap2);
	}
	if (level > log_level) {
		errno = saved;
		return;
	}
	if (log_foreground) {
		char	 line[2048];
		int	 n;

		/* one write per line: the checkpoint thread logs too */
		gettimeofday(&tv, NULL);
		gmtime_r(&tv.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		n = snprintf(line, sizeof(line), "%s.%03ldZ %s ", ts,
		    (long)tv.tv_usec / 1000, log_names[level]);
		vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
		n = strlen(line);
		line[n++] = '\n';
		fwrite(line, 1, n, stderr);
		fflush(stderr);
	} else
		vsyslog(prio[level], fmt, ap);
	errno = saved;
}

void
log_at(enum log_level level, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_msg(level, fmt, ap);
	va_end(ap);
}

#define LOG_WRAP(name, level)					\
void								\
name(const char *fmt, ...)					\
{								\
	va_list	 ap;						\
								\
	va_start(ap, fmt);					\
	log_msg(level, fmt, ap);				\
	va_end(ap);						\
}
LOG_WRAP(log_warnx, LOG_L_WARN)
LOG_WRAP(log_info, LOG_L_INFO)
LOG_WRAP(log_debug, LOG_L_DEBUG)

static void
log_msg_str(enum log_level level, const char *msg, const char *err)
{
	log_at(level, "%s: %s", msg, err);
}

static void
log_errno(enum log_level level, const char *fmt, va_list ap)
{
	char	 buf[1024];
	int	 saved = errno;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	errno = saved;
	log_msg_str(level, buf, strerror(saved));
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_errno(LOG_L_WARN, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_errno(LOG_L_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_msg(LOG_L_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}

/* log_vis(), with the space escaped too when word is set (one field). */
static char *
log_vis_as(char *dst, size_t n, const char *src, size_t srclen, int word)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i, o = 0;
	unsigned char		 c;

	if (n == 0)
		return dst;
	for (i = 0; i < srclen && src[i] != '\0'; i++) {
		c = (unsigned char)src[i];
		if (c >= (word ? 0x21 : 0x20) && c < 0x7f && c != '\\') {
			if (o + 1 >= n)
				break;
			dst[o++] = c;
		} else {
			if (o + 4 >= n)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	dst[o] = '\0';
	return dst;
}

char *
log_vis(char *dst, size_t n, const char *src, size_t srclen)
{
	return log_vis_as(dst, n, src, srclen, 0);
}

/* Milliseconds, never 0 (log_every's "never logged"). */
static long long
log_every_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 1;
}

int
log_every_flush(struct log_every *e, long long interval_ms, long long *quiet)
{
	long long	 now = log_every_now();

	if (e->last_ms != 0 && now - e->last_ms < interval_ms)
		return 0;
	if (e->quiet == 0)
		return -1;
	*quiet = e->quiet;
	e->last_ms = now;
	e->quiet = 0;
	return 1;
}

int
log_every_due(struct log_every *e, long long interval_ms, long long *quiet)
{
	long long	 now = log_every_now();
	if (e->last_ms != 0 && now - e->last_ms < interval_ms) {
		e->quiet++;
		return 0;
	}
	*quiet = e->quiet;
	e->last_ms = now;
	e->quiet = 0;
	return 1;
}
