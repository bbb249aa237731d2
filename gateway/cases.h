/*
 * cases: home-visit requests (救助直通车), callback requests (人工) and
 * feedback, from the moment a villager confirms a form to the moment staff
 * close the case. Everything runs inside the caller's transaction (struct
 * ctx), except cases_jobs_run(); texts come from menus/ (texts.def lists
 * them; menus/30-cases.cfg holds those about moving cases).
 *
 * Files: cases.c (statuses, creation, moves and their notifications),
 * cases_cmd.c (reading the SMS commands, pure), cases_staff.c (carrying them
 * out: cases_command, cases_staff.h), cases_jobs.c (escalation, digest, idle
 * forms); hotlinectl's side is ctl_cases.c and report.c.
 *
 * Promises: every move is checked before anything is written (case_check_
 * change), leaves one history row and sends one SMS to the applicant (and
 * one to a different contact phone); nobody learns of a case that is not
 * theirs (staff: not assigned to them, unless supervisor).
 */
#ifndef HOTLINE_CASES_H
#define HOTLINE_CASES_H

#include <stdbool.h>
#include <stdint.h>

#include "ctx.h"
#include "outbox.h"
#include "session.h"
#include "store_cases.h"

enum case_status {
	CASE_RECEIVED = 0, /* 已受理 */
	CASE_ASSIGNED,     /* 已派单: a staff member took it */
	CASE_VISITED,      /* 已上门 */
	CASE_REVIEWING,    /* 审核中 */
	CASE_DONE,         /* 已办结 */
	CASE_REJECTED,     /* 不符合条件 (with a reason) */
	CASE_WITHDRAWN,    /* 已撤销 by the applicant */
	CASE_STATUS_COUNT
};

/* "received", ... (the database's codes). */
const char *case_status_code(enum case_status s);
/* The status from a code or its Chinese name (已受理 ...); -1 when neither. */
int case_status_parse(const char *s);
/* The Chinese name for people (the CLI); SMS use the menus' label_* texts. */
const char *case_status_name(enum case_status s);

/*
 * Create a home-visit request from the confirmed form in s (name, place,
 * need, contact phone): number it, route it to the staff who cover the place
 * (else the duty staff, else the supervisor) and queue their alert. *number
 * (owned) gets the case number.
 */
int cases_create_request(struct ctx *c, const struct session *s, const char *channel, const char *topic,
    int64_t msg_id, char **number);

/*
 * A request for a person to call phone back (人工, a missed call). Repeated
 * requests from one phone while one is open make no new case: *number is the
 * open one's and *existing is set.
 */
int cases_create_callback(struct ctx *c, const char *phone, const char *channel, const char *topic,
    const char *note, int64_t msg_id, char **number, bool *existing);

/* The answer to "how is my case": only phone's own cases. *reply owned. */
/*
 * The place (住址) of the phone's latest request, or NULL when it has none
 * or the lookup fails: where the sender lives, for the market node. Caller
 * frees.
 */
char *cases_known_place(struct ctx *c, const char *phone);
int cases_status_text(struct ctx *c, const char *phone, char **reply);

/* Store a suggestion or complaint with its own number. *number owned. */
int feedback_add(struct ctx *c, const char *phone, const char *channel, const char *text, int64_t msg_id,
    char **number);

/* ---- moving a case -------------------------------------------------------------------------- */

/* Not done, rejected or withdrawn. */
bool case_status_open(enum case_status s);
/*
 * The moves a case may make, whoever asks: received -> assigned -> visited
 * -> reviewing -> done, rejected and withdrawn from any open status, nothing
 * out of done, rejected or withdrawn (and no move to where it is). Pure.
 */
bool case_move_allowed(enum case_status from, enum case_status to);

enum case_outcome {
	CASE_OK = 0,
	CASE_NOT_FOUND,   /* no such case; to an applicant also "not yours" */
	CASE_NOT_YOURS,   /* a staff member acting on a case someone else has */
	CASE_BAD_MOVE,    /* case_move_allowed() says no */
	CASE_NEED_REASON, /* rejected needs a reason (the note) */
	CASE_NO_STAFF,    /* assigned needs someone: nobody has the case */
};

struct case_change {
	const char *number;
	enum case_status to;
	/*
	 * Who asks. by: a staff member (SMS): a case assigned to them, or to
	 * nobody (then only 接 takes it); the supervisor: any case, and 接 makes it
	 * theirs. applicant: the applicant's phone (撤销): only their own case,
	 * only to withdrawn. Neither: the office (hotlinectl), any case.
	 */
	const struct staff_cfg *by;
	const char *applicant;
	const char *actor;  /* for the history when neither by nor applicant ("hotlinectl") */
	const char *note;   /* for the history; the reason the applicant reads when rejected */
	bool callback;      /* the case is a call back (cases_is_callback): done from any open status (回 N) */
};

/* Is a case of this topic a request for a call back (a missed call, 人工)? */
bool cases_is_callback(const struct menu *m, const char *topic);

/*
 * Check, then act: the pure check of ch against case k (as stored).
 * *new_staff gets who has the case after the move (may be NULL).
 */
enum case_outcome case_check_change(const struct config *cfg, const struct store_case *k,
    const struct case_change *ch, const struct staff_cfg **new_staff);

/*
 * Move a case when case_check_change() allows it: the status (and staff,
 * reason, timestamps) and a history row, ONE notification to the applicant
 * (notify_<status>; not when the applicant asked: their reply says it) and
 * one to the contact phone when it is another number, held in quiet hours;
 * the staff member who has the case is told when someone else moved it.
 * *out says what came of it (nothing changes unless CASE_OK). after, when
 * not NULL and CASE_OK, gets the case as it is now (store_case_free).
 * Inside the caller's transaction; -1 on a database error.
 */
int cases_change(struct ctx *c, const struct case_change *ch, enum case_outcome *out, struct store_case *after);

/*
 * Give a case to staff member `to` (hotlinectl cases assign): a received
 * case becomes assigned (the applicant is told, like 接); an open case in a
 * later status changes hands only. The new staff member gets the case's
 * details, the one who had it a note. CASE_BAD_MOVE for a closed case or
 * one `to` already has.
 */
int cases_assign(struct ctx *c, const char *number, const struct staff_cfg *to, const char *actor,
    enum case_outcome *out);

/* ---- periodic work (cases_jobs.c) ------------------------------------------------------------ */

/*
 * Seconds of working time (cases.working_hours on cases.working_days, local
 * time) between from and to. Pure (but for the time zone).
 */
int64_t cases_working_seconds(const struct config *cfg, int64_t from, int64_t to);

/*
 * The main loop's case jobs, to be called about once a minute (c->now is
 * the time; each job runs in a transaction of its own, so the caller must
 * not hold one):
 *   - escalation: a request still received after cases.escalate_after
 *     working hours goes again to its staff member, and the supervisor is
 *     told; once per case;
 *   - the daily digest at cases.digest_time (up to 3 hours late, once a day)
 *     to each staff member with open cases: new, overdue, in hand (the
 *     supervisor: every open case);
 *   - forms idle past sessions.timeout are dropped, with texts.form_expired
 *     to the sender (held in quiet hours).
 * Returns 0, or -1 when a job failed (logged; it runs again next time).
 */
int cases_jobs_run(struct ctx *c);

#endif
