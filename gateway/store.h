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
 */
#ifndef HOTLINE_STORE_H
#define HOTLINE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session.h"
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

/* ---- messages ---------------------------------------------------------------- */

struct store_msg {
	int64_t id;
	const char *channel;   /* "sms" | "ussd" | "call" */
	const char *direction; /* "in" | "out" */
	const char *phone;
	const char *text;      /* valid UTF-8 */
	size_t text_len;
	const void *raw;       /* the bytes as received when they differ from text; else NULL */
	size_t raw_len;
	int parts;
	const char *modem;
	const char *status;    /* in: received|answered|ignored|limited; out: queued|sending|sent|failed */
	const char *node;
	const char *kind;      /* in: text|flash|binary|status-report|incomplete|end|call */
	const char *session;   /* USSD sessionId */
	const char *error;
	int64_t reply_to;      /* 0: none */
	int64_t smsc_time;
	int64_t created_at;    /* 0: now */
	int64_t sent_at;
	int msg_ref;
	bool asked;            /* answers what the hotline asked, or the reply to such an answer */
};

int store_msg_add(struct store *st, const struct store_msg *m, int64_t *id) WARN_UNUSED;
/* Change an inbound message's status and answering node (NULL keeps it). */
int store_msg_set(struct store *st, int64_t id, const char *status, const char *node) WARN_UNUSED;

struct store_msg_filter {
	const char *phone;   /* normalised (phone_normalise); NULL: all */
	const char *channel; /* NULL: all */
	int64_t since, until;/* 0: open */
	int64_t after_id;    /* only ids above */
	int limit;           /* 0: no limit */
	bool newest_first;
};
/* Call fn for each message matching f (strings valid during the call). fn returning non-zero stops. */
int store_msg_each(struct store *st, const struct store_msg_filter *f,
    int (*fn)(const struct store_msg *m, void *arg), void *arg);

/* Messages matching f (phone, channel, since, until), not counting exclude_id. */
int store_msg_count(struct store *st, const struct store_msg_filter *f, int64_t exclude_id, int *count);
/* SMS replies sent or queued to this phone since t (rate limits: answers to what it sent, not
 * notifications, alerts, USSD answers or replies to answers to our own questions (asked)). */
int store_replies_since(struct store *st, const char *phone, int64_t since, int *count);
/* Both at once: SMS replies since since_short and since since_long (one query per message). */
int store_replies_two(struct store *st, const char *phone, int64_t since_long, int64_t since_short,
    int *short_count, int *long_count);
/* How often the same text from this phone was answered since t (auto-responder loops)? */
int store_same_text_since(struct store *st, const char *phone, const char *text, int64_t since,
    int64_t exclude_id, int *answered);
/* Limit notices sent to this phone since t (of one kind: the notice's node; NULL: any). */
int store_notices_since(struct store *st, const char *phone, int64_t since, const char *node, int *count);

/* ---- outbox ------------------------------------------------------------------- */

/*
 * Queue the outbound message id (already added with store_msg_add, status
 * "queued"). modem: the modem the conversation came in on, or NULL for any.
 * priority: higher goes first (staff alerts). not_before: quiet hours.
 */
int store_outbox_add(struct store *st, int64_t msg_id, const char *modem, int priority,
    int64_t not_before) WARN_UNUSED;

struct store_send {
	int64_t id;
	char phone[48];
	char *text; /* owned: free with store_sends_free */
	char modem[40];
	int attempts;
	char kind[16]; /* the message's kind: reply, notify, staff, notice, broadcast */
	int concat_ref;   /* a long text's concatenation reference from an earlier attempt, -1: none yet */
	int parts_done;   /* its parts the network accepted already (in order) */
};
/*
 * Claim up to max queued messages due at now for modem `for_modem` (NULL:
 * those with no modem) and mark them "sending", recording `by` as the modem
 * that sends them. Its own transaction: the claim is committed before any
 * send, so a crash in the send leaves a "sending" row for store_outbox_recover.
 */
int store_outbox_claim(struct store *st, const char *for_modem, const char *by, int64_t now,
    struct store_send *out, size_t max, size_t *n) WARN_UNUSED;
void store_sends_free(struct store_send *s, size_t n);
/*
 * The broadcast rate for this connection's claims: a broadcast message is
 * claimed only while the claiming modem has sent fewer than per_minute
 * broadcast messages in the last 60 s (0: no limit). The modem threads set
 * it from broadcast.per_modem_per_minute; each modem keeps its own pace, so
 * the rate spreads over the modems that are up.
 */
void store_outbox_broadcast_rate(struct store *st, int per_minute);
int store_outbox_sent(struct store *st, int64_t id, int parts, int msg_ref, int64_t now) WARN_UNUSED;
int store_outbox_retry(struct store *st, int64_t id, int64_t not_before, const char *error) WARN_UNUSED;
/* The same, keeping a long text's progress: its reference (-1: none) and the parts accepted. */
int store_outbox_retry_from(struct store *st, int64_t id, int64_t not_before, const char *error, int concat_ref,
    int parts_done) WARN_UNUSED;
