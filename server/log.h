/*
 * server/log.h: logging to stderr (foreground) or syslog, with levels.
 * log_warn() appends strerror(errno); errno is preserved by every call.
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>

enum log_level {
	LOG_L_ERROR = 0,
	LOG_L_WARN,
	LOG_L_INFO,
	LOG_L_DEBUG,
};

struct el;

/* Foreground: stderr; else syslog, or stderr when there is no /dev/log.
 * 1 when lines go to stderr. */
int	 log_init(int foreground, enum log_level);
/* log_stanzas: log_stanza() logs at info (with the XML at debug). */
void	 log_set_stanzas(int);
/* Error lines also go to fd (-1: no more), a daemon's parent waiting for
 * it to be ready; syslog's lines only, stderr's are on stderr already. */
void	 log_set_startup(int fd);
/* One line for a stanza in or out: dir "in"/"out", the stream's id, from,
 * to, kind (name/type) and serialized size. */
void	 log_stanza(const char *dir, unsigned long long stream,
	    const struct el *);
void	 log_setlevel(enum log_level);
int	 log_getlevel(void);
int	 log_level_parse(const char *, enum log_level *);
const char *log_level_name(enum log_level);
void	 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_msg(enum log_level, const char *, va_list);
void	 log_at(enum log_level, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	 fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Copies src into dst (size n) with control and non-ASCII bytes as \xNN. */
char	*log_vis(char *dst, size_t n, const char *src, size_t srclen);

/*
 * A line that a flood would repeat, logged at most once per interval:
 * log_every_due() is 1 when it is due now, with *quiet the lines left
 * out since the last one (to be said in it), else 0 and one more is
 * counted as left out. Zeroed: due at once.
 */
struct log_every {
	long long	 last_ms;	/* 0: never logged */
	long long	 quiet;
};

int	 log_every_due(struct log_every *, long long interval_ms,
	    long long *quiet);
/*
 * For a timer, so that a burst's count is not kept until the next line:
 * 1 when lines were left out and the interval is over, with *quiet their
 * count (it then counts as a line logged now); -1 when none were and the
 * interval is over (the entry may go); else 0.
 */
int	 log_every_flush(struct log_every *, long long interval_ms,
	    long long *quiet);

#define log_is_debug()	(log_getlevel() >= LOG_L_DEBUG)

#endif
