#include "config.h"

#include <errno.h>
#include <libconfig.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "phone.h"
#include "ussd.h"
#include "utf8.h"
#include "tz.h"

enum cfg_type {
	CT_STR,     /* string */
	CT_PATH,    /* string, resolved against the config file's folder */
	CT_INT,     /* integer within [min, max] */
	CT_BOOL,
	CT_FLOAT,   /* number within [min, max] */
	CT_STRLIST, /* array of strings */
	CT_WINDOW,  /* "HH:MM-HH:MM" */
	CT_HHMM,    /* "HH:MM", stored as minutes (int); "" = -1 */
	CT_CHOICE,  /* string, one of `choices` ("a|b|c") */
};

#define CF_REQUIRED 0x1 /* must be given */
#define CF_RESTART  0x2 /* a change takes effect at restart, not on reload */
#define CF_INDEX    0x4 /* CT_CHOICE stored as the choice's index (an enum), not the string */

struct cfg_key {
	const char *path; /* dotted, relative to the group it belongs to */
	enum cfg_type type;
	size_t off;       /* into struct config, struct modem_cfg or struct staff_cfg */
	size_t count_off; /* CT_STRLIST: where the count goes */
	const char *def;  /* default, as text ("" for none) */
	double min, max;
	const char *choices;
	unsigned flags;
};

#define OFF(f) offsetof(struct config, f)
#define MOFF(f) offsetof(struct modem_cfg, f)
#define SOFF(f) offsetof(struct staff_cfg, f)

