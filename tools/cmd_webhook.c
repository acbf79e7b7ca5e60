/*
 * tools/cmd_webhook.c: xfedctl webhook add, list and del: webhooks kept
 * in the store (managed rows), besides xfed.conf's webhook lines. The
 * running xfed picks up a change within seconds (or at SIGHUP); a new
 * webhook gets the events that come after it.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "webhook.h"
#include "xfedctl.h"

static int
cmd_webhook_secret(struct ctl *ctl, int ch, const char *arg, void *p)
{
	if (*arg == '\0' || strlen(arg) > 256)
		return ctl_usage(ctl, "a secret is 1 to 256 bytes");
	*(const char **)p = arg;
	return CTL_OK;
}

static int
cmd_webhook_add(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "secret", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char	*secret = NULL;
	int64_t		 start = 0, id = 0;
	int		 i, rc;

	if ((i = ctl_getopt(ctl, argc, argv, "s:", opts, 0,
	    cmd_webhook_secret, &secret, &rc)) == -1)
		return rc;
	if (argc - i != 1)
		return ctl_usage(ctl, argc - i < 1 ? "missing URL" :
		    "too many arguments");
	if (!webhook_url_ok(argv[i]))
		return ctl_usage(ctl, "\"%s\" is not an http or https URL with "
		    "a host", argv[i]);
	if (ctl_open(ctl) == -1)
		return CTL_FAIL;
	if (ctl_begin(ctl) == -1 ||
	    store_event_last(ctl->st, &start) == -1 ||
	    store_webhook_add(ctl->st, argv[i], secret, start, &id) == -1 ||
	    ctl_commit(ctl) == -1) {
		if (store_errcode(ctl->st) == STORE_E_EXISTS)
			return ctl_fail("%s", store_errstr(ctl->st));
		return ctl_store_fail(ctl);
	}
	/* a daemon without the API or webhooks keeps no events journal:
	 * this webhook is its reader from now on (CONTRACT.md) */
	if (store_events_journal(ctl->st, 1) == -1)
		return ctl_store_fail(ctl);
	printf("%lld\n", (long long)id);
	return CTL_OK;
}

static int
cmd_webhook_list_cb(void *arg, const struct store_webhook *w)
{
	struct ctl	*ctl = arg;

	if (ctl->json) {
		out_json_print(stdout, json_of_webhook(w));
		return 0;
	}
	printf("%lld %s %s%s cursor %lld delivered %lld failures %d\n",
	    (long long)w->id, w->url, w->managed ? "managed" : "xfed.conf",
	    w->managed && w->secret != NULL ? " signed" : "",
	    (long long)w->cursor, (long long)w->delivered, w->failures);
	return 0;
}

static int
cmd_webhook_list_all(struct ctl *ctl)
{
	return store_webhook_list(ctl->st, cmd_webhook_list_cb, ctl);
}

static int
cmd_webhook_list(struct ctl *ctl, int argc, char **argv)
{
	return ctl_list(ctl, argc, argv, cmd_webhook_list_all);
}

static int
cmd_webhook_del(struct ctl *ctl, int argc, char **argv)
{
	long long	 id;
	int		 i, rc;

	if ((i = ctl_getopt(ctl, argc, argv, "", NULL, 0, NULL, NULL,
	    &rc)) == -1)
		return rc;
	if (argc - i != 1)
		return ctl_usage(ctl, argc - i < 1 ? "missing ID" :
		    "too many arguments");
	if (ctl_parse_id(argv[i], 1, &id) == -1)
		return ctl_usage(ctl, "invalid id \"%s\" (digits, 1 to %lld)",
		    argv[i], LLONG_MAX);
	if (ctl_open(ctl) == -1)
		return CTL_FAIL;
	if (ctl_begin(ctl) == -1 || store_webhook_delete(ctl->st, id) == -1 ||
	    ctl_commit(ctl) == -1)
		return ctl_store_fail(ctl);
	return CTL_OK;
}

const struct ctl_cmd cmd_webhook_table[] = {
	{ "webhook add", "URL [--secret SECRET]",
	    "Makes a webhook in the store: every event from now on is POSTed "
	    "to URL,\nsigned with SECRET (X-Xfed-Signature) when given. Prints "
	    "its id.", cmd_webhook_add },
	{ "webhook list", "[--json]",
	    "Lists the webhooks (xfed.conf's and the store's): id, URL, "
	    "cursor, deliveries.", cmd_webhook_list },
	{ "webhook del", "ID",
	    "Deletes the webhook ID made with webhook add or the API; xfed "
	    "stops\nPOSTing to it within seconds.", cmd_webhook_del },
	{ NULL, NULL, NULL, NULL },
};
