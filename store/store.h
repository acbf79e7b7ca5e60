/*
 * store/store.h: the store, the only interface the rest of xfed (and
 * xfedctl) uses to reach persistent data: native users, their presence,
 * subscriptions, remote presence, inbox, outbox, S2S state and the change
 * journal. No SQL and no backend types leave store/: store_open() picks the
 * backend by the form of the store setting, a path for SQLite (sqlite.c
 * and its neighbours, the embedded default) or a postgresql:// URI for
 * PostgreSQL; backend.h says what a backend provides. The schema itself is
 * a public contract for native systems, described in store/CONTRACT.md.
 *
 * Conventions: work returns 0 or -1; on -1, store_errstr() says why in one
 * line and store_errcode() classifies it. Reads hand rows to a callback;
 * the strings in a row are borrowed and live only during the call. Times
 * are Unix seconds.
 *
 * Writes and transactions: a write made outside store_begin() opens a
 * batch transaction that stays open until store_flush() (the daemon calls
 * it on a short timer, so hundreds of writes share one commit).
 * store_begin()/store_commit()/store_rollback() make one explicit
 * transaction instead (xfedctl: one command, all or nothing).
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_SCHEMA_VERSION	8	/* PRAGMA user_version of a current file */

struct store;

enum store_err {
	STORE_E_NONE = 0,
	STORE_E_DB,		/* the database failed: I/O, corrupt, busy */
	STORE_E_NOTFOUND,	/* no such user, row or key */
	STORE_E_EXISTS,		/* duplicate (user add) */
	STORE_E_INVALID,	/* a value the schema refuses */
};

enum store_show {
	STORE_SHOW_AVAILABLE = 0,
	STORE_SHOW_CHAT,
	STORE_SHOW_AWAY,
	STORE_SHOW_XA,
	STORE_SHOW_DND,
	STORE_SHOW_UNAVAILABLE,
};

/* RFC 6121 subscription state, seen from the native user. */
enum store_sub_state {
	STORE_SUB_NONE = 0,
	STORE_SUB_TO,		/* the user receives the contact's presence */
	STORE_SUB_FROM,		/* the contact receives the user's presence */
	STORE_SUB_BOTH,
};

/* Stanza kinds in the inbox and the outbox. */
enum store_kind {
	STORE_KIND_MESSAGE = 0,
	STORE_KIND_SUBSCRIBE,
	STORE_KIND_SUBSCRIBED,
	STORE_KIND_UNSUBSCRIBE,
	STORE_KIND_UNSUBSCRIBED,
	STORE_KIND_PRESENCE,	/* outbox: directed presence */
	STORE_KIND_ERROR,	/* inbox: an error stanza for the user */
	STORE_KIND_CHATSTATE,	/* inbox: a chat state without a body */
};

enum store_out_state {
	STORE_OUT_QUEUED = 0,	/* waiting for the daemon */
	STORE_OUT_SENT,		/* handed to the remote server */
	STORE_OUT_FAILED,	/* given up: last_error, error_xml */
	STORE_OUT_DONE,		/* handled with nothing to send (pre-approval) */
	STORE_OUT_DELIVERED,	/* the remote server acknowledged it (198) */
};

const char	*store_show_name(enum store_show);
int		 store_show_parse(const char *, enum store_show *);
const char	*store_sub_state_name(enum store_sub_state);
int		 store_sub_state_parse(const char *, enum store_sub_state *);
const char	*store_kind_name(enum store_kind);
int		 store_kind_parse(const char *, enum store_kind *);
const char	*store_out_state_name(enum store_out_state);
int		 store_out_state_parse(const char *, enum store_out_state *);

/* Connection. */

/*
 * Open flags, per backend. SQLite: as said beside each. PostgreSQL: CREATE
 * makes the schema in an empty database (the database itself must exist),
 * the others mean nothing there (access is the database's roles; several
 * instances share one database by design).
 */
#define STORE_OPEN_CREATE	0x1	/* create the file when missing */
#define STORE_OPEN_NOCHECK	0x2	/* skip PRAGMA quick_check */
#define STORE_OPEN_GROUP_WRITE	0x4	/* a new file is 0660, not 0640 */
#define STORE_OPEN_READONLY	0x10	/* read only: a group member's reads */
/* The daemon's: refuse when another process holds the store's daemon
 * lock, else hold it until store_close() (xfedctl never asks). */
#define STORE_OPEN_LOCK		0x8

