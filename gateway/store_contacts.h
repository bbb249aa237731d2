/*
 * store_contacts: the contacts, contact_groups, broadcasts and
 * broadcast_recipients tables, and the outbox and delivery-report pieces
 * broadcasts need (a broadcast message is an outbox row whose message has
 * kind "broadcast"; delivery states are the deliveries table's) (see store.h for the conventions: 0/-1, errors logged,
 * strings copied).
 */
#ifndef HOTLINE_STORE_CONTACTS_H
#define HOTLINE_STORE_CONTACTS_H

#include "store.h"

/* ---- contacts ------------------------------------------------------------------- */

struct store_contact {
	int64_t id;
	const char *phone;   /* the normalised number (phone.c, E.164) */
	const char *name, *town, *village; /* NULL or "": unknown */
	const char *source;  /* "roster" | "applicant" | "self" | "explicit" */
	const char *groups;  /* reading: the groups joined by ',' ("" when none) */
	bool opted_out;
	int64_t opted_out_at, created_at, updated_at;
};

/*
 * Add the contact with this phone, or update the one there is: a field given
 * (not NULL, not "") replaces the stored one when overwrite, else fills it
 * only when it is empty; the source stays the first one. *id gets the row,
 * *created whether it is new (either may be NULL).
 */
int store_contact_upsert(struct store *st, const struct store_contact *c, bool overwrite, int64_t now,
    int64_t *id, bool *created) WARN_UNUSED;
/* Put the contact in group grp (no-op when it is in it). */
int store_contact_group_add(struct store *st, int64_t id, const char *grp) WARN_UNUSED;
/* Opt the contact with this phone out (true) or in; *found whether there is one. */
int store_contact_opt(struct store *st, const char *phone, bool out, int64_t now, bool *found) WARN_UNUSED;

struct store_contact_filter {
	const char *phone;   /* one number (normalised), or NULL */
	const char *group;   /* contacts in this group, or NULL */
	const char *town;    /* exact, or NULL */
	const char *village; /* exact, or NULL */
	int limit;           /* 0: all */
};
/* fn for each contact matching f, by id (strings valid during the call); fn != 0 stops. */
int store_contact_each(struct store *st, const struct store_contact_filter *f,
    int (*fn)(const struct store_contact *c, void *arg), void *arg);

/* fn for each group with its number of contacts and of those opted out. */
int store_contact_groups(struct store *st, int (*fn)(const char *grp, int n, int opted_out, void *arg), void *arg);

/* ---- broadcasts ----------------------------------------------------------------- */

struct store_broadcast {
	int64_t id;
	const char *kind;      /* "broadcast" | "market" */
	const char *text;      /* the template */
	const char *audience;  /* as given: "group:低保户,town:白水镇" */
	const char *status;    /* draft | approved | sending | paused | done | cancelled */
	int64_t start_at;      /* not before */
	const char *created_by, *approved_by;
	int64_t created_at, approved_at, updated_at, done_at;
	const char *dedup;     /* a key that makes a second automatic broadcast a no-op, or NULL */
};

/* Add a broadcast (status as given); *id. A dedup key already used: *id = 0, nothing added. */
int store_broadcast_add(struct store *st, const struct store_broadcast *b, int64_t *id) WARN_UNUSED;
/* One recipient: seq orders them; status "pending" or "skipped" (with reason). */
int store_broadcast_recipient_add(struct store *st, int64_t bid, int seq, int64_t contact_id, const char *phone,
    const char *status, const char *reason) WARN_UNUSED;
/* fn for one broadcast (id > 0) or all, newest first (strings valid during the call). */
int store_broadcast_each(struct store *st, int64_t id, int (*fn)(const struct store_broadcast *b, void *arg),
    void *arg);
/* Change its status; approved_by / done_at set when given (non-NULL / > 0). */
int store_broadcast_set(struct store *st, int64_t id, const char *status, const char *approved_by, int64_t at,
    int64_t done_at) WARN_UNUSED;

/* Recipients by state: queued means in the outbox, not yet sent. */
struct store_bcast_counts {
	int total, pending, queued, sending, sent, delivered, failed, skipped, cancelled;
};
int store_broadcast_counts(struct store *st, int64_t bid, struct store_bcast_counts *c) WARN_UNUSED;

struct store_recipient {
	int seq;
	int64_t contact_id;
	const char *phone;
	const char *state;    /* pending | queued | sending | sent | delivered | failed | skipped | cancelled */
	const char *reason;   /* why skipped or failed */
	int64_t message_id;
};
/* fn for each recipient in order, from seq after_seq on, at most limit (0: all). */
int store_broadcast_recipients(struct store *st, int64_t bid, int after_seq, int limit,
    int (*fn)(const struct store_recipient *r, void *arg), void *arg);
/* The next pending recipients (seq, contact_id, phone) in order: fn for each, at most max. */
int store_broadcast_pending(struct store *st, int64_t bid, int max,
    int (*fn)(const struct store_recipient *r, void *arg), void *arg);
/* A recipient handled: queued as message msg_id, or skipped with a reason. */
int store_broadcast_recipient_set(struct store *st, int64_t bid, int seq, const char *status, const char *reason,
    int64_t msg_id) WARN_UNUSED;
/* Messages of this broadcast still in the outbox (claimed or not). */
int store_broadcast_outstanding(struct store *st, int64_t bid, int *n) WARN_UNUSED;
/*
 * Take back what is queued and not yet claimed: those outbox rows and their
 * never-sent messages go, and their recipients become `to` ("pending" for a
 * pause, "cancelled" for a cancel; a cancel also cancels the pending ones).
 * *n gets the recipients taken back. Inside the caller's transaction.
 */
int store_broadcast_unqueue(struct store *st, int64_t bid, const char *to, int *n) WARN_UNUSED;
/* Queue broadcast message msg_id (kind "broadcast"), after the replies (lower priority). */
int store_outbox_add_broadcast(struct store *st, int64_t msg_id, int64_t not_before) WARN_UNUSED;
/* Broadcast messages waiting in the outbox and due before until wait until then (quiet hours). */
int store_outbox_hold_broadcasts(struct store *st, int64_t until, int *n) WARN_UNUSED;

/* ---- delivery reports ------------------------------------------------------------ */

/*
 * A modem's status report about reference `ref` to `phone`: the newest
 * message sent there by that modem with that reference and no final report
 * gets the delivery state dlr ("delivered", "failed" final; "buffered" not)
 * at `at`, in the deliveries table Kannel's reports use too; *matched its
 * id, 0 when none.
 * Inside the caller's transaction.
 */
int store_dlr_match(struct store *st, const char *modem, const char *phone, int ref, const char *dlr, int64_t at,
    int64_t *matched) WARN_UNUSED;

#endif
