/*
 * store/names.c: the names of the store's enumerations, as the schema
 * spells them (CHECK constraints in sqlite_schema.c) and xfedctl prints them.
 */
#include <string.h>

#include "store.h"

static const char *const store_shows[] = {
	"available", "chat", "away", "xa", "dnd", "unavailable",
};
static const char *const store_sub_states[] = {
	"none", "to", "from", "both",
};
static const char *const store_kinds[] = {
	"message", "subscribe", "subscribed", "unsubscribe", "unsubscribed",
	"presence", "error", "chatstate",
};
static const char *const store_out_states[] = {
	"queued", "sent", "failed", "done", "delivered",
};
static const char *const store_rules[] = {
	"block", "allow",
};
#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const char *
store_name(const char *const *names, size_t n, int v)
{
	return v >= 0 && (size_t)v < n ? names[v] : "?";
}

static int
store_parse(const char *const *names, size_t n, const char *s, int *v)
{
	size_t	 i;

	for (i = 0; s != NULL && i < n; i++)
		if (strcmp(names[i], s) == 0) {
			*v = (int)i;
			return 0;
		}
	return -1;
}

const char *
store_show_name(enum store_show v)
{
	return store_name(store_shows, NELEM(store_shows), v);
}

int
store_show_parse(const char *s, enum store_show *v)
{
	int	 i;

	if (store_parse(store_shows, NELEM(store_shows), s, &i) == -1)
		return -1;
	*v = i;
	return 0;
}

const char *
store_sub_state_name(enum store_sub_state v)
{
	return store_name(store_sub_states, NELEM(store_sub_states), v);
}

int
store_sub_state_parse(const char *s, enum store_sub_state *v)
{
	int	 i;

	if (store_parse(store_sub_states, NELEM(store_sub_states), s,
	    &i) == -1)
		return -1;
	*v = i;
	return 0;
}

const char *
store_kind_name(enum store_kind v)
{
	return store_name(store_kinds, NELEM(store_kinds), v);
}

int
store_kind_parse(const char *s, enum store_kind *v)
{
	int	 i;

	if (store_parse(store_kinds, NELEM(store_kinds), s, &i) == -1)
		return -1;
	*v = i;
	return 0;
}

const char *
store_out_state_name(enum store_out_state v)
{
	return store_name(store_out_states, NELEM(store_out_states), v);
}

int
store_out_state_parse(const char *s, enum store_out_state *v)
{
	int	 i;

	if (store_parse(store_out_states, NELEM(store_out_states), s,
	    &i) == -1)
		return -1;
	*v = i;
	return 0;
}

const char *
store_rule_name(enum store_rule v)
{
	return store_name(store_rules, NELEM(store_rules), v);
}

int
store_rule_parse(const char *s, enum store_rule *v)
{
	int	 i;

	if (store_parse(store_rules, NELEM(store_rules), s, &i) == -1)
		return -1;
	*v = i;
	return 0;
}
