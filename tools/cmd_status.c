/*
 * tools/cmd_status.c: "xfedctl status", live figures from the running
 * daemon over its control socket (protocol: server/ctl.h). The only
 * command that needs the daemon; it says so plainly when there is none.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "ctl.h"
#include "xfedctl.h"

struct cmd_status_buf {
	uint8_t		*p;
	size_t		 len, cap;
};

/* Reads until one whole message is buffered; its size or -1. */
static long
cmd_status_read(int fd, struct cmd_status_buf *b, struct ctl_hdr *h,
    const char **errstr)
{
	long	 n;
	ssize_t	 r;

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

static const char *
cmd_status_secs(uint64_t s, char *buf, size_t n)
{
	if (s >= 86400)
		snprintf(buf, n, "%llud%02lluh", (unsigned long long)(s / 86400),
		    (unsigned long long)(s % 86400 / 3600));
	else if (s >= 3600)
		snprintf(buf, n, "%lluh%02llum", (unsigned long long)(s / 3600),
		    (unsigned long long)(s % 3600 / 60));
	else
		snprintf(buf, n, "%llum%02llus", (unsigned long long)(s / 60),
		    (unsigned long long)(s % 60));
	return buf;
}

struct cmd_status_doms {
	char		 text[1024];
	struct out_json	*j;
};

static void
cmd_status_domain(void *arg, const char *d)
{
	struct cmd_status_doms	*ds = arg;

	if (ds->j != NULL) {
		out_json_str(ds->j, NULL, d);
		return;
	}
	if (ds->text[0] != '\0')
		strncat(ds->text, " ", sizeof(ds->text) - strlen(ds->text) - 1);
	strncat(ds->text, d, sizeof(ds->text) - strlen(ds->text) - 1);
}

/* One message as text or JSON; the fields are read with ctl_get_*(). */
static void
cmd_status_print(struct ctl *ctl, struct out_json *j, int type,
    const uint8_t *p, size_t len)
{
	char		 s[6][256], t1[32];
	uint64_t	 u[6] = { 0 };
	struct cmd_status_doms ds;
	static const enum ctl_field sf[] = { CTL_F_DIR, CTL_F_LOCAL,
	    CTL_F_REMOTE, CTL_F_ADDR, CTL_F_STATE, CTL_F_AUTH };
	int		 i;

	memset(s, 0, sizeof(s));
	switch (type) {
	case CTL_T_INFO:
		ctl_get_str(p, len, CTL_F_VERSION, s[0], sizeof(s[0]));
		ctl_get_u64(p, len, CTL_F_PID, &u[0]);
		ctl_get_u64(p, len, CTL_F_UPTIME, &u[1]);
		ctl_get_u64(p, len, CTL_F_STREAMS, &u[2]);
		ctl_get_u64(p, len, CTL_F_OUTBOX_QUEUED, &u[3]);
		memset(&ds, 0, sizeof(ds));
		if (ctl->json) {
			out_json_str(j, "version", s[0]);
			out_json_int(j, "pid", (int64_t)u[0]);
			out_json_int(j, "uptime", (int64_t)u[1]);
			out_json_array(j, "domains");
			ds.j = j;
			ctl_each_str(p, len, CTL_F_DOMAIN, cmd_status_domain, &ds);
			out_json_array_end(j);
			out_json_int(j, "streams_open", (int64_t)u[2]);
			out_json_int(j, "outbox_in_flight", (int64_t)u[3]);
			return;
		}
		ctl_each_str(p, len, CTL_F_DOMAIN, cmd_status_domain, &ds);
		printf("xfed %s, pid %llu, up %s\ndomains: %s\n"
		    "streams: %llu, outbox rows in flight: %llu\n", s[0],
		    (unsigned long long)u[0],
		    cmd_status_secs(u[1], t1, sizeof(t1)), ds.text,
		    (unsigned long long)u[2], (unsigned long long)u[3]);
		return;
	case CTL_T_STREAM:
		for (i = 0; i < 6; i++)
			ctl_get_str(p, len, sf[i], s[i], sizeof(s[i]));
		ctl_get_u64(p, len, CTL_F_ID, &u[0]);
		ctl_get_u64(p, len, CTL_F_AGE, &u[1]);
		ctl_get_u64(p, len, CTL_F_STANZAS_IN, &u[2]);
		ctl_get_u64(p, len, CTL_F_STANZAS_OUT, &u[3]);
		{
			char	 tls[256] = "";

			ctl_get_str(p, len, CTL_F_TLS, tls, sizeof(tls));
			if (ctl->json) {
				out_json_obj(j, NULL);
				out_json_int(j, "id", (int64_t)u[0]);
				out_json_str(j, "direction", s[0]);
				out_json_str(j, "local", s[1]);
				out_json_str(j, "remote", s[2]);
				out_json_str(j, "address", s[3]);
				out_json_str(j, "state", s[4]);
				out_json_str(j, "auth", s[5]);
				out_json_str(j, "tls", tls[0] ? tls : NULL);
				out_json_int(j, "age", (int64_t)u[1]);
				out_json_int(j, "stanzas_in", (int64_t)u[2]);
				out_json_int(j, "stanzas_out", (int64_t)u[3]);
				out_json_obj_end(j);
				return;
			}
			printf("  %-3s #%-5llu %s <-> %s [%s] %s auth=%s tls=%s "
			    "age=%s in=%llu out=%llu\n", s[0],
			    (unsigned long long)u[0], s[1], s[2], s[3], s[4],
			    s[5], tls[0] ? tls : "none",
			    cmd_status_secs(u[1], t1, sizeof(t1)),
			    (unsigned long long)u[2], (unsigned long long)u[3]);
		}
		return;
	case CTL_T_ROUTE:
		ctl_get_str(p, len, CTL_F_LOCAL, s[0], sizeof(s[0]));
		ctl_get_str(p, len, CTL_F_REMOTE, s[1], sizeof(s[1]));
		ctl_get_str(p, len, CTL_F_TEXT, s[2], sizeof(s[2]));
		ctl_get_u64(p, len, CTL_F_QUEUE, &u[0]);
		ctl_get_u64(p, len, CTL_F_BACKOFF, &u[1]);
		if (ctl->json) {
			out_json_obj(j, NULL);
			out_json_str(j, "local", s[0]);
			out_json_str(j, "remote", s[1]);
			out_json_int(j, "queued", (int64_t)u[0]);
			out_json_int(j, "retry_in", (int64_t)u[1]);
			out_json_str(j, "last_error", s[2][0] ? s[2] : NULL);
			out_json_obj_end(j);
			return;
		}
		printf("  %s -> %s queued=%llu", s[0], s[1],
		    (unsigned long long)u[0]);
		if (u[1] > 0)
			printf(" retry in %s", cmd_status_secs(u[1], t1, sizeof(t1)));
		if (s[2][0] != '\0') {
			fputs(" last error: ", stdout);
			out_text(stdout, s[2]);
		}
		putchar('\n');
		return;
	case CTL_T_WEBHOOK:
		ctl_get_str(p, len, CTL_F_URL, s[0], sizeof(s[0]));
		ctl_get_str(p, len, CTL_F_TEXT, s[1], sizeof(s[1]));
		ctl_get_u64(p, len, CTL_F_CURSOR, &u[0]);
		ctl_get_u64(p, len, CTL_F_BACKLOG, &u[1]);
		ctl_get_u64(p, len, CTL_F_FAILURES, &u[2]);
		ctl_get_u64(p, len, CTL_F_STATUS, &u[3]);
		if (ctl->json) {
			out_json_obj(j, NULL);
			out_json_str(j, "url", s[0]);
			out_json_int(j, "cursor", (int64_t)u[0]);
			out_json_int(j, "backlog", (int64_t)u[1]);
			out_json_int(j, "failures", (int64_t)u[2]);
			out_json_time(j, "last_status", (int64_t)u[3]);
			out_json_str(j, "last_error", s[1][0] ? s[1] : NULL);
			out_json_obj_end(j);
			return;
		}
		fputs("  ", stdout);
		out_text(stdout, s[0]);
		printf(" delivered up to event %llu, backlog %llu",
		    (unsigned long long)u[0], (unsigned long long)u[1]);
		if (u[2] > 0) {
			printf(", %llu failures in a row, last: ",
			    (unsigned long long)u[2]);
			out_text(stdout, s[1]);
		}
		putchar('\n');
		return;
	}
}

static int
cmd_status(struct ctl *ctl, int argc, char **argv)
{
	struct sockaddr_un	 sun;
	struct cmd_status_buf	 b = { NULL, 0, 0 };
	struct ctl_msg		 m;
	struct ctl_hdr		 h;
	struct out_json		 j;
	const uint8_t		*req;
	const char		*errstr, *path = ctl->conf->control_socket;
	char			 text[512];
	size_t			 reqlen;
	long			 n;
	int			 fd, i, rc = CTL_FAIL, section = 0;

	if ((i = ctl_getopt(ctl, argc, argv, "", NULL, 1, NULL, NULL,
	    &rc)) == -1)
		return rc;
	if (argc - i > 0)
		return ctl_usage(ctl, "too many arguments");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return ctl_fail("control_socket %s: path too long", path);
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return ctl_fail("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		rc = errno;
		close(fd);
		if (rc == ENOENT || rc == ECONNREFUSED)
			return ctl_fail("xfed is not running (nothing answers "
			    "on %s)", path);
		return ctl_fail("%s: %s", path, strerror(rc));
	}
	ctl_msg_begin(&m, CTL_T_STATUS);
	req = ctl_msg_end(&m, &reqlen);
	if (write(fd, req, reqlen) != (ssize_t)reqlen) {
		ctl_msg_free(&m);
		close(fd);
		return ctl_fail("%s: write: %s", path, strerror(errno));
	}
	ctl_msg_free(&m);
	if (ctl->json)
		out_json_begin(&j, stdout);
	for (rc = CTL_FAIL;;) {
		if ((n = cmd_status_read(fd, &b, &h, &errstr)) == -1) {
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
		/* sections: the daemon sends INFO, then streams, then routes */
		if (h.type == CTL_T_STREAM && section < 1) {
			section = 1;
			if (ctl->json)
				out_json_array(&j, "streams");
			else
				printf("streams:\n");
		} else if (h.type == CTL_T_ROUTE && section < 2) {
			if (ctl->json) {
				if (section == 1)
					out_json_array_end(&j);
				out_json_array(&j, "routes");
			} else
				printf("routes:\n");
			section = 2;
		} else if (h.type == CTL_T_WEBHOOK && section < 3) {
			if (ctl->json) {
				if (section > 0)
					out_json_array_end(&j);
				out_json_array(&j, "webhooks");
			} else
				printf("webhooks:\n");
			section = 3;
		}
		cmd_status_print(ctl, &j, h.type, b.p + sizeof(h), h.len);
		memmove(b.p, b.p + n, b.len - (size_t)n);
		b.len -= (size_t)n;
	}
	if (ctl->json && rc == CTL_OK) {
		if (section > 0)
			out_json_array_end(&j);
		out_json_end(&j);
	}
	free(b.p);
	close(fd);
	return rc;
}

const struct ctl_cmd cmd_status_table[] = {
	{ "status", "[--json]",
	    "Shows the running daemon: version, uptime, domains, every S2S "
	    "stream\n(direction, pair, state, authentication, TLS, stanza "
	    "counts), every\nroute (queue, backoff, last error) and every "
	    "webhook (cursor, backlog,\nfailures). Needs xfed running.", cmd_status },
	{ NULL, NULL, NULL, NULL },
};
