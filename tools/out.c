/*
 * tools/out.c: xfedctl's output. JSON (one object per line, so lists
 * stream and a pipe reader can take them line by line) with a string
 * escaper that always yields valid JSON, whatever bytes the database
 * holds; and text for terminals, with control characters made visible.
 * What to print is each command's.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "xfedctl.h"

void
out_json_string(FILE *f, const char *str)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 n;

	if (s == NULL) {
		fputs("null", f);
		return;
	}
	putc('"', f);
	while (*s != '\0') {
		switch (*s) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\b':
			fputs("\\b", f);
			break;
		case '\f':
			fputs("\\f", f);
			break;
		default:
			if (*s < 0x20 || *s == 0x7f) {
				fprintf(f, "\\u%04x", *s);
				break;
			}
			if ((n = json_utf8_len(s)) == 0) {
				fputs("\\ufffd", f);
				break;
			}
			fwrite(s, 1, n, f);
			s += n;
			continue;
		}
		s++;
	}
	putc('"', f);
}

static void
out_json_key(struct out_json *j, const char *key)
{
	if (!j->first[j->depth])
		putc(',', j->f);
	j->first[j->depth] = 0;
	if (key != NULL) {
		out_json_string(j->f, key);
		putc(':', j->f);
	}
}

static void
out_json_open(struct out_json *j, const char *key, int ch)
{
	out_json_key(j, key);
	putc(ch, j->f);
	if (j->depth + 1 < (int)(sizeof(j->first) / sizeof(j->first[0])))
		j->depth++;
	j->first[j->depth] = 1;
}

static void
out_json_close(struct out_json *j, int ch)
{
	putc(ch, j->f);
	if (j->depth > 0)
		j->depth--;
}

void
out_json_begin(struct out_json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	putc('{', f);
	j->first[0] = 1;
}

void
out_json_end(struct out_json *j)
{
	fputs("}\n", j->f);
}

void
out_json_str(struct out_json *j, const char *key, const char *v)
{
	out_json_key(j, key);
	out_json_string(j->f, v);
}

void
out_json_int(struct out_json *j, const char *key, int64_t v)
{
	out_json_key(j, key);
	fprintf(j->f, "%lld", (long long)v);
}

void
out_json_time(struct out_json *j, const char *key, int64_t v)
{
	if (v == 0) {
		out_json_key(j, key);
		fputs("null", j->f);
	} else
		out_json_int(j, key, v);
}

void
out_json_bool(struct out_json *j, const char *key, int v)
{
	out_json_key(j, key);
	fputs(v ? "true" : "false", j->f);
}

void
out_json_array(struct out_json *j, const char *key)
{
	out_json_open(j, key, '[');
}

void
out_json_array_end(struct out_json *j)
{
	out_json_close(j, ']');
}

void
out_json_obj(struct out_json *j, const char *key)
{
	out_json_open(j, key, '{');
}

void
out_json_obj_end(struct out_json *j)
{
	out_json_close(j, '}');
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
