/*
 * tools/cmd_status.c: "xfedctl status", live figures from the running
 * daemon over its control socket (protocol: server/ctl.h). The only
 * command that needs the daemon; it says so plainly when there is none.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "xfedctl.h"

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
		ctl_get_u64(p, len, CTL_F_STORE_FAILING, &u[4]);
		if (u[4] != 0)
			out_time((int64_t)u[4], s[1], sizeof(s[1]));
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
			out_json_str(j, "store_failing_since", u[4] ? s[1] : NULL);
			return;
		}
		ctl_each_str(p, len, CTL_F_DOMAIN, cmd_status_domain, &ds);
		printf("xfed %s, pid %llu, up %s\ndomains: %s\n"
		    "streams: %llu, outbox rows in flight: %llu\n", s[0],
		    (unsigned long long)u[0],
		    out_duration(u[1], t1, sizeof(t1)), ds.text,
		    (unsigned long long)u[2], (unsigned long long)u[3]);
		if (u[4] != 0)
			printf("store failing since %s\n", s[1]);
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
			    out_duration(u[1], t1, sizeof(t1)),
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
			printf(" retry in %s", out_duration(u[1], t1, sizeof(t1)));
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

struct cmd_status_ctx {
	struct ctl	*ctl;
	struct out_json	 j;
	int		 section;
};

static int
cmd_status_answer(void *arg, int type, const uint8_t *p, size_t len)
{
	struct cmd_status_ctx	*cx = arg;

	/* sections: the daemon sends INFO, then streams, routes, webhooks */
	if (type == CTL_T_STREAM && cx->section < 1) {
		cx->section = 1;
		if (cx->ctl->json)
			out_json_array(&cx->j, "streams");
		else
			printf("streams:\n");
	} else if (type == CTL_T_ROUTE && cx->section < 2) {
		if (cx->ctl->json) {
			if (cx->section == 1)
				out_json_array_end(&cx->j);
			out_json_array(&cx->j, "routes");
		} else
			printf("routes:\n");
		cx->section = 2;
	} else if (type == CTL_T_WEBHOOK && cx->section < 3) {
		if (cx->ctl->json) {
			if (cx->section > 0)
				out_json_array_end(&cx->j);
			out_json_array(&cx->j, "webhooks");
		} else
			printf("webhooks:\n");
		cx->section = 3;
	}
	cmd_status_print(cx->ctl, &cx->j, type, p, len);
	return 0;
}

/* One instance sharing the store, with how long ago it last beat. */
static int
cmd_status_instance(void *arg, const struct store_instance *in)
{
	struct cmd_status_ctx	*cx = arg;
	char			 t[32], d[32];
	int64_t			 now = (int64_t)time(NULL);

	if (cx->ctl->json) {
		out_json_obj(&cx->j, NULL);
		out_json_str(&cx->j, "name", in->name);
		out_json_time(&cx->j, "started", in->started);
		out_json_time(&cx->j, "heartbeat", in->heartbeat);
		out_json_obj_end(&cx->j);
		return 0;
	}
	fputs("  ", stdout);
	out_text(stdout, in->name);
	printf(" started %s, last heartbeat %s ago\n", out_time(in->started,
	    t, sizeof(t)), out_duration((uint64_t)(now > in->heartbeat ?
	    now - in->heartbeat : 0), d, sizeof(d)));
	return 0;
}

/* The instances from the store: the daemons sharing it, live or dead. */
static int
cmd_status_instances(struct cmd_status_ctx *cx)
{
	const char	*errstr;
	int		 rc = CTL_OK;

	if (cx->ctl->json) {
		if (cx->section > 0)
			out_json_array_end(&cx->j);
		out_json_array(&cx->j, "instances");
		cx->section = 4;
	} else
		printf("instances:\n");
	if (ctl_open_existing(cx->ctl, &errstr) != 0)
		rc = ctl_fail("instances unavailable: %s", errstr);
	else if (store_instance_list(cx->ctl->st, cmd_status_instance,
	    cx) == -1)
		rc = ctl_fail("instances unavailable: %s",
		    store_errstr(cx->ctl->st));
	return rc;
}

static int
cmd_status(struct ctl *ctl, int argc, char **argv)
{
	struct cmd_status_ctx	 cx;
	struct ctl_msg		 m;
	int			 fd, i, rc = CTL_FAIL;

	if ((i = ctl_getopt(ctl, argc, argv, "", NULL, 1, NULL, NULL,
	    &rc)) == -1)
		return rc;
	if (argc - i > 0)
		return ctl_usage(ctl, "too many arguments");
	if ((fd = ctl_sock_open(ctl)) == -1)
		return CTL_FAIL;
	memset(&cx, 0, sizeof(cx));
	cx.ctl = ctl;
	if (ctl->json)
		out_json_begin(&cx.j, stdout);
	ctl_msg_begin(&m, CTL_T_STATUS);
	rc = ctl_sock_request(ctl, fd, &m, cmd_status_answer, &cx);
	if (rc == CTL_OK)
		rc = cmd_status_instances(&cx);
	if (ctl->json && (rc == CTL_OK || cx.section == 4)) {
		if (cx.section > 0)
			out_json_array_end(&cx.j);
		out_json_end(&cx.j);
	}
	close(fd);
	return rc;
}

const struct ctl_cmd cmd_status_table[] = {
	{ "status", "[--json]",
	    "Shows the running daemon: version, uptime, domains, every S2S "
	    "stream\n(direction, pair, state, authentication, TLS, stanza "
	    "counts), every\nroute (queue, backoff, last error) and every "
	    "webhook (cursor, backlog,\nfailures), and every instance sharing "
	    "the store with its last\nheartbeat. Needs xfed running.", cmd_status },
	{ NULL, NULL, NULL, NULL },
};
