/*
 * report: the figures a bureau reports (policy-facts.md §9: consultations,
 * people, matters handled), made from the hotline's own data for
 * `hotlinectl report`: consultations by topic, different callers, requests,
 * cases by status, median days to the visit and to 办结, feedback.
 */
#ifndef HOTLINE_REPORT_H
#define HOTLINE_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cases.h"
#include "config.h"
#include "menu.h"
#include "store.h"

struct report_topic {
	char *name;     /* the topic's title in the menus (its id when the menus lack it) */
	int64_t count;
};

struct report {
	int64_t from, to;          /* [from, to), 0 = open */
	struct report_topic *topics; /* biggest first */
	size_t ntopics;
	int64_t consultations;     /* answered inbound messages (SMS, USSD steps, missed calls); staff commands not */
	int64_t callers;           /* different numbers among them */
	int64_t requests;          /* cases created: home-visit requests (a form node's topic) */
	int64_t callbacks;         /* ... and requests to be called back */
	int64_t by_status[CASE_STATUS_COUNT]; /* cases created in the period, by status now */
	double median_visit_days;  /* created -> visited, over those visited; < 0 when none */
	double median_done_days;   /* created -> 办结 (done), over those done; < 0 when none */
	int64_t feedback;          /* feedback items */
};

/* Count everything over [from, to) (0 = open) on st. -1 on a database error. Free with report_free. */
struct tz;
/* consultations: one per number, topic and day of the bureau's clock z (tz.h) */
int report_build(struct store *st, const struct menu *m, const struct tz *z, int64_t from, int64_t to,
    struct report *r);
void report_free(struct report *r);

/* Median of n values (sorts them); -1 when n is 0. Pure. */
double report_median(double *v, size_t n);

/*
 * Print the report: a table for people, or CSV (UTF-8 with BOM, CRLF,
 * rows "section,item,value") that WPS and Excel open with the Chinese intact.
 */
void report_write(FILE *f, const struct report *r, const struct config *cfg, bool csv);

/* Print s and pad it to width terminal columns (a Chinese character takes two). */
void report_pad(FILE *f, const char *s, int width);

#endif