/* Every top-level setting. Keep config/README.md and config/hotline.cfg in step. */
static const struct cfg_key keys[] = {
	{ "timezone", CT_STR, OFF(timezone), 0, "Asia/Shanghai", 0, 0, NULL, 0 },
	{ "database.path", CT_PATH, OFF(db_path), 0, "../var/hotline.db", 0, 0, NULL, CF_RESTART },
	{ "database.synchronous", CT_CHOICE, OFF(db_synchronous), 0, "full", 0, 0, "full|normal", CF_RESTART },
	{ "database.group", CT_STR, OFF(db_group), 0, "", 0, 0, NULL, CF_RESTART },
	{ "daemon.allow_root", CT_BOOL, OFF(allow_root), 0, "false", 0, 0, NULL, CF_RESTART },
	{ "menus.dir", CT_PATH, OFF(menus_dir), 0, "../menus", 0, 0, NULL, 0 },
	{ "phone.country_code", CT_STR, OFF(phone_country), 0, PHONE_COUNTRY_DEFAULT, 0, 0, NULL, 0 },
	{ "log.level", CT_CHOICE, OFF(log_level), 0, "info", 0, 0, "debug|info|warn|error", 0 },
	{ "log.mask_phones", CT_BOOL, OFF(log_mask_phones), 0, "true", 0, 0, NULL, 0 },
	{ "log.file", CT_PATH, OFF(log_file), 0, "", 0, 0, NULL, 0 },
	{ "sessions.timeout", CT_INT, OFF(session_timeout), 0, "1800", 30, 7 * 86400, NULL, 0 },
	{ "limits.sms_page_segments", CT_INT, OFF(sms_page_segments), 0, "2", 1, 10, NULL, 0 },
	{ "limits.multipart_timeout", CT_INT, OFF(multipart_timeout), 0, "600", 5, 7 * 86400, NULL, 0 },
	{ "limits.send_retries", CT_INT, OFF(send_retries), 0, "8", 0, 100, NULL, 0 },
	{ "limits.retry_initial", CT_INT, OFF(retry_initial), 0, "30", 1, 86400, NULL, 0 },
	{ "limits.retry_max", CT_INT, OFF(retry_max), 0, "3600", 1, 7 * 86400, NULL, 0 },
	{ "limits.replies_per_minute", CT_INT, OFF(replies_per_minute), 0, "6", 0, 1000, NULL, 0 },
	{ "limits.replies_per_day", CT_INT, OFF(replies_per_day), 0, "200", 0, 100000, NULL, 0 },
	{ "limits.repeat_window", CT_INT, OFF(repeat_window), 0, "600", 0, 86400, NULL, 0 },
	{ "limits.outbox_alert", CT_INT, OFF(outbox_alert), 0, "200", 0, 1000000, NULL, 0 },
	{ "limits.max_text", CT_INT, OFF(max_text), 0, "2000", 70, 100000, NULL, 0 },
	{ "limits.poll_interval_ms", CT_INT, OFF(poll_interval_ms), 0, "500", 10, 60000, NULL, 0 },
	{ "http.enabled", CT_BOOL, OFF(http_enabled), 0, "true", 0, 0, NULL, CF_RESTART },
	{ "http.address", CT_STR, OFF(http_address), 0, "127.0.0.1", 0, 0, NULL, CF_RESTART },
	{ "http.port", CT_INT, OFF(http_port), 0, "8080", 1, 65535, NULL, CF_RESTART },
	{ "http.threads", CT_INT, OFF(http_threads), 0, "1", 1, 64, NULL, CF_RESTART },
	{ "http.ops_allow", CT_STRLIST, OFF(http_ops_allow), OFF(nhttp_ops_allow), "127.0.0.1,::1", 0, 0, NULL, 0 },
	{ "http.per_ip_limit", CT_INT, OFF(http_per_ip_limit), 0, "16", 1, 100000, NULL, 0 },
	{ "console.enabled", CT_BOOL, OFF(console_enabled), 0, "true", 0, 0, NULL, CF_RESTART },
	{ "console.address", CT_STR, OFF(console_address), 0, "127.0.0.1", 0, 0, NULL, CF_RESTART },
	{ "console.port", CT_INT, OFF(console_port), 0, "8081", 1, 65535, NULL, CF_RESTART },
	{ "console.secure_cookies", CT_BOOL, OFF(console_secure_cookies), 0, "false", 0, 0, NULL, 0 },
	{ "console.session_idle", CT_INT, OFF(console_session_idle), 0, "1800", 60, 7 * 86400, NULL, 0 },
	{ "console.login_failures", CT_INT, OFF(console_login_failures), 0, "5", 1, 100, NULL, 0 },
	{ "console.lockout_minutes", CT_INT, OFF(console_lockout_minutes), 0, "15", 1, 1440, NULL, 0 },
	{ "console.url", CT_STR, OFF(console_url), 0, "", 0, 0, NULL, 0 },
	{ "ussd.secret", CT_STR, OFF(ussd_secret), 0, "", 0, 0, NULL, 0 },
	{ "ussd.allow", CT_STRLIST, OFF(ussd_allow), OFF(nussd_allow), "", 0, 0, NULL, 0 },
	{ "ussd.timeout", CT_INT, OFF(ussd_timeout), 0, "180", 10, 3600, NULL, 0 },
	{ "ussd.gsm7_limit", CT_INT, OFF(ussd_gsm7_limit), 0, "182", 40, 182, NULL, 0 },
	{ "ussd.ucs2_limit", CT_INT, OFF(ussd_ucs2_limit), 0, "70", 20, 91, NULL, 0 },
	{ "ussd.max_screens", CT_INT, OFF(ussd_max_screens), 0, "4", 1, 20, NULL, 0 },
	{ "ussd.sms_copy", CT_BOOL, OFF(ussd_sms_copy), 0, "true", 0, 0, NULL, 0 },
	{ "ussd.max_body", CT_INT, OFF(ussd_max_body), 0, "4096", 256, 65536, NULL, 0 },
	{ "office.name", CT_STR, OFF(office_name), 0, "", 0, 0, NULL, CF_REQUIRED },
	{ "office.address", CT_STR, OFF(office_address), 0, "", 0, 0, NULL, 0 },
	{ "office.hours", CT_STR, OFF(office_hours), 0, "", 0, 0, NULL, 0 },
	{ "office.phone", CT_STR, OFF(office_phone), 0, "", 0, 0, NULL, 0 },
	{ "cases.number_format", CT_CHOICE, OFF(case_number_format), 0, "year", 0, 0, "year|plain", 0 },
	{ "cases.escalate_after", CT_INT, OFF(escalate_after), 0, "4", 0, 1000, NULL, 0 },
	{ "cases.working_hours", CT_WINDOW, OFF(working_hours), 0, "08:30-17:30", 0, 0, NULL, 0 },
	{ "cases.working_days", CT_STR, OFF(working_days), 0, "1-5", 0, 0, NULL, 0 },
	{ "cases.quiet_hours", CT_WINDOW, OFF(quiet_hours), 0, "21:00-08:00", 0, 0, NULL, 0 },
	{ "cases.digest_time", CT_HHMM, OFF(digest_hour), 0, "08:00", 0, 0, NULL, 0 },
	{ "retention.message_days", CT_INT, OFF(retention_days), 0, "0", 0, 36500, NULL, 0 },
	{ "calls.enabled", CT_BOOL, OFF(calls_enabled), 0, "true", 0, 0, NULL, 0 },
	{ "calls.reply_menu", CT_BOOL, OFF(calls_reply_menu), 0, "true", 0, 0, NULL, 0 },
	{ "calls.callback", CT_BOOL, OFF(calls_callback), 0, "true", 0, 0, NULL, 0 },
	{ "calls.window", CT_INT, OFF(calls_window), 0, "3600", 0, 7 * 86400, NULL, 0 },
	{ "monitor.interval", CT_INT, OFF(monitor_interval), 0, "300", 0, 86400, NULL, 0 },
	{ "monitor.balance_threshold", CT_FLOAT, OFF(balance_threshold), 0, "10", 0, 1e9, NULL, 0 },
	{ "monitor.down_alert_minutes", CT_INT, OFF(down_alert_minutes), 0, "30", 0, 100000, NULL, 0 },
	{ "broadcast.per_modem_per_minute", CT_INT, OFF(bcast_per_modem_per_minute), 0, "6", 0, 10000, NULL, 0 },
	{ "broadcast.approval_over", CT_INT, OFF(bcast_approval_over), 0, "20", 0, 10000000, NULL, 0 },
	{ "broadcast.allowed_hours", CT_WINDOW, OFF(bcast_allowed_hours), 0, "09:00-19:00", 0, 0, NULL, 0 },
	{ "broadcast.optout_hint", CT_BOOL, OFF(bcast_optout_hint), 0, "true", 0, 0, NULL, 0 },
	{ "broadcast.delivery_reports", CT_BOOL, OFF(bcast_delivery_reports), 0, "true", 0, 0, NULL, 0 },
	{ "broadcast.subscriptions", CT_STRLIST, OFF(bcast_subscriptions), OFF(nbcast_subscriptions), "", 0, 0, NULL, 0 },
	{ "broadcast.market_group", CT_STR, OFF(bcast_market_group), 0, "赶大集", 0, 0, NULL, 0 },
};

