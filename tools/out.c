/*
 * tools/out.c: xfedctl's output. JSON (one object per line, so lists
 * stream and a pipe reader can take them line by line), built on the
 * daemon's encoder (server/json.c, jansson), valid whatever bytes the
 * database holds; and text for terminals, with control characters made
 * visible. What to print is each command's.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "xfedctl.h"

/* Adds v (taken) to the open container: under key in an object, at
 * the end of an array. */
static void
out_json_add(struct out_json *j, const char *key, json_t *v)
{
	json_t	*c = j->stack[j->depth];

	if (json_is_array(c))
		json_array_append_new(c, v);
	else
		json_object_set_new(c, key != NULL ? key : "", v);
}

static void
out_json_open(struct out_json *j, const char *key, json_t *c)
{
	out_json_add(j, key, json_incref(c));
	if (j->depth + 1 < OUT_JSON_DEPTH)
		j->stack[++j->depth] = c;
	json_decref(c);
}

void
out_json_begin(struct out_json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	j->stack[0] = json_object();
}

void
out_json_end(struct out_json *j)
{
	json_dumpf(j->stack[0], j->f, JSON_COMPACT);
	putc('\n', j->f);
	json_decref(j->stack[0]);
	j->stack[0] = NULL;
}

void
out_json_str(struct out_json *j, const char *key, const char *v)
{
	out_json_add(j, key, json_str_lossy(v));
}

void
out_json_int(struct out_json *j, const char *key, int64_t v)
{
	out_json_add(j, key, json_integer((json_int_t)v));
}

void
out_json_time(struct out_json *j, const char *key, int64_t v)
{
	out_json_add(j, key, v ? json_integer((json_int_t)v) : json_null());
}

void
out_json_bool(struct out_json *j, const char *key, int v)
{
	out_json_add(j, key, json_boolean(v));
}

void
out_json_value(struct out_json *j, const char *key, json_t *v)
{
	out_json_add(j, key, v);
}

void
out_json_array(struct out_json *j, const char *key)
{
	out_json_open(j, key, json_array());
}

void
out_json_array_end(struct out_json *j)
{
	if (j->depth > 0)
		j->depth--;
}

void
out_json_obj(struct out_json *j, const char *key)
{
	out_json_open(j, key, json_object());
}

void
out_json_obj_end(struct out_json *j)
{
	if (j->depth > 0)
		j->depth--;
}

void
out_json_print(FILE *f, json_t *v)
{
	json_dumpf(v, f, JSON_COMPACT);
	putc('\n', f);
	json_decref(v);
}

void
out_text(FILE *f, const char *str)
{
	const unsigned char	*s = (const unsigned char *)str;

	if (s == NULL)
		return;
	for (; *s != '\0'; s++) {
		if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '\t')
			fputs("\\t", f);
		else if (*s < 0x20 || *s == 0x7f)
			fprintf(f, "\\x%02x", *s);
		else
			putc(*s, f);
	}
}

const char *
out_time(int64_t t, char *buf, size_t bufsz)
{
	time_t		 tt = (time_t)t;
	struct tm	 tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, bufsz, "-");
	return buf;
}

const char *
out_duration(uint64_t s, char *buf, size_t n)
{
	if (s >= 86400)
		snprintf(buf, n, "%llud%02lluh", (unsigned long long)(s / 86400),
		    (unsigned long long)(s % 86400 / 3600));
	else if (s >= 3600)
		snprintf(buf, n, "%lluh%02llum", (unsigned long long)(s / 3600),
		    (unsigned long long)(s % 3600 / 60));
	else
		snprintf(buf, n, "%llum%02llus", (unsigned long long)(s / 60),
		    (unsigned long long)(s % 60));
	return buf;
}
