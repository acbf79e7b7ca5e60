/*
 * tools/ctlsock.c: xfedctl's end of the control socket (protocol:
 * server/ctl.h): connect, send one request, hand each answer to the
 * command until CTL_T_OK. For the commands that need the running daemon
 * (status, peers, check); what the answers mean is theirs. A daemon that
 * is alive but does not answer (stopped, stuck) costs CTL_SOCK_SECS for
 * the whole answer, then one line says so.
 */
#include <errno.h>
#include <poll.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "xfedctl.h"

#define CTL_SOCK_SECS	10	/* the whole answer to one request */

int
ctl_sock_connect(const char *path, char *err, size_t errsz)
{
	struct sockaddr_un	 sun;
	int			 fd, e;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errsz, "control_socket %s: path too long", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1) {
		snprintf(err, errsz, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		e = errno;
		close(fd);
		if (e == ENOENT || e == ECONNREFUSED)
			snprintf(err, errsz, "xfed is not running (nothing "
			    "answers on %s)", path);
		else
			snprintf(err, errsz, "%s: %s", path, strerror(e));
		return -1;
	}
	return fd;
}

int
ctl_sock_open(struct ctl *ctl)
{
	char	 err[512];
	int	 fd;

	if ((fd = ctl_sock_connect(ctl->conf->control_socket, err,
	    sizeof(err))) == -1)
		ctl_fail("%s", err);
	return fd;
}

struct ctl_sock_buf {
	uint8_t		*p;
	size_t		 len, cap;
};

/* Reads until one whole message is buffered, before end; its size, -1
 * with errstr, or -2 when end passed. */
static long
ctl_sock_read(int fd, struct ctl_sock_buf *b, struct ctl_hdr *h,
    time_t end, const char **errstr)
{
	struct pollfd	 pfd;
	time_t		 left;
	long		 n;
	ssize_t		 r;

	for (;;) {
		if ((n = ctl_hdr_read(b->p, b->len, h, errstr)) != 0)
			return n;
		if (b->len == b->cap) {
			b->cap = b->cap ? b->cap * 2 : 4096;
			if ((b->p = realloc(b->p, b->cap)) == NULL) {
				*errstr = "out of memory";
				return -1;
			}
		}
		if ((left = end - time(NULL)) <= 0)
			return -2;
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if ((r = poll(&pfd, 1, (int)left * 1000)) == 0)
			return -2;
		if (r == -1 && errno == EINTR)
			continue;
		r = read(fd, b->p + b->len, b->cap - b->len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			*errstr = r == 0 ? "the daemon closed the connection" :
			    strerror(errno);
			return -1;
		}
		b->len += (size_t)r;
	}
}

int
ctl_sock_request(struct ctl *ctl, int fd, struct ctl_msg *req,
    ctl_sock_cb *fn, void *arg)
{
	struct ctl_sock_buf	 b = { NULL, 0, 0 };
	struct ctl_hdr		 h;
	const uint8_t		*p;
	const char		*errstr, *path = ctl->conf->control_socket;
	char			 text[512];
	size_t			 len;
	long			 n;
	int			 rc = CTL_FAIL;
	time_t			 end = time(NULL) + CTL_SOCK_SECS;

	p = ctl_msg_end(req, &len);
	if (write(fd, p, len) != (ssize_t)len) {
		ctl_msg_free(req);
		return ctl_fail("%s: write: %s", path, strerror(errno));
	}
	ctl_msg_free(req);
	for (;;) {
		if ((n = ctl_sock_read(fd, &b, &h, end, &errstr)) == -2) {
			ctl_fail("xfed did not answer on %s in %d s", path,
			    CTL_SOCK_SECS);
			break;
		}
		if (n == -1) {
			ctl_fail("%s: %s", path, errstr);
			break;
		}
		if (h.type == CTL_T_OK) {
			rc = CTL_OK;
			break;
		}
		if (h.type == CTL_T_ERR) {
			if (ctl_get_str(b.p + sizeof(h), h.len, CTL_F_TEXT, text,
			    sizeof(text)) == -1)
				snprintf(text, sizeof(text), "refused");
			ctl_fail("xfed: %s", text);
			break;
		}
		if (fn(arg, h.type, b.p + sizeof(h), h.len) != 0)
			break;
		memmove(b.p, b.p + n, b.len - (size_t)n);
		b.len -= (size_t)n;
	}
	free(b.p);
	return rc;
}