int store_outbox_failed(struct store *st, int64_t id, const char *error) WARN_UNUSED;
/*
 * At start: messages left "sending" by a crash go back to the queue (they may
 * have reached the network: each is counted in messages.uncertain). *n gets
 * how many.
 */
int store_outbox_recover(struct store *st, int *n) WARN_UNUSED;
/* Queue depth, and age in seconds of the oldest due message (0 when empty). */
int store_outbox_stats(struct store *st, int64_t now, int *depth, int64_t *oldest_age);
/* Seconds until the next queued message is due (INT64_MAX when none). */
int store_outbox_next_due(struct store *st, int64_t now, int64_t *wait);

/* ---- inbound parts (multipart linking survives restarts) ----------------------- */

struct store_part {
	int64_t id;
	const char *modem, *sender;
	int64_t smsc_time;
	int ref;        /* -1 for a lone SMS */
	int ref_bits;   /* 0, 8 or 16 */
	int total, seq;
	const char *text;
	size_t text_len;
	const void *raw;
	size_t raw_len;
	const char *kind;  /* text|flash|binary|status-report */
	int64_t received_at;
	int64_t message_id; /* the message it already is (a lone SMS stored after its message), 0 when none yet */
	int location;       /* where it sits on the phone (folder and place, gsm.h); -1 unknown */
};
/*
 * Store one part unless the same part (modem, sender, SMSC time, reference,
 * part number, text digest, place on the phone) is stored and not yet deleted
 * from the phone: *inserted says which. This is what makes a part read again
 * after a crash a no-op, while two identical texts sent in the same second
 * (two places on the phone) stay two messages.
 */
int store_part_add(struct store *st, const struct store_part *p, bool *inserted) WARN_UNUSED;
/*
 * The parts at these places of a modem were deleted from the phone: their
 * places may hold new messages (one transaction of its own).
 */
int store_parts_gone(struct store *st, const char *modem, const int *locations, size_t n) WARN_UNUSED;
/* Is this very part (the same key) stored already? */
int store_part_seen(struct store *st, const struct store_part *p, bool *seen) WARN_UNUSED;

/* The stored parts of one message that is not yet a message. */
struct store_group {
	char modem[40], sender[48];
	int ref, ref_bits, total;
	int64_t first_received; /* when its first part was stored */
	int64_t smsc_time;      /* of its first part */
	size_t n;               /* distinct parts present */
	bool complete;          /* all `total` parts present */
	char kind[16];
	struct buf text;        /* texts of the present parts in order (load only) */
};
/* Load the group a part belongs to (its texts joined in part order). */
int store_group_load(struct store *st, const char *modem, const char *sender, int ref, int ref_bits,
    int total, struct store_group *g) WARN_UNUSED;
/* Mark the group's parts as made into message_id. */
int store_group_consume(struct store *st, const struct store_group *g, int64_t message_id) WARN_UNUSED;
/* Groups still incomplete whose first part came before cutoff (no texts). */
int store_group_stale(struct store *st, int64_t cutoff, struct store_group *out, size_t max,
    size_t *n) WARN_UNUSED;
void store_group_free(struct store_group *g);

/*
 * Notifications to phone about one thing (their node, "case:2026-0001") held
 * for the end of quiet hours and not yet due at now: marked "superseded" and
 * dropped from the outbox, inside the caller's transaction (a newer one about
 * the same case replaces them). *n how many.
 */
int store_notify_supersede(struct store *st, const char *phone, const char *node, int64_t now, int *n) WARN_UNUSED;

/* ---- sessions ------------------------------------------------------------------ */

/*
 * Load the session `key` into s (which session_init() prepared). A session
 * idle longer than timeout comes back fresh (menu at root, form dropped) but
 * keeps its last reply, so that 重复 still works.
 */
int store_session_load(struct store *st, const char *key, int64_t now, int timeout, struct session *s) WARN_UNUSED;
int store_session_save(struct store *st, const struct session *s) WARN_UNUSED;
int store_session_delete(struct store *st, const char *key) WARN_UNUSED;
/* Forms left idle since before cutoff: fn for each (the caller notes and resets them). */
int store_session_idle_forms(struct store *st, int64_t cutoff,
    int (*fn)(struct session *s, void *arg), void *arg);
/* Sessions updated since t on a channel (USSD sessions active). */
int store_session_count(struct store *st, const char *channel, int64_t since, int *count);
/* Drop USSD sessions idle since before cutoff, not half-filled forms (cases_jobs drops those); *n how many. */
int store_session_purge(struct store *st, const char *channel, int64_t cutoff, int *n) WARN_UNUSED;

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