/* One schema for both kinds of channel; validate() keeps each key to its kind. */
static const struct cfg_key modem_keys[] = {
	{ "name", CT_STR, MOFF(name), 0, "", 0, 0, NULL, CF_REQUIRED },
	{ "kind", CT_CHOICE, MOFF(kind), 0, "gammu", 0, 0, "gammu|kannel", CF_INDEX },
	{ "model", CT_STR, MOFF(model), 0, "", 0, 0, NULL, 0 },
	{ "connection", CT_STR, MOFF(connection), 0, "at", 0, 0, NULL, 0 },
	{ "device", CT_STR, MOFF(device), 0, "", 0, 0, NULL, 0 },
	{ "pin", CT_STR, MOFF(pin), 0, "", 0, 0, NULL, 0 },
	{ "gammurc", CT_PATH, MOFF(gammurc), 0, "", 0, 0, NULL, 0 },
	{ "section", CT_INT, MOFF(section), 0, "0", 0, 99, NULL, 0 },
	{ "own_number", CT_STR, MOFF(own_number), 0, "", 0, 0, NULL, 0 },
	{ "send_timeout", CT_INT, MOFF(send_timeout), 0, "60", 1, 600, NULL, 0 },
	{ "op_timeout", CT_INT, MOFF(op_timeout), 0, "10", 1, 600, NULL, 0 },
	{ "poll_interval", CT_INT, MOFF(poll_interval), 0, "30", 1, 3600, NULL, 0 },
	{ "balance_code", CT_STR, MOFF(balance_code), 0, "", 0, 0, NULL, 0 },
	{ "balance_pattern", CT_STR, MOFF(balance_pattern), 0, "", 0, 0, NULL, 0 },
	{ "sendsms_url", CT_STR, MOFF(sendsms_url), 0, "", 0, 0, NULL, 0 },
	{ "sendsms_user", CT_STR, MOFF(sendsms_user), 0, "", 0, 0, NULL, 0 },
	{ "sendsms_password", CT_STR, MOFF(sendsms_password), 0, "", 0, 0, NULL, 0 },
	{ "numbers", CT_STRLIST, MOFF(numbers), MOFF(nnumbers), "", 0, 0, NULL, 0 },
	{ "secret", CT_STR, MOFF(secret), 0, "", 0, 0, NULL, 0 },
	{ "allow", CT_STRLIST, MOFF(allow), MOFF(nallow), "", 0, 0, NULL, 0 },
	{ "dlr_url", CT_STR, MOFF(dlr_url), 0, "", 0, 0, NULL, 0 },
	{ "check_interval", CT_INT, MOFF(check_interval), 0, "10", 1, 3600, NULL, 0 },
	{ "senders", CT_INT, MOFF(senders), 0, "1", 1, 32, NULL, 0 },
	{ "ack_timeout", CT_INT, MOFF(ack_timeout), 0, "300", 0, 86400, NULL, 0 },
};

static const struct cfg_key staff_keys[] = {
	{ "name", CT_STR, SOFF(name), 0, "", 0, 0, NULL, CF_REQUIRED },
	{ "phone", CT_STR, SOFF(phone), 0, "", 0, 0, NULL, CF_REQUIRED },
	{ "role", CT_CHOICE, SOFF(role), 0, "staff", 0, 0, "staff|supervisor", CF_INDEX },
	{ "areas", CT_STRLIST, SOFF(areas), SOFF(nareas), "", 0, 0, NULL, 0 },
	{ "duty", CT_BOOL, SOFF(duty), 0, "false", 0, 0, NULL, 0 },
};

struct loader {
	const char *file; /* for messages */
	const char *text; /* the file's text, for what libconfig does not say (the width of an integer) */
	size_t *line_at;  /* offsets of each line's start in text, line_at[0] for line 1 */
	size_t nlines;
	const char *dir;
	struct diag *d;
	int group_line;   /* the list element being read (modems[i], staff[i]), 0 at top level */
};

static int line_of(const config_setting_t *s)
{
	return s ? (int)config_setting_source_line(s) : 0;
}

static bool parse_hhmm(const char *s, int *minutes)
{
	int h, m;
	char extra;

	if (sscanf(s, "%d:%d%c", &h, &m, &extra) != 2 || h < 0 || h > 24 || m < 0 || m > 59 ||
	    (h == 24 && m != 0))
		return false;
	*minutes = h * 60 + m;
	return true;
}

static bool parse_window(const char *s, struct time_window *w)
{
	char a[16], b[16], extra;

	w->set = false;
	if (*s == '\0')
		return true; /* no window */
	if (sscanf(s, "%15[0-9:]-%15[0-9:]%c", a, b, &extra) != 2)
		return false;
	if (!parse_hhmm(a, &w->start) || !parse_hhmm(b, &w->end))
		return false;
	w->set = true;
	return true;
}

static bool choice_index(const char *choices, const char *v, int *idx)
{
	size_t vl = strlen(v);
	int i = 0;

	for (const char *p = choices; *p;) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);
		if (n == vl && strncmp(p, v, n) == 0) {
			*idx = i;
			return true;
		}
		i++;
		if (!bar)
			break;
		p = bar + 1;
	}
	return false;
}

static const char *type_name(enum cfg_type t)
{
	switch (t) {
	case CT_STR:
	case CT_PATH:
	case CT_CHOICE:
		return "a string";
	case CT_INT:
		return "an integer";
	case CT_BOOL:
		return "true or false";
	case CT_FLOAT:
		return "a number";
	case CT_STRLIST:
		return "a list of strings, [\"a\", \"b\"]";
	case CT_WINDOW:
		return "a time window, \"HH:MM-HH:MM\"";
	case CT_HHMM:
		return "a time, \"HH:MM\"";
	}
	return "?";
}

/*
 * libconfig 1.5 keeps an integer written without L in 32 bits and silently
 * drops the rest (port = 4294985376 is 18080): see the number as written on
 * s's line (cfg_int_written_wider).
 */
