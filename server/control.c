/*
 * server/control.c: accepts xfedctl connections on the Unix control socket,
 * reads one request at a time and answers it. Admin commands live here and
 * never on the S2S port. The connection count is capped. Who may connect is
 * the socket file's business: 0660, xfed's group, so root, xfed's user and
 * the members of its group (a native system's user); SO_PEERCRED names the
 * caller in the log.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "control.h"
#include "s2s.h"
#include "log.h"
#include "probe.h"
#include "xmalloc.h"

#define CONTROL_MAX_CLIENTS	16

static struct evconnlistener	*control_lev;
static struct control_hooks	 control_hooks;
static char			 control_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static int			 control_nclients;
/* the open connections, freed at shutdown even mid-request */
static struct bufferevent	*control_clients[CONTROL_MAX_CLIENTS];

void
control_emit(struct evbuffer *out, struct ctl_msg *m)
{
	const uint8_t	*b;
	size_t		 n;

	b = ctl_msg_end(m, &n);
	evbuffer_add(out, b, n);
	ctl_msg_free(m);
}

static void
control_stream(void *arg, const struct s2s_stream_info *si)
{
	struct ctl_msg	 m;

	ctl_msg_begin(&m, CTL_T_STREAM);
	ctl_put_u64(&m, CTL_F_ID, si->id);
	ctl_put_str(&m, CTL_F_DIR, si->dir);
	ctl_put_str(&m, CTL_F_LOCAL, si->local);
	ctl_put_str(&m, CTL_F_REMOTE, si->remote);
	ctl_put_str(&m, CTL_F_ADDR, si->addr);
	ctl_put_str(&m, CTL_F_STATE, si->state);
	ctl_put_str(&m, CTL_F_AUTH, si->auth);
	ctl_put_str(&m, CTL_F_TLS, si->tls);
	ctl_put_u64(&m, CTL_F_AGE, (uint64_t)(time(NULL) - si->opened));
	ctl_put_u64(&m, CTL_F_STANZAS_IN, si->nin);
	ctl_put_u64(&m, CTL_F_STANZAS_OUT, si->nout);
	if (si->cert_subject != NULL)
		ctl_put_str(&m, CTL_F_CERT_SUBJECT, si->cert_subject);
	if (si->cert_expiry != 0)
		ctl_put_u64(&m, CTL_F_CERT_EXPIRY, (uint64_t)si->cert_expiry);
	control_emit(arg, &m);
}

static void
control_route(void *arg, const struct s2s_route_info *ri)
{
	const struct s2s_attempt *a;
	struct ctl_msg	 m;
	int64_t		 now = time(NULL);
	size_t		 i;

	ctl_msg_begin(&m, CTL_T_ROUTE);
	ctl_put_str(&m, CTL_F_LOCAL, ri->local);
	ctl_put_str(&m, CTL_F_REMOTE, ri->remote);
	ctl_put_u64(&m, CTL_F_QUEUE, ri->queued);
	ctl_put_u64(&m, CTL_F_BACKOFF, ri->backoff_until > now ?
	    (uint64_t)(ri->backoff_until - now) : 0);
	ctl_put_str(&m, CTL_F_TEXT, ri->last_error);
	ctl_put_u64(&m, CTL_F_FAILURES, (uint64_t)ri->failures);
	control_emit(arg, &m);
	for (i = 0; i < ri->nattempts; i++) {
		a = &ri->attempts[i];
		ctl_msg_begin(&m, CTL_T_ATTEMPT);
		ctl_put_str(&m, CTL_F_LOCAL, ri->local);
		ctl_put_str(&m, CTL_F_REMOTE, ri->remote);
		ctl_put_u64(&m, CTL_F_TIME, (uint64_t)a->when);
		ctl_put_str(&m, CTL_F_RESULT, a->ok ? "ok" : "failed");
		ctl_put_str(&m, CTL_F_STAGE, a->stage);
		ctl_put_str(&m, CTL_F_TEXT, a->text);
		control_emit(arg, &m);
	}
}

/* An inbound attempt refused: an attempt with CTL_F_DIR "in", after
 * the routes (xfedctl before this ignores it: no route before it). */
static void
control_refused(void *arg, const char *local, const char *remote,
    const struct s2s_attempt *a)
{
	struct ctl_msg	 m;

	ctl_msg_begin(&m, CTL_T_ATTEMPT);
	ctl_put_str(&m, CTL_F_DIR, "in");
	ctl_put_str(&m, CTL_F_LOCAL, local);
	ctl_put_str(&m, CTL_F_REMOTE, remote);
	ctl_put_u64(&m, CTL_F_TIME, (uint64_t)a->when);
	ctl_put_str(&m, CTL_F_RESULT, "refused");
	ctl_put_str(&m, CTL_F_STAGE, a->stage);
	ctl_put_str(&m, CTL_F_TEXT, a->text);
	control_emit(arg, &m);
}

void
control_s2s_status(struct evbuffer *out)
{
	s2s_stream_foreach(control_stream, out);
	s2s_route_foreach(control_route, out);
	s2s_refused_foreach(control_refused, out);
}

static void
control_reply_text(struct evbuffer *out, enum ctl_type type, const char *text)
{
	struct ctl_msg	 m;

	ctl_msg_begin(&m, type);
	if (text != NULL)
		ctl_put_str(&m, CTL_F_TEXT, text);
	control_emit(out, &m);
}