/*
 * Opens the store: a postgresql:// or postgres:// URI opens PostgreSQL
 * (when xfed was built with libpq), anything else is a SQLite file path.
 * For SQLite: opens path, refuses a file that is not a database, not an
 * xfed store, corrupt, or from a newer schema, or that this user may not
 * write (the error names owner, mode and fix), and migrates an older one.
 * A file it creates is 0640 (0660 with STORE_OPEN_GROUP_WRITE; as root,
 * owned like its directory); a file this user owns gets that mode back.
 * With STORE_OPEN_LOCK it takes flock(LOCK_EX) on the file itself, on an
 * fd of its own kept open until after sqlite3_close() (closing any fd of
 * the file would drop SQLite's POSIX locks), and refuses a file another
 * process has locked so, naming it and that process's PID (/proc/locks).
 * flock() and SQLite's POSIX locks do not meet on a local file system, so
 * xfedctl and native systems are not affected. On NULL, *errstr is one
 * line naming the file and the problem; it points at a static buffer valid
 * until the next store_open(). STORE_OPEN_READONLY (not with
 * STORE_OPEN_CREATE): only read access to the file is needed (-wal and
 * -shm, which xfed keeps, readable too), nothing is migrated or changed
 * and every write fails.
 */
struct store	*store_open(const char *path, int flags, const char **errstr);
/*
 * What store_open() checks before it opens, with nothing created: 0 when
 * this user may open path for writing (and, with STORE_OPEN_CREATE, make
 * it), else -1 and *errstr (static) names the problem and the fix. A
 * PostgreSQL URI passes (it is checked when it is opened), unless xfed
 * was built without libpq.
 */
int		 store_path_check(const char *path, int flags,
		    const char **errstr);
/* 1 when location is a store file that does not exist yet (a URI is
 * never missing: it is checked when opened), else 0. */
int		 store_missing(const char *location);
/* Commits an open batch, rolls back an explicit transaction, closes. */
void		 store_close(struct store *);
const char	*store_errstr(const struct store *);
enum store_err	 store_errcode(const struct store *);
/* The schema version of the open file (STORE_SCHEMA_VERSION). */
int		 store_version(struct store *);
/*
 * The events journal (the events table, CONTRACT.md) on or off: its
 * triggers made or dropped, for every writer of the file. The daemon
 * turns it on when something reads it (http_listen, webhook,
 * events_journal): each trigger is a second row per inbox row. 1 when
 * this changed the file, 0 when it was so already, -1 on error.
 */
int		 store_events_journal(struct store *, int on);
/* Whether the journal's triggers are there, changing nothing (a reader
 * may ask): 1 on, 0 off, -1 on error. */
int		 store_events_journal_on(struct store *);

/*
 * The daemon's connection: on SQLite, WAL checkpoints move to a thread of
 * their own so that their fsyncs never stall the caller (sqlite_ckpt.c);
 * a backend without checkpoints does nothing. Stopped by store_close().
 */
int	 store_checkpoint_start(struct store *);
void	 store_checkpoint_stop(struct store *);

/* Transactions and batching. */

int	 store_begin(struct store *);	/* commits an open batch first */
int	 store_commit(struct store *);
int	 store_rollback(struct store *);
/* Commits the open batch, if any; 0 when there was nothing to do. */
int	 store_flush(struct store *);
/*
 * Starts the commit of the open batch without waiting for it
 * (PostgreSQL: a batch of inbound rows goes out on the non-blocking
 * socket): 1 when it is in flight, then store_flush_poll() tells when it
 * ends; 0 when it was committed before returning (SQLite; or a batch that
 * cannot go that way) or there was nothing to do; -1 as store_flush().
 * Writes made while it is in flight go to the next batch; any call that
 * needs the connection (a read, another commit) first waits for it.
 */
int	 store_flush_async(struct store *);
/*
 * The commit in flight: 0 while it is (wait: never, it waits), 1 when it
 * committed, -1 with the error set when it failed (its rows are not
 * stored; the daemon's batch after it cannot commit either until this
 * was read). Called until it is not 0.
 */
int	 store_flush_poll(struct store *, int wait);
/* The descriptor that becomes readable when the commit's answer comes. */
int	 store_flush_fd(struct store *);
/* 1 while a batch is open (a write since the last flush). */
int	 store_pending(const struct store *);
/* Waits up to 5 s for another writer's lock (1), or not at all (0). */
void	 store_busy_timeout(struct store *, int wait);
/*
 * Writes begun and database failures (STORE_E_DB: I/O, full disk, busy)
 * since the store was opened: comparing them before and after some work
 * tells whether it wrote, and whether the database failed meanwhile.
 */
void	 store_counts(const struct store *, uint64_t *writes,
	    uint64_t *dberrs);
