/*
 * server/control.h: the daemon's end of the control socket (protocol in
 * ctl.h). The layers above fill in the answers through hooks, so server/
 * does not depend on them.
 */
#ifndef CONTROL_H
#define CONTROL_H

#include "ctl.h"

struct event_base;
struct evbuffer;

struct control_hooks {
	/* Appends CTL_T_INFO and CTL_T_STREAM messages for "status" to out. */
	void	(*status)(void *arg, struct evbuffer *out);
	void	 *arg;
};

/*
 * Binds path (refusing if a live daemon answers there, removing a stale
 * socket otherwise). Only root and the daemon's own user may connect.
 */
int	 control_listen(struct event_base *, const char *path,
	    const struct control_hooks *);
void	 control_close(void);
/* Appends CTL_T_STREAM and CTL_T_ROUTE messages, asked of s2s/. */
void	 control_s2s_status(struct evbuffer *out);
/* Appends one finished message to out and frees it. */
void	 control_emit(struct evbuffer *out, struct ctl_msg *);

#endif
