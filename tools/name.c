/*
 * tools/name.c: user names and JIDs as typed on xfedctl's command line,
 * checked and prepared before anything reaches the store. This is the
 * one place that validates them: localparts and resources are prepared
 * by server/jid.c (PRECIS, RFC 7622), domains go through
 * jid_prep_domain() after the checks below.
 */
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "jid.h"
#include "xfedctl.h"

/*
 * Checks and prepares one part (len bytes at in) into out: localparts by
 * PRECIS UsernameCaseMapped, resources by OpaqueString (jid.c), so that
 * look-alike and invisible names (U+202E, U+200B) never reach the store.
 */
static int
ctl_name_part(const char *in, size_t len, int local, char *out,
    size_t outsz, const char **errstr)
{
	char	 tmp[JID_PART_MAX + 2];

	if (len == 0) {
		*errstr = local ? "empty name" : "empty resource";
		return -1;
	}
	if (len > JID_PART_MAX) {
		*errstr = local ? "name longer than 1023 bytes" :
		    "resource longer than 1023 bytes";
		return -1;
	}
	memcpy(tmp, in, len);
	tmp[len] = '\0';
	return local ? jid_prep_local(tmp, out, outsz, errstr) :
	    jid_prep_resource(tmp, out, outsz, errstr);
}

/* 1 when the ASCII bytes of s are letters, digits, '-' and '.'. */
static int
ctl_name_ldh(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x80 && !(*s >= 'a' && *s <= 'z') &&
		    !(*s >= 'A' && *s <= 'Z') && !(*s >= '0' && *s <= '9') &&
		    *s != '-' && *s != '.')
			return 0;
	return 1;
}

/*
 * A domain: a bracketed IPv6 literal as it is, else labels checked here
 * (jid_prep_domain() in this build drops spaces rather than refusing
 * them, and mangles IP literals) and then prepared.
 */
static int
ctl_name_domain(const char *in, char *out, size_t outsz, const char **errstr)
{
	size_t	 n = strlen(in), i;

	if (in[0] == '[') {
		if (n < 4 || in[n - 1] != ']' || n >= outsz ||
		    strspn(in + 1, "0123456789abcdefABCDEF:.") != n - 2) {
			*errstr = "invalid IPv6 address literal";
			return -1;
		}
		for (i = 0; i <= n; i++)
			out[i] = in[i] >= 'A' && in[i] <= 'F' ?
			    in[i] - 'A' + 'a' : in[i];
		return 0;
	}
	if (!ctl_name_ldh(in)) {
		*errstr = "domain has a character domains do not allow";
		return -1;
	}
	if (in[0] == '.' || strstr(in, "..") != NULL) {
		*errstr = "domain has an empty label";
		return -1;
	}
	return jid_prep_domain(in, out, outsz, errstr);
}

/* NAME or NAME@domain; the domain must be hosted, the first by default. */
static int
ctl_user_parse(struct ctl *ctl, const char *arg, struct ctl_user *u,
    const char **errstr)
{
	const char	*at = strchr(arg, '@');
	char		 dom[JID_PART_MAX + 1];
	size_t		 len = at ? (size_t)(at - arg) : strlen(arg);

	if (ctl_name_part(arg, len, 1, u->local, sizeof(u->local),
	    errstr) == -1)
		return -1;
	if (at == NULL) {
		if (ctl->conf->domains.n == 0) {
			*errstr = "the config has no domain";
			return -1;
		}
		snprintf(u->domain, sizeof(u->domain), "%s",
		    CONF_DOMAIN(ctl->conf, 0));
		return 0;
	}
	if (strchr(at + 1, '/') != NULL) {
		*errstr = "a user name has no /resource";
		return -1;
	}
	if (ctl_name_domain(at + 1, dom, sizeof(dom), errstr) == -1)
		return -1;
	if (!conf_is_hosted(ctl->conf, dom)) {
		*errstr = "domain is not hosted by this server";
		return -1;
	}
	snprintf(u->domain, sizeof(u->domain), "%s", dom);
	return 0;
}

int
ctl_user_arg(struct ctl *ctl, const char *arg, struct ctl_user *u)
{
	const char	*err;

	if (ctl_user_parse(ctl, arg, u, &err) == -1)
		return ctl_fail("invalid user name \"%s\": %s", arg, err);
	return CTL_OK;
}

int
ctl_jid_parse(const char *arg, int flags, char *out, size_t outsz,
    const char **errstr)
{
	const char	*slash = strchr(arg, '/'), *at, *dstart;
	char		 local[JID_PART_MAX + 1], dom[JID_PART_MAX + 1];
	char		 res[JID_PART_MAX + 1], tmp[JID_PART_MAX + 1];
	size_t		 dlen, hlen = slash ? (size_t)(slash - arg) : strlen(arg);
	int		 n;

	local[0] = res[0] = '\0';
	at = memchr(arg, '@', hlen);
	dstart = at ? at + 1 : arg;
	if (at != NULL && ctl_name_part(arg, at - arg, 1, local,
	    sizeof(local), errstr) == -1)
		return -1;
	dlen = hlen - (dstart - arg);
	if (dlen == 0 || dlen > JID_PART_MAX) {
		*errstr = dlen ? "domain longer than 1023 bytes" :
		    "JID has no domain";
		return -1;
	}
	memcpy(tmp, dstart, dlen);
	tmp[dlen] = '\0';
	if (strchr(tmp, '@') != NULL) {
		*errstr = "JID has more than one @";
		return -1;
	}
	if (ctl_name_domain(tmp, dom, sizeof(dom), errstr) == -1)
		return -1;
	if (slash != NULL) {
		if (flags & CTL_JID_BARE) {
			*errstr = "JID must be bare (no /resource)";
			return -1;
		}
		if (ctl_name_part(slash + 1, strlen(slash + 1), 0, res,
		    sizeof(res), errstr) == -1)
			return -1;
	}
	n = snprintf(out, outsz, "%s%s%s%s%s", local, local[0] ? "@" : "",
	    dom, res[0] ? "/" : "", res);
	if (n < 0 || (size_t)n >= outsz) {
		*errstr = "JID too long";
		return -1;
	}
	return 0;
}

int
ctl_user_operand(struct ctl *ctl, int argc, char **argv, int i,
    struct ctl_user *u)
{
	if (argc - i != 1)
		return ctl_usage(ctl, argc - i < 1 ? "missing NAME" :
		    "too many arguments");
	return ctl_user_arg(ctl, argv[i], u);
}

int
ctl_open_user(struct ctl *ctl, const struct ctl_user *u)
{
	if (ctl_open(ctl) == -1)
		return CTL_FAIL;
	if (u != NULL && store_user_find(ctl->st, u->local, u->domain,
	    NULL) != 1)
		return store_errcode(ctl->st) != STORE_E_NONE ?
		    ctl_store_fail(ctl) :
		    ctl_fail("no user %s@%s", u->local, u->domain);
	return CTL_OK;
}

static int
ctl_user_usable_cb(void *arg, const struct store_user *u)
{
	*(int *)arg = u->disabled;
	return 0;
}

int
ctl_user_usable(struct ctl *ctl, const struct ctl_user *u)
{
	int	 disabled = 0;

	if (store_user_get(ctl->st, u->local, u->domain, ctl_user_usable_cb,
	    &disabled) == -1)
		return ctl_store_fail(ctl);
	if (disabled)
		return ctl_fail("user %s@%s is disabled", u->local, u->domain);
	return CTL_OK;
}