/*
 * cb runs when a write opens a batch, so the daemon can schedule its
 * flush (xfed: 5 ms later).
 */
void	 store_set_batch_cb(struct store *, void (*cb)(void *), void *arg);

/* Users. */

struct store_user {
	int64_t		 id;
	const char	*local;		/* localpart, as prepared */
	const char	*domain;	/* hosted domain, prepared */
	const char	*name;		/* display name (vCard FN) or NULL */
	const char	*nickname;	/* vCard NICKNAME or NULL */
	const char	*email;		/* vCard EMAIL or NULL */
	const char	*url;		/* vCard URL or NULL */
	const char	*note;		/* vCard DESC or NULL */
	const void	*avatar;	/* image bytes or NULL */
	size_t		 avatar_len;
	const char	*avatar_type;	/* MIME type, with avatar */
	int64_t		 created;
	int		 disabled;
};

typedef int	(*store_user_cb)(void *, const struct store_user *);

/*
 * The contract's limits on profile columns: name, nickname, email, url at
 * most STORE_PROFILE_TEXT_MAX bytes, note STORE_PROFILE_NOTE_MAX, avatar
 * STORE_AVATAR_MAX bytes of PNG, JPEG, GIF or WebP.
 */
#define STORE_PROFILE_TEXT_MAX	1024
#define STORE_PROFILE_NOTE_MAX	8192
/* presence.status: what xfed sends of it, at most */
#define STORE_STATUS_MAX	1024
#define STORE_AVATAR_MAX	65536
/* The MIME type of an allowed avatar image (by its first bytes), or NULL
 * when data is not one, or too large. */
const char	*store_avatar_type(const void *data, size_t len);

int	 store_user_add(struct store *, const char *local, const char *domain,
	    const char *name, int64_t *idp);
int	 store_user_del(struct store *, const char *local, const char *domain);
/* Calls cb once with the user; STORE_E_NOTFOUND when there is none. */
int	 store_user_get(struct store *, const char *local, const char *domain,
	    store_user_cb cb, void *arg);
/* The same by users.id (what the change journal reports). */
int	 store_user_get_id(struct store *, int64_t id, store_user_cb cb,
	    void *arg);
/* Looks the user up; 1 found (*idp set), 0 not found, -1 error. */
int	 store_user_find(struct store *, const char *local,
	    const char *domain, int64_t *idp);
/* Every user (of domain, when not NULL) in name order; cb != 0 stops. */
int	 store_user_list(struct store *, const char *domain, store_user_cb,
	    void *arg);
/* Writes name, vCard fields, avatar and disabled of the user u->id. */
int	 store_user_update(struct store *, const struct store_user *u);

/* A native user's own presence. */

struct store_presence {
	enum store_show	 show;
	const char	*status;	/* NULL when none */
	int		 priority;	/* -128..127 */
	int64_t		 updated;	/* 0: never set (unavailable) */
};

int	 store_presence_set(struct store *, const char *local,
	    const char *domain, enum store_show, const char *status,
	    int priority);
/* Fills *p; an unset presence reads as unavailable. p->status is borrowed
 * until the next store call. */
int	 store_presence_get(struct store *, const char *local,
	    const char *domain, struct store_presence *p);

/* Subscriptions, per (native user, remote bare JID). */

struct store_sub {
	const char		*local;		/* the native user */
	const char		*domain;
	const char		*jid;		/* the contact's bare JID */
	enum store_sub_state	 state;
	int			 pending_out;	/* we asked, no answer yet */
	int			 pending_in;	/* they asked, no answer yet */
	int			 preapproved;	/* RFC 6121 3.4 */
	const char		*request;	/* status text of their request */
	int64_t			 updated;
};

typedef int	(*store_sub_cb)(void *, const struct store_sub *);

/* cb once with the row, or STORE_E_NOTFOUND. */
int	 store_sub_get(struct store *, const char *local, const char *domain,
	    const char *jid, store_sub_cb, void *arg);
int	 store_sub_list(struct store *, const char *local, const char *domain,
	    store_sub_cb, void *arg);
/* Writes the row s (inserted or replaced); a row back at none with no
 * flag set is deleted. */
int	 store_sub_put(struct store *, const struct store_sub *s);

