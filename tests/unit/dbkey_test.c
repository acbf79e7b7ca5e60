/*
 * tests/unit/dbkey_test.c: XEP-0185 keys against the worked vectors of
 * S2S 4.4, verification, generated secrets and stream ids (S2S 1.11, 1.12).
 */
#include <stdlib.h>
#include <string.h>

#include "tests/t.h"
#include "dialback/key.h"

#define SECRET1	"s3cr3tf0rd14lb4ck"
#define SECRET2	"d14lb4ck43v3r"

static void
test_vector_xep0185(void)
{
	char	 key[DB_KEY_LEN + 1];

	db_key(SECRET1, strlen(SECRET1), "xmpp.example.com", "example.org",
	    "D60000229F", key);
	CHECK_STR(key,
	    "37c69b1cf07a3f67c04a5ef5902fa5114f2c76fe4a2686482ba5b89323075643");
	/* The raw-digest HMAC key would give 4530485c...: not that. */
	CHECK(strncmp(key, "4530485c", 8) != 0);
}

static void
test_vector_xep0220_receiving(void)
{
	char	 key[DB_KEY_LEN + 1];

	db_key(SECRET1, strlen(SECRET1), "montague.example", "capulet.example",
	    "D60000229F", key);
	CHECK_STR(key,
	    "b4835385f37fe2895af6c196b59097b16862406db80559900d96bf6fa7d23df3");
}

static void
test_vector_xep0220_authoritative(void)
{
	char	 key[DB_KEY_LEN + 1];

	db_key(SECRET2, strlen(SECRET2), "capulet.example", "montague.example",
	    "417GAF25", key);
	CHECK_STR(key,
	    "225cc5aa6a071133249d25fef42ae516fc7a86c523aa1c6980a7f73e784c972d");
}

static void
test_inputs_change_key(void)
{
	char	 k0[DB_KEY_LEN + 1], k[DB_KEY_LEN + 1];

	db_key(SECRET1, strlen(SECRET1), "a.example", "b.example", "id1", k0);
	db_key(SECRET2, strlen(SECRET2), "a.example", "b.example", "id1", k);
	CHECK(strcmp(k0, k) != 0);
	db_key(SECRET1, strlen(SECRET1), "b.example", "a.example", "id1", k);
	CHECK(strcmp(k0, k) != 0);
	db_key(SECRET1, strlen(SECRET1), "a.example", "b.example", "id2", k);
	CHECK(strcmp(k0, k) != 0);
	/* The separators are part of the data. */
	db_key(SECRET1, strlen(SECRET1), "a.example b.example", "id1", "", k);
	CHECK(strcmp(k0, k) != 0);
	/* The secret's length counts, not a NUL inside it. */
	db_key(SECRET1 "\0x", strlen(SECRET1) + 2, "a.example", "b.example",
	    "id1", k);
	CHECK(strcmp(k0, k) != 0);
	/* Same inputs, same key: two processes sharing a secret agree. */
	db_key(SECRET1, strlen(SECRET1), "a.example", "b.example", "id1", k);
	CHECK_STR(k, k0);
}

static void
test_verify(void)
{
	char	 k[DB_KEY_LEN + 1];

	db_key(SECRET2, strlen(SECRET2), "capulet.example", "montague.example",
	    "417GAF25", k);
	CHECK(db_key_verify(SECRET2, strlen(SECRET2), "capulet.example",
	    "montague.example", "417GAF25", k) == 1);
	CHECK(db_key_verify(SECRET2, strlen(SECRET2), "capulet.example",
	    "montague.example", "417GAF26", k) == 0);
	CHECK(db_key_verify(SECRET1, strlen(SECRET1), "capulet.example",
	    "montague.example", "417GAF25", k) == 0);
	k[DB_KEY_LEN - 1] ^= 1;
	CHECK(db_key_verify(SECRET2, strlen(SECRET2), "capulet.example",
	    "montague.example", "417GAF25", k) == 0);
	k[DB_KEY_LEN - 1] ^= 1;
	/* Wrong lengths and uppercase are refused. */
	k[10] = '\0';
	CHECK(db_key_verify(SECRET2, strlen(SECRET2), "capulet.example",
	    "montague.example", "417GAF25", k) == 0);
	CHECK(db_key_verify(SECRET2, strlen(SECRET2), "capulet.example",
	    "montague.example", "417GAF25", "") == 0);
	CHECK(db_key_verify(SECRET2, strlen(SECRET2), "capulet.example",
	    "montague.example", "417GAF25", NULL) == 0);
	CHECK(db_key_verify(SECRET2, strlen(SECRET2), "capulet.example",
	    "montague.example", "417GAF25",
	    "225CC5AA6A071133249D25FEF42AE516FC7A86C523AA1C6980A7F73E784C972D")
	    == 0);
	CHECK(db_key_verify(SECRET2, strlen(SECRET2), "capulet.example",
	    "montague.example", "417GAF25",
	    "225cc5aa6a071133249d25fef42ae516fc7a86c523aa1c6980a7f73e784c972dX")
	    == 0);
}

