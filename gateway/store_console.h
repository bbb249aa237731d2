/*
 * store_console: the staff web console's tables (migration 5): accounts,
 * sessions, the one-time setup token, login failures and the audit log, and
 * the console's case search. Conventions as in store.h (0/-1, errors logged,
 * strings copied). Secrets are never stored: tokens only as their hashes
 * (auth.c makes them), passwords only as Argon2id strings.
 */
#ifndef HOTLINE_STORE_CONSOLE_H
#define HOTLINE_STORE_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

#include "store_messages.h"
#include "store_cases.h"

struct console_account {
	int64_t id;
	char *name, *hash, *role, *staff_phone; /* staff_phone NULL when not linked */
	bool disabled;
	int64_t created_at, updated_at;
};
void console_account_free(struct console_account *a);

/* *added false when the name is taken. */
int store_account_add(struct store *st, const char *name, const char *hash, const char *role,
    const char *staff_phone, int64_t now, bool *added) WARN_UNUSED;
int store_account_get(struct store *st, const char *name, struct console_account *out, bool *found) WARN_UNUSED;
int store_account_get_id(struct store *st, int64_t id, struct console_account *out, bool *found) WARN_UNUSED;
int store_account_count(struct store *st, int *n) WARN_UNUSED;
int store_account_set_hash(struct store *st, const char *name, const char *hash, int64_t now, bool *found) WARN_UNUSED;
int store_account_set_disabled(struct store *st, const char *name, bool disabled, int64_t now,
    bool *found) WARN_UNUSED;
/* Every account by name; fn's strings are valid during the call. */
int store_account_each(struct store *st, int (*fn)(const struct console_account *a, void *arg), void *arg);

/* Sessions, keyed by the hash of their token. */
int store_csession_add(struct store *st, const char *token_hash, int64_t account_id, const char *csrf,
    const char *addr, int64_t now) WARN_UNUSED;
/* csrf: at least 80 bytes. */
int store_csession_get(struct store *st, const char *token_hash, int64_t *account_id, char *csrf, size_t csrflen,
    int64_t *last_seen, bool *found) WARN_UNUSED;
int store_csession_touch(struct store *st, const char *token_hash, int64_t now) WARN_UNUSED;
int store_csession_delete(struct store *st, const char *token_hash) WARN_UNUSED;
int store_csession_delete_account(struct store *st, int64_t account_id) WARN_UNUSED;
int store_csession_purge(struct store *st, int64_t idle_before) WARN_UNUSED;

/* The one setup token (any earlier one is replaced). */
int store_setup_set(struct store *st, const char *token_hash, int64_t expires_at) WARN_UNUSED;
/* Is token_hash the setup token, unexpired at now? With take, it is used up (deleted) when it is. */
int store_setup_check(struct store *st, const char *token_hash, int64_t now, bool take, bool *ok) WARN_UNUSED;

/* Login failures by kind ("account" | "addr") and key. */
int store_failure_add(struct store *st, const char *kind, const char *key, int64_t at) WARN_UNUSED;
/* Up to max failure times since `since`, oldest first; *n how many. */
int store_failure_times(struct store *st, const char *kind, const char *key, int64_t since, int64_t *times,
    size_t max, size_t *n) WARN_UNUSED;
int store_failure_clear(struct store *st, const char *kind, const char *key) WARN_UNUSED;

/* The audit log: who (an account name, or "-"), from where, what, on what. */
struct store_audit {
	int64_t id, at;
	const char *who, *addr, *action, *target, *detail;
};
int store_audit_add(struct store *st, const struct store_audit *a) WARN_UNUSED;
/* Newest first, ids below before_id (0: from the newest), at most limit. */
int store_audit_each(struct store *st, int64_t before_id, int limit,
    int (*fn)(const struct store_audit *a, void *arg), void *arg);

/* The console's case list: every field may be NULL/0 for "any". Newest first. */
struct store_case_query {
	const char *status, *staff, *topic;
	const char *place;   /* a town or village: a substring of the place */
	const char *q;       /* a case number, a name or a phone (substring) */
	int64_t from, to;    /* created in [from, to) */
	bool open_only;
	int limit, offset;   /* a page (limit 0: all) */
};
/* fn gets each case (valid during the call); non-zero stops. fn must not use the store. */
int store_case_query(struct store *st, const struct store_case_query *q,
    int (*fn)(const struct store_case *c, void *arg), void *arg);

/* 短信记录: messages by phone (any form), time and text; fn's strings valid during the call. */
struct store_msg_query {
	const char *phone;   /* normalised (phone_normalise); NULL: any */
	const char *text;    /* a substring; NULL: any */
	int64_t from, to;    /* created in [from, to); 0: open */
	int limit;
	bool oldest_first;   /* a conversation reads oldest first; a search newest first */
};
int store_msg_search(struct store *st, const struct store_msg_query *q,
    int (*fn)(const struct store_msg *m, void *arg), void *arg);

/* 意见建议 as the console lists them (note and done_at: store_feedback_done, migration 9). */
struct store_feedback_row {
	int64_t id, message_id, created_at, done_at;
	const char *number, *phone, *channel, *text, *status, *note;
};
/* Newest first, created in [from, to) (0: open), at most limit. */
int store_feedback_rows(struct store *st, int64_t from, int64_t to, int limit,
    int (*fn)(const struct store_feedback_row *f, void *arg), void *arg);
/* Who sent suggestion `number` and in which message (*phone owned), for an answer by SMS. */
int store_feedback_sender(struct store *st, const char *number, char **phone, int64_t *message_id,
    bool *found) WARN_UNUSED;

/* How many cases q matches (limit and offset aside). */
int store_case_query_count(struct store *st, const struct store_case_query *q, int *n) WARN_UNUSED;

/* Today's figures for the dashboard: messages in, cases created and closed since `since`. */
int store_console_counts(struct store *st, int64_t since, int *msgs_in, int *cases_new, int *cases_closed);

#endif