/*
 * RFC 6121 transitions, one table for both directions (subscription.c).
 * store_sub_inbound(): a subscription stanza from the contact (3.1.3,
 * 3.1.6, 3.2.3, 3.3.3), applied to *s (pure; the caller stores the
 * result); the returned flags say what the daemon does next.
 * store_sub_outbound(): the user's action (3.1.2, 3.1.5, 3.2, 3.3.2, 3.4),
 * which the schema itself applies when an outbox row is inserted
 * (CONTRACT.md: a native system inserts it directly); this is what every
 * backend's triggers are tested against. STORE_SUB_SEND: the row is sent
 * (else it is marked done).
 */
#define STORE_SUB_CHANGED	0x1	/* *s changed: store_sub_put() it */
#define STORE_SUB_DELIVER	0x2	/* put the stanza in the user's inbox */
#define STORE_SUB_AUTOREPLY	0x4	/* answer <subscribed/> (approved) */
#define STORE_SUB_SEND		0x8	/* outbound: the stanza goes out */
int	 store_sub_inbound(struct store_sub *s, enum store_kind kind);
int	 store_sub_outbound(struct store_sub *s, enum store_kind kind);

/* The last presence of each remote full JID, per native user. */

struct store_rpres {
	const char	*local;		/* the native user it was sent to */
	const char	*domain;
	const char	*jid;		/* the contact's full JID */
	enum store_show	 show;
	const char	*status;
	int		 priority;
	const char	*xml;		/* the whole stanza */
	int64_t		 updated;
};

typedef int	(*store_rpres_cb)(void *, const struct store_rpres *);

int	 store_rpres_put(struct store *, const struct store_rpres *);
/* Deletes every resource of bare (all of them when bare is NULL). */
int	 store_rpres_del(struct store *, const char *local, const char *domain,
	    const char *bare);
int	 store_rpres_list(struct store *, const char *local,
	    const char *domain, store_rpres_cb, void *arg);
/*
 * Directed presence from strangers (RFC 6121 4.6.4: a bare JID the user
 * has no to/both subscription with) is kept for an online user only, and
 * only the newest keep rows of it; this deletes the rest. local NULL:
 * every user's, all of them (keep is then ignored).
 */
int	 store_rpres_strangers(struct store *, const char *local,
	    const char *domain, size_t keep);

/* Inbox: stanzas delivered to native users. */

struct store_inbox {
	int64_t		 id;
	const char	*local;		/* the recipient */
	const char	*domain;
	enum store_kind	 kind;
	const char	*from;		/* full JID */
	const char	*to;		/* full JID as addressed */
	const char	*type;		/* stanza type attribute or NULL */
	const char	*stanza_id;	/* id attribute or NULL */
	const char	*body;
	const char	*subject;
	const char	*thread;
	const char	*xml;		/* the whole stanza */
	int64_t		 received;	/* 0 on put: now */
	int64_t		 consumed;	/* 0: not yet */
	int		 receipt;	/* put: the sender asked for one */
};

typedef int	(*store_inbox_cb)(void *, const struct store_inbox *);

/*
 * The hot path of inbound traffic: one prepared INSERT, no allocation.
 * m->id, m->consumed are ignored; *idp gets the new id when not NULL.
 * STORE_E_NOTFOUND when the recipient is not a user or is disabled.
 */
int	 store_inbox_put(struct store *, const struct store_inbox *m,
	    int64_t *idp);
/*
 * store_inbox_put() for a caller that takes a refusal later: the backend
 * may send the row with the rest of the batch when it commits
 * (PostgreSQL: the batch's rows in one pipeline, store_flush()). 0: stored
 * or queued; a row the store refuses (STORE_E_NOTFOUND as above, a
 * constraint) fails alone and is reported to refused(arg, code, why),
 * either during this call or during the store_flush() that sends it,
 * before that returns. -1: the store failed, as store_inbox_put(). Every
 * read or write through the store sends the queued rows first, so order
 * and read-your-writes hold.
 */
typedef void	(*store_refused_cb)(void *, enum store_err, const char *);
int	 store_inbox_put_later(struct store *, const struct store_inbox *m,
	    store_refused_cb refused, void *arg);
#define STORE_INBOX_ALL		0x1	/* include consumed entries */
/* Entries with id > after (of one user when local is not NULL), oldest
 * first, at most limit (0: no limit). */
int	 store_inbox_list(struct store *, const char *local,
	    const char *domain, int64_t after, int flags, size_t limit,
	    store_inbox_cb, void *arg);
int	 store_inbox_consume(struct store *, int64_t id);
/*
 * XEP-0184: consumed entries whose sender asked for a receipt not sent
 * yet, at most limit; then mark each one sent.
 */
int	 store_receipts_due(struct store *, size_t limit, store_inbox_cb,
	    void *arg);
