/*
 * tools/cmd_token.c: xfedctl token add, list and revoke: the bearer
 * tokens of the HTTP API. A new token is printed once; the store keeps
 * only its SHA-256 (server/token.c), so a lost token is revoked and made
 * again, never recovered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "token.h"
#include "xfedctl.h"

static int
cmd_token_scope(struct ctl *ctl, int ch, const char *arg, void *p)
{
	if (store_scope_parse(arg, p) == -1)
		return ctl_fail("invalid scope \"%s\": use read, write or "
		    "admin", arg);
	return CTL_OK;
}

static int
cmd_token_add(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "scope", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	enum store_scope	 scope = STORE_SCOPE_READ;
	char			 tok[TOKEN_LEN + 1], hash[TOKEN_HASH_LEN + 1];
	const char		*name;
	int			 i, rc;

	if ((i = ctl_getopt(ctl, argc, argv, "s:", opts, 0, cmd_token_scope,
	    &scope, &rc)) == -1)
		return rc;
	if (argc - i != 1)
		return ctl_usage(ctl, argc - i < 1 ? "missing NAME" :
		    "too many arguments");
	name = argv[i];
	if (strlen(name) < 1 || strlen(name) > 64 || strpbrk(name, " \t\n"))
		return ctl_fail("invalid token name \"%s\": 1 to 64 bytes, no "
		    "spaces", name);
	if (token_new(tok, sizeof(tok)) == -1)
		return ctl_fail("cannot make a random token");
	token_hash(tok, strlen(tok), hash);
	if (ctl_open(ctl) == -1)
		return CTL_FAIL;
	if (store_token_add(ctl->st, name, hash, scope, NULL) == -1 ||
	    store_flush(ctl->st) == -1) {
		if (store_errcode(ctl->st) == STORE_E_EXISTS)
			return ctl_fail("a token named %s exists; revoke it "
			    "first", name);
		return ctl_store_fail(ctl);
	}
	printf("%s\n", tok);
	return CTL_OK;
}

static int
cmd_token_list_cb(void *arg, const struct store_token *t)
{
	struct ctl	*ctl = arg;
	char		 t1[32], t2[32];

	if (ctl->json) {
		out_json_print(stdout, json_of_token(t));
		return 0;
	}
	printf("%s %s created %s last used %s\n", t->name,
	    store_scope_name(t->scope), out_time(t->created, t1, sizeof(t1)),
	    out_time(t->last_used, t2, sizeof(t2)));
	return 0;
}

static int
cmd_token_list_all(struct ctl *ctl)
{
	return store_token_list(ctl->st, cmd_token_list_cb, ctl);
}

static int
cmd_token_list(struct ctl *ctl, int argc, char **argv)
{
	return ctl_list(ctl, argc, argv, cmd_token_list_all);
}

static int
cmd_token_revoke(struct ctl *ctl, int argc, char **argv)
{
	int	 i, rc;

	if ((i = ctl_getopt(ctl, argc, argv, "", NULL, 0, NULL, NULL,
	    &rc)) == -1)
		return rc;
	if (argc - i != 1)
		return ctl_usage(ctl, argc - i < 1 ? "missing NAME" :
		    "too many arguments");
	if (ctl_open(ctl) == -1)
		return CTL_FAIL;
	if (store_token_revoke(ctl->st, argv[i]) == -1 ||
	    store_flush(ctl->st) == -1)
		return ctl_store_fail(ctl);
	return CTL_OK;
}

const struct ctl_cmd cmd_token_table[] = {
	{ "token add", "NAME [--scope read|write|admin]",
	    "Makes an HTTP API token and prints it (once: only its hash is "
	    "kept).\nread: GET; write: also changes and sends; admin: also "
	    "tokens and webhooks.", cmd_token_add },
	{ "token list", "[--json]",
	    "Lists the API tokens: name, scope, when made and last used.",
	    cmd_token_list },
	{ "token revoke", "NAME",
	    "Deletes the token NAME; requests bearing it get 401 at once.",
	    cmd_token_revoke },
	{ NULL, NULL, NULL, NULL },
};
