/*
 * broadcast: texting many contacts at once, with a preview, a second pair
 * of eyes, and the same outbox every other SMS goes through.
 *
 * A broadcast is a template ({name}, {town}, {village}, {office.*} and the
 * menus' values such as {amount.dibao_city}) and an audience resolved into
 * recipient rows when it is created (so what is approved is what is sent).
 * States: draft -> approved -> sending -> done, with paused and cancelled;
 * per recipient: pending, queued, sending, sent, delivered, failed (reason),
 * skipped (opted out, invalid number), cancelled.
 *
 * Sending: broadcast_tick() (the daemon's main thread) moves pending
 * recipients into the outbox a few at a time, each recipient marked queued
 * in the same transaction that adds its outbox row: a crash leaves each
 * either pending or queued, never both, never twice. Only inside
 * broadcast.allowed_hours and outside cases.quiet_hours. The per-modem rate
 * (broadcast.per_modem_per_minute) is kept by the outbox claim, so it is
 * spread over whichever modems are up.
 *
 * Used by hotlinectl (ctl_broadcast.c) and meant for the staff console too.
 */
#ifndef HOTLINE_BROADCAST_H
#define HOTLINE_BROADCAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctx.h"

struct broadcast_new {
	const char *text;      /* the template */
	const char *audience;  /* group:低保户,town:白水镇,village:东关村,phone:13912345678 */
	const char *by;        /* the staff member who writes it */
	int64_t at;            /* not before (0: now) */
	const char *kind;      /* "broadcast" (NULL) or "market" */
	const char *dedup;     /* automatic broadcasts: a key that makes a second one a no-op */
	bool approved;         /* automatic broadcasts: approved by the rules that made them */
};

/*
 * Check the audience and template, create the broadcast as a draft and its
 * recipients (opted-out and invalid numbers skipped with the reason), in
 * one transaction. *id (0 when dedup says it exists). -1 with err for a
 * mistake in what was asked or a database error.
 */
int broadcast_create(struct ctx *c, const struct broadcast_new *n, int64_t *id, char *err, size_t errlen);

/* The office's word for a broadcast's state (draft → 草稿 ...) or a recipient's (queued → 已排队 ...). */
const char *broadcast_status_name(const char *status);

/*
 * The audience: terms of one kind widen it (group:A,group:B is A or B),
 * terms of different kinds narrow it (group:低保户,town:白水镇 is the 低保户 of
 * 白水镇); phone: terms add those numbers whatever the rest says.
 */
struct broadcast_audience;
struct broadcast_audience *broadcast_audience_parse(const char *spec, char *err, size_t errlen);
void broadcast_audience_free(struct broadcast_audience *a);

struct broadcast_preview {
	int recipients;          /* who will get it */
	int skipped_optout, skipped_invalid;
	char *sample[3];         /* rendered for the first three (owned) */
	char *sample_phone[3];   /* masked numbers of those (owned) */
	int nsamples;
	int segments_max;        /* SMS segments of the longest message */
	int segments_total;      /* over every recipient */
	int modems_up;
	int per_minute;          /* broadcast.per_modem_per_minute (0: no limit) */
	int64_t seconds;         /* estimated time to send at that rate over the modems up (0: unknown) */
};
int broadcast_preview(struct ctx *c, int64_t id, int modems_up, struct broadcast_preview *p);
void broadcast_preview_free(struct broadcast_preview *p);

/*
 * Approve a draft. Over broadcast.approval_over recipients only a
 * supervisor who is not its author may; below, any staff member (its author
 * too). -1 with err when not allowed.
 */
int broadcast_approve(struct ctx *c, int64_t id, const char *by, char *err, size_t errlen);
/* Does it go to more than broadcast.approval_over people (a supervisor other than its author approves)? */
bool broadcast_needs_supervisor(struct ctx *c, int64_t id);
/* Pause (messages not yet claimed come back out of the outbox), resume, cancel. */
int broadcast_pause(struct ctx *c, int64_t id, const char *by, char *err, size_t errlen);
int broadcast_resume(struct ctx *c, int64_t id, const char *by, char *err, size_t errlen);
int broadcast_cancel(struct ctx *c, int64_t id, const char *by, char *err, size_t errlen);

/* The render of the template for one contact (caller frees). */
char *broadcast_render(struct ctx *c, const char *tmpl, const char *name, const char *town, const char *village);

/* Is t inside the hours a broadcast may go out? When not, *next gets the next such minute. */
bool broadcast_open_at(const struct config *cfg, int64_t t, int64_t *next);

/*
 * Move recipients of running broadcasts into the outbox (see above);
 * finish those with nothing left. modems_up sizes the batch. *queued gets
 * how many went in. Its own transactions.
 */
int broadcast_tick(struct ctx *c, int modems_up, int *queued);

/*
 * Market-day reminders: for every market (menus' `markets`) that is on
 * tomorrow (the bureau's calendar, lunar rules included), one automatic
 * broadcast (kind "market", approved by the rules) of texts.market_reminder
 * to the contacts of its town in group broadcast.market_group (those who
 * texted 订阅 赶大集, or a group the bureau fills). Once per market and day
 * (a key in the broadcasts table); sent like any broadcast, inside the
 * allowed hours, at the rate, skipping who opted out. *created gets how
 * many were made.
 */
int broadcast_markets(struct ctx *c, int *created);

#endif
