/*
 * store_cases: the cases, case_events and feedback tables (see store.h for
 * the conventions: 0/-1, errors logged, strings copied).
 */
#ifndef HOTLINE_STORE_CASES_H
#define HOTLINE_STORE_CASES_H

#include "store.h"

struct store_case {
	int64_t id;
	char *number, *topic, *channel;
	char *applicant_phone, *contact_phone;
	char *name, *place, *need;
	char *staff;   /* staff name from the config, NULL when nobody */
	char *status;  /* a case_status_code() */
	char *reason;
	int64_t msg_id;
	int64_t created_at, updated_at, accepted_at, visited_at, closed_at, escalated_at, resent_at;
};
void store_case_free(struct store_case *c);

int store_case_add(struct store *st, const struct store_case *c, int64_t *id) WARN_UNUSED;

struct store_case_filter {
	const char *number;        /* exact */
	const char *applicant;     /* normalised (phone_normalise): only that applicant's cases */
	const char *status;        /* a code */
	const char *staff;         /* a staff name */
	const char *topic;
	bool open_only;            /* not done, rejected or withdrawn */
	int64_t created_from, created_to; /* 0: open */
	int limit;
	bool newest_first;
};
/* fn gets each case (strings owned by the callee only during the call). */
int store_case_each(struct store *st, const struct store_case_filter *f,
    int (*fn)(const struct store_case *c, void *arg), void *arg);
/* One case by number into out (free with store_case_free); *found. */
int store_case_get(struct store *st, const char *number, struct store_case *out, bool *found) WARN_UNUSED;

/*
 * Change a case: any of status (code), staff, reason may be NULL to keep.
 * The timestamps that go with a status are set (accepted_at for assigned,
 * visited_at, closed_at for done/rejected/withdrawn). Also records the event
 * (actor, old -> new, note).
 */
int store_case_update(struct store *st, int64_t id, const char *status, const char *staff, const char *reason,
    const char *actor, const char *note, int64_t at) WARN_UNUSED;
/* Mark escalated / re-sent at t. */
int store_case_mark(struct store *st, int64_t id, bool escalated, bool resent, int64_t t) WARN_UNUSED;

struct store_case_event {
	int64_t at;
	const char *actor, *old_status, *new_status, *note;
};
int store_case_events(struct store *st, int64_t case_id,
    int (*fn)(const struct store_case_event *e, void *arg), void *arg);

struct store_feedback {
	int64_t id;
	const char *number, *phone, *channel, *text, *status; /* status: "new" | "done" */
	int64_t message_id, created_at;
	const char *note;   /* what was done (feedback done --note), NULL when none */
	int64_t done_at;
};
int store_feedback_add(struct store *st, const struct store_feedback *f, int64_t *id) WARN_UNUSED;
int store_feedback_each(struct store *st, int64_t from, int64_t to,
    int (*fn)(const struct store_feedback *f, void *arg), void *arg);
/* Mark suggestion `number` handled ("done") with a note (may be NULL); *found says whether it exists. */
int store_feedback_done(struct store *st, const char *number, const char *note, int64_t now, bool *found) WARN_UNUSED;

#endif
