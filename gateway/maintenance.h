/*
 * maintenance: the main thread's periodic work (Redis's serverCron): each
 * job runs at its own pace from one tick called several times a second.
 *   - every 5 s: answer multipart messages whose missing parts never came;
 *   - every 5 s: alert the supervisor (a modem down too long, a SIM balance
 *     under the threshold, an outbox backing up), each alert once;
 *   - every second: broadcasts (broadcast_tick: the next recipients into the outbox);
 *   - every minute: market-day reminders (broadcast_markets);
 *   - every minute: the case jobs (cases_jobs_run: escalation, digest, idle forms);
 *   - every hour: erase message texts past retention.message_days.
 */
#ifndef HOTLINE_MAINTENANCE_H
#define HOTLINE_MAINTENANCE_H

#include "ctx.h"

void maintenance_tick(struct ctx *c);

/* The retention job on its own (also `hotlinectl purge`): *n texts erased. */
int maintenance_purge(struct ctx *c, int *n);

#endif