int	 store_receipt_sent(struct store *, int64_t id);
/* The highest inbox id, 0 when empty. */
int	 store_inbox_last(struct store *, int64_t *idp);

/* Outbox: what native users send. */

struct store_outbox {
	int64_t			 id;
	const char		*local;		/* the sender */
	const char		*domain;
	enum store_kind		 kind;
	const char		*to;		/* JID */
	const char		*type;		/* message type; NULL: chat */
	const char		*stanza_id;	/* NULL: the daemon makes one */
	const char		*body;
	const char		*subject;
	const char		*thread;
	const char		*xml;		/* payload elements or NULL */
	enum store_out_state	 state;
	int			 attempts;
	int64_t			 next_attempt;
	const char		*last_error;
	const char		*error_stage;	/* dns, connect, tls, auth, remote */
	const char		*error_xml;
	int64_t			 created;
	int64_t			 updated;
	/* read: the first column whose bytes hold a NUL (a BLOB or text
	 * from a writer that does not check), where the C string above
	 * ends early; NULL when none does */
	const char		*nul_column;
};

typedef int	(*store_outbox_cb)(void *, const struct store_outbox *);

/* Queues m (kind, to, type, stanza_id, body, subject, thread, xml are read);
 * subscription kinds update the subscription row in the same step. */
int	 store_outbox_add(struct store *, const struct store_outbox *m,
	    int64_t *idp);
/* Calls cb once with row id, or STORE_E_NOTFOUND. */
int	 store_outbox_get(struct store *, int64_t id, store_outbox_cb,
	    void *arg);
/* Rows of one user (local not NULL) or all, newest first, at most limit. */
int	 store_outbox_list(struct store *, const char *local,
	    const char *domain, size_t limit, store_outbox_cb, void *arg);
/* Queued rows due at or before now, oldest first, at most limit. */
int	 store_outbox_due(struct store *, int64_t now, size_t limit,
	    store_outbox_cb, void *arg);
int	 store_outbox_sent(struct store *, int64_t id);
/* The remote server acknowledged the row (XEP-0198), or it was stored
 * here for a hosted user. */
int	 store_outbox_delivered(struct store *, int64_t id);
/*
 * store_outbox_sent() (delivered 0) or store_outbox_delivered() (1) for a
 * caller that takes a refusal later, as store_inbox_put_later() does:
 * PostgreSQL sends the batch's marks in one statement per pipeline.
 */
int	 store_outbox_mark_later(struct store *, int64_t id, int delivered,
	    store_refused_cb refused, void *arg);
/* One more attempt failed; try again at next_attempt. A row `sent` or
 * `delivered` is `queued` again (the peer answered with a wait error). */
int	 store_outbox_retry(struct store *, int64_t id, int64_t next_attempt,
	    const char *stage, const char *error);
/* Given up; error_xml is the error stanza, when there was one. */
int	 store_outbox_failed(struct store *, int64_t id, const char *stage,
	    const char *error, const char *error_xml);

/* Queued rows per remote domain: how many and the oldest's created
 * time, domains in order; cb returns non-zero to stop. */
typedef int	(*store_queued_cb)(void *, const char *domain, int64_t rows,
		    int64_t oldest);
int	 store_outbox_queued(struct store *, store_queued_cb, void *arg);
/*
 * *yes = 1 when the user has a message row before row id to the bare JID
 * bare or one of its full JIDs (XEP-0172 4.2: the first message to a
 * stranger carries the nickname), else 0.
 */
int	 store_outbox_earlier(struct store *, const char *local,
	    const char *domain, const char *bare, int64_t id, int *yes);
/*
 * Directed presence (RFC 6121 4.6): who got a user's presence without a
 * subscription, so that its unavailable follows.
 */
int	 store_directed_add(struct store *, const char *local,
	    const char *domain, const char *jid);
/* cb(arg, jid) for each; cb != 0 stops. */
int	 store_directed_list(struct store *, const char *local,
	    const char *domain, int (*cb)(void *, const char *), void *arg);
/* Forgets jid (every one when jid is NULL). */
int	 store_directed_del(struct store *, const char *local,
	    const char *domain, const char *jid);

/*
 * Deleted users' contacts still to be told (kept by a trigger when the
 * users row goes): each with the subscription state it had, or "directed"
 * (state is then STORE_DEPARTED_DIRECTED).
 */
#define STORE_DEPARTED_DIRECTED	(-1)
struct store_departed {
	int64_t		 id;
	const char	*local;
	const char	*domain;
	const char	*jid;
	int		 state;		/* enum store_sub_state or _DIRECTED */
	int		 pending_out;
	int64_t		 created;
};
/* The rows after the id after (0: all), in id order, limit of them. */
int	 store_departed_list(struct store *, int64_t after, size_t limit,
	    int (*cb)(void *, const struct store_departed *), void *arg);
