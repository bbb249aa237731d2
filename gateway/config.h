/*
 * config: the daemon's settings, loaded from one libconfig file.
 *
 * Loading builds an immutable struct config; nothing at run time writes to
 * it. One schema (config.c, `keys`) lists every setting with its type,
 * bounds, default and whether a change needs a restart. Unknown settings are
 * errors. Every problem is reported as "file:line: message", all of them in
 * one run. Relative paths resolve against the folder of the config file.
 */
#ifndef HOTLINE_CONFIG_H
#define HOTLINE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "diag.h"
#include "util.h"

/* A daily time window in minutes after midnight; start > end wraps midnight. */
struct time_window {
	int start, end;
	bool set;
};

/*
 * The most channels the `modems` list may hold: a longer list is a config
 * error naming the first one too many. The health and metrics tables, /healthz
 * and the console are sized by it.
 */
#define CONFIG_MAX_MODEMS 16

/* What a channel in the `modems` list is: a libgammu modem, or a link to Kannel's smsbox. */
enum channel_kind { CHANNEL_GAMMU = 0, CHANNEL_KANNEL };

/*
 * One channel of the `modems` list: one schema for both kinds. The gammu keys
 * (model ... balance_pattern) belong to kind "gammu", the Kannel keys
 * (sendsms_url ... check_interval) to kind "kannel"; validate() refuses a key
 * of the other kind.
 */
struct modem_cfg {
	char *name;
	int kind;                          /* enum channel_kind */
	char *model, *connection, *device; /* device resolved when model is dummy */
	char *pin;                         /* never logged */
	char *gammurc;                     /* when set: settings come from this gammurc */
	int section;
	char *own_number;                  /* the SIM's own number: never answered */
	int send_timeout;                  /* seconds: the watchdog's deadline for one send */
	int op_timeout;                    /* seconds: ... and for any other modem operation */
	int poll_interval;                 /* seconds between inbox polls while +CMTI works */
	char *balance_code;                /* USSD code that asks the SIM balance, e.g. "*100#" */
	char *balance_pattern;             /* POSIX ERE; group 1 is the amount */
	/* kind "kannel" */
	char *sendsms_url;                 /* smsbox's sendsms, http://host:port/cgi-bin/sendsms */
	char *sendsms_user, *sendsms_password; /* a sendsms-user group of smsbox; never logged */
	char **numbers;                    /* the numbers (short codes) this link serves; MT from the first */
	size_t nnumbers;
	char *secret;                      /* smsbox calls /kannel/<name>/<secret> (or X-Hotline-Secret) */
	char **allow;                      /* addresses smsbox may call from; [] = any */
	size_t nallow;
	char *dlr_url;                     /* how smsbox reaches hotlined for delivery reports */
	int check_interval;                /* seconds between checks that smsbox answers */
	int senders;                       /* sendsms calls in flight at once (threads) */
	int ack_timeout;                   /* seconds a sent MT waits for the SMSC's ack before it is resent (0: never) */
	int line;                          /* where it is defined, for messages */
};

enum staff_role { STAFF_ROLE_STAFF, STAFF_ROLE_SUPERVISOR };

struct staff_cfg {
	char *name, *phone;
	int role; /* enum staff_role */
	char **areas; /* towns or villages this person covers */
	size_t nareas;
	bool duty;    /* takes requests no area matches */
	int line;
};

struct tz;

struct config {
	char *path, *dir;

	char *timezone;         /* the bureau's zone in the tz database, "Asia/Shanghai" */
	struct tz *tz;          /* loaded from it (tz.h): every civil time goes through it */

	char *db_path;
	char *db_synchronous;   /* "full" | "normal" */
	char *db_group;         /* group that may read the database and logs (0640); "" = none */
	bool allow_root;

	char *phone_country;    /* E.164 country code for numbers written without one: "86" */

	char *menus_dir;
	char *log_level;        /* "debug" | "info" | "warn" | "error" */
	bool log_mask_phones;
	char *log_file;         /* "" = stderr only */

	int session_timeout;    /* seconds */

