/*
 * ctl: the subcommands of hotlinectl, one function each, so that tests can
 * call them too. Each returns the process exit status (0 ok, 1 failure, 2
 * usage) and prints its own messages.
 */
#ifndef HOTLINE_CTL_H
#define HOTLINE_CTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "store.h"
#include "world.h"

struct ctl {
	const char *config_path;
	struct world *w;  /* loaded on demand by ctl_world() */
	struct store *st; /* opened on demand by ctl_store() */
};

/* Load the config and menus (printing every problem); NULL on error. */
struct world *ctl_world(struct ctl *c);
/* Open the configured database (migrating it); NULL on error (printed). */
struct store *ctl_store(struct ctl *c);
void ctl_done(struct ctl *c);
/*
 * A phone number given on the command line, normalised as the daemon
 * normalises every number (phone.country_code) into out (PHONE_LEN). False,
 * with a message naming what, when arg holds no number at all; a short code or
 * a sender name is kept as such (what the database holds for it).
 */
bool ctl_phone(struct ctl *c, const char *what, const char *arg, char *out, size_t outlen);

int ctl_sim(struct ctl *c, int argc, char **argv);
int ctl_messages(struct ctl *c, int argc, char **argv);
int ctl_menu(struct ctl *c, int argc, char **argv);
int ctl_dummy_sms(struct ctl *c, int argc, char **argv);
int ctl_modem(struct ctl *c, int argc, char **argv);
/* modem scan [DEVICE...] (ctl_scan.c): argv holds the devices only */
int ctl_modem_scan(struct ctl *c, int argc, char **argv);
int ctl_purge(struct ctl *c, int argc, char **argv);
int ctl_cases(struct ctl *c, int argc, char **argv);    /* ctl_cases.c */
int ctl_feedback(struct ctl *c, int argc, char **argv); /* ctl_cases.c */
int ctl_report(struct ctl *c, int argc, char **argv);   /* ctl_cases.c */
int ctl_user(struct ctl *c, int argc, char **argv);     /* ctl_user.c: the console's accounts */
int ctl_audit(struct ctl *c, int argc, char **argv);    /* ctl_user.c: the console's audit log */
int ctl_contacts(struct ctl *c, int argc, char **argv); /* ctl_contacts.c */
int ctl_groups(struct ctl *c, int argc, char **argv);   /* ctl_contacts.c */
int ctl_broadcast(struct ctl *c, int argc, char **argv); /* ctl_broadcast.c */

/* Write s escaped for one TSV field (\t \n \r \\ as two characters). */
void ctl_tsv_field(FILE *f, const char *s, size_t len);
/* Write s as one CSV field (quoted when needed). */
void ctl_csv_field(FILE *f, const char *s, size_t len);
/* The UTF-8 byte order mark, so that Excel and WPS open CSV as UTF-8. */
void ctl_csv_bom(FILE *f);
/*
 * Times for people in the office, in the bureau's zone (config timezone,
 * once ctl_world has loaded it), whatever the machine's zone:
 * "2026-11-28 16:40" ("" for 0), "2026-11-28T16:40:01+08:00", the year,
 * the midnight after t's day, today's midnight.
 */
const char *ctl_when(int64_t t, char *buf, size_t len);
const char *ctl_iso(int64_t t, char *buf, size_t len);
int ctl_year(int64_t t);
int64_t ctl_day_after(int64_t t);
int64_t ctl_today(void);
/* Parse "2026-11-28" (the bureau's midnight) or "2026-11-28 15:00"; -1 when neither. */
long long ctl_parse_date(const char *s);

#endif