int	 store_departed_del(struct store *, int64_t id);
/*
 * An unavailable owed to jid from the user (a row of state "directed"),
 * kept until it is sent: written for each contact an unavailable goes to
 * (the user went offline or was disabled, or xfed stops); *idp is the
 * row's id.
 */
int	 store_departed_owe(struct store *, const char *local,
	    const char *domain, const char *jid, int64_t *idp);

/*
 * Domain rules: remote domains blocked, or allowed when any allow rule
 * exists (the native system's list; xfed.conf has one too). A rule for a
 * domain covers its subdomains.
 */
enum store_rule {
	STORE_RULE_BLOCK = 0,
	STORE_RULE_ALLOW,
};

struct store_domain_rule {
	const char	*domain;	/* prepared */
	enum store_rule	 action;
	int64_t		 created;
};

typedef int	(*store_domain_rule_cb)(void *, const struct store_domain_rule *);

const char	*store_rule_name(enum store_rule);
int		 store_rule_parse(const char *, enum store_rule *);
/* Adds the rule for domain, or changes its action. */
int	 store_domain_rule_set(struct store *, const char *domain,
	    enum store_rule);
/* STORE_E_NOTFOUND when there is no rule for domain. */
int	 store_domain_rule_del(struct store *, const char *domain);
/* Every rule, in domain order. */
int	 store_domain_rule_list(struct store *, store_domain_rule_cb, void *);

/*
 * Per-user blocks (XEP-0191): jid is a prepared domain, bare JID, full
 * JID or domain/resource the user refuses to hear from.
 */
struct store_block {
	const char	*local;		/* the native user */
	const char	*domain;
	const char	*jid;
	int64_t		 created;
};

typedef int	(*store_block_cb)(void *, const struct store_block *);

/* STORE_E_NOTFOUND: no such user; STORE_E_EXISTS: blocked already. */
int	 store_block_add(struct store *, const char *local, const char *domain,
	    const char *jid);
int	 store_block_del(struct store *, const char *local, const char *domain,
	    const char *jid);
/* The blocks of one user (local not NULL) or of all, in user, jid order. */
int	 store_block_list(struct store *, const char *local,
	    const char *domain, store_block_cb, void *);

/* Retention and quotas. */

/* Unconsumed inbox rows of one user into *np. */
int	 store_inbox_unconsumed(struct store *, const char *local,
	    const char *domain, int64_t *np);
/*
 * Deletes at most limit rows: inbox rows consumed before before (not
 * those whose receipt is still owed), outbox rows sent, delivered,
 * failed or done (updated) before before. *np gets how many.
 */
int	 store_inbox_prune(struct store *, int64_t before, int limit,
	    int64_t *np);
int	 store_outbox_prune(struct store *, int64_t before, int limit,
	    int64_t *np);

/* S2S state that must survive restarts (key/value). */

/* *valuep is allocated (caller frees); STORE_E_NOTFOUND when unset. */
int	 store_state_get(struct store *, const char *key, char **valuep);
int	 store_state_set(struct store *, const char *key, const char *value);

/*
 * Changes made by other processes. Triggers journal inserts and updates
 * of users, presence and queued outbox rows; store_changes_poll() first
 * asks SQLite whether another connection committed since the last call
 * (PRAGMA data_version, no I/O), and only then reads the journal rows
 * after the last one it reported. The first poll reports changes after
 * store_open(). Rows this connection wrote are reported too.
 */
enum store_table {
	STORE_T_USERS = 0,
	STORE_T_PRESENCE,
	STORE_T_OUTBOX,
	STORE_T_DOMAIN_RULES,	/* row_id: the rule's rowid */
	STORE_T_BLOCKS,		/* row_id: users.id */
};

struct store_change {
	int64_t		 seq;
	enum store_table table;
	int64_t		 row_id;	/* users.id, presence.user_id, outbox.id... */
	int		 deleted;	/* the row is gone */
	int64_t		 at;
};

typedef void	(*store_change_cb)(void *, const struct store_change *);

/* Number of changes reported, 0 when nothing changed, -1 on error. */
int	 store_changes_poll(struct store *, store_change_cb, void *arg);
/* 1 when another connection committed since the last check, else 0. */
int	 store_changed(struct store *);
/*
 * What tells when to call store_changes_poll(): a file descriptor to watch
 * for reading (SQLite: a timer and inotify on the store's folder, with
 * polls again shortly after a write in case its commit shows late;
 * PostgreSQL: the connection LISTEN is heard on), or -1 when there is none
 * (the caller polls on a timer). When it is readable the caller calls
 * store_changes_poll(), which reads what made it so; ask again after each
 * poll, as the fd changes when the backend reconnects.
 */
