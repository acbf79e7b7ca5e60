/*
 * tools/xfedctl.h: what xfedctl's files share: the command table entry,
 * the context a command runs in, argument helpers (xfedctl.c), names and
 * JIDs (name.c), and text and JSON output (out.c).
 */
#ifndef XFEDCTL_H
#define XFEDCTL_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "conf.h"
#include "json.h"
#include "jid.h"
#include "store/store.h"

/* Exit status: done, failed, usage; events: done, but some were pruned. */
#define CTL_OK		0
#define CTL_FAIL	1
#define CTL_USAGE	2
#define CTL_GAP		3

struct ctl {
	const char	*conf_path;
	struct conf	*conf;
	struct store	*st;
	const struct ctl_cmd *cmd;	/* the command running */
	int		 json;		/* --json */
	int		 reader;	/* a command that only reads */
};

struct ctl_cmd {
	const char	*name;		/* "user add", "roster" */
	const char	*args;		/* after the name, for usage lines */
	const char	*help;		/* printed by --help */
	/* argv[0] is the last word of the name; the config is loaded. */
	int		(*fn)(struct ctl *, int argc, char **argv);
};

/* The tables each noun's file exports, ending with a NULL name. */
extern const struct ctl_cmd	cmd_user_table[];
extern const struct ctl_cmd	cmd_presence_table[];
extern const struct ctl_cmd	cmd_roster_table[];
extern const struct ctl_cmd	cmd_msg_table[];
extern const struct ctl_cmd	cmd_status_table[];
extern const struct ctl_cmd	cmd_check_table[];
extern const struct ctl_cmd	cmd_peers_table[];
extern const struct ctl_cmd	cmd_token_table[];
extern const struct ctl_cmd	cmd_events_table[];
extern const struct ctl_cmd	cmd_webhook_table[];
extern const struct ctl_cmd	cmd_block_table[];

/* xfedctl.c */
/* Prints "xfedctl: msg" on stderr; returns CTL_FAIL. */
int	 ctl_fail(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Prints the problem and the usage line of the running command;
 * returns CTL_USAGE. */
int	 ctl_usage(struct ctl *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* An id in decimal digits only, from min to LLONG_MAX (no sign, blank,
 * overflow or trailing garbage): 0, or -1. */
int	 ctl_parse_id(const char *, long long min, long long *);
/* The store's last error as a failure. */
int	 ctl_store_fail(struct ctl *);
/* Options common to every command: --help, and --json when json_ok.
 * Returns -1 when the command is done (exit status in *rc), else the
 * index of the first operand. */
int	 ctl_getopt(struct ctl *, int argc, char **argv, const char *shortopts,
	    const struct option *longopts, int json_ok,
	    int (*opt)(struct ctl *, int ch, const char *arg, void *), void *,
	    int *rc);
/* Joins argv[0..argc) with spaces (caller frees). */
char	*ctl_join(int argc, char **argv);
/* Opens the store (after the arguments are checked); -1 said why. A
 * reader's command (ctl->reader) opens an existing store this user may
 * not write read-only: a member of xfed's group reads a 0640 store. */
int	 ctl_open(struct ctl *);
/*
 * A listing command: no operand, [--json], the store opened as a reader's
 * (ctl->reader), then list(ctl) prints every row; -1 from it is a store
 * error. Returns the command's exit code.
 */
int	 ctl_list(struct ctl *, int argc, char **argv,
	    int (*list)(struct ctl *));
/* The diagnostic commands' open: the existing store only, never created,
 * read-only when this user may not write it (a writer's open migrates an
 * older schema). 0; -1 with *errstr, one line; -2 with *errstr when there
 * is no store. */
int	 ctl_open_existing(struct ctl *, const char **errstr);
/* One write command, all or nothing. */
int	 ctl_begin(struct ctl *);
int	 ctl_commit(struct ctl *);

/* ctlsock.c: the running daemon's control socket (server/ctl.h). */
#include "ctl.h"
/* Connected fd, or -1 after a one-line message ("xfed is not running"). */
int	 ctl_sock_open(struct ctl *);
/* The same without the message: -1 with the reason in err. */
int	 ctl_sock_connect(const char *path, char *err, size_t errsz);
/* One answer: its type and payload; non-zero stops reading. */
typedef int	 ctl_sock_cb(void *arg, int type, const uint8_t *p, size_t len);
/* Sends req (finished and freed here), calls fn for each answer until
 * CTL_T_OK: CTL_OK, or a message and CTL_FAIL (CTL_T_ERR included). */
int	 ctl_sock_request(struct ctl *, int fd, struct ctl_msg *req,
	    ctl_sock_cb *fn, void *arg);

/* name.c: the one place that checks names and JIDs typed by a user. */
struct ctl_user {
	char		 local[JID_PART_MAX + 1];
	char		 domain[JID_PART_MAX + 1];
};
/* NAME or NAME@domain; the domain must be hosted, the first by default.
 * CTL_OK, or a message and CTL_FAIL. */
int	 ctl_user_arg(struct ctl *, const char *arg, struct ctl_user *);
#define CTL_JID_BARE	0x1	/* refuse a resource */
/* A remote JID, prepared into out. */
int	 ctl_jid_parse(const char *arg, int flags, char *out, size_t outsz,
	    const char **errstr);
/* argv[i] is the only operand, a NAME: CTL_OK, or a message and the
 * exit status. */
int	 ctl_user_operand(struct ctl *, int argc, char **argv, int i,
	    struct ctl_user *);
/* Opens the store and, when u is not NULL, checks that the user exists:
 * CTL_OK, or a message and CTL_FAIL. */
int	 ctl_open_user(struct ctl *, const struct ctl_user *);
/* An existing, enabled user, or a message and CTL_FAIL. */
int	 ctl_user_usable(struct ctl *, const struct ctl_user *);

/* out.c */
#define OUT_JSON_DEPTH	8
struct out_json {
	FILE	*f;
	json_t	*stack[OUT_JSON_DEPTH];	/* [0] the object being built */
	int	 depth;
};
void	 out_json_begin(struct out_json *, FILE *);	/* a new object */
void	 out_json_end(struct out_json *);		/* written, one line */
void	 out_json_str(struct out_json *, const char *key, const char *);
void	 out_json_int(struct out_json *, const char *key, int64_t);
/* 0 is written as null: times and ids that are not set. */
void	 out_json_time(struct out_json *, const char *key, int64_t);
void	 out_json_bool(struct out_json *, const char *key, int);
/* Adds v (taken). */
void	 out_json_value(struct out_json *, const char *key, json_t *v);
void	 out_json_array(struct out_json *, const char *key);	/* "key": [ */
void	 out_json_array_end(struct out_json *);
void	 out_json_obj(struct out_json *, const char *key);	/* "key": { */
void	 out_json_obj_end(struct out_json *);
/* v (taken) on one line. */
void	 out_json_print(FILE *, json_t *v);
/* Text for a terminal: control characters shown as \n, \t or \xNN. */
void	 out_text(FILE *, const char *);
/* "2024-05-01T10:00:00Z", or "-" for 0. */
const char *out_time(int64_t, char *buf, size_t bufsz);
/* "1d02h", "3h05m", "2m07s": a duration in seconds, short. */
const char *out_duration(uint64_t secs, char *buf, size_t bufsz);

#endif