static bool written_wider(const struct loader *L, const config_setting_t *s, long long kept, long long *wide,
    bool *overflow)
{
	const char *name = config_setting_name(s), *src = config_setting_source_file(s);
	int line = line_of(s);

	*overflow = false;
	if (L->text == NULL || name == NULL || line < 1 || (size_t)line > L->nlines ||
	    (src != NULL && strcmp(src, L->file) != 0))
		return false;
	return cfg_int_written_wider(L->text + L->line_at[line - 1], name, kept, wide, overflow);
}

/* Store k's value (from s, or the default when s is NULL) into base. */
static void apply_key(struct loader *L, const struct cfg_key *k, const config_setting_t *s,
    const char *where, char *base)
{
	void *dst = base + k->off;
	int line = line_of(s);
	const char *str = k->def;
	long long iv = 0;
	double fv = 0;

	if (s == NULL && (k->flags & CF_REQUIRED))
		diag_error(L->d, L->file, L->group_line, "'%s' is required", where);
	if (s != NULL) {
		int t = config_setting_type(s);
		bool ok = true;
		switch (k->type) {
		case CT_STR:
		case CT_PATH:
		case CT_CHOICE:
		case CT_WINDOW:
		case CT_HHMM:
			ok = t == CONFIG_TYPE_STRING;
			if (ok)
				str = config_setting_get_string(s);
			break;
		case CT_INT:
			ok = t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64;
			if (ok)
				iv = config_setting_get_int64(s);
			if (ok && t == CONFIG_TYPE_INT) {
				bool overflow;
				long long wide;
				if (written_wider(L, s, iv, &wide, &overflow)) {
					if (overflow)
						diag_error(L->d, L->file, line, "'%s' is too large a number; it must be "
						    "between %.0f and %.0f", where, k->min, k->max);
					else
						diag_error(L->d, L->file, line, "'%s' is %lld; it must be between %.0f "
						    "and %.0f", where, wide, k->min, k->max);
					s = NULL; /* reported: the default stands in */
				}
			}
			break;
		case CT_FLOAT:
			ok = t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64 || t == CONFIG_TYPE_FLOAT;
			if (ok)
				fv = t == CONFIG_TYPE_FLOAT ? config_setting_get_float(s)
							    : (double)config_setting_get_int64(s);
			break;
		case CT_BOOL:
			ok = t == CONFIG_TYPE_BOOL;
			break;
		case CT_STRLIST:
			ok = t == CONFIG_TYPE_ARRAY || t == CONFIG_TYPE_LIST;
			for (int i = 0; ok && i < config_setting_length(s); i++)
				ok = config_setting_type(config_setting_get_elem(s, (unsigned)i)) ==
				    CONFIG_TYPE_STRING;
			break;
		}
		if (!ok) {
			diag_error(L->d, L->file, line, "'%s' must be %s", where, type_name(k->type));
			s = NULL;
			str = k->def;
		}
	}

	switch (k->type) {
	case CT_STR:
		*(char **)dst = xstrdup(str);
		break;
	case CT_PATH:
		*(char **)dst = *str ? path_resolve(L->dir, str) : xstrdup("");
		break;
	case CT_CHOICE: {
		int idx = 0;
		if (!choice_index(k->choices, str, &idx)) {
			diag_error(L->d, L->file, line, "'%s' is \"%s\"; it must be one of %s", where, str,
			    k->choices);
			choice_index(k->choices, k->def, &idx);
			str = k->def;
		}
		if (k->flags & CF_INDEX)
			*(int *)dst = idx;
		else
			*(char **)dst = xstrdup(str);
		break;
	}
	case CT_INT:
		if (s == NULL)
			iv = strtoll(k->def, NULL, 10);
		if (iv < (long long)k->min || iv > (long long)k->max) {
			diag_error(L->d, L->file, line, "'%s' is %lld; it must be between %.0f and %.0f", where,
			    iv, k->min, k->max);
			iv = strtoll(k->def, NULL, 10);
		}
		*(int *)dst = (int)iv;
		break;
	case CT_FLOAT:
		if (s == NULL)
			fv = strtod(k->def, NULL);
		if (fv < k->min || fv > k->max) {
			diag_error(L->d, L->file, line, "'%s' is %g; it must be between %g and %g", where, fv,
			    k->min, k->max);
			fv = strtod(k->def, NULL);
		}
		*(double *)dst = fv;
		break;
	case CT_BOOL:
		*(bool *)dst = s ? config_setting_get_bool(s) != 0 : strcmp(k->def, "true") == 0;
		break;
	case CT_STRLIST: {
		int n = s ? config_setting_length(s) : 0;
		char **v;
		if (s == NULL && *k->def) {
			/* the default: comma-separated */
			n = 1;
			for (const char *p = k->def; *p; p++)
				n += *p == ',';
			v = xcalloc((size_t)n + 1, sizeof(char *));
			const char *p = k->def;
			for (int i = 0; i < n; i++) {
				size_t len = strcspn(p, ",");
				v[i] = xstrndup(p, len);
				p += len + (p[len] == ',');
			}
		} else {
			v = xcalloc((size_t)n + 1, sizeof(char *));
			for (int i = 0; i < n; i++)
				v[i] = xstrdup(config_setting_get_string_elem(s, i));
		}
		*(char ***)dst = v;
		*(size_t *)(base + k->count_off) = (size_t)n;
		break;
	}
	case CT_WINDOW:
		if (!parse_window(str, (struct time_window *)dst)) {
			diag_error(L->d, L->file, line, "'%s' is \"%s\"; write it as \"HH:MM-HH:MM\"", where, str);
			parse_window(k->def, (struct time_window *)dst);
		}
		break;
	case CT_HHMM: {
		int m = -1;
		if (*str && !parse_hhmm(str, &m)) {
			diag_error(L->d, L->file, line, "'%s' is \"%s\"; write it as \"HH:MM\" or \"\"", where, str);
			m = -1;
			if (*k->def)
				parse_hhmm(k->def, &m);
		}
		*(int *)dst = m;
		break;
	}
	}
}

