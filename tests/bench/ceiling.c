/*
 * tests/bench/ceiling.c: this machine's ceilings for the inbound path,
 * measured in the same `make bench` run as xfed's figures (tools/bench
 * divides by them):
 *
 *   ceiling sqlite STORE N   N rows of the inbox shape (the sizes loadgen's
 *                            messages give) into the inbox of STORE, an
 *                            xfed store file (same schema, indexes and
 *                            triggers, without the events journal's, as
 *                            xfed runs it when nothing reads the journal),
 *                            WAL with synchronous=NORMAL as
 *                            xfed has it, 1,000 rows a transaction, one
 *                            prepared statement: rows/s
 *   ceiling sax N            libxml2's SAX2 push parser over the bytes
 *                            loadgen sends for N messages (a stream header
 *                            and the stanzas, in 64 KiB pieces), with
 *                            empty callbacks: stanzas/s
 *
 * Prints "key value" lines, as loadgen.py does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <sqlite3.h>

#define CEILING_BATCH	1000
#define CEILING_CHUNK	65536

static double
ceiling_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
ceiling_die(const char *what, sqlite3 *db)
{
	fprintf(stderr, "ceiling: %s: %s\n", what,
	    db ? sqlite3_errmsg(db) : "failed");
	exit(1);
}

/* One message as loadgen.py's stanzas() writes it. */
static int
ceiling_stanza(char *buf, size_t len, long i)
{
	return snprintf(buf, len, "<message from='sender@gen.bench/bench' "
	    "to='alice@xfed.bench' type='chat' id='b%ld'><body>benchmark "
	    "message number %ld, a sentence of ordinary length</body>"
	    "</message>", i, i);
}

static void
ceiling_exec(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		ceiling_die(sql, db);
}

static void
ceiling_sqlite(const char *path, long n)
{
	sqlite3		*db;
	sqlite3_stmt	*q;
	char		 xml[512], id[32], body[128];
	double		 t0, t1;
	long		 i;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		ceiling_die(path, db);
	ceiling_exec(db, "PRAGMA journal_mode = WAL");
	ceiling_exec(db, "PRAGMA synchronous = NORMAL");
	ceiling_exec(db, "PRAGMA foreign_keys = ON");
	/* as xfed runs when nothing reads the events journal (make bench
	 * configures no HTTP API and no webhook) */
	ceiling_exec(db, "DROP TRIGGER IF EXISTS events_inbox");
	if (sqlite3_prepare_v2(db, "INSERT INTO inbox (user_id, kind, "
	    "from_jid, to_jid, type, stanza_id, body, xml) VALUES ((SELECT "
	    "min(id) FROM users), 'message', 'sender@gen.bench/bench', "
	    "'alice@xfed.bench', 'chat', ?, ?, ?)", -1, &q, NULL) != SQLITE_OK)
		ceiling_die("prepare", db);
	t0 = ceiling_now();
	for (i = 0; i < n; i++) {
		if (i % CEILING_BATCH == 0)
			ceiling_exec(db, "BEGIN");
		snprintf(id, sizeof(id), "b%ld", i);
		snprintf(body, sizeof(body), "benchmark message number %ld, "
		    "a sentence of ordinary length", i);
		ceiling_stanza(xml, sizeof(xml), i);
		sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, body, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 3, xml, -1, SQLITE_STATIC);
		if (sqlite3_step(q) != SQLITE_DONE)
			ceiling_die("insert", db);
		sqlite3_reset(q);
		if (i % CEILING_BATCH == CEILING_BATCH - 1 || i == n - 1)
			ceiling_exec(db, "COMMIT");
	}
	t1 = ceiling_now();
	sqlite3_finalize(q);
	sqlite3_close(db);
	printf("sqlite_n %ld\nsqlite_secs %.3f\nsqlite_rate %.0f\n", n,
	    t1 - t0, n / (t1 - t0));
}

static void
ceiling_end(void *ctx, const xmlChar *name, const xmlChar *prefix,
    const xmlChar *uri)
{
	(*(long *)((xmlParserCtxtPtr)ctx)->_private)++;
}

static void
ceiling_sax(long n)
{
	static const char hdr[] = "<?xml version='1.0'?><stream:stream "
	    "xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/"
	    "streams' xmlns:db='jabber:server:dialback' from='gen.bench' "
	    "to='xfed.bench' version='1.0'>";
	xmlSAXHandler	 sax;
	xmlParserCtxtPtr ctx;
	char		*buf;
	size_t		 len = 0, cap = sizeof(hdr) + (size_t)n * 256, off;
	long		 i, ends = 0;
	double		 t0, t1;

	if ((buf = malloc(cap)) == NULL)
		ceiling_die("out of memory", NULL);
	memcpy(buf, hdr, sizeof(hdr) - 1);
	len = sizeof(hdr) - 1;
	for (i = 1; i <= n; i++)
		len += ceiling_stanza(buf + len, cap - len, i);
	memset(&sax, 0, sizeof(sax));
	sax.initialized = XML_SAX2_MAGIC;
	sax.endElementNs = ceiling_end;
	t0 = ceiling_now();
	if ((ctx = xmlCreatePushParserCtxt(&sax, NULL, NULL, 0, NULL)) == NULL)
		ceiling_die("xmlCreatePushParserCtxt", NULL);
	ctx->_private = &ends;
	for (off = 0; off < len; off += CEILING_CHUNK)
		if (xmlParseChunk(ctx, buf + off, (int)(len - off < CEILING_CHUNK ?
		    len - off : CEILING_CHUNK), 0) != 0)
			ceiling_die("xmlParseChunk", NULL);
	t1 = ceiling_now();
	xmlFreeParserCtxt(ctx);
	free(buf);
	/* each message ends two elements: <body/> and <message/> */
	if (ends != 2 * n)
		ceiling_die("the parser saw fewer elements than were sent", NULL);
	printf("sax_n %ld\nsax_bytes %zu\nsax_secs %.3f\nsax_rate %.0f\n", n,
	    len, t1 - t0, n / (t1 - t0));
}

int
main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "sqlite") == 0)
		ceiling_sqlite(argv[2], atol(argv[3]));
	else if (argc == 3 && strcmp(argv[1], "sax") == 0)
		ceiling_sax(atol(argv[2]));
	else {
		fprintf(stderr, "usage: ceiling sqlite STORE N | ceiling sax N\n");
		return 1;
	}
	return 0;
}
