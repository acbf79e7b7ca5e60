/*
 * server/vcard.h: a native user's profile (the users row) as XMPP shows
 * it: a vcard-temp vCard (XEP-0054) with the avatar as PHOTO, and the
 * XEP-0153 <x xmlns='vcard-temp:x:update'/> hash every presence carries.
 */
#ifndef VCARD_H
#define VCARD_H

#include "store.h"

#define NS_VCARD	"vcard-temp"
#define NS_VCARD_UPDATE	"vcard-temp:x:update"
#define VCARD_HASH_LEN	40		/* lowercase hex SHA-1 */

struct el;

/*
 * A new last child of parent holding at most max bytes of text, cut on a
 * UTF-8 boundary (profile columns and presence status are bounded, what
 * the native system wrote notwithstanding); nothing when text is NULL.
 */
struct el	*vcard_add_text(struct el *parent, const char *ns,
		    const char *name, const char *text, size_t max);
/* A new <vCard/>, or NULL when the user has no profile data at all. */
struct el	*vcard_new(const struct store_user *);
/* The avatar in base64 (caller frees), or NULL without a usable one. */
char		*vcard_photo_base64(const struct store_user *);
/* out (VCARD_HASH_LEN + 1 bytes): the avatar's SHA-1, "" without one. */
void		 vcard_photo_hash(const struct store_user *, char *out);
/* Adds <x xmlns='vcard-temp:x:update'><photo>H</photo></x> to parent. */
void		 vcard_add_update(struct el *parent, const char *hash);

#endif
