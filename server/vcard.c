/*
 * server/vcard.c: the users row as a vcard-temp vCard (XEP-0054) and the
 * avatar hash of XEP-0153. Element names are upper case (XEP-0054 4);
 * the photo is TYPE + BINVAL, base64 of the stored bytes, and the hash
 * in presence is the SHA-1 of those same bytes (XEP-0153 4.1), so a
 * client that checks the one against the other (S2S 9.12) agrees. An
 * avatar the contract does not allow (store_avatar_type()) is left out of
 * both, its type told by its bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "el.h"
#include "utf8.h"
#include "vcard.h"
#include "xmalloc.h"

struct el *
vcard_add_text(struct el *parent, const char *ns, const char *name,
    const char *text, size_t max)
{
	struct el	*c;

	if (text == NULL)
		return NULL;
	c = el_add(parent, ns, name);
	el_add_text(c, text, utf8_prefix(text, max));
	return c;
}

struct el *
vcard_new(const struct store_user *u)
{
	struct el	*v, *c;
	char		*b64;

	const char	*type = store_avatar_type(u->avatar, u->avatar_len);

	if (u->name == NULL && u->nickname == NULL && u->email == NULL &&
	    u->url == NULL && u->note == NULL && type == NULL)
		return NULL;
	v = el_new(NS_VCARD, "vCard");
	vcard_add_text(v, NULL, "FN", u->name, STORE_PROFILE_TEXT_MAX);
	vcard_add_text(v, NULL, "NICKNAME", u->nickname,
	    STORE_PROFILE_TEXT_MAX);
	if (u->email != NULL) {
		c = el_add(v, NULL, "EMAIL");
		el_add(c, NULL, "INTERNET");
		vcard_add_text(c, NULL, "USERID", u->email,
		    STORE_PROFILE_TEXT_MAX);
	}
	vcard_add_text(v, NULL, "URL", u->url, STORE_PROFILE_TEXT_MAX);
	vcard_add_text(v, NULL, "DESC", u->note, STORE_PROFILE_NOTE_MAX);
	if (type != NULL) {
		c = el_add(v, NULL, "PHOTO");
		el_add_text_child(c, NULL, "TYPE", type);
		b64 = vcard_photo_base64(u);
		el_add_text_child(c, NULL, "BINVAL", b64);
		free(b64);
	}
	return v;
}

char *
vcard_photo_base64(const struct store_user *u)
{
	unsigned char	*b64;

	if (store_avatar_type(u->avatar, u->avatar_len) == NULL)
		return NULL;
	b64 = xmalloc(4 * ((u->avatar_len + 2) / 3) + 1);
	EVP_EncodeBlock(b64, u->avatar, (int)u->avatar_len);
	return (char *)b64;
}

void
vcard_photo_hash(const struct store_user *u, char *out)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 len, i;

	out[0] = '\0';
	if (store_avatar_type(u->avatar, u->avatar_len) == NULL ||
	    EVP_Digest(u->avatar, u->avatar_len, md,
	    &len, EVP_sha1(), NULL) != 1)
		return;
	for (i = 0; i < len && 2 * i < VCARD_HASH_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

void
vcard_add_update(struct el *parent, const char *hash)
{
	struct el	*x, *p;

	x = el_add(parent, NS_VCARD_UPDATE, "x");
	p = el_add(x, NULL, "photo");
	/* empty <photo/>: no avatar (XEP-0153 3.1) */
	if (hash != NULL && hash[0] != '\0')
		el_add_text(p, hash, strlen(hash));
}
