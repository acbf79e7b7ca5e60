/*
 * server/xfed.c: main(). Options, config, the one event base, signals and
 * listeners. Streams are s2s/'s, storage is store/'s.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "conf.h"
#include "log.h"
#include "xmalloc.h"

static struct event_base	*xfed_base;
static struct conf		*xfed_conf;
static const char		*xfed_conf_path = CONF_DEFAULT_PATH;

static void
xfed_usage(void)
{
	fprintf(stderr, "usage: xfed [-dfptV] [-c file]\n");
	exit(2);
}

static void
xfed_report(const char *line)
{
	log_warnx("%s", line);
}

static void
xfed_signal(evutil_socket_t sig, short what, void *arg)
{
	struct conf	*c;

	switch (sig) {
	case SIGINT:
	case SIGTERM:
		log_info("received %s, shutting down", strsignal(sig));
		event_base_loopexit(xfed_base, NULL);
		break;
	case SIGHUP:
		log_info("received SIGHUP, reloading %s", xfed_conf_path);
		if ((c = conf_load(xfed_conf_path, xfed_report)) == NULL) {
			log_warnx("config not reloaded: errors above");
			break;
		}
		conf_free(xfed_conf);
		xfed_conf = c;
		log_setlevel(c->log_level);
		log_info("config reloaded");
		break;
	}
}

int
main(int argc, char **argv)
{
	struct event	*ev_int, *ev_term, *ev_hup;
	int		 ch, foreground = 0, debug = 0, test = 0;

	while ((ch = getopt(argc, argv, "c:dfptV")) != -1) {
		switch (ch) {
		case 'c':
			xfed_conf_path = optarg;
			break;
		case 'd':
			debug = 1;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'p':
			conf_print_sample(stdout);
			return 0;
		case 't':
			test = 1;
			break;
		case 'V':
			printf("xfed %s\n", XFED_VERSION);
			return 0;
		default:
			xfed_usage();
		}
	}
	if (optind != argc)
		xfed_usage();

	if ((xfed_conf = conf_load(xfed_conf_path, NULL)) == NULL)
		return 1;
	if (test) {
		printf("%s: configuration OK\n", xfed_conf_path);
		conf_free(xfed_conf);
		return 0;
	}
	log_init(foreground || debug, debug ? LOG_L_DEBUG : xfed_conf->log_level);
	if (!foreground && !debug && daemon(0, 0) == -1)
		fatal("daemon");
	signal(SIGPIPE, SIG_IGN);

	if ((xfed_base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	ev_int = evsignal_new(xfed_base, SIGINT, xfed_signal, NULL);
	ev_term = evsignal_new(xfed_base, SIGTERM, xfed_signal, NULL);
	ev_hup = evsignal_new(xfed_base, SIGHUP, xfed_signal, NULL);
	evsignal_add(ev_int, NULL);
	evsignal_add(ev_term, NULL);
	evsignal_add(ev_hup, NULL);

	log_info("xfed %s starting", XFED_VERSION);
	event_base_dispatch(xfed_base);

	event_free(ev_int);
	event_free(ev_term);
	event_free(ev_hup);
	event_base_free(xfed_base);
	conf_free(xfed_conf);
	log_info("xfed stopped");
	return 0;
}