static void
test_secret_generate(void)
{
	char	 a[DB_SECRET_LEN + 1], b[DB_SECRET_LEN + 1], odd[34], big[301];
	size_t	 i;

	REQUIRE(db_secret_generate(a, sizeof(a)) == 0);
	REQUIRE(db_secret_generate(b, sizeof(b)) == 0);
	CHECK(strlen(a) == DB_SECRET_LEN);
	CHECK(strspn(a, "0123456789abcdef") == DB_SECRET_LEN);
	CHECK(strcmp(a, b) != 0);
	REQUIRE(db_secret_generate(odd, sizeof(odd)) == 0);
	CHECK(strlen(odd) == 33);
	CHECK(strspn(odd, "0123456789abcdef") == 33);
	REQUIRE(db_secret_generate(big, sizeof(big)) == 0);
	CHECK(strlen(big) == 300);
	CHECK(strspn(big, "0123456789abcdef") == 300);
	/* Past the first refill the digits still vary. */
	for (i = 129; i < 300; i++)
		if (big[i] != big[128])
			break;
	CHECK(i < 300);
	CHECK(db_secret_generate(a, DB_SECRET_MIN_LEN) == -1);
	CHECK(db_secret_generate(a, 0) == -1);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
test_stream_id_alnum_unique(void)
{
	enum { N = 100000 };
	char		**ids, *buf;
	size_t		 i, counts[256] = { 0 };
	int		 bad = 0, dup = 0;

	buf = malloc(N * (DB_STREAM_ID_LEN + 1));
	ids = malloc(N * sizeof(*ids));
	REQUIRE(buf != NULL && ids != NULL);
	for (i = 0; i < N; i++) {
		ids[i] = buf + i * (DB_STREAM_ID_LEN + 1);
		if (db_stream_id(ids[i], DB_STREAM_ID_LEN + 1) != 0 ||
		    strlen(ids[i]) != DB_STREAM_ID_LEN ||
		    strspn(ids[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789") != DB_STREAM_ID_LEN)
			bad++;
		else
			counts[(unsigned char)ids[i][0]]++;
	}
	CHECK(bad == 0);
	qsort(ids, N, sizeof(*ids), cmp_str);
	for (i = 1; i < N; i++)
		if (strcmp(ids[i - 1], ids[i]) == 0)
			dup++;
	CHECK(dup == 0);
	/* Every one of the 62 characters shows up, each near N / 62 (1613):
	 * a gross bias would push some far off. */
	for (i = 0; i < 256; i++)
		if (counts[i] != 0 && (counts[i] < 1300 || counts[i] > 1950))
			bad++;
	CHECK(bad == 0);
	CHECK(counts['A'] && counts['z'] && counts['0'] && counts['9']);
	free(ids);
	free(buf);
}

static void
test_stream_id_short_refused(void)
{
	char	 id[DB_STREAM_ID_MIN_LEN + 1], big[200];

	CHECK(db_stream_id(id, DB_STREAM_ID_MIN_LEN) == -1);
	CHECK(db_stream_id(id, 0) == -1);
	REQUIRE(db_stream_id(id, sizeof(id)) == 0);
	CHECK(strlen(id) == DB_STREAM_ID_MIN_LEN);
	REQUIRE(db_stream_id(big, sizeof(big)) == 0);
	CHECK(strlen(big) == sizeof(big) - 1);
}

static const struct t_case cases[] = {
	{ "dbkey_vector_xep0185", test_vector_xep0185 },
	{ "dbkey_vector_xep0220_receiving", test_vector_xep0220_receiving },
	{ "dbkey_vector_xep0220_authoritative",
	    test_vector_xep0220_authoritative },
	{ "dbkey_inputs_change_key", test_inputs_change_key },
	{ "dbkey_verify", test_verify },
	{ "dbkey_secret_generate", test_secret_generate },
	{ "dbkey_stream_id_alnum_unique", test_stream_id_alnum_unique },
	{ "dbkey_stream_id_short_refused", test_stream_id_short_refused },
};

int
main(int argc, char **argv)
{
	return T_RUN(cases, argc, argv);
}