	int sms_page_segments;
	int multipart_timeout;  /* seconds to wait for a missing part */
	int send_retries;
	int retry_initial;      /* seconds before the first retry; doubles each time */
	int retry_max;          /* cap of the retry delay, seconds */
	int replies_per_minute; /* per phone; 0 = no limit */
	int replies_per_day;
	int repeat_window;      /* seconds: the same text from one phone is answered once */
	int outbox_alert;       /* outbox depth that alerts the supervisor; 0 = never */
	int max_text;           /* bytes of an inbound text kept for matching */
	int poll_interval_ms;   /* idle modem inbox poll */

	bool http_enabled;
	char *http_address;
	int http_port;
	int http_threads;
	char **http_ops_allow;   /* who may read /healthz and /metrics (addresses or address/bits) */
	size_t nhttp_ops_allow;
	int http_per_ip_limit;   /* connections at once from one address not in ussd.allow or http.ops_allow */

	bool console_enabled;   /* the staff web console (http_console.c) */
	char *console_address;
	int console_port;
	bool console_secure_cookies; /* cookies only over HTTPS (behind a TLS proxy) */
	int console_session_idle;    /* seconds */
	int console_login_failures;  /* failures before a lockout */
	int console_lockout_minutes;
	char *console_url;           /* the address people use, for the setup link; "" = http://address:port */

	char *ussd_secret;
	char **ussd_allow;
	size_t nussd_allow;
	int ussd_timeout;
	int ussd_gsm7_limit;
	int ussd_ucs2_limit;
	int ussd_max_screens;
	bool ussd_sms_copy;
	int ussd_max_body;

	char *office_name, *office_address, *office_hours, *office_phone;

	char *case_number_format; /* "year" (2026-0042) | "plain" (42) */
	int escalate_after;       /* working hours before an unaccepted request escalates */
	struct time_window working_hours;
	char *working_days;       /* "1-5": Monday to Friday */
	struct time_window quiet_hours;
	int digest_hour;          /* minutes after midnight; -1 = no digest */
	char *digest_time_text;

	int retention_days;       /* 0 = keep message texts forever */

	bool calls_enabled;
	bool calls_reply_menu;
	bool calls_callback;
	int calls_window;         /* seconds: repeated calls from one number make one request */

	int monitor_interval;     /* seconds between modem health readings; 0 = off */
	double balance_threshold; /* alert when the balance falls below */
	int down_alert_minutes;   /* alert when a modem has been down longer */

	int bcast_per_modem_per_minute;   /* broadcast SMS one modem sends a minute; 0 = no limit */
	int bcast_approval_over;          /* more recipients than this need a supervisor's approval */
	struct time_window bcast_allowed_hours; /* broadcasts go out only inside */
	bool bcast_optout_hint;           /* end every broadcast with texts.broadcast_optout_hint */
	bool bcast_delivery_reports;      /* ask the network for delivery reports (not for replies) */
	char **bcast_subscriptions;       /* kinds a villager may subscribe to: 订阅 赶大集 */
	size_t nbcast_subscriptions;
	char *bcast_market_group;         /* who gets market-day reminders in a market's town ("" = none) */

	struct modem_cfg *modems; /* at most CONFIG_MAX_MODEMS */
	size_t nmodems;
	struct staff_cfg *staff;
	size_t nstaff;
};

/*
 * Load and validate path. On success returns the config (free with
 * config_free). On any error returns NULL; every problem is in d.
 */
struct config *config_load(const char *path, struct diag *d);
void config_free(struct config *c);

/* Settings whose change needs a restart, compared between two configs; each
 * differing one is added to d as a warning. */
void config_restart_changes(const struct config *old, const struct config *neu, struct diag *d);

/* Staff by phone (E.164, as phone_normalise() gives it), or NULL. */
const struct staff_cfg *config_staff_by_phone(const struct config *c, const char *phone);
const struct staff_cfg *config_staff_by_name(const struct config *c, const char *name);
/* The first supervisor, or NULL. */
const struct staff_cfg *config_supervisor(const struct config *c);

/* Minutes after midnight inside the window? */
bool time_window_contains(const struct time_window *w, int minute);

/*
 * Print the schema, one key a line, tab-separated: path (modems[].x, staff[].x
 * for the lists), type, default, bounds or choices, flags (required, restart).
 * scripts/gen-cfg-man builds hotline.cfg(5) from it (tests/tools/config-schema).
 */
void config_print_schema(FILE *f);

#endif
