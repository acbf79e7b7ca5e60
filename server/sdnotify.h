/*
 * server/sdnotify.h: readiness and status for systemd (Type=notify).
 */
#ifndef SDNOTIFY_H
#define SDNOTIFY_H

/* Sends state ("READY=1", "STOPPING=1", "STATUS=...") to $NOTIFY_SOCKET;
 * 0 when sent or when there is no such variable, -1 (logged) on error. */
int	 sdnotify(const char *state);

#endif