static const struct cfg_key *find_key(const struct cfg_key *tab, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(tab[i].path, path) == 0)
			return &tab[i];
	return NULL;
}

static bool is_group_prefix(const struct cfg_key *tab, size_t n, const char *path)
{
	size_t len = strlen(path);

	for (size_t i = 0; i < n; i++)
		if (strncmp(tab[i].path, path, len) == 0 && tab[i].path[len] == '.')
			return true;
	return false;
}

/* Report every setting under group g (path prefix `prefix`) that the schema does not know. */
static void check_unknown(struct loader *L, const config_setting_t *g, const char *prefix,
    const struct cfg_key *tab, size_t n, const char *what)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(s);
		char path[256];

		if (name == NULL)
			continue;
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", name);
		if (strcmp(what, "") == 0 && (strcmp(path, "modems") == 0 || strcmp(path, "staff") == 0))
			continue; /* lists of groups, checked on their own */
		if (find_key(tab, n, path))
			continue;
		if (config_setting_is_group(s) && is_group_prefix(tab, n, path)) {
			check_unknown(L, s, path, tab, n, what);
			continue;
		}
		diag_error(L->d, L->file, line_of(s), "unknown setting '%s%s%s'", what, *what ? "." : "", path);
	}
}

static void load_table(struct loader *L, const config_setting_t *root, const struct cfg_key *tab,
    size_t n, char *base, const char *what)
{
	for (size_t i = 0; i < n; i++) {
		/* root is NULL for a list element that is not a group: defaults only */
		const config_setting_t *s = root ? config_setting_lookup((config_setting_t *)root, tab[i].path) : NULL;
		char where[256];

		if (*what)
			snprintf(where, sizeof(where), "%s.%s", what, tab[i].path);
		else
			snprintf(where, sizeof(where), "%s", tab[i].path);
		apply_key(L, &tab[i], s, where, base);
	}
}

static void load_list(struct loader *L, const config_setting_t *root, const char *name,
    const struct cfg_key *tab, size_t ntab, size_t elemsize, size_t line_off, void **out, size_t *nout)
{
	const config_setting_t *list = config_setting_get_member(root, name);
	int n;

	*out = NULL;
	*nout = 0;
	if (list == NULL)
		return;
	if (!config_setting_is_list(list) && !config_setting_is_array(list)) {
		diag_error(L->d, L->file, line_of(list), "'%s' must be a list of groups: ( { ... }, { ... } )", name);
		return;
	}
	n = config_setting_length(list);
	*out = xcalloc((size_t)n + 1, elemsize);
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
		char *base = (char *)*out + (size_t)i * elemsize;
		char what[64];

		snprintf(what, sizeof(what), "%s[%d]", name, i);
		if (!config_setting_is_group(g)) {
			diag_error(L->d, L->file, line_of(g), "'%s' must be a group { ... }", what);
			load_table(L, NULL, tab, ntab, base, what);
			continue;
		}
		check_unknown(L, g, "", tab, ntab, what);
		L->group_line = line_of(g);
		load_table(L, g, tab, ntab, base, what);
		L->group_line = 0;
		*(int *)(base + line_off) = line_of(g);
	}
	*nout = (size_t)n;
}

static void free_strlist(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void free_table(const struct cfg_key *tab, size_t n, char *base)
{
	for (size_t i = 0; i < n; i++) {
		const struct cfg_key *k = &tab[i];
		switch (k->type) {
		case CT_STR:
		case CT_PATH:
			free(*(char **)(base + k->off));
			break;
		case CT_CHOICE:
			if (!(k->flags & CF_INDEX))
				free(*(char **)(base + k->off));
			break;
		case CT_STRLIST:
			free_strlist(*(char ***)(base + k->off), *(size_t *)(base + k->count_off));
			break;
		default:
			break;
		}
	}
}

void config_free(struct config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nmodems; i++)
		free_table(modem_keys, ARRAY_LEN(modem_keys), (char *)&c->modems[i]);
	free(c->modems);
	for (size_t i = 0; i < c->nstaff; i++)
		free_table(staff_keys, ARRAY_LEN(staff_keys), (char *)&c->staff[i]);
	free(c->staff);
	free_table(keys, ARRAY_LEN(keys), (char *)c);
	tz_free(c->tz);
	free(c->path);
	free(c->dir);
	free(c);
}

static bool name_ok(const char *s)
{
	if (*s == '\0' || strlen(s) > 32)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
			*s == '-' || *s == '_'))
			return false;
	return true;
}

/*
 * Replace *number by its E.164 form (the edge where the config's numbers
 * enter); what it is comes back. Unchanged when it is no person's number, for
 * the message that follows.
 */
static enum phone_kind normalise_number(const struct config *c, char **number)
{
	char e164[PHONE_LEN];
	enum phone_kind k;

	k = phone_normalise(*number, c->phone_country, e164, sizeof(e164));
	if (k == PHONE_E164) {
		free(*number);
		*number = xstrdup(e164);
	}
	return k;
}

