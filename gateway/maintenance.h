/*
 * maintenance: the main thread's periodic work (Redis's serverCron): each
 * job runs at its own pace from one tick called several times a second.
 *   - every 5 s: answer multipart messages whose missing parts never came;
 *   - every minute: case jobs (escalation, digest, idle forms).
 */
#ifndef HOTLINE_MAINTENANCE_H
#define HOTLINE_MAINTENANCE_H

#include "dispatch.h"

void maintenance_tick(struct ctx *c);

#endif
