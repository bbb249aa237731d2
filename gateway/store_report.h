/*
 * store_report: the counts `hotlinectl report` makes of the message log
 * (conventions of store.h: 0/-1, errors logged). Cases and feedback are
 * counted through store_cases.h.
 */
#ifndef HOTLINE_STORE_REPORT_H
#define HOTLINE_STORE_REPORT_H

#include "store.h"

/*
 * Inbound messages (SMS, USSD steps, missed calls) that were answered in
 * [from, to) (0: open), leaving out those answered by except_node (staff
 * commands: "command"), one by one, oldest first: the sender's number, the
 * answering node ("" when none), the time. fn returning non-zero stops.
 */
int store_report_each(struct store *st, int64_t from, int64_t to, const char *except_node,
    int (*fn)(const char *phone, const char *node, int64_t at, void *arg), void *arg);

/* How many different numbers sent those messages. */
int store_report_callers(struct store *st, int64_t from, int64_t to, const char *except_node, int64_t *n);

#endif
