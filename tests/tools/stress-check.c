/*
 * stress-check: after tests/stress.sh, compare what hotlined stored and sent
 * with what the dummy phone was given, and print the figures.
 *
 *   stress-check DB EXPECTED.TSV JOURNAL [KILLS]
 *
 * DB        the daemon's database
 * EXPECTED  gen-inbox's expected.tsv: id, sender, parts, kind, text
 * JOURNAL   HOTLINE_SENT_JOURNAL: one outbox message id per send the network
 *           accepted, written before the 'sent' commit
 * KILLS     optional: one number per SIGKILL, the highest inbox_parts id
 *           stored at that moment (a multipart message with parts on both
 *           sides of one was split across a kill)
 *
 * Exit 0 when every inbound message was stored exactly once, linked whole,
 * and answered with a reply that was sent; 1 on any loss, double store,
 * mislink, or a duplicate send that the daemon did not count as uncertain;
 * 2 on usage or I/O errors.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

static sqlite3 *db;

static void die(const char *what)
{
	fprintf(stderr, "stress-check: %s: %s\n", what, sqlite3_errmsg(db));
	exit(2);
}

static void exec(const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "stress-check: %s: %s\n", sql, err ? err : "?");
		exit(2);
	}
}

/* One integer from a query. */
static long long count(const char *sql)
{
	sqlite3_stmt *s;
	long long n = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		die(sql);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

/* Load tab-separated lines into a temp table through an INSERT with ncols parameters. */
static long long load_tsv(const char *path, const char *insert, int ncols)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	sqlite3_stmt *s;
	long long n = 0;

	if (f == NULL) {
		perror(path);
		exit(2);
	}
	if (sqlite3_prepare_v2(db, insert, -1, &s, NULL) != SQLITE_OK)
		die(insert);
	exec("BEGIN");
	while ((len = getline(&line, &cap, f)) >= 0) {
		char *p = line, *field[8];
		int k = 0;

		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0)
			continue;
		/* the last column (a text) may hold anything but a newline */
		while (k < ncols - 1) {
			char *tab = strchr(p, '\t');
			if (tab == NULL)
				break;
			*tab = '\0';
			field[k++] = p;
			p = tab + 1;
		}
		field[k++] = p;
		if (k != ncols) {
			fprintf(stderr, "stress-check: %s: a line with %d fields, not %d\n", path, k, ncols);
			exit(2);
		}
		sqlite3_reset(s);
		for (int i = 0; i < ncols; i++)
			sqlite3_bind_text(s, i + 1, field[i], -1, SQLITE_TRANSIENT);
		if (sqlite3_step(s) != SQLITE_DONE)
			die(insert);
		n++;
	}
	exec("COMMIT");
	sqlite3_finalize(s);
	free(line);
	fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	long long expected, stored, once, twice, lost, garbled, unanswered, multi_reply, not_answered_status;
	long long accepted, distinct_sent, dup_ids, dup_sends, uncertain, sent_rows, unjournaled, unrecorded;
	long long multipart, mislinked, orphans, split = 0, outbox_left, failed, kills = 0;
	bool bad = false;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: stress-check DB EXPECTED.TSV JOURNAL [KILLS]\n");
		return 2;
	}
	if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		die(argv[1]);
	sqlite3_busy_timeout(db, 10000);
	exec("CREATE TEMP TABLE exp (id INTEGER, phone TEXT, parts INTEGER, kind TEXT, text TEXT);"
	     "CREATE TEMP TABLE journal (id INTEGER);"
	     "CREATE TEMP TABLE kills (max_part INTEGER);");
	expected = load_tsv(argv[2], "INSERT INTO exp VALUES (?1, ?2, ?3, ?4, ?5)", 5);
	load_tsv(argv[3], "INSERT INTO journal VALUES (?1)", 1);
	if (argc == 5)
		kills = load_tsv(argv[4], "INSERT INTO kills VALUES (?1)", 1);

	/* ---- stored exactly once: multisets of (sender, text, parts) ---- */
	exec("CREATE TEMP TABLE cmp AS"
	     " WITH e AS (SELECT phone, text, parts, count(*) AS n FROM exp GROUP BY 1, 2, 3),"
	     "      s AS (SELECT phone, text, parts, count(*) AS n FROM main.messages"
	     "            WHERE direction = 'in' AND channel = 'sms' GROUP BY 1, 2, 3)"
	     " SELECT e.n AS want, coalesce(s.n, 0) AS got FROM e LEFT JOIN s USING (phone, text, parts)");
	stored = count("SELECT count(*) FROM main.messages WHERE direction = 'in' AND channel = 'sms'");
	once = count("SELECT coalesce(sum(min(want, got)), 0) FROM cmp");
	lost = count("SELECT coalesce(sum(max(want - got, 0)), 0) FROM cmp");
	twice = count("SELECT coalesce(sum(max(got - want, 0)), 0) FROM cmp");
	garbled = stored - once - twice; /* stored rows that match no message that was sent */
	not_answered_status = count("SELECT count(*) FROM main.messages WHERE direction = 'in' AND status <> 'answered'");

	/* ---- every one answered, with a reply that went out ---- */
	unanswered = count("SELECT count(*) FROM main.messages i WHERE i.direction = 'in' AND NOT EXISTS"
			   " (SELECT 1 FROM main.messages o WHERE o.reply_to = i.id AND o.direction = 'out'"
			   "  AND o.kind = 'reply' AND o.status = 'sent')");
	multi_reply = count("SELECT count(*) FROM (SELECT reply_to FROM main.messages WHERE direction = 'out'"
			    " AND kind = 'reply' GROUP BY reply_to HAVING count(*) > 1)");
	failed = count("SELECT count(*) FROM main.messages WHERE direction = 'out' AND status <> 'sent'");
	outbox_left = count("SELECT count(*) FROM main.outbox");

	/* ---- the journal: what the network accepted ---- */
	accepted = count("SELECT count(*) FROM journal");
	distinct_sent = count("SELECT count(DISTINCT id) FROM journal");
	dup_ids = count("SELECT count(*) FROM (SELECT id FROM journal GROUP BY id HAVING count(*) > 1)");
	dup_sends = accepted - distinct_sent;
	uncertain = count("SELECT coalesce(sum(uncertain), 0) FROM main.messages");
	sent_rows = count("SELECT count(*) FROM main.messages WHERE direction = 'out' AND status = 'sent'");
	unjournaled = count("SELECT count(*) FROM main.messages m WHERE direction = 'out' AND status = 'sent'"
			    " AND NOT EXISTS (SELECT 1 FROM journal j WHERE j.id = m.id)");
	unrecorded = count("SELECT count(DISTINCT j.id) FROM journal j LEFT JOIN main.messages m ON m.id = j.id"
			   " WHERE m.status IS NOT 'sent'");
	/* a duplicate the daemon did not count: a resend of a message never found 'sending' at a start */
	long long unexplained = count("SELECT count(*) FROM (SELECT j.id, count(*) AS n FROM journal j"
				      " JOIN main.messages m ON m.id = j.id GROUP BY j.id HAVING n - 1 > max(m.uncertain, 0))");

	/* ---- multipart messages linked whole ---- */
	multipart = count("SELECT count(*) FROM main.messages WHERE direction = 'in' AND parts > 1");
	mislinked = count("SELECT count(*) FROM main.messages m WHERE direction = 'in' AND parts > 1 AND"
			  " (SELECT count(DISTINCT seq) FROM main.inbox_parts p WHERE p.message_id = m.id) <> m.parts");
	orphans = count("SELECT count(*) FROM main.inbox_parts WHERE message_id IS NULL");
	if (kills > 0)
		split = count("SELECT count(*) FROM (SELECT message_id, min(id) AS lo, max(id) AS hi FROM main.inbox_parts"
			      " WHERE message_id IS NOT NULL GROUP BY message_id HAVING count(*) > 1) g"
			      " WHERE EXISTS (SELECT 1 FROM kills k WHERE k.max_part >= g.lo AND k.max_part < g.hi)");

	printf("stress: inbound messages sent to the phone: %lld; stored: %lld\n", expected, stored);
	printf("stress:   stored exactly once: %lld, lost: %lld, stored twice: %lld, garbled or mislinked: %lld\n",
	    once, lost, twice, garbled);
	printf("stress: answered (a reply with reply_to = the message, status sent): %lld of %lld; replies lost: %lld\n",
	    stored - unanswered, stored, unanswered);
	printf("stress:   inbound not marked answered: %lld, messages with two replies queued: %lld,"
	       " outbound not sent: %lld, outbox rows left: %lld\n",
	    not_answered_status, multi_reply, failed, outbox_left);
	printf("stress: sends accepted by the network (journal): %lld for %lld messages (%lld sent rows);"
	       " sent but not journaled: %lld; journaled but not recorded sent: %lld\n",
	    accepted, distinct_sent, sent_rows, unjournaled, unrecorded);
	printf("stress: duplicate replies: %lld (%lld message%s sent more than once);"
	       " uncertain resends (sum of messages.uncertain): %lld; duplicates not counted as uncertain: %lld\n",
	    dup_sends, dup_ids, dup_ids == 1 ? "" : "s", uncertain, unexplained);
	printf("stress: multipart messages: %lld, split across a kill: %lld, mislinked: %lld, parts never linked: %lld\n",
	    multipart, split, mislinked, orphans);

	bad = stored != expected || once != expected || lost || twice || garbled || unanswered || not_answered_status ||
	    multi_reply || failed || outbox_left || unjournaled || unrecorded || unexplained || mislinked || orphans;
	printf("stress: %s\n", bad ? "FAILED" : "OK");
	sqlite3_close(db);
	return bad ? 1 : 0;
}
