/*
 * cases_int.h: what the cases files (cases.c, cases_staff.c, cases_jobs.c)
 * share to write texts about a case. Nothing else includes it.
 */
#ifndef HOTLINE_CASES_INT_H
#define HOTLINE_CASES_INT_H

#include <stddef.h>
#include <stdint.h>

#include "ctx.h"

/* The label people read for a status code (texts label_received ...); the code when the menus lack it. */
const char *cases_label(const struct ctx *c, const char *code);
/* The title of the node a case came from (texts.topic_callback for a missed call). */
const char *cases_topic(const struct ctx *c, const char *topic);
/* "11月28日" from texts.date. Caller frees. */
char *cases_date(const struct ctx *c, int64_t t);
/* The local year at t. */
int cases_year(const struct config *cfg, int64_t t);
/* s cut to at most chars characters ("…" added when cut). Caller frees. */
char *cases_cut(const char *s, size_t chars);
/*
 * Name and phone of the staff member called `staff` for texts to villagers;
 * the office's name and phone when there is nobody (or they left the config).
 */
void cases_staff_of(const struct ctx *c, const char *staff, const char **name, const char **phone);
/* The case's details for staff texts (staff_new_case, staff_reminder, ...): fills v[0..7). */
#define CASES_DETAIL_VARS 7
struct store_case;
void cases_detail_vars(const struct ctx *c, const struct store_case *k, struct menu_var v[CASES_DETAIL_VARS]);

#endif
