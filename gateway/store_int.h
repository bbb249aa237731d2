/*
 * store_int.h: what the store's own files share (the connection and the
 * statement cache). Nothing outside store*.c includes it.
 */
#ifndef HOTLINE_STORE_INT_H
#define HOTLINE_STORE_INT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "store.h"

#define STORE_STMT_SLOTS 256

struct store {
	sqlite3 *db;
	char *path;
	struct {
		const char *sql; /* the static string it was prepared from: the cache key */
		sqlite3_stmt *stmt;
	} cache[STORE_STMT_SLOTS];
	char country[8]; /* phone.country_code, for hotline_phone() in SQL (migration 6 normalises) */
	int bcast_rate; /* broadcast SMS a modem may send a minute (0: no limit): store_outbox_broadcast_rate */
	long long changes_at_begin; /* sqlite3_total_changes at BEGIN: did the transaction write? */
	/* the file opened at store_open (st_dev, st_ino of path then), for store_file_check */
	bool have_id;
	unsigned long long dev, ino;
};

/* Log a failed statement once, with its first words for a name. Returns -1. */
int store_fail(struct store *st, const char *sql);
/* A column as a C string ("" for NULL). */
const char *store_col_text(sqlite3_stmt *s, int idx);

/*
 * A whole message row: every query that hands out struct store_msg selects
 * STORE_MSG_COLUMNS first and reads them with store_msg_read
 * (store_messages.c); the strings point into the statement's row.
 */
#define STORE_MSG_COLUMNS \
	"id, channel, direction, phone, text, raw, parts, modem, status, node, kind, session, error, reply_to," \
	" smsc_time, created_at, sent_at, msg_ref"
struct store_msg;
void store_msg_read(sqlite3_stmt *s, struct store_msg *m);
/* A messages.kind as stored (NULL: none; a name this build does not know: none too). */
int store_msg_kind(const char *stored);

/*
 * Bind and run: one statement from the cache (prepared on first use, then
 * reset and cleared of bindings on each call), its parameters bound from a
 * list of values, stepped, reset, and a failure logged once (store_fail).
 * The values are made by the ST_* macros below; the list holds exactly one
 * value for each parameter ?1..?N of the statement (a parameter the SQL does
 * not use gets ST_NULL), which is checked on every run: a count that does
 * not match fails the call, logged, before anything is stepped.
 *
 *   ST_INT(v)       an integer (int, int64_t, bool: any integer type)
 *   ST_POS(v)       v when > 0, else NULL (the "0: none" ids and times)
 *   ST_KNOWN(v)     v when >= 0, else NULL (the "-1: unknown" readings)
 *   ST_REAL(v)      a double (NaN binds NULL, as SQLite does)
 *   ST_TEXT(v)      a C string, NULL binds NULL
 *   ST_TEXTN(v, n)  n bytes of text, NULL binds NULL
 *   ST_BLOB(v, n)   n bytes, NULL binds NULL
 *   ST_NULL         NULL
 *
 * Each macro initialises one typed member, so a wrong kind of value (a
 * number for text, a pointer for a number) does not compile under -Werror.
 * Text and blobs are copied (SQLITE_TRANSIENT).
 */
enum store_arg_type {
	STORE_ARG_END = 0,
	STORE_ARG_NULL,
	STORE_ARG_INT,
	STORE_ARG_POS,
	STORE_ARG_KNOWN,
	STORE_ARG_REAL,
	STORE_ARG_TEXT,
	STORE_ARG_BLOB,
};

struct store_arg {
	enum store_arg_type type;
	int len; /* text: bytes (-1: up to its NUL); blob: bytes */
	union {
		int64_t i;
		double d;
		const char *t;
		const void *b;
	};
};

#define ST_INT(v) ((struct store_arg){ .type = STORE_ARG_INT, .i = (v) })
#define ST_POS(v) ((struct store_arg){ .type = STORE_ARG_POS, .i = (v) })
#define ST_KNOWN(v) ((struct store_arg){ .type = STORE_ARG_KNOWN, .i = (v) })
#define ST_REAL(v) ((struct store_arg){ .type = STORE_ARG_REAL, .d = (v) })
#define ST_TEXT(v) ((struct store_arg){ .type = STORE_ARG_TEXT, .len = -1, .t = (v) })
#define ST_TEXTN(v, n) ((struct store_arg){ .type = STORE_ARG_TEXT, .len = (int)(n), .t = (v) })
#define ST_BLOB(v, n) ((struct store_arg){ .type = STORE_ARG_BLOB, .len = (int)(n), .b = (v) })
#define ST_NULL ((struct store_arg){ .type = STORE_ARG_NULL })
/* The list the functions below take: the values, then the end mark. */
#define STORE_ARGS(...) ((const struct store_arg[]){ __VA_ARGS__, { .type = STORE_ARG_END } })

/*
 * The statement for sql with args bound, ready to step (the caller steps it,
 * then ends with store_end); NULL on error, logged. args NULL: none.
 */
sqlite3_stmt *store_query_a(struct store *st, const char *sql, const struct store_arg *args);
/* Run a statement that returns no rows (or whose rows are not read). 0 or -1. */
int store_run_a(struct store *st, const char *sql, const struct store_arg *args);
/*
 * The first column of the first row as an integer (counts, ids, SELECT 1):
 * 0 when there is no row or it is NULL. 0 or -1.
 */
int store_get_int_a(struct store *st, const char *sql, const struct store_arg *args, int64_t *out);
int store_count_a(struct store *st, const char *sql, const struct store_arg *args, int *out);
/*
 * After stepping a query: reset it, and 0 when rc is SQLITE_DONE or
 * SQLITE_ROW (the caller stopped early), else -1, logged.
 */
int store_end(struct store *st, const char *sql, sqlite3_stmt *s, int rc);
/* End a transaction store_begin opened: commit when rc is 0, else roll back and -1. */
int store_finish(struct store *st, int rc);

/* The same with the values written in the call: store_run(st, SQL_X, ST_INT(id), ST_TEXT(name)). */
#define store_query(st, sql, ...) store_query_a((st), (sql), STORE_ARGS(__VA_ARGS__))
#define store_run(st, sql, ...) store_run_a((st), (sql), STORE_ARGS(__VA_ARGS__))
#define store_get_int(st, sql, out, ...) store_get_int_a((st), (sql), STORE_ARGS(__VA_ARGS__), (out))
#define store_count(st, sql, out, ...) store_count_a((st), (sql), STORE_ARGS(__VA_ARGS__), (out))

#endif
