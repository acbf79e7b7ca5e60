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

/* A code point that moves or hides text on a terminal: C1 controls, the
 * bidi controls (U+202E reverses what follows), zero-width and other
 * invisible format characters. */
static int
out_hidden(uint32_t c)
{
	return (c >= 0x80 && c <= 0x9f) || c == 0xad || c == 0x61c ||
	    c == 0x180e || (c >= 0x200b && c <= 0x200f) ||
	    (c >= 0x2028 && c <= 0x202e) || (c >= 0x2060 && c <= 0x206f) ||
	    c == 0xfeff || (c >= 0xfff9 && c <= 0xfffb);
}

/* The length of the UTF-8 sequence at s and its code point, or 0 when
 * the bytes are not UTF-8. */
static size_t
out_utf8(const unsigned char *s, uint32_t *cp)
{
	size_t		 n, i;
	uint32_t	 c;

	if (*s < 0xc2 || *s > 0xf4)
		return 0;
	n = *s >= 0xf0 ? 4 : *s >= 0xe0 ? 3 : 2;
	c = *s & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 ||
	    c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

void
out_text(FILE *f, const char *str)
{
	const unsigned char	*s = (const unsigned char *)str;
	uint32_t		 c;
	size_t			 n;

	if (s == NULL)
		return;
	while (*s != '\0') {
		if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '\t')
			fputs("\\t", f);
		else if (*s < 0x20 || *s == 0x7f)
			fprintf(f, "\\x%02x", *s);
		else if (*s < 0x80)
			putc(*s, f);
		else if ((n = out_utf8(s, &c)) == 0)
			fprintf(f, "\\x%02x", *s);
		else {
			if (out_hidden(c))
				fprintf(f, "\\u{%04x}", (unsigned)c);
			else
				fwrite(s, 1, n, f);
			s += n;
			continue;
		}
		s++;
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
