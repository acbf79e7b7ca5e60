/*
 * tests/t.c: runs the cases of one unit-test binary, all or those named on
 * the command line, and prints "ok NAME" or "FAIL NAME" for each.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_LIBPQ
#include <libpq-fe.h>
#endif

#include "el.h"
#include "xml.h"
#include "t.h"

#define T_HDR	"<stream:stream xmlns='jabber:server' xmlns:stream=" \
		"'http://etherx.jabber.org/streams' xmlns:db=" \
		"'jabber:server:dialback'>"

static int	 t_failed;

void
t_fail(const char *file, int line, const char *what)
{
	fprintf(stdout, "  %s:%d: check failed: %s\n", file, line, what);
	t_failed = 1;
}

void
t_fail_str(const char *file, int line, const char *what, const char *got,
    const char *want)
{
	fprintf(stdout, "  %s:%d: %s\n    got:  %s\n    want: %s\n", file,
	    line, what, got ? got : "(null)", want ? want : "(null)");
	t_failed = 1;
}

const char *
t_tmpdir(void)
{
	static char	 path[256];
	const char	*base = getenv("TMPDIR");

	snprintf(path, sizeof(path), "%s/xfed-t.XXXXXX", base ? base : "/tmp");
	if (mkdtemp(path) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	return path;
}

static char	 t_pgdir[512];

int
t_pg_start(char *uri, size_t urisz)
{
	const char	*env = getenv("XFED_TEST_PG");
	const char	*src = getenv("XFED_SRC");
	char		 cmd[1024];
	FILE		*f;

	if (env != NULL && *env != '\0') {
		snprintf(uri, urisz, "%s", env);
		return 0;
	}
	snprintf(t_pgdir, sizeof(t_pgdir), "%s/pg", t_tmpdir());
	snprintf(cmd, sizeof(cmd), "sh %s/tests/sh/pg.sh start %s",
	    src ? src : ".", t_pgdir);
	if ((f = popen(cmd, "r")) == NULL || fgets(uri, urisz, f) == NULL) {
		if (f != NULL)
			pclose(f);
		printf("FAIL pg_start: no PostgreSQL (tests/sh/pg.sh)\n");
		return -1;
	}
	uri[strcspn(uri, "\n")] = '\0';
	if (pclose(f) == 0)
		return 0;
	printf("FAIL pg_start: no PostgreSQL (tests/sh/pg.sh)\n");
	return -1;
}

#ifdef HAVE_LIBPQ
int
t_pg_exec(const char *uri, const char *sql)
{
	PGconn		*c = PQconnectdb(uri);
	PGresult	*r;
	int		 rc = -1;

	if (PQstatus(c) == CONNECTION_OK) {
		r = PQexec(c, sql);
		if (PQresultStatus(r) == PGRES_COMMAND_OK ||
		    PQresultStatus(r) == PGRES_TUPLES_OK)
			rc = 0;
		else
			printf("  sql: %s", PQresultErrorMessage(r));
		PQclear(r);
	} else
		printf("  connect: %s", PQerrorMessage(c));
	PQfinish(c);
	return rc;
}
#endif

const char *
t_pg_dir(void)
{
	return t_pgdir;
}

void
t_pg_stop(void)
{
	const char	*src = getenv("XFED_SRC");
	char		 cmd[1024];

	if (t_pgdir[0] == '\0')
		return;
	snprintf(cmd, sizeof(cmd), "sh %s/tests/sh/pg.sh stop %s",
	    src ? src : ".", t_pgdir);
	if (system(cmd) != 0)
		printf("FAIL pg_stop: %s\n", cmd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", t_pgdir);
	if (system(cmd) != 0)
		printf("  could not remove %s\n", t_pgdir);
	t_pgdir[0] = '\0';
}

char *
t_readfile(const char *path, size_t *lenp)
{
	FILE	*f = fopen(path, "rb");
	char	*buf;
	long	 n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n + 1);
	if (buf == NULL || fread(buf, 1, n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	buf[n] = '\0';
	fclose(f);
	if (lenp != NULL)
		*lenp = n;
	return buf;
}

int
t_main(const struct t_case *cases, size_t n, int argc, char **argv)
{
	size_t	 i;
	int	 j, pass = 0, fail = 0, want;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < n; i++) {
		want = argc < 2;
		for (j = 1; j < argc; j++)
			if (strcmp(argv[j], cases[i].name) == 0)
				want = 1;
		if (!want)
			continue;
		t_failed = 0;
		cases[i].fn();
		printf("%s %s\n", t_failed ? "FAIL" : "ok", cases[i].name);
		if (t_failed)
			fail++;
		else
			pass++;
	}
	return fail ? 1 : 0;
}

static int
t_keep_open(void *arg, struct el *h)
{
	el_free(h);
	return 0;
}

static int
t_keep_elem(void *arg, struct el *el)
{
	struct el	**out = arg;

	if (*out == NULL)
		*out = el;
	else
		el_free(el);
	return 0;
}

static int
t_keep_close(void *arg)
{
	return 0;
}

struct el *
t_parse_stanza(const char *s)
{
	const struct xml_cb	 cb = { t_keep_open, t_keep_elem, t_keep_close };
	struct el		*el = NULL;
	struct xml_parser	*p = xml_new(NULL, &cb, &el);

	if (xml_feed(p, T_HDR, strlen(T_HDR)) != 0 ||
	    xml_feed(p, s, strlen(s)) != 0) {
		printf("  refused: %s (%s)\n", s, xml_errstr(p));
		el_free(el);
		el = NULL;
	}
	xml_free(p);
	return el;
}
