/*
 * tests/t.h: the unit-test harness. Each test file ends with a table of
 * cases and a main() that calls t_main(); tests/run counts the "ok" and
 * "FAIL" lines every binary prints.
 */
#ifndef T_H
#define T_H

#include <stddef.h>

#define CHECK(c)   do { if (!(c)) t_fail(__FILE__, __LINE__, #c); } while (0)
#define REQUIRE(c) do { if (!(c)) { t_fail(__FILE__, __LINE__, #c); return; } } while (0)
#define CHECK_STR(a, b) do {						\
	const char *t_a_ = (a), *t_b_ = (b);				\
	if (t_a_ == NULL || t_b_ == NULL || strcmp(t_a_, t_b_) != 0)	\
		t_fail_str(__FILE__, __LINE__, #a, t_a_, t_b_);		\
} while (0)

struct t_case {
	const char	*name;
	void		(*fn)(void);
};

void	 t_fail(const char *, int, const char *);
void	 t_fail_str(const char *, int, const char *, const char *,
	    const char *);
int	 t_main(const struct t_case *, size_t, int, char **);
/* A fresh directory under $TMPDIR for this case; removed by nobody. */
const char *t_tmpdir(void);
/* Reads a whole file into a NUL-terminated buffer (caller frees). */
char	*t_readfile(const char *, size_t *);

/*
 * The run's PostgreSQL: XFED_TEST_PG (a connection URI) when set, else a
 * server of its own started by tests/sh/pg.sh in a t_tmpdir(); its URI
 * (database xfed) in uri. 0, or -1 with a line saying why. t_pg_stop()
 * stops and removes the one started, by its PID.
 */
int	 t_pg_start(char *uri, size_t urisz);
void	 t_pg_stop(void);
/* Runs sql on the database at uri (libpq builds); 0 or -1, printed. */
int	 t_pg_exec(const char *uri, const char *sql);
/* The data directory and socket of the one started, "" when none. */
const char *t_pg_dir(void);

struct el;
/* Parses s as the first stanza of a jabber:server stream (new tree);
 * NULL, with a line saying why, when the parser refuses it. */
struct el *t_parse_stanza(const char *s);

#define T_RUN(cases, argc, argv) \
	t_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv)

#endif