/* A Kannel link: what smsbox needs from hotlined and hotlined from smsbox. */
static void validate_kannel(struct loader *L, const struct config *c, struct modem_cfg *m)
{
	const char *gammu = *m->model ? "model" : strcmp(m->connection, "at") != 0 ? "connection" : *m->device ? "device"
	    : *m->pin ? "pin" : *m->gammurc ? "gammurc" : *m->balance_code ? "balance_code"
	    : *m->balance_pattern ? "balance_pattern" : NULL;

	if (gammu)
		diag_error(L->d, L->file, m->line, "modem \"%s\": '%s' is for a gammu modem; this one is kind = \"kannel\"",
		    m->name, gammu);
	if (!str_startswith(m->sendsms_url, "http://") && !str_startswith(m->sendsms_url, "https://"))
		diag_error(L->d, L->file, m->line, "modem \"%s\": kind = \"kannel\" needs sendsms_url, smsbox's "
		    "http://host:port/cgi-bin/sendsms", m->name);
	if (!*m->sendsms_user)
		diag_error(L->d, L->file, m->line, "modem \"%s\": kind = \"kannel\" needs sendsms_user (a sendsms-user of smsbox)",
		    m->name);
	if (strlen(m->secret) < 8)
		diag_error(L->d, L->file, m->line, "modem \"%s\": kind = \"kannel\" needs a secret of at least 8 characters "
		    "(smsbox calls /kannel/%s/<secret>)", m->name, m->name);
	for (const char *p = m->secret; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
			*p == '_' || *p == '.' || *p == '~')) {
			diag_error(L->d, L->file, m->line, "modem \"%s\": the secret may hold letters, digits and - _ . ~ only "
			    "(it goes into a URL)", m->name);
			break;
		}
	if (m->nnumbers == 0)
		diag_error(L->d, L->file, m->line, "modem \"%s\": kind = \"kannel\" needs numbers, the numbers it serves",
		    m->name);
	if (!c->http_enabled)
		diag_error(L->d, L->file, m->line, "modem \"%s\": kind = \"kannel\" needs http.enabled: smsbox calls hotlined",
		    m->name);
	/* the numbers it serves, as the edge writes them (a short code stays as it is) */
	for (size_t i = 0; i < m->nnumbers; i++) {
		char norm[PHONE_LEN];
		if (phone_normalise(m->numbers[i], c->phone_country, norm, sizeof(norm)) == PHONE_NONE) {
			diag_error(L->d, L->file, m->line, "modem \"%s\": numbers[%zu] is empty", m->name, i);
			continue;
		}
		free(m->numbers[i]);
		m->numbers[i] = xstrdup(norm);
	}
	if (*m->dlr_url && !str_startswith(m->dlr_url, "http://") && !str_startswith(m->dlr_url, "https://"))
		diag_error(L->d, L->file, m->line, "modem \"%s\": dlr_url must be an http:// URL", m->name);
}

struct by_field {
	const char *key;
	size_t index;
};

static int cmp_by_field(const void *a, const void *b)
{
	const struct by_field *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : (x->index > y->index) - (x->index < y->index);
}

/*
 * For each staff entry, the index of the first entry whose string field at
 * off is the same (itself when none before; "" never matches): a sort, not
 * every pair, so that 60,000 entries load in a blink.
 */
static void first_of_each(const struct staff_cfg *staff, size_t n, size_t off, size_t *first)
{
	struct by_field *v = xcalloc(n + 1, sizeof(*v));

	for (size_t i = 0; i < n; i++) {
		v[i].key = *(char *const *)((const char *)&staff[i] + off);
		v[i].index = i;
		first[i] = i;
	}
	qsort(v, n, sizeof(*v), cmp_by_field);
	for (size_t i = 1; i < n; i++)
		if (*v[i].key && strcmp(v[i].key, v[i - 1].key) == 0)
			first[v[i].index] = first[v[i - 1].index];
	free(v);
}

