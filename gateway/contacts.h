/*
 * contacts: the people a bureau may text first: roster imports, applicants
 * of cases, people who subscribed themselves. One normalised phone per
 * contact; groups (低保户, 特困, 高龄, 赶大集 …) as tags; an opted-out flag that
 * stops broadcasts (never case notifications or answers).
 */
#ifndef HOTLINE_CONTACTS_H
#define HOTLINE_CONTACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctx.h"
#include "roster.h"
#include "store.h"
#include "util.h"

/*
 * A phone as written in a roster or on a command line made the one stored
 * form (phone.c: E.164, +8613912345678; country for numbers without one);
 * false when it is not a number a person could be texted at (with why).
 */
bool contacts_phone(const char *in, const char *country, char *out, size_t outlen, const char **why);

struct contacts_import {
	int rows;     /* data rows read (empty rows not counted) */
	int added, updated, bad;
	const char *encoding;
	struct buf report; /* one line per bad row: "line N: reason" */
};
/*
 * Import a table (see roster.h): the header row (the first non-empty one)
 * names the columns (姓名, 电话/手机号, 乡镇, 村, 类别 …); each row is one
 * contact, added or updated by its phone, whole or not at all (a bad row is
 * reported with its line and reason). group (may be NULL) is added to every
 * row's groups. Its own transaction. -1 on a database error or a header
 * without a phone column (err says which).
 */
int contacts_import_table(struct store *st, const struct roster_table *t, const char *group, const char *country,
    int64_t now, struct contacts_import *r, char *err, size_t errlen);
void contacts_import_free(struct contacts_import *r);

/* Split a free-text place (崆峒镇东关村5组) into town (…镇/乡/街道) and village (…村/社区). */
void contacts_split_place(const char *place, char *town, size_t townlen, char *village, size_t villagelen);

/* An applicant of a case (phone normalised) becomes a contact (source "applicant"), inside the caller's transaction. */
int contacts_from_applicant(struct store *st, const char *phone, const char *name, const char *place, int64_t now);

/*
 * 退订 / TD / 订阅 / 订阅 赶大集 … (the words are menus/ texts optout_keywords and
 * optin_keywords): when text is one of them, opt the sender out or in and set
 * *reply to the confirmation (caller frees); *handled says whether it was.
 * Inside the caller's transaction.
 */
int contacts_keyword(struct ctx *c, const char *phone, const char *text, size_t len, bool *handled, char **reply);

#endif
