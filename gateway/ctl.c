#include "ctl.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "phone.h"
#include "tz.h"

/*
 * The bureau's zone (config timezone) for every time hotlinectl shows or
 * reads: set once the config is loaded (the tool runs one command, on one
 * thread); UTC before.
 */
static const struct tz *office_zone;

struct world *ctl_world(struct ctl *c)
{
	struct diag d;

	if (c->w)
		return c->w;
	diag_init(&d);
	c->w = world_load(c->config_path, &d);
	diag_print(&d, stderr);
	diag_free(&d);
	if (c->w) {
		office_zone = c->w->cfg->tz;
		log_set_zone(c->w->cfg->timezone);
	}
	return c->w;
}

bool ctl_phone(struct ctl *c, const char *what, const char *arg, char *out, size_t outlen)
{
	if (ctl_world(c) == NULL)
		return false;
	if (phone_normalise(arg, c->w->cfg->phone_country, out, outlen) == PHONE_NONE) {
		fprintf(stderr, "hotlinectl %s: “%s”不是电话号码\n", what, arg);
		return false;
	}
	return true;
}

const char *ctl_when(int64_t t, char *buf, size_t len)
{
	struct tm tm;

	if (t <= 0) {
		snprintf(buf, len, "%s", "");
		return buf;
	}
	tz_civil(office_zone, t, &tm);
	snprintf(buf, len, "%04d-%02d-%02d %02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
	return buf;
}

const char *ctl_iso(int64_t t, char *buf, size_t len)
{
	return tz_iso8601(office_zone, t, buf, len);
}

int ctl_year(int64_t t)
{
	struct tm tm;

	tz_civil(office_zone, t, &tm);
	return tm.tm_year + 1900;
}

int64_t ctl_day_after(int64_t t)
{
	struct tm tm;

	tz_civil(office_zone, t, &tm);
	tm.tm_mday++;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	return tz_from_civil(office_zone, &tm);
}

int64_t ctl_today(void)
{
	return tz_day_start(office_zone, now_unix());
}

struct store *ctl_store(struct ctl *c)
{
	struct store_opts o = { 0 };
	char err[512];

	if (c->st)
		return c->st;
	if (ctl_world(c) == NULL)
		return NULL;
	o.create = false;
	o.migrate = true;
	o.synchronous = c->w->cfg->db_synchronous;
	o.country = c->w->cfg->phone_country;
	if (store_open(c->w->cfg->db_path, &o, &c->st, err, sizeof(err)) < 0) {
		fprintf(stderr, "hotlinectl: %s\n", err);
		return NULL;
	}
	return c->st;
}

void ctl_done(struct ctl *c)
{
	store_close(c->st);
	world_release(c->w);
	c->st = NULL;
	c->w = NULL;
}

void ctl_tsv_field(FILE *f, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		switch (s[i]) {
		case '\t':
			fputs("\\t", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\0':
			fputs("\\0", f);
			break;
		default:
			fputc(s[i], f);
		}
	}
}

void ctl_csv_field(FILE *f, const char *s, size_t len)
{
	bool quote = false;

	for (size_t i = 0; i < len; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r')
			quote = true;
	/* a leading = + - @ would start a formula in Excel: quote and keep it text */
	if (len > 0 && strchr("=+-@", s[0]))
		quote = true;
	if (!quote) {
		fwrite(s, 1, len, f);
		return;
	}
	fputc('"', f);
	if (len > 0 && strchr("=+-@", s[0]))
		fputc('\'', f);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"')
			fputc('"', f);
		fputc(s[i], f);
	}
	fputc('"', f);
}

void ctl_csv_bom(FILE *f)
{
	fputs("\xEF\xBB\xBF", f);
}

long long ctl_parse_date(const char *s)
{
	struct tm tm;
	char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end == NULL)
		return -1;
	if (*end == ' ' || *end == 'T') {
		end = strptime(end + 1, "%H:%M", &tm);
		if (end == NULL)
			return -1;
	}
	if (*end != '\0')
		return -1;
	return (long long)tz_from_civil(office_zone, &tm);
}