/* xfedctl check's self-dial: a nonce, then whether a header carried it. */
static void
control_probe(struct evbuffer *out, const struct ctl_hdr *h,
    const uint8_t *p)
{
	struct ctl_msg	 m;
	char		 nonce[PROBE_NONCE_LEN + 1], sid[64];
	int		 tls = 0, r;

	if (h->type == CTL_T_PROBE) {
		probe_new(nonce);
		ctl_msg_begin(&m, CTL_T_PROBE);
		ctl_put_str(&m, CTL_F_NONCE, nonce);
		control_emit(out, &m);
		return;
	}
	if (ctl_get_str(p, h->len, CTL_F_NONCE, nonce, sizeof(nonce)) == -1)
		r = -1;
	else
		r = probe_check(nonce, sid, sizeof(sid), &tls);
	ctl_msg_begin(&m, CTL_T_PROBE_SEEN);
	ctl_put_str(&m, CTL_F_RESULT, r == 1 ? "seen" : r == 0 ? "unseen" :
	    "unknown");
	if (r == 1) {
		ctl_put_str(&m, CTL_F_SID, sid);
		ctl_put_str(&m, CTL_F_TLS, tls ? "yes" : "no");
	}
	control_emit(out, &m);
}

static void
control_drop(struct bufferevent *bev)
{
	int	 i;

	for (i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (control_clients[i] == bev)
			control_clients[i] = NULL;
	bufferevent_free(bev);
	control_nclients--;
}

static void
control_write_done(struct bufferevent *bev, void *arg)
{
	/* every request is answered whole; the client reads until CTL_T_OK */
}

static void
control_read(struct bufferevent *bev, void *arg)
{
	struct evbuffer	*in = bufferevent_get_input(bev);
	struct evbuffer	*out = bufferevent_get_output(bev);
	struct ctl_hdr	 h;
	const char	*errstr;
	uint8_t		*p;
	long		 n;

	for (;;) {
		p = evbuffer_pullup(in, -1);
		n = ctl_hdr_read(p, evbuffer_get_length(in), &h, &errstr);
		if (n == 0)
			return;
		if (n < 0) {
			control_reply_text(out, CTL_T_ERR, errstr);
			bufferevent_disable(bev, EV_READ);
			evbuffer_drain(in, evbuffer_get_length(in));
			return;
		}
		switch (h.type) {
		case CTL_T_STATUS:
			if (control_hooks.status != NULL)
				control_hooks.status(control_hooks.arg, out);
			control_reply_text(out, CTL_T_OK, NULL);
			break;
		case CTL_T_PROBE:
		case CTL_T_PROBE_SEEN:
			control_probe(out, &h, p + sizeof(h));
			control_reply_text(out, CTL_T_OK, NULL);
			break;
		default:
			control_reply_text(out, CTL_T_ERR, "unknown request");
			break;
		}
		evbuffer_drain(in, n);
	}
}

static void
control_event(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		control_drop(bev);
}

static void
control_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct event_base	*base = evconnlistener_get_base(lev);
	struct bufferevent	*bev;
	struct ucred		 cred;
	socklen_t		 len = sizeof(cred);
	int			 i;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("control: SO_PEERCRED");
		close(fd);
		return;
	}
	if (control_nclients >= CONTROL_MAX_CLIENTS) {
		log_warnx("control: too many connections");
		close(fd);
		return;
	}
	bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		close(fd);
		return;
	}
	for (i = 0; control_clients[i] != NULL; i++)
		;
	control_clients[i] = bev;
	control_nclients++;
	log_debug("control: connection from uid %ld pid %ld", (long)cred.uid,
	    (long)cred.pid);
	bufferevent_setcb(bev, control_read, control_write_done, control_event,
	    NULL);
	bufferevent_setwatermark(bev, EV_READ, 0, CTL_MAX_MSG + 64);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

int
control_listen(struct event_base *base, const char *path,
    const struct control_hooks *hooks)
{
	struct sockaddr_un	 sun;
	struct stat		 sb;
	int			 fd;
	mode_t			 old;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("control_socket %s: path too long", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	/* A daemon that answers there owns it; a dead one left a stale file. */
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1) {
		log_warn("control: socket");
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		close(fd);
		log_warnx("control_socket %s: another xfed is running", path);
		return -1;
	}
	close(fd);
	/* only a stale socket goes: never a file the path names by mistake */
	if (lstat(path, &sb) == 0 && !S_ISSOCK(sb.st_mode)) {
		log_warnx("control_socket %s: exists and is not a socket",
		    path);
		return -1;
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		log_warn("control_socket %s: unlink", path);
		return -1;
	}
	old = umask(0117);		/* 0660, the process's group */
	control_lev = evconnlistener_new_bind(base, control_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16,
	    (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (control_lev == NULL) {
		log_warn("control_socket %s: bind", path);
		return -1;
	}
	strcpy(control_path, path);
	control_hooks = *hooks;
	log_debug("control socket %s", path);
	return 0;
}

void
control_close(void)
{
	int	 i;

	for (i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (control_clients[i] != NULL)
			control_drop(control_clients[i]);
	if (control_lev == NULL)
		return;
	evconnlistener_free(control_lev);
	control_lev = NULL;
	unlink(control_path);
}
