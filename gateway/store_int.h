/*
 * store_int.h: what the store's own files share (the connection and the
 * statement cache). Nothing outside store*.c includes it.
 */
#ifndef HOTLINE_STORE_INT_H
#define HOTLINE_STORE_INT_H

#include <sqlite3.h>
#include <stdbool.h>

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

/*
 * The prepared statement for a static SQL string (prepared on first use,
 * then reset and cleared of bindings on each call). NULL on error (logged).
 */
sqlite3_stmt *store_stmt(struct store *st, const char *sql);
/* Log a failed statement once, with its first words for a name. Returns -1. */
int store_fail(struct store *st, const char *sql);
/* Step a statement that returns no rows. 0 or -1. */
int store_exec_stmt(struct store *st, const char *sql, sqlite3_stmt *s);
/* Bind text that may be NULL. */
void store_bind_text(sqlite3_stmt *s, int idx, const char *v);
/* A column as a C string ("" for NULL). */
const char *store_col_text(sqlite3_stmt *s, int idx);

#endif
