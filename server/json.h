/*
 * server/json.c: the one JSON encoder of xfed and xfedctl, on jansson:
 * strings from the store made valid UTF-8 whatever bytes they hold, and
 * how each store row looks as a JSON object (the HTTP API, webhooks,
 * /v1/events and xfedctl --json all show the same fields). Parsing
 * request bodies is jansson's json_loadb().
 */
#ifndef XFED_JSON_H
#define XFED_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "store.h"

/* Length of the valid UTF-8 sequence at s (1 for ASCII), or 0. */
size_t	 json_utf8_len(const unsigned char *s);
/* A JSON string of s, invalid UTF-8 replaced by U+FFFD; null for NULL. */
json_t	*json_str_lossy(const char *s);
/* Sets key in obj (borrowed strings; NULL and time 0 become null). */
void	 json_put_str(json_t *obj, const char *key, const char *);
void	 json_put_int(json_t *obj, const char *key, int64_t);
void	 json_put_time(json_t *obj, const char *key, int64_t);
void	 json_put_bool(json_t *obj, const char *key, int);
/* Base64 (RFC 4648 4) of len bytes as a string; NULL data is null. */
void	 json_put_base64(json_t *obj, const char *key, const void *,
	    size_t len);
/* Decodes base64 into a new buffer (*lenp bytes); NULL when invalid. */
unsigned char *json_base64_decode(const char *, size_t *lenp);

/* New objects for store rows. */
json_t	*json_of_user(const struct store_user *, int with_avatar);
json_t	*json_of_presence(const struct store_presence *);
json_t	*json_of_sub(const struct store_sub *);
json_t	*json_of_rpres(const struct store_rpres *);
json_t	*json_of_inbox(const struct store_inbox *);
json_t	*json_of_outbox(const struct store_outbox *);
json_t	*json_of_webhook(const struct store_webhook *);
json_t	*json_of_token(const struct store_token *);

/*
 * An event as /v1/events and webhooks send it: its journal fields, and
 * the row it is about (inbox entry, outbox row, remote presence, user)
 * read from st as it is now, when it still exists.
 */
json_t	*json_of_event(struct store *st, const struct store_event *);

/* Compact text of v (caller frees); never NULL. */
char	*json_text(const json_t *v);

#endif
