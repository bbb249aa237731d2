/*
 * cases: home-visit requests (救助直通车), callback requests (人工) and
 * feedback, from the moment a villager confirms a form to the moment staff
 * close the case. Everything runs inside the caller's transaction (struct
 * ctx); texts come from menus/ (texts.def lists them).
 */
#ifndef HOTLINE_CASES_H
#define HOTLINE_CASES_H

#include <stdbool.h>
#include <stdint.h>

#include "dispatch.h"

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
int cases_status_text(struct ctx *c, const char *phone, char **reply);

/* Store a suggestion or complaint with its own number. *number owned. */
int feedback_add(struct ctx *c, const char *phone, const char *channel, const char *text, int64_t msg_id,
    char **number);

/*
 * Commands by SMS: from a configured staff phone, 接 N, 访 N 备注, ...; from
 * anyone, 撤销 N for their own case. *handled says whether text was a
 * command; then *reply (owned) is the answer.
 */
int cases_command(struct ctx *c, const char *phone, const char *text, size_t len, bool *handled, char **reply);

#endif
