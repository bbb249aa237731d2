/*
 * store: everything the hotline keeps, in one SQLite database (WAL mode).
 *
 * Only store*.c include <sqlite3.h>. One struct store is one connection and
 * belongs to one thread; every thread that touches the database opens its
 * own (WAL lets them read while one writes; writers wait on a busy timeout).
 * The schema is versioned with PRAGMA user_version and migrated forward at
 * open. Every statement is prepared once and cached.
 *
 * Return convention: 0 on success, -1 on a database error, which is logged
 * once here with the statement's name. Strings handed in are copied.
 *
 * This header: opening, migrations, transactions, the database's health,
 * retention and counters (store.c). Each group of tables has its own
 * store_*.h: store_messages.h, store_outbox.h, store_parts.h,
 * store_sessions.h, store_cases.h, store_console.h, store_contacts.h,
 * store_kannel.h, store_modem.h, store_report.h, store_ussd.h.
 */
#ifndef HOTLINE_STORE_H
#define HOTLINE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct store;

struct store_opts {
	bool create;           /* create the file (mode 0600, or 0640 with group) if missing */
	bool migrate;          /* run forward migrations (the daemon does; tools too) */
	const char *synchronous; /* "full" (default) or "normal" */
	const char *group;     /* group that may read the file, or NULL/"" */
	bool readonly;
	int migrate_to;        /* with migrate: stop at this version (0: the latest); tests of one migration */
	const char *country;   /* phone.country_code (NULL: "86"): how migration 6 normalises stored numbers */
};

/* Open path. On failure returns -1 with the reason in err. */
int store_open(const char *path, const struct store_opts *opts, struct store **out, char *err,
    size_t errlen) WARN_UNUSED;
void store_close(struct store *st);
/* The schema version this build writes, and the file's version. */
int store_schema_version(void);
int store_file_version(struct store *st);

/* Write transactions (BEGIN IMMEDIATE: the write lock is taken at once). */
int store_begin(struct store *st) WARN_UNUSED;
int store_commit(struct store *st) WARN_UNUSED;
void store_rollback(struct store *st);
/* A savepoint inside a transaction, to undo one piece of work of a batch. */
int store_savepoint(struct store *st) WARN_UNUSED;
int store_release(struct store *st) WARN_UNUSED;
void store_rollback_savepoint(struct store *st);
/* A cheap query that proves the database answers (for /healthz). */
int store_ping(struct store *st);

/*
 * Is the file at the configured path still the file this connection writes
 * to (same device and inode, not deleted or replaced)? 0 when it is. When it
 * is not, -1: the loss is logged once for the whole process and remembered
 * (store_health's lost) until restart. Nothing may be deleted from a phone
 * unless this holds after the commit that stored it.
 */
int store_file_check(struct store *st) WARN_UNUSED;
/*
 * PRAGMA quick_check. 0 when the file is sound; else -1 with SQLite's first
 * finding in err; a failure is remembered in store_health (corrupt).
 */
int store_quick_check(struct store *st, char *err, size_t errlen) WARN_UNUSED;

/*
 * The outcome of the process's last database writes, over every connection
 * (for /healthz and /metrics): when the last commit succeeded, and the last
 * error if it came after it.
 */
struct store_health {
	int64_t last_commit;   /* unix time of the last successful commit; 0: none yet */
	int64_t last_error_at; /* unix time of the last failed statement; 0: none */
	char last_error[160];  /* SQLite's message for it ("database or disk is full", ...) */
	bool failing;          /* the last outcome was an error (no commit since) */
	bool lost;             /* the file at the configured path is not the one open (store_file_check) */
	bool corrupt;          /* a quick_check failed */
	uint64_t errors;       /* failed statements since start */
};
void store_health(struct store_health *out);
/* Forget the recorded outcomes (tests). */
void store_health_reset(void);

/*
 * Retention: erase the texts of messages (and of their stored parts and idle
 * sessions) older than cutoff. Cases, their history and feedback stay.
 * *n gets the messages erased. Its own transaction.
 */
int store_purge_texts(struct store *st, int64_t cutoff, int *n) WARN_UNUSED;

/* ---- counters -------------------------------------------------------------------- */

/* Next value of a named sequence (case numbers per year, ...), inside the caller's transaction. */
int store_next_seq(struct store *st, const char *name, int64_t *value) WARN_UNUSED;

#endif