/* Meaning, beyond each value on its own. */
static void validate(struct loader *L, struct config *c)
{
	if (!phone_country_ok(c->phone_country))
		diag_error(L->d, L->file, 0, "phone.country_code is \"%s\"; write the country's calling code "
		    "without + or 00 (\"86\" for China)", c->phone_country);
	if (c->nmodems == 0)
		diag_error(L->d, L->file, 0, "'modems' lists no modem; give at least one (model = \"dummy\" for a test phone)");
	if (c->nmodems > CONFIG_MAX_MODEMS)
		diag_error(L->d, L->file, c->modems[CONFIG_MAX_MODEMS].line,
		    "'modems' lists %zu channels; at most %d are tracked (this is the %dth)",
		    c->nmodems, CONFIG_MAX_MODEMS, CONFIG_MAX_MODEMS + 1);
	for (size_t i = 0; i < c->nmodems; i++) {
		struct modem_cfg *m = &c->modems[i];
		if (*m->name && !name_ok(m->name))
			diag_error(L->d, L->file, m->line, "modem name \"%s\": use letters, digits, - and _ (at most 32)", m->name);
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->modems[j].name, m->name) == 0)
				diag_error(L->d, L->file, m->line, "modem name \"%s\" is used twice (also on line %d)",
				    m->name, c->modems[j].line);
		if (m->kind == CHANNEL_KANNEL) {
			validate_kannel(L, c, m);
			continue;
		}
		{
			const char *other = *m->sendsms_url ? "sendsms_url" : *m->sendsms_user ? "sendsms_user"
			    : *m->sendsms_password ? "sendsms_password" : m->nnumbers ? "numbers" : *m->secret ? "secret"
			    : m->nallow ? "allow" : *m->dlr_url ? "dlr_url" : NULL;
			if (other)
				diag_error(L->d, L->file, m->line, "modem \"%s\": '%s' is for kind = \"kannel\"; this one is a gammu modem",
				    m->name, other);
		}
		if (*m->gammurc && (*m->device || *m->model))
			diag_error(L->d, L->file, m->line, "modem \"%s\": give either gammurc (and section) or device/model, not both", m->name);
		if (!*m->gammurc && !*m->device)
			diag_error(L->d, L->file, m->line, "modem \"%s\": needs a device (or a gammurc)", m->name);
		if (*m->own_number && normalise_number(c, &m->own_number) != PHONE_E164)
			diag_error(L->d, L->file, m->line, "modem \"%s\": own_number \"%s\" is not a phone number", m->name, m->own_number);
		if (*m->balance_code && !*m->balance_pattern)
			diag_error(L->d, L->file, m->line, "modem \"%s\": balance_code needs a balance_pattern", m->name);
		if (strcmp(m->model, "dummy") == 0 && *m->device) {
			char *abs = path_resolve(L->dir, m->device);
			free(m->device);
			m->device = abs;
		}
	}
	size_t supervisors = 0, duty = 0;
	size_t *same_phone = xcalloc(c->nstaff + 1, sizeof(size_t)), *same_name = xcalloc(c->nstaff + 1, sizeof(size_t));
	for (size_t i = 0; i < c->nstaff; i++)
		if (*c->staff[i].phone)
			normalise_number(c, &c->staff[i].phone);
	first_of_each(c->staff, c->nstaff, SOFF(phone), same_phone);
	first_of_each(c->staff, c->nstaff, SOFF(name), same_name);
	for (size_t i = 0; i < c->nstaff; i++) {
		struct staff_cfg *s = &c->staff[i];
		if (*s->phone && !phone_is_ordinary(s->phone))
			diag_error(L->d, L->file, s->line, "staff \"%s\": phone \"%s\" is not a phone number", s->name, s->phone);
		if (same_phone[i] != i) {
			const struct staff_cfg *o = &c->staff[same_phone[i]];
			diag_error(L->d, L->file, s->line, "staff \"%s\": phone is also %s's (line %d)", s->name, o->name,
			    o->line);
		}
		if (same_name[i] != i)
			diag_error(L->d, L->file, s->line, "staff name \"%s\" is used twice", s->name);
		supervisors += s->role == STAFF_ROLE_SUPERVISOR;
		duty += s->duty;
	}
	free(same_phone);
	free(same_name);
	if (c->nstaff > 0 && duty == 0)
		diag_warn(L->d, L->file, 0, "no staff member has duty = true: requests from an area nobody covers go to the supervisor");
	if (c->nstaff > 0 && supervisors == 0)
		diag_warn(L->d, L->file, 0, "no staff member has role = \"supervisor\": escalations and alerts have nobody to go to");
	if (c->retry_initial > c->retry_max)
		diag_error(L->d, L->file, 0, "limits.retry_initial (%d) is larger than limits.retry_max (%d)", c->retry_initial, c->retry_max);
	if (!c->working_hours.set)
		diag_error(L->d, L->file, 0, "cases.working_hours must be set");
	{
		int a, b;
		char extra;
		if (sscanf(c->working_days, "%d-%d%c", &a, &b, &extra) != 2 || a < 1 || b > 7 || a > b)
			diag_error(L->d, L->file, 0, "cases.working_days is \"%s\"; write it as \"1-5\" (1 = Monday)", c->working_days);
	}
}

/* An ussd.allow (or http.ops_allow) entry that is no address (or address/bits) would match nobody: an error at its line. */
static void check_allow_list(struct loader *L, const config_setting_t *root, const char *path, char *const *v,
    size_t n)
{
	const config_setting_t *list = config_setting_lookup((config_setting_t *)root, path);

	for (size_t i = 0; i < n; i++) {
		const config_setting_t *e = list ? config_setting_get_elem(list, (unsigned)i) : NULL;
		int line = line_of(e) ? line_of(e) : line_of(list);
		if (!ussd_allow_entry_ok(v[i]))
			diag_error(L->d, L->file, line, "%s entry \"%s\" is not an address or address/bits "
			    "(\"10.0.0.5\", \"10.0.0.0/24\", \"2001:db8::/32\")", path, v[i]);
	}
}

static void check_ussd_allow(struct loader *L, const config_setting_t *root, const struct config *c)
{
	check_allow_list(L, root, "ussd.allow", c->ussd_allow, c->nussd_allow);
	check_allow_list(L, root, "http.ops_allow", c->http_ops_allow, c->nhttp_ops_allow);
}

struct config *config_load(const char *path, struct diag *d)
{
	config_t cf;
	struct config *c = xcalloc(1, sizeof(*c));
	struct loader L;
	size_t errors_before = d->errors;

	char err[160];
	size_t len = 0;
	char *text;

	c->path = xstrdup(path);
	c->dir = path_dirname(path);
	memset(&L, 0, sizeof(L));
	L.file = path;
	L.dir = c->dir;
	L.d = d;