int	 store_watch_fd(struct store *);
/*
 * Deletes at most limit reported journal rows older than before (Unix
 * seconds); *np gets how many.
 */
int	 store_changes_prune(struct store *, int64_t before, int limit,
	    int64_t *np);

/*
 * The HTTP API (sqlite_api.c): bearer tokens, the events journal, webhook
 * cursors, and the per-user reads the API needs on top of the above.
 */
enum store_scope {
	STORE_SCOPE_READ = 0,	/* GET */
	STORE_SCOPE_WRITE,	/* and changes to users, presence, sends */
	STORE_SCOPE_ADMIN,	/* and tokens, webhooks, metrics */
};
const char	*store_scope_name(enum store_scope);
int		 store_scope_parse(const char *, enum store_scope *);

struct store_token {
	int64_t		 id;
	const char	*name;
	enum store_scope scope;
	int64_t		 created;
	int64_t		 last_used;	/* 0: never */
};
typedef int	(*store_token_cb)(void *, const struct store_token *);

/* hash: 64 hex digits (SHA-256 of the token); STORE_E_EXISTS on a name
 * or hash already there. */
int	 store_token_add(struct store *, const char *name, const char *hash,
	    enum store_scope, int64_t *idp);
/* cb once with the token whose hash this is, or STORE_E_NOTFOUND. */
int	 store_token_find(struct store *, const char *hash, store_token_cb,
	    void *arg);
int	 store_token_list(struct store *, store_token_cb, void *arg);
int	 store_token_revoke(struct store *, const char *name);
int	 store_token_used(struct store *, int64_t id, int64_t when);

/* One row of the events journal (CONTRACT.md "events"). */
struct store_event {
	int64_t		 id;
	const char	*type;		/* inbox, presence, outbox, user */
	int64_t		 user_id;
	const char	*user;		/* local@domain; NULL if deleted */
	int64_t		 ref_id;	/* inbox.id, outbox.id, users.id */
	const char	*jid;		/* the remote JID, when one */
	const char	*state;		/* inbox kind, show, outbox state, op */
	int64_t		 at;
};
typedef int	(*store_event_cb)(void *, const struct store_event *);

/* Events with id > after, oldest first, at most limit; cb != 0 stops. */
int	 store_event_list(struct store *, int64_t after, size_t limit,
	    store_event_cb, void *arg);
/* The highest event id, 0 when none ever. */
int	 store_event_last(struct store *, int64_t *idp);
/* The lowest event id kept (retention prunes the oldest), 0 when none. */
int	 store_event_first(struct store *, int64_t *idp);
/* Number of events with id > after. */
int	 store_event_count(struct store *, int64_t after, int64_t *np);
/* Deletes events older than before (seconds) and at or below upto; the
 * newest event stays, so that ids are never reused. */
int	 store_event_prune(struct store *, int64_t upto, int64_t before);

struct store_webhook {
	int64_t		 id;
	const char	*url;
	int64_t		 cursor;	/* last event id delivered */
	int64_t		 delivered;	/* events delivered */
	int		 failures;	/* attempts failed in a row */
	int		 last_status;	/* HTTP status, 0 when none */
	const char	*last_error;
	int64_t		 last_attempt;
	int64_t		 next_attempt;
	const char	*secret;	/* managed ones' only; NULL when none */
	int		 managed;	/* made by store_webhook_add() */
};
typedef int	(*store_webhook_cb)(void *, const struct store_webhook *);

/* The row of url, made (cursor at start) when missing; cb once. */
int	 store_webhook_open(struct store *, const char *url, int64_t start,
	    store_webhook_cb, void *arg);
int	 store_webhook_list(struct store *, store_webhook_cb, void *arg);
/* A managed webhook (the API, xfedctl webhook add): its events start
 * after start; STORE_E_EXISTS when the URL has a row (the message says
 * whether it is xfed.conf's). *idp gets its id. */
int	 store_webhook_add(struct store *, const char *url, const char *secret,
	    int64_t start, int64_t *idp);
/* Deletes the managed webhook id; STORE_E_NOTFOUND when there is none
 * (rows of xfed.conf's webhook lines are not deleted here). */
int	 store_webhook_delete(struct store *, int64_t id);
/* Deletes the row id of an xfed.conf webhook line (not managed), once the
 * line is gone; STORE_E_NOTFOUND when there is none. */