	/*
	 * Read whole, then parsed from memory: libconfig's scanner, fed from a
	 * file, scans a long value again at each refill of its buffer (a 3 MB
	 * string took seconds); from one buffer it is read once.
	 */
	text = file_read_regular(path, &len, err, sizeof(err));
	if (text == NULL) {
		diag_error(d, path, 0, "cannot read the file: %s", err);
		config_free(c);
		return NULL;
	}
	L.text = text;
	for (size_t pos = 0, line = 1; pos < len;) { /* office.* go into SMS texts: all of it must be UTF-8 */
		size_t at = pos;
		uint32_t cp = utf8_next(text, len, &pos);
		if (cp == '\n')
			line++;
		if ((cp == UTF8_REPLACEMENT && pos - at == 1) || cp == 0) {
			diag_error(d, path, (int)line, cp ? "not valid UTF-8 (byte 0x%02X): save the file as UTF-8"
			    : "a NUL byte (0x%02X): the config is UTF-8 text", (unsigned char)text[at]);
			free(text);
			config_free(c);
			return NULL;
		}
	}
	for (size_t i = 0; i < len; i++)
		L.nlines += text[i] == '\n';
	L.line_at = xmalloc((L.nlines + 1) * sizeof(size_t));
	L.nlines = 0;
	L.line_at[L.nlines++] = 0;
	for (size_t i = 0; i < len; i++)
		if (text[i] == '\n')
			L.line_at[L.nlines++] = i + 1;
	config_init(&cf);
	if (config_read_string(&cf, text) != CONFIG_TRUE) {
		diag_error(d, config_error_file(&cf) ? config_error_file(&cf) : path, config_error_line(&cf), "%s",
		    config_error_text(&cf));
		config_destroy(&cf);
		free(L.line_at);
		free(text);
		config_free(c);
		return NULL;
	}
	const config_setting_t *root = config_root_setting(&cf);
	check_unknown(&L, root, "", keys, ARRAY_LEN(keys), "");
	load_table(&L, root, keys, ARRAY_LEN(keys), (char *)c, "");
	load_list(&L, root, "modems", modem_keys, ARRAY_LEN(modem_keys), sizeof(struct modem_cfg),
	    MOFF(line), (void **)&c->modems, &c->nmodems);
	load_list(&L, root, "staff", staff_keys, ARRAY_LEN(staff_keys), sizeof(struct staff_cfg),
	    SOFF(line), (void **)&c->staff, &c->nstaff);
	validate(&L, c);
	check_ussd_allow(&L, root, c);
	if (c->timezone) {
		/* the bureau's clock: quiet and working hours, digests, case years, times shown to people */
		const config_setting_t *tzs = config_setting_get_member(root, "timezone");
		char tzerr[300];
		c->tz = tz_load(c->timezone, tzerr, sizeof(tzerr));
		if (c->tz == NULL)
			diag_error(d, path, tzs ? config_setting_source_line(tzs) : 0, "timezone: %s", tzerr);
	}
	config_destroy(&cf);
	free(L.line_at);
	free(text);
	if (d->errors > errors_before) {
		config_free(c);
		return NULL;
	}
	return c;
}

void config_restart_changes(const struct config *old, const struct config *neu, struct diag *d)
{
	for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
		const struct cfg_key *k = &keys[i];
		bool differ = false;
		if (!(k->flags & CF_RESTART))
			continue;
		switch (k->type) {
		case CT_STR:
		case CT_PATH:
		case CT_CHOICE:
			differ = strcmp(*(char **)((char *)old + k->off), *(char **)((char *)neu + k->off)) != 0;
			break;
		case CT_INT:
		case CT_HHMM:
			differ = *(int *)((char *)old + k->off) != *(int *)((char *)neu + k->off);
			break;
		case CT_BOOL:
			differ = *(bool *)((char *)old + k->off) != *(bool *)((char *)neu + k->off);
			break;
		default:
			break;
		}
		if (differ)
			diag_warn(d, neu->path, 0, "'%s' changed: that takes effect at the next restart", k->path);
	}
	bool modems_differ = old->nmodems != neu->nmodems;
	for (size_t i = 0; !modems_differ && i < old->nmodems; i++) {
		const struct modem_cfg *a = &old->modems[i], *b = &neu->modems[i];
		modems_differ = strcmp(a->name, b->name) || strcmp(a->device, b->device) ||
		    strcmp(a->model, b->model) || strcmp(a->connection, b->connection) ||
		    strcmp(a->gammurc, b->gammurc) || a->section != b->section || strcmp(a->pin, b->pin) ||
		    a->kind != b->kind || strcmp(a->sendsms_url, b->sendsms_url);
	}
	if (modems_differ)
		diag_warn(d, neu->path, 0, "'modems' changed: the modem connections change at the next restart");
}

const struct staff_cfg *config_staff_by_phone(const struct config *c, const char *phone)
{
	for (size_t i = 0; i < c->nstaff; i++)
		if (*phone && strcmp(c->staff[i].phone, phone) == 0)
			return &c->staff[i];
	return NULL;
}

const struct staff_cfg *config_staff_by_name(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->nstaff; i++)
		if (strcmp(c->staff[i].name, name) == 0)
			return &c->staff[i];
	return NULL;
}

const struct staff_cfg *config_supervisor(const struct config *c)
{
	for (size_t i = 0; i < c->nstaff; i++)
		if (c->staff[i].role == STAFF_ROLE_SUPERVISOR)
			return &c->staff[i];
	return NULL;
}

bool time_window_contains(const struct time_window *w, int minute)
{
	if (!w->set)
		return false;
	if (w->start <= w->end)
		return minute >= w->start && minute < w->end;
	return minute >= w->start || minute < w->end; /* wraps midnight */
}

static const char *schema_type(enum cfg_type t)
{
	static const char *const names[] = { "string", "path", "integer", "bool", "number", "strings", "window",
		"hhmm", "choice" };

	return names[t];
}

static void print_table(FILE *f, const struct cfg_key *tab, size_t n, const char *prefix)
{
	for (size_t i = 0; i < n; i++) {
		const struct cfg_key *k = &tab[i];
		fprintf(f, "%s%s\t%s\t%s\t", prefix, k->path, schema_type(k->type), k->def);
		if (k->type == CT_INT || k->type == CT_FLOAT)
			fprintf(f, "%g..%g", k->min, k->max);
		else if (k->type == CT_CHOICE)
			fprintf(f, "%s", k->choices);
		fprintf(f, "\t%s%s\n", (k->flags & CF_REQUIRED) ? "required" : "",
		    (k->flags & CF_RESTART) ? (k->flags & CF_REQUIRED ? ",restart" : "restart") : "");
	}
}

void config_print_schema(FILE *f)
{
	print_table(f, keys, ARRAY_LEN(keys), "");
	print_table(f, modem_keys, ARRAY_LEN(modem_keys), "modems[].");
	print_table(f, staff_keys, ARRAY_LEN(staff_keys), "staff[].");
}