int	 store_webhook_forget(struct store *, int64_t id);
/* Events up to cursor were delivered (n of them). */
int	 store_webhook_done(struct store *, int64_t id, int64_t cursor,
	    int64_t n, int status);
int	 store_webhook_fail(struct store *, int64_t id, int status,
	    const char *error, int64_t next_attempt);

/* The inbox row id, cb once, or STORE_E_NOTFOUND. */
int	 store_inbox_get(struct store *, int64_t id, store_inbox_cb,
	    void *arg);
/* Marks the user's entries up to id consumed; *np gets how many. */
int	 store_inbox_ack(struct store *, const char *local,
	    const char *domain, int64_t upto, int64_t *np);
/* The remote presence row (user, full JID), cb once, or NOTFOUND. */
int	 store_rpres_get(struct store *, int64_t user_id, const char *jid,
	    store_rpres_cb, void *arg);

/* Figures for metrics: grouped counts, cb(arg, key1, key2, n). */
typedef void	(*store_count_cb)(void *, const char *, const char *, int64_t);
/* Outbox rows by state and error stage ("" when none). */
int	 store_outbox_counts(struct store *, store_count_cb, void *arg);
/* The oldest queued row's created time, 0 when none queued. */
int	 store_outbox_oldest(struct store *, int64_t *createdp);
/* Unconsumed inbox rows of all users. */
int	 store_inbox_unconsumed_all(struct store *, int64_t *np);

/*
 * Several instances on one store (CONTRACT.md, "Instances and leases").
 * An instance is a running daemon, named by the instance_name setting; it
 * beats (instances.heartbeat) on a timer. The outbox rows of one (local
 * domain, remote domain) pair are sent by the instance holding that
 * pair's lease only, so each pair keeps one ordered stream; a lease
 * expires ttl seconds after its last claim or renewal, and is then free
 * for any instance. Times are the database's clock (PostgreSQL) or this
 * host's (SQLite, where one daemon holds every lease).
 */
struct store_instance {
	const char	*name;
	int64_t		 started, heartbeat;	/* Unix seconds */
};
typedef int	(*store_instance_cb)(void *, const struct store_instance *);
struct store_lease {
	const char	*remote, *local, *holder;
	int64_t		 expiry;		/* Unix seconds */
};
typedef int	(*store_lease_cb)(void *, const struct store_lease *);

/* 1 when several daemons may share this store (PostgreSQL), 0 when this
 * daemon is its only one (SQLite) and so holds every lease. */
int	 store_shared(const struct store *);
/* Inserts or refreshes instance name's row: heartbeat now. */
int	 store_instance_beat(struct store *, const char *name,
	    int64_t started);
/* Removes instance name's row (a clean stop). */
int	 store_instance_del(struct store *, const char *name);
/* Instances by name. */
int	 store_instance_list(struct store *, store_instance_cb, void *arg);
/*
 * Claims for holder the leases, free or expired, of every pair with a
 * due queued outbox row; *np (when not NULL) gets how many it claimed.
 */
int	 store_lease_claim(struct store *, const char *holder, int ttl,
	    int64_t *np);
/* Claims the lease of one pair unless another holds it unexpired;
 * *heldp gets 1 when holder holds it now. */
int	 store_lease_take(struct store *, const char *holder,
	    const char *local, const char *remote, int ttl, int *heldp);
/* Extends holder's leases to now + ttl; *np gets how many. */
int	 store_lease_renew(struct store *, const char *holder, int ttl,
	    int64_t *np);
/* Frees holder's leases at once (a clean stop). */
int	 store_lease_release(struct store *, const char *holder);
/* Leases by remote then local domain; holder NULL: all. */
int	 store_lease_list(struct store *, const char *holder, store_lease_cb,
	    void *arg);
/* store_outbox_due() restricted to the pairs whose unexpired lease
 * holder holds. */
int	 store_outbox_due_held(struct store *, const char *holder, int64_t now,
	    size_t limit, store_outbox_cb, void *arg);
/*
 * The value of key, set to value first when unset: of two instances
 * starting at once, both get the one stored first. *valuep is allocated.
 */
int	 store_state_init(struct store *, const char *key, const char *value,
	    char **valuep);

/* Counters of this connection, since it opened. */
struct store_stats {
	uint64_t	 commits;	/* batches committed */
	uint64_t	 failures;	/* statements or commits that failed */
	uint64_t	 writes;	/* write statements started */
};
void	 store_stats(const struct store *, struct store_stats *);

#endif
