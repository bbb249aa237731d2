#include "console.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "auth.h"
#include "cases.h"
#include "console_assets.h"
#include "dispatch.h"
#include "export_xlsx.h"
#include "health.h"
#include "log.h"
#include "outbox.h"
#include "phone.h"
#include "report.h"
#include "smstext.h"
#include "store_cases.h"
#include "store_console.h"
#include "store_messages.h"
#include "store_outbox.h"
#include "tmpl.h"
#include "tz.h"

#define PAGE_ROWS 50
#define SETUP_VALID (24 * 3600)
#define AUDIT_ROWS 200
#define THREAD_ROWS 200
#define MESSAGE_ROWS 100
#define FEEDBACK_ROWS 200
#define SIM_LINES 20
#define CHART_BUCKETS 26

/* One request being answered. */
struct page {
	struct store *st;
	const struct world *w;
	const struct config *cfg;
	const struct console_req *rq;
	struct console_resp *rs;
	struct auth_user u;
	bool authed;
	char csrf[AUTH_TOKEN_LEN + 1];
	struct tv *v;
};

void console_resp_free(struct console_resp *r)
{
	buf_free(&r->body);
	free(r->location);
	free(r->cookies[0]);
	free(r->cookies[1]);
	free(r->filename);
	memset(r, 0, sizeof(*r));
}

/* ---- small helpers ------------------------------------------------------------------------------- */

static const char *kv_get(const struct console_kv *kv, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv[i].name, name) == 0)
			return kv[i].value;
	return NULL;
}

/* A form field (POST) or else a query argument; "" when neither. */
static const char *arg(const struct page *pg, const char *name)
{
	const char *v = kv_get(pg->rq->form, pg->rq->nform, name);

	if (v == NULL)
		v = kv_get(pg->rq->query, pg->rq->nquery, name);
	return v ? v : "";
}

static const char *form(const struct page *pg, const char *name)
{
	const char *v = kv_get(pg->rq->form, pg->rq->nform, name);

	return v ? v : "";
}

static bool is_post(const struct page *pg)
{
	return strcmp(pg->rq->method, "POST") == 0;
}

static const struct console_asset *asset(const char *name)
{
	for (const struct console_asset *a = console_assets; a->name != NULL; a++)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

/* A time for people: on the bureau's clock (cases.timezone), whatever the machine's zone. */
static const char *when(const struct page *pg, int64_t t, char *out, size_t len)
{
	struct tm tm;

	if (t <= 0) {
		snprintf(out, len, "-");
		return out;
	}
	tz_civil(pg->cfg->tz, t, &tm);
	strftime(out, len, "%Y-%m-%d %H:%M", &tm);
	return out;
}

static int64_t local_midnight(const struct page *pg, int64_t t)
{
	return tz_day_start(pg->cfg->tz, t);
}

/* "2026-12-01" as the bureau's midnight; 0 when empty or not a date. */
static int64_t parse_day(const struct page *pg, const char *s)
{
	struct tm tm;
	int y, m, d;
	char extra;

	if (s == NULL || sscanf(s, "%d-%d-%d%c", &y, &m, &d, &extra) != 3 || y < 2000 || y > 2100 || m < 1 ||
	    m > 12 || d < 1 || d > 31)
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	return tz_from_civil(pg->cfg->tz, &tm);
}

/* A case number as it may appear in a path: digits, '-' and letters only. */
static bool number_ok(const char *s, size_t n)
{
	if (n == 0 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || c == '-' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
			return false;
	}
	return true;
}

static const char *topic_label(const struct page *pg, const char *topic)
{
	const struct menu_node *n = menu_node_at(pg->w->menu, menu_find(pg->w->menu, topic));

	if (n)
		return n->title;
	if (strcmp(topic, "callback") == 0 && menu_text(pg->w->menu, "topic_callback"))
		return menu_text(pg->w->menu, "topic_callback");
	return topic;
}

static const char *status_label(const char *code)
{
	int s = case_status_parse(code ? code : "");

	return s < 0 ? (code ? code : "") : case_status_name((enum case_status)s);
}

static void audit(struct page *pg, const char *action, const char *target, const char *detail)
{
	if (audit_log(pg->st, pg->rq->now, pg->authed ? pg->u.name : "-", pg->rq->addr, action, target, detail) < 0)
		log_warnx("console", "could not write the audit log (%s)", action);
}

static char *cookie(const struct page *pg, const char *name, const char *value, int max_age)
{
	return xasprintf("%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s", name, value,
	    pg->cfg->console_secure_cookies ? "; Secure" : "", max_age == 0 ? "; Max-Age=0" : "");
}

/* ---- rendering ------------------------------------------------------------------------------------- */

static int render_asset(const char *name, const struct tv *v, struct buf *out)
{
	const struct console_asset *a = asset(name);
	char err[160];

	if (a == NULL) {
		log_errorx("console", "template %s is missing from the build", name);
		return -1;
	}
	if (tmpl_render(a->data, a->len, v, out, err, sizeof(err)) < 0) {
		log_errorx("console", "template %s: %s", name, err);
		return -1;
	}
	return 0;
}

/* The page's template inside the layout (menu by role, the user, the CSRF token for forms). */
static int page_out(struct page *pg, int status, const char *tmpl, const char *title, const char *nav)
{
	struct buf content = { 0 };
	struct tv *v = pg->v;

	tv_set(v, "title", title);
	tv_set(v, "office", pg->cfg->office_name);
	tv_set(v, "csrf", pg->csrf);
	if (pg->authed) {
		tv_bool(v, "authed", true);
		tv_set(v, "user", pg->u.name);
		tv_set(v, "role", auth_role_code(pg->u.role));
		tv_bool(v, "may_cases", auth_may(&pg->u, AUTH_CASE_LIST, NULL));
		tv_bool(v, "may_users", auth_may(&pg->u, AUTH_USERS, NULL));
		tv_bool(v, "may_audit", auth_may(&pg->u, AUTH_AUDIT, NULL));
		tv_bool(v, "may_devices", auth_may(&pg->u, AUTH_DEVICES, NULL));
		tv_bool(v, "may_messages", auth_may(&pg->u, AUTH_MESSAGES, NULL));
		tv_bool(v, "may_feedback", auth_may(&pg->u, AUTH_FEEDBACK, NULL));
		tv_bool(v, "may_reports", auth_may(&pg->u, AUTH_REPORTS, NULL));
		tv_bool(v, "may_menu", auth_may(&pg->u, AUTH_MENU, NULL));
	}
	if (nav)
		tv_bool(v, nav, true);
	if (render_asset(tmpl, v, &content) < 0) {
		buf_free(&content);
		return -1;
	}
	tv_set(v, "content", buf_str(&content));
	buf_free(&content);
	buf_reset(&pg->rs->body);
	if (render_asset("layout.html", v, &pg->rs->body) < 0)
		return -1;
	pg->rs->status = status;
	pg->rs->type = "text/html; charset=utf-8";
	return 0;
}

static int error_page(struct page *pg, int status, const char *which)
{
	tv_bool(pg->v, which, true);
	tv_setf(pg->v, "status", "%d", status);
	return page_out(pg, status, "error.html", "出错了", NULL);
}

/* 403, and the refusal in the audit log. */
static int deny(struct page *pg, const char *target, const char *why)
{
	audit(pg, "refused", target, why);
	return error_page(pg, 403, "forbidden");
}

static int redirect(struct page *pg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int redirect(struct page *pg, const char *fmt, ...)
{
	struct buf b = { 0 };
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	pg->rs->status = 303;
	pg->rs->location = buf_take(&b);
	pg->rs->type = "text/plain; charset=utf-8";
	return 0;
}

/* ---- setup, login, logout --------------------------------------------------------------------------- */

/* Forms shown before login carry a token that must match the hl_pre cookie (double submit). */
static void pre_token(struct page *pg)
{
	char t[AUTH_TOKEN_LEN + 1];

	/* one per browser: a second tab (or a favicon's redirect) must not void the first tab's form */
	if (pg->rq->pre != NULL && strlen(pg->rq->pre) == AUTH_TOKEN_LEN &&
	    strspn(pg->rq->pre, "0123456789abcdef") == AUTH_TOKEN_LEN) {
		snprintf(pg->csrf, sizeof(pg->csrf), "%s", pg->rq->pre);
		return;
	}
	auth_random_token(t);
	snprintf(pg->csrf, sizeof(pg->csrf), "%s", t);
	free(pg->rs->cookies[1]);
	pg->rs->cookies[1] = cookie(pg, "hl_pre", t, -1);
}

static bool pre_ok(const struct page *pg)
{
	return auth_equal(pg->rq->pre, form(pg, "csrf"));
}

static int serve_setup(struct page *pg)
{
	const char *token = arg(pg, "token"), *name = form(pg, "name"), *pw = form(pg, "password");
	bool ok = false, added = false;
	int n;

	if (store_account_count(pg->st, &n) < 0)
		return error_page(pg, 503, "db");
	if (n > 0)
		return error_page(pg, 404, "setup_done");
	if (!is_post(pg)) {
		if (auth_setup_check(pg->st, token, pg->rq->now, false, &ok) < 0)
			return error_page(pg, 503, "db");
		if (!ok) {
			audit(pg, "setup_refused", NULL, "unknown or expired setup token");
			return error_page(pg, 403, "setup_bad");
		}
		pre_token(pg);
		tv_set(pg->v, "token", token);
		return page_out(pg, 200, "setup.html", "创建管理员", NULL);
	}
	if (!pre_ok(pg))
		return deny(pg, NULL, "setup form without its CSRF token");
	tv_set(pg->v, "token", token);
	tv_set(pg->v, "name", name);
	if (*name == '\0' || strlen(name) > 64 || !auth_password_ok(pw) || strcmp(pw, form(pg, "password2")) != 0) {
		tv_bool(pg->v, "bad_input", true);
		pre_token(pg);
		return page_out(pg, 400, "setup.html", "创建管理员", NULL);
	}
	if (store_begin(pg->st) < 0)
		return error_page(pg, 503, "db");
	if (auth_setup_check(pg->st, token, pg->rq->now, true, &ok) < 0 || !ok) {
		store_rollback(pg->st);
		audit(pg, "setup_refused", NULL, "unknown or expired setup token");
		return error_page(pg, 403, "setup_bad");
	}
	if (auth_user_add(pg->st, name, pw, "admin", NULL, pg->rq->now, &added) < 0 || !added ||
	    audit_log(pg->st, pg->rq->now, name, pg->rq->addr, "setup_admin", name, "the first admin, from the setup link") < 0 ||
	    store_commit(pg->st) < 0) {
		store_rollback(pg->st);
		return error_page(pg, 503, "db");
	}
	log_info("console", "first admin account created from the setup link");
	return redirect(pg, "/login?created=1");
}

static int serve_login(struct page *pg)
{
	const char *name = form(pg, "name");
	struct auth_policy p = { pg->cfg->console_login_failures, pg->cfg->console_lockout_minutes * 60,
		pg->cfg->console_session_idle };
	struct auth_login r;
	char until[32];

	if (!is_post(pg)) {
		pre_token(pg);
		tv_bool(pg->v, "created", *arg(pg, "created") != '\0');
		tv_bool(pg->v, "bye", *arg(pg, "bye") != '\0');
		return page_out(pg, 200, "login.html", "登录", NULL);
	}
	if (!pre_ok(pg))
		return deny(pg, name, "login form without its CSRF token");
	if (store_begin(pg->st) < 0)
		return error_page(pg, 503, "db");
	if (auth_login(pg->st, pg->cfg, &p, name, form(pg, "password"), pg->rq->addr, pg->rq->now, &r) < 0) {
		store_rollback(pg->st);
		return error_page(pg, 503, "db");
	}
	switch (r.outcome) {
	case AUTH_LOGIN_OK:
		pg->authed = true;
		pg->u = r.user;
		audit(pg, "login", pg->u.name, NULL);
		break;
	case AUTH_LOGIN_BAD:
		audit(pg, "login_failed", name, NULL);
		if (r.locked_now)
			audit(pg, "lockout", name, when(pg, r.locked_until, until, sizeof(until)));
		break;
	case AUTH_LOGIN_LOCKED:
		audit(pg, "login_locked", name, when(pg, r.locked_until, until, sizeof(until)));
		break;
	case AUTH_LOGIN_DISABLED:
		audit(pg, "login_disabled", name, NULL);
		break;
	}
	if (store_commit(pg->st) < 0) {
		store_rollback(pg->st);
		return error_page(pg, 503, "db");
	}
	if (r.outcome == AUTH_LOGIN_OK) {
		pg->rs->cookies[0] = cookie(pg, "hl_session", r.token, -1);
		pg->rs->cookies[1] = cookie(pg, "hl_pre", "", 0);
		return redirect(pg, "/");
	}
	pre_token(pg);
	tv_set(pg->v, "name", name);
	tv_bool(pg->v, "bad", r.outcome == AUTH_LOGIN_BAD && !r.locked_now);
	tv_bool(pg->v, "locked", r.outcome == AUTH_LOGIN_LOCKED || r.locked_now);
	tv_bool(pg->v, "disabled", r.outcome == AUTH_LOGIN_DISABLED);
	tv_set(pg->v, "until", when(pg, r.locked_until, until, sizeof(until)));
	return page_out(pg, r.outcome == AUTH_LOGIN_LOCKED || r.locked_now ? 429 : 401, "login.html", "登录", NULL);
}

static int serve_logout(struct page *pg)
{
	if (auth_logout(pg->st, pg->rq->session) < 0)
		return error_page(pg, 503, "db");
	audit(pg, "logout", pg->u.name, NULL);
	pg->rs->cookies[0] = cookie(pg, "hl_session", "", 0);
	return redirect(pg, "/login?bye=1");
}

/* ---- cases: rows -------------------------------------------------------------------------------------- */

static void case_row(struct page *pg, struct tv *it, const struct store_case *k)
{
	char t[32];
	int64_t due = (int64_t)pg->cfg->escalate_after * 3600;

	tv_set(it, "number", k->number);
	tv_set(it, "topic", topic_label(pg, k->topic ? k->topic : ""));
	tv_set(it, "name", k->name);
	tv_set(it, "place", k->place);
	tv_set(it, "phone", k->applicant_phone);
	tv_set(it, "status", status_label(k->status));
	tv_set(it, "status_code", k->status);
	tv_set(it, "staff", k->staff ? k->staff : "");
	tv_set(it, "created", when(pg, k->created_at, t, sizeof(t)));
	int64_t age = pg->rq->now - k->created_at;
	tv_setf(it, "age", "%lld小时%lld分", (long long)(age / 3600), (long long)(age % 3600 / 60));
	tv_bool(it, "overdue", strcmp(k->status ? k->status : "", "received") == 0 && due > 0 &&
	    cases_working_seconds(pg->cfg, k->created_at, pg->rq->now) > due);
}

/* What the case list asks for, from the form or the query. */
struct list_args {
	struct store_case_query q;
	const char *kind; /* "", "visit" or "callback" */
	int page;
};

static void list_args(struct page *pg, struct list_args *a)
{
	long long p;

	memset(a, 0, sizeof(*a));
	a->q.status = *arg(pg, "status") ? arg(pg, "status") : NULL;
	a->q.staff = *arg(pg, "staff") ? arg(pg, "staff") : NULL;
	a->q.place = *arg(pg, "place") ? arg(pg, "place") : NULL;
	/* a search names a person or a phone: only from a form (POST), never in a URL */
	a->q.q = is_post(pg) && *form(pg, "q") ? form(pg, "q") : NULL;
	a->q.from = parse_day(pg, arg(pg, "from"));
	a->q.to = parse_day(pg, arg(pg, "to"));
	if (a->q.to)
		a->q.to += 86400;
	a->kind = arg(pg, "kind");
	a->page = parse_int(arg(pg, "page"), 1, 100000, &p) ? (int)p : 1;
}

struct collect {
	struct page *pg;
	const struct list_args *a;
	int total, from, to;       /* rows [from, to) of what passes are kept */
	struct store_case *rows;
	size_t n, cap;
};

static char *dupn(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static int collect_one(const struct store_case *k, void *arg_)
{
	struct collect *c = arg_;
	bool cb;

	if (!auth_may(&c->pg->u, AUTH_CASE_VIEW, k))
		return 0;
	cb = k->topic && cases_is_callback(c->pg->w->menu, k->topic);
	if ((strcmp(c->a->kind, "callback") == 0 && !cb) || (strcmp(c->a->kind, "visit") == 0 && cb))
		return 0;
	if (c->total >= c->from && (c->to < 0 || c->total < c->to)) {
		if (c->n == c->cap) {
			c->cap = c->cap ? c->cap * 2 : 64;
			c->rows = xrealloc(c->rows, c->cap * sizeof(*c->rows));
		}
		struct store_case *r = &c->rows[c->n++];
		*r = *k;
		r->number = dupn(k->number);
		r->topic = dupn(k->topic);
		r->channel = dupn(k->channel);
		r->applicant_phone = dupn(k->applicant_phone);
		r->contact_phone = dupn(k->contact_phone);
		r->name = dupn(k->name);
		r->place = dupn(k->place);
		r->need = dupn(k->need);
		r->staff = dupn(k->staff);
		r->status = dupn(k->status);
		r->reason = dupn(k->reason);
	}
	c->total++;
	return 0;
}

static void collect_free(struct collect *c)
{
	for (size_t i = 0; i < c->n; i++)
		store_case_free(&c->rows[i]);
	free(c->rows);
}

/* ---- exports ----------------------------------------------------------------------------------------- */

static const char *const export_header[] = { "编号", "类别", "状态", "姓名", "地址", "需求", "申请人电话", "联系电话",
	"负责人", "受理时间", "办结时间", "原因" };
#define EXPORT_COLS ARRAY_LEN(export_header)

static void export_cells(struct page *pg, const struct store_case *k, char tbuf[2][32], const char *cells[EXPORT_COLS])
{
	cells[0] = k->number;
	cells[1] = topic_label(pg, k->topic ? k->topic : "");
	cells[2] = status_label(k->status);
	cells[3] = k->name;
	cells[4] = k->place;
	cells[5] = k->need;
	cells[6] = k->applicant_phone;
	cells[7] = k->contact_phone;
	cells[8] = k->staff;
	cells[9] = when(pg, k->created_at, tbuf[0], 32);
	cells[10] = k->closed_at ? when(pg, k->closed_at, tbuf[1], 32) : "";
	cells[11] = k->reason;
}

/* One CSV field: always quoted; a leading = + - @ is defused so that a spreadsheet never runs it. */
static void csv_field(struct buf *b, const char *s)
{
	buf_addc(b, '"');
	if (s && (*s == '=' || *s == '+' || *s == '-' || *s == '@'))
		buf_addc(b, '\'');
	for (; s && *s; s++) {
		if (*s == '"')
			buf_addc(b, '"');
		buf_addc(b, *s);
	}
	buf_addc(b, '"');
}

static int export_cases(struct page *pg, const struct collect *c, bool xlsx)
{
	char tbuf[2][32], name[64], detail[64], err[160];
	struct tm tm;

	tz_civil(pg->cfg->tz, pg->rq->now, &tm);
	strftime(name, sizeof(name), xlsx ? "cases-%Y%m%d-%H%M.xlsx" : "cases-%Y%m%d-%H%M.csv", &tm);
	snprintf(detail, sizeof(detail), "%s, %zu rows", xlsx ? "xlsx" : "csv", c->n);
	if (!xlsx) {
		struct buf *b = &pg->rs->body;
		buf_reset(b);
		buf_adds(b, "\xEF\xBB\xBF");
		for (size_t i = 0; i < EXPORT_COLS; i++) {
			buf_adds(b, i ? "," : "");
			csv_field(b, export_header[i]);
		}
		buf_adds(b, "\r\n");
		for (size_t r = 0; r < c->n; r++) {
			const char *cells[EXPORT_COLS];
			export_cells(pg, &c->rows[r], tbuf, cells);
			for (size_t i = 0; i < EXPORT_COLS; i++) {
				buf_adds(b, i ? "," : "");
				csv_field(b, cells[i]);
			}
			buf_adds(b, "\r\n");
		}
		pg->rs->type = "text/csv; charset=utf-8";
	} else {
		const char **cells = xcalloc(c->n * EXPORT_COLS + 1, sizeof(*cells));
		char (*times)[2][32] = xcalloc(c->n + 1, sizeof(*times));
		for (size_t r = 0; r < c->n; r++)
			export_cells(pg, &c->rows[r], times[r], cells + r * EXPORT_COLS);
		buf_reset(&pg->rs->body);
		int rc = export_xlsx("请求", export_header, EXPORT_COLS, cells, c->n, &pg->rs->body, err, sizeof(err));
		free(cells);
		free(times);
		if (rc < 0) {
			log_errorx("console", "XLSX export: %s", err);
			return error_page(pg, 500, "export");
		}
		pg->rs->type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
	}
	audit(pg, "export", "cases", detail);
	pg->rs->status = 200;
	pg->rs->filename = xstrdup(name);
	return 0;
}

/* ---- 请求: the case list ----------------------------------------------------------------------------- */

static void staff_options(struct page *pg, const char *list, const char *selected)
{
	tv_list(pg->v, list);
	for (size_t i = 0; i < pg->cfg->nstaff; i++) {
		struct tv *it = tv_item(pg->v, list);
		tv_set(it, "name", pg->cfg->staff[i].name);
		tv_bool(it, "selected", selected && strcmp(selected, pg->cfg->staff[i].name) == 0);
	}
}

static void status_options(struct page *pg, const char *selected)
{
	tv_list(pg->v, "statuses");
	for (int s = 0; s < CASE_STATUS_COUNT; s++) {
		struct tv *it = tv_item(pg->v, "statuses");
		tv_set(it, "code", case_status_code((enum case_status)s));
		tv_set(it, "label", case_status_name((enum case_status)s));
		tv_bool(it, "selected", selected && strcmp(selected, case_status_code((enum case_status)s)) == 0);
	}
}

static int serve_cases(struct page *pg)
{
	struct list_args a;
	struct collect c = { 0 };
	const char *exp = form(pg, "export");
	bool export = is_post(pg) && *exp;

	if (!auth_may(&pg->u, AUTH_CASE_LIST, NULL) || (export && !auth_may(&pg->u, AUTH_EXPORT, NULL)))
		return deny(pg, "cases", export ? "export" : "case list");
	list_args(pg, &a);
	c.pg = pg;
	c.a = &a;
	c.from = export ? 0 : (a.page - 1) * PAGE_ROWS;
	c.to = export ? -1 : a.page * PAGE_ROWS;
	/*
	 * An account that sees every case pages in SQL (no row to leave out);
	 * any other reads every match and keeps what auth_may() allows, so that
	 * its pages and count hold exactly its cases.
	 */
	bool in_sql = !export && *a.kind == '\0' && auth_may(&pg->u, AUTH_CASE_ALL, NULL);
	int total = 0;
	if (in_sql) {
		a.q.limit = PAGE_ROWS;
		a.q.offset = c.from;
		c.to = -1;
		c.from = 0;
	}
	if ((in_sql && store_case_query_count(pg->st, &a.q, &total) < 0) ||
	    store_case_query(pg->st, &a.q, collect_one, &c) < 0) {
		collect_free(&c);
		return error_page(pg, 503, "db");
	}
	if (in_sql)
		c.total = total;
	if (export) {
		int rc = export_cases(pg, &c, strcmp(exp, "xlsx") == 0);
		collect_free(&c);
		return rc;
	}
	tv_list(pg->v, "cases");
	for (size_t i = 0; i < c.n; i++)
		case_row(pg, tv_item(pg->v, "cases"), &c.rows[i]);
	int pages = (c.total + PAGE_ROWS - 1) / PAGE_ROWS;
	tv_setf(pg->v, "total", "%d", c.total);
	tv_setf(pg->v, "page", "%d", a.page);
	tv_setf(pg->v, "pages", "%d", pages ? pages : 1);
	if (a.page > 1)
		tv_setf(pg->v, "prev", "%d", a.page - 1);
	if (a.page < pages)
		tv_setf(pg->v, "next", "%d", a.page + 1);
	tv_set(pg->v, "f_place", a.q.place);
	tv_set(pg->v, "f_q", a.q.q);
	tv_set(pg->v, "f_from", arg(pg, "from"));
	tv_set(pg->v, "f_to", arg(pg, "to"));
	tv_bool(pg->v, "kind_visit", strcmp(a.kind, "visit") == 0);
	tv_bool(pg->v, "kind_callback", strcmp(a.kind, "callback") == 0);
	status_options(pg, a.q.status);
	staff_options(pg, "staff_list", a.q.staff);
	tv_bool(pg->v, "may_export", auth_may(&pg->u, AUTH_EXPORT, NULL));
	char detail[64];
	snprintf(detail, sizeof(detail), "page %d, %zu rows", a.page, c.n);
	audit(pg, "view_list", "cases", detail);
	collect_free(&c);
	return page_out(pg, 200, "cases.html", "请求", "nav_cases");
}

/* ---- one case ------------------------------------------------------------------------------------------ */

static int event_row(const struct store_case_event *e, void *arg_)
{
	const struct page *pg = arg_;
	struct tv *it = tv_item(pg->v, "events");
	char t[32];

	tv_set(it, "at", when(pg, e->at, t, sizeof(t)));
	tv_set(it, "actor", e->actor);
	tv_set(it, "from", e->old_status ? status_label(e->old_status) : "");
	tv_set(it, "to", e->new_status ? status_label(e->new_status) : "");
	tv_set(it, "note", e->note);
	return 0;
}

static int thread_row(const struct store_msg *m, void *arg_)
{
	const struct page *pg = arg_;
	struct tv *it = tv_item(pg->v, "thread");
	char t[32];

	tv_set(it, "at", when(pg, m->created_at, t, sizeof(t)));
	tv_bool(it, "in", m->direction == DIRECTION_IN);
	tv_set(it, "channel", channel_name(m->channel));
	tv_set(it, "text", m->text);
	tv_set(it, "status", msg_status_name(m->status));
	tv_bool(it, "failed", m->status == MSG_STATUS_FAILED);
	tv_bool(it, "queued", m->status == MSG_STATUS_QUEUED || m->status == MSG_STATUS_SENDING);
	return 0;
}

/* The buttons this case offers now: only moves the service would allow. */
static void case_actions(struct page *pg, const struct store_case *k)
{
	int from = case_status_parse(k->status ? k->status : "");
	bool open = from >= 0 && case_status_open((enum case_status)from);
	bool cb = k->topic && cases_is_callback(pg->w->menu, k->topic);
	bool may = auth_may(&pg->u, AUTH_CASE_ACT, k);
	static const struct {
		enum case_status to;
		const char *action;
	} moves[] = {
		{ CASE_ASSIGNED, "accept" }, { CASE_VISITED, "visited" }, { CASE_REVIEWING, "reviewing" },
		{ CASE_DONE, "done" },
	};

	tv_bool(pg->v, "may_act", may && open);
	if (!may || !open)
		return;
	for (size_t i = 0; i < ARRAY_LEN(moves); i++)
		if (case_move_allowed((enum case_status)from, moves[i].to))
			tv_bool(pg->v, moves[i].action, true);
	tv_bool(pg->v, "callback_done", cb);
	tv_bool(pg->v, "can_reject", case_move_allowed((enum case_status)from, CASE_REJECTED));
	tv_bool(pg->v, "can_withdraw", case_move_allowed((enum case_status)from, CASE_WITHDRAWN));
	if (auth_may(&pg->u, AUTH_CASE_ASSIGN, k)) {
		tv_bool(pg->v, "may_assign", true);
		staff_options(pg, "assign_list", k->staff);
	}
}

static int load_case(struct page *pg, const char *number, struct store_case *k, bool *found)
{
	if (store_case_get(pg->st, number, k, found) < 0)
		return -1;
	return 0;
}

static int show_case(struct page *pg, const char *number, int status, bool print)
{
	struct store_case k;
	bool found;
	char t[32];

	if (load_case(pg, number, &k, &found) < 0)
		return error_page(pg, 503, "db");
	if (!found)
		return error_page(pg, 404, "no_case");
	if (!auth_may(&pg->u, AUTH_CASE_VIEW, &k)) {
		store_case_free(&k);
		return deny(pg, number, "case outside the account's scope");
	}
	audit(pg, print ? "print_case" : "view_case", number, NULL);
	tv_set(pg->v, "number", k.number);
	tv_set(pg->v, "topic", topic_label(pg, k.topic ? k.topic : ""));
	tv_set(pg->v, "channel", k.channel);
	tv_set(pg->v, "name", k.name);
	tv_set(pg->v, "place", k.place);
	tv_set(pg->v, "need", k.need);
	tv_set(pg->v, "phone", k.applicant_phone);
	tv_set(pg->v, "contact", k.contact_phone ? k.contact_phone : k.applicant_phone);
	tv_set(pg->v, "status", status_label(k.status));
	tv_set(pg->v, "staff", k.staff ? k.staff : "");
	tv_set(pg->v, "reason", k.reason ? k.reason : "");
	tv_set(pg->v, "created", when(pg, k.created_at, t, sizeof(t)));
	tv_set(pg->v, "office_address", pg->cfg->office_address);
	tv_set(pg->v, "office_phone", pg->cfg->office_phone);
	tv_set(pg->v, "printed", when(pg, pg->rq->now, t, sizeof(t)));
	tv_list(pg->v, "events");
	tv_list(pg->v, "thread");
	if (store_case_events(pg->st, k.id, event_row, pg) < 0) {
		store_case_free(&k);
		return error_page(pg, 503, "db");
	}
	if (!print) {
		struct store_msg_filter f = { 0 };
		f.phone = k.applicant_phone;
		f.limit = THREAD_ROWS;
		f.newest_first = true;
		if (store_msg_each(pg->st, &f, thread_row, pg) < 0) {
			store_case_free(&k);
			return error_page(pg, 503, "db");
		}
		case_actions(pg, &k);
	}
	store_case_free(&k);
	if (print) {
		/* the A4 form stands alone: no menu, its own stylesheet rules for paper */
		buf_reset(&pg->rs->body);
		tv_set(pg->v, "office", pg->cfg->office_name);
		if (render_asset("print.html", pg->v, &pg->rs->body) < 0)
			return -1;
		pg->rs->status = 200;
		pg->rs->type = "text/html; charset=utf-8";
		return 0;
	}
	return page_out(pg, status, "case.html", number, "nav_cases");
}

static int act_on_case(struct page *pg, const char *number)
{
	const char *action = form(pg, "action"), *note = form(pg, "note");
	struct ctx c = { pg->st, pg->cfg, pg->w->menu, pg->rq->now, NULL, 0 };
	struct store_case k;
	enum case_outcome out = CASE_OK;
	char actor[128], detail[600];
	bool found, assign = strcmp(action, "assign") == 0;
	int to = -1;

	if (strcmp(action, "accept") == 0)
		to = CASE_ASSIGNED;
	else if (strcmp(action, "visited") == 0)
		to = CASE_VISITED;
	else if (strcmp(action, "reviewing") == 0)
		to = CASE_REVIEWING;
	else if (strcmp(action, "done") == 0 || strcmp(action, "callback") == 0)
		to = CASE_DONE;
	else if (strcmp(action, "reject") == 0)
		to = CASE_REJECTED;
	else if (strcmp(action, "withdraw") == 0)
		to = CASE_WITHDRAWN;
	else if (!assign)
		return error_page(pg, 400, "bad_request");
	if (strlen(note) > 500)
		return error_page(pg, 400, "bad_request");

	if (store_begin(pg->st) < 0)
		return error_page(pg, 503, "db");
	if (load_case(pg, number, &k, &found) < 0) {
		store_rollback(pg->st);
		return error_page(pg, 503, "db");
	}
	if (!found) {
		store_rollback(pg->st);
		return error_page(pg, 404, "no_case");
	}
	bool may = auth_may(&pg->u, assign ? AUTH_CASE_ASSIGN : AUTH_CASE_ACT, &k);
	store_case_free(&k);
	if (!may) {
		store_rollback(pg->st);
		return deny(pg, number, assign ? "assign outside the account's role" : "change outside the account's scope");
	}
	snprintf(actor, sizeof(actor), "console:%s", pg->u.name);
	int rc;
	if (assign) {
		const struct staff_cfg *s = config_staff_by_name(pg->cfg, form(pg, "staff"));
		if (s == NULL) {
			store_rollback(pg->st);
			return error_page(pg, 400, "bad_request");
		}
		rc = cases_assign(&c, number, s, actor, &out);
		snprintf(detail, sizeof(detail), "assign -> %s", s->name);
	} else {
		struct case_change ch = { 0 };
		ch.number = number;
		ch.to = (enum case_status)to;
		/* a linked staff member acts as themselves (as by SMS); others as the office */
		ch.by = pg->u.staff;
		ch.actor = actor;
		ch.note = *note ? note : NULL;
		rc = cases_change(&c, &ch, &out, NULL);
		snprintf(detail, sizeof(detail), "%s%s%s", action, *note ? ": " : "", note);
	}
	if (rc < 0) {
		store_rollback(pg->st);
		return error_page(pg, 503, "db");
	}
	static const char *const outcomes[] = { "ok", "not_found", "not_yours", "bad_move", "need_reason", "no_staff" };
	audit(pg, out == CASE_OK ? (assign ? "case_assign" : "case_change") : "case_refused", number,
	    out == CASE_OK ? detail : outcomes[out]);
	if (store_commit(pg->st) < 0) {
		store_rollback(pg->st);
		return error_page(pg, 503, "db");
	}
	if (out == CASE_OK) {
		outbox_kick();
		return redirect(pg, "/cases/%s?ok=1", number);
	}
	char flag[32];
	snprintf(flag, sizeof(flag), "err_%s", outcomes[out]);
	tv_bool(pg->v, flag, true);
	return show_case(pg, number, 409, false);
}

/* ---- 工作台 ---------------------------------------------------------------------------------------------- */

struct dash {
	struct page *pg;
	int waiting, mine, callbacks;
};

static int dash_one(const struct store_case *k, void *arg_)
{
	struct dash *d = arg_;
	struct page *pg = d->pg;

	if (!auth_may(&pg->u, AUTH_CASE_VIEW, k))
		return 0;
	bool cb = k->topic && cases_is_callback(pg->w->menu, k->topic);
	if (strcmp(k->status, "received") == 0 && d->waiting < PAGE_ROWS) {
		case_row(pg, tv_item(pg->v, "waiting"), k);
		d->waiting++;
	}
	if (pg->u.staff && k->staff && strcmp(k->staff, pg->u.staff->name) == 0 && d->mine < PAGE_ROWS) {
		case_row(pg, tv_item(pg->v, "mine"), k);
		d->mine++;
	}
	if (cb && d->callbacks < PAGE_ROWS) {
		case_row(pg, tv_item(pg->v, "callbacks"), k);
		d->callbacks++;
	}
	return 0;
}

static void modem_rows(struct page *pg)
{
	struct modem_health mh[CONFIG_MAX_MODEMS];
	size_t n = health_modems(mh, ARRAY_LEN(mh));
	char t[32];

	tv_list(pg->v, "modems");
	for (size_t i = 0; i < n && i < ARRAY_LEN(mh); i++) {
		struct tv *it = tv_item(pg->v, "modems");
		tv_set(it, "name", mh[i].name);
		tv_set(it, "state", modem_state_name(mh[i].state));
		tv_bool(it, "up", mh[i].connected);
		if (mh[i].signal >= 0)
			tv_setf(it, "signal", "%d%%", mh[i].signal);
		tv_set(it, "network", mh[i].network);
		if (!isnan(mh[i].balance)) {
			tv_setf(it, "balance", "%.2f", mh[i].balance);
			tv_set(it, "balance_at", when(pg, mh[i].balance_at, t, sizeof(t)));
		}
		tv_setf(it, "sent", "%u", mh[i].sent);
		tv_setf(it, "received", "%u", mh[i].received);
		tv_set(it, "since", when(pg, mh[i].since, t, sizeof(t)));
		tv_set(it, "error", mh[i].error);
	}
}

static int serve_dashboard(struct page *pg)
{
	int in = 0, created = 0, closed = 0, depth = 0;
	int64_t oldest = 0;
	struct dash d = { pg, 0, 0, 0 };

	if (!auth_may(&pg->u, AUTH_DASHBOARD, NULL))
		return deny(pg, "dashboard", "dashboard");
	if (store_console_counts(pg->st, local_midnight(pg, pg->rq->now), &in, &created, &closed) < 0 ||
	    store_outbox_stats(pg->st, pg->rq->now, &depth, &oldest) < 0)
		return error_page(pg, 503, "db");
	tv_setf(pg->v, "today_in", "%d", in);
	tv_setf(pg->v, "today_new", "%d", created);
	tv_setf(pg->v, "today_closed", "%d", closed);
	tv_setf(pg->v, "outbox", "%d", depth);
	tv_setf(pg->v, "outbox_age", "%lld", (long long)oldest);
	modem_rows(pg);
	if (auth_may(&pg->u, AUTH_CASE_LIST, NULL)) {
		struct store_case_query q = { 0 };
		q.open_only = true;
		tv_bool(pg->v, "lists", true);
		tv_list(pg->v, "waiting");
		tv_list(pg->v, "mine");
		tv_list(pg->v, "callbacks");
		tv_bool(pg->v, "linked", pg->u.staff != NULL);
		if (store_case_query(pg->st, &q, dash_one, &d) < 0)
			return error_page(pg, 503, "db");
		audit(pg, "view_dashboard", NULL, NULL);
	}
	return page_out(pg, 200, "dashboard.html", "工作台", "nav_dash");
}

static int serve_devices(struct page *pg)
{
	int depth = 0;
	int64_t oldest = 0;

	if (!auth_may(&pg->u, AUTH_DEVICES, NULL))
		return deny(pg, "devices", "devices");
	if (store_outbox_stats(pg->st, pg->rq->now, &depth, &oldest) < 0)
		return error_page(pg, 503, "db");
	tv_setf(pg->v, "outbox", "%d", depth);
	tv_setf(pg->v, "outbox_age", "%lld", (long long)oldest);
	modem_rows(pg);
	return page_out(pg, 200, "devices.html", "设备", "nav_devices");
}

/* ---- 用户 and 审计 (admin) ------------------------------------------------------------------------------ */

static int user_row(const struct console_account *a, void *arg_)
{
	struct page *pg = arg_;
	struct tv *it = tv_item(pg->v, "users");
	const struct staff_cfg *s = a->staff_phone ? config_staff_by_phone(pg->cfg, a->staff_phone) : NULL;
	char t[32];

	tv_set(it, "name", a->name);
	tv_set(it, "role", a->role);
	tv_set(it, "staff", s ? s->name : (a->staff_phone ? "?" : ""));
	tv_bool(it, "disabled", a->disabled);
	tv_set(it, "created", when(pg, a->created_at, t, sizeof(t)));
	return 0;
}

static int serve_users(struct page *pg)
{
	if (!auth_may(&pg->u, AUTH_USERS, NULL))
		return deny(pg, "users", "accounts");
	if (is_post(pg)) {
		const char *op = form(pg, "op"), *name = form(pg, "name"), *pw = form(pg, "password");
		bool ok = false;
		int rc = 0;
		const char *err = NULL;
		if (store_begin(pg->st) < 0)
			return error_page(pg, 503, "db");
		if (strcmp(op, "add") == 0) {
			const char *role = form(pg, "role"), *staff = form(pg, "staff");
			const struct staff_cfg *s = *staff ? config_staff_by_name(pg->cfg, staff) : NULL;
			if (*name == '\0' || strlen(name) > 64 || auth_role_parse(role) < 0 || (*staff && s == NULL))
				err = "err_input";
			else if (strcmp(role, "staff") == 0 && s == NULL)
				err = "err_staff";
			else if (!auth_password_ok(pw))
				err = "err_password";
			else if ((rc = auth_user_add(pg->st, name, pw, role, s ? s->phone : NULL, pg->rq->now, &ok)) == 0 && !ok)
				err = "err_exists";
			if (rc == 0 && err == NULL) {
				char detail[160];
				snprintf(detail, sizeof(detail), "role %s%s%s", role, s ? ", staff " : "", s ? s->name : "");
				audit(pg, "user_add", name, detail);
			}
		} else if (strcmp(op, "disable") == 0 || strcmp(op, "enable") == 0) {
			bool dis = strcmp(op, "disable") == 0;
			if (dis && strcmp(name, pg->u.name) == 0)
				err = "err_self";
			else if ((rc = auth_user_disable(pg->st, name, dis, pg->rq->now, &ok)) == 0 && !ok)
				err = "err_input";
			if (rc == 0 && err == NULL)
				audit(pg, dis ? "user_disable" : "user_enable", name, NULL);
		} else if (strcmp(op, "passwd") == 0) {
			if (!auth_password_ok(pw))
				err = "err_password";
			else if ((rc = auth_user_passwd(pg->st, name, pw, pg->rq->now, &ok)) == 0 && !ok)
				err = "err_input";
			if (rc == 0 && err == NULL)
				audit(pg, "user_passwd", name, NULL);
		} else {
			err = "err_input";
		}
		if (rc < 0 || store_commit(pg->st) < 0) {
			store_rollback(pg->st);
			return error_page(pg, 503, "db");
		}
		if (err == NULL)
			return redirect(pg, "/users?ok=1");
		tv_bool(pg->v, err, true);
		pg->rs->status = 400;
	}
	tv_bool(pg->v, "ok", *arg(pg, "ok") != '\0');
	tv_list(pg->v, "users");
	if (store_account_each(pg->st, user_row, pg) < 0)
		return error_page(pg, 503, "db");
	staff_options(pg, "staff_list", NULL);
	return page_out(pg, is_post(pg) ? 400 : 200, "users.html", "用户", "nav_users");
}

static int audit_row(const struct store_audit *a, void *arg_)
{
	struct page *pg = arg_;
	struct tv *it = tv_item(pg->v, "rows");
	char t[32];

	tv_set(it, "at", when(pg, a->at, t, sizeof(t)));
	tv_set(it, "who", a->who);
	tv_set(it, "addr", a->addr);
	tv_set(it, "action", a->action);
	tv_set(it, "target", a->target);
	tv_set(it, "detail", a->detail);
	tv_setf(pg->v, "last_id", "%lld", (long long)a->id);
	return 0;
}

static int serve_audit(struct page *pg)
{
	long long before = 0;

	if (!auth_may(&pg->u, AUTH_AUDIT, NULL))
		return deny(pg, "audit", "audit log");
	if (*arg(pg, "before") && !parse_int(arg(pg, "before"), 0, INT64_MAX, &before))
		before = 0;
	tv_list(pg->v, "rows");
	if (store_audit_each(pg->st, before, AUDIT_ROWS, audit_row, pg) < 0)
		return error_page(pg, 503, "db");
	return page_out(pg, 200, "audit.html", "审计", "nav_audit");
}

/* ---- 短信记录 ------------------------------------------------------------------------------------------ */

static int message_row(const struct store_msg *m, void *arg_)
{
	struct page *pg = arg_;
	struct tv *it = tv_item(pg->v, "messages");
	char t[32];

	tv_set(it, "at", when(pg, m->created_at, t, sizeof(t)));
	tv_bool(it, "in", m->direction == DIRECTION_IN);
	tv_set(it, "channel", channel_name(m->channel));
	tv_set(it, "phone", m->phone);
	tv_set(it, "text", m->text);
	tv_set(it, "status", msg_status_name(m->status));
	tv_set(it, "node", m->node);
	tv_bool(it, "failed", m->status == MSG_STATUS_FAILED);
	return 0;
}

/* The last 4 digits of a phone, for the audit log's detail. */
static void phone_tail(const char *phone, char *out, size_t len)
{
	size_t n = strlen(phone);

	snprintf(out, len, "…%s", n > 4 ? phone + n - 4 : phone);
}

static int serve_messages(struct page *pg)
{
	struct store_msg_query q = { 0 };
	const char *thread = form(pg, "thread");
	char detail[96], tail[16], phone[PHONE_LEN];

	if (!auth_may(&pg->u, AUTH_MESSAGES, NULL))
		return deny(pg, "messages", "messages");
	q.limit = MESSAGE_ROWS;
	/* phone numbers and texts come only in a form (POST): never in a URL; normalised at this edge */
	if (is_post(pg) && *thread) {
		(void)phone_normalise(thread, pg->cfg->phone_country, phone, sizeof(phone));
		q.phone = phone;
		q.oldest_first = true;
		q.limit = 500;
		tv_set(pg->v, "thread", thread);
		phone_tail(thread, tail, sizeof(tail));
		snprintf(detail, sizeof(detail), "conversation with %s", tail);
	} else if (is_post(pg)) {
		if (phone_normalise(form(pg, "phone"), pg->cfg->phone_country, phone, sizeof(phone)) != PHONE_NONE)
			q.phone = phone;
		q.text = *form(pg, "text") ? form(pg, "text") : NULL;
		q.from = parse_day(pg, form(pg, "from"));
		q.to = parse_day(pg, form(pg, "to"));
		if (q.to)
			q.to += 86400;
		tv_set(pg->v, "f_phone", form(pg, "phone"));
		tv_set(pg->v, "f_text", q.text);
		tv_set(pg->v, "f_from", form(pg, "from"));
		tv_set(pg->v, "f_to", form(pg, "to"));
		if (q.phone)
			phone_tail(q.phone, tail, sizeof(tail));
		snprintf(detail, sizeof(detail), "search%s%s%s", q.phone ? " phone " : "", q.phone ? tail : "",
		    q.text ? " text" : "");
	} else {
		snprintf(detail, sizeof(detail), "latest %d", MESSAGE_ROWS);
	}
	tv_list(pg->v, "messages");
	if (store_msg_search(pg->st, &q, message_row, pg) < 0)
		return error_page(pg, 503, "db");
	audit(pg, "view_messages", NULL, detail);
	return page_out(pg, 200, "messages.html", "短信记录", "nav_messages");
}

/* ---- 意见建议 ------------------------------------------------------------------------------------------ */

static int feedback_row(const struct store_feedback_row *f, void *arg_)
{
	struct page *pg = arg_;
	struct tv *it = tv_item(pg->v, "feedback");
	char t[32];

	tv_set(it, "number", f->number);
	tv_set(it, "at", when(pg, f->created_at, t, sizeof(t)));
	tv_set(it, "phone", f->phone);
	tv_set(it, "channel", f->channel);
	tv_set(it, "text", f->text);
	tv_bool(it, "handled", strcmp(f->status, "done") == 0);
	tv_set(it, "note", f->note);
	tv_set(it, "handled_at", f->done_at ? when(pg, f->done_at, t, sizeof(t)) : "");
	return 0;
}

static int serve_feedback(struct page *pg)
{
	if (!auth_may(&pg->u, AUTH_FEEDBACK, NULL))
		return deny(pg, "feedback", "feedback");
	if (is_post(pg)) {
		const char *number = form(pg, "number"), *note = form(pg, "note"), *answer = form(pg, "answer");
		struct ctx c = { pg->st, pg->cfg, pg->w->menu, pg->rq->now, NULL, 0 };
		char *phone = NULL;
		int64_t msg_id = 0;
		bool found = false;
		if (*number == '\0' || strlen(note) > 500 || strlen(answer) > 600)
			return error_page(pg, 400, "bad_request");
		if (store_begin(pg->st) < 0)
			return error_page(pg, 503, "db");
		/* marked done as `hotlinectl feedback done` does; an answer goes out like a case's notification */
		if (store_feedback_sender(pg->st, number, &phone, &msg_id, &found) < 0 ||
		    (found && store_feedback_done(pg->st, number, note, pg->rq->now, &found) < 0) ||
		    (found && *answer && outbox_queue_sms(&c, phone, answer, NOTIFY_APPLICANT, msg_id, NULL, NULL) < 0)) {
			store_rollback(pg->st);
			free(phone);
			return error_page(pg, 503, "db");
		}
		free(phone);
		if (!found) {
			store_rollback(pg->st);
			return error_page(pg, 404, "not_found");
		}
		audit(pg, "feedback_handled", number, *answer ? "answered by SMS" : "no SMS");
		if (store_commit(pg->st) < 0) {
			store_rollback(pg->st);
			return error_page(pg, 503, "db");
		}
		if (*answer)
			outbox_kick();
		return redirect(pg, "/feedback?ok=1");
	}
	tv_bool(pg->v, "ok", *arg(pg, "ok") != '\0');
	tv_list(pg->v, "feedback");
	if (store_feedback_rows(pg->st, 0, 0, FEEDBACK_ROWS, feedback_row, pg) < 0)
		return error_page(pg, 503, "db");
	audit(pg, "view_feedback", NULL, NULL);
	return page_out(pg, 200, "feedback.html", "意见建议", "nav_feedback");
}

/* ---- 统计报表 ------------------------------------------------------------------------------------------ */

struct bar {
	char label[96];
	int64_t value;
};

/* A horizontal bar chart as SVG, drawn by the server (chart.svg); labels escaped like any value. */
static void chart(struct page *pg, const char *name, const char *title, const struct bar *bars, size_t n)
{
	struct tv *v = tv_new();
	struct buf out = { 0 };
	int64_t max = 1;
	const int row = 24, label_w = 150, bar_w = 420;

	for (size_t i = 0; i < n; i++)
		if (bars[i].value > max)
			max = bars[i].value;
	tv_set(v, "title", title);
	tv_setf(v, "height", "%zu", n * (size_t)row + 10);
	tv_setf(v, "width", "%d", label_w + bar_w + 60);
	tv_list(v, "bars");
	for (size_t i = 0; i < n; i++) {
		struct tv *b = tv_item(v, "bars");
		int w = (int)(bars[i].value * bar_w / max);
		tv_setf(b, "y", "%zu", i * (size_t)row + 4);
		tv_setf(b, "ty", "%zu", i * (size_t)row + 20);
		tv_setf(b, "x", "%d", label_w);
		tv_setf(b, "w", "%d", w > 0 ? w : 1);
		tv_setf(b, "vx", "%d", label_w + (w > 0 ? w : 1) + 6);
		tv_setf(b, "lx", "%d", label_w - 6);
		tv_set(b, "label", bars[i].label);
		tv_setf(b, "value", "%lld", (long long)bars[i].value);
	}
	if (render_asset("chart.svg", v, &out) == 0)
		tv_set(pg->v, name, buf_str(&out));
	buf_free(&out);
	tv_free(v);
}

struct area_count {
	const struct config *cfg;
	struct bar *bars;
	size_t n, cap;
};

static int count_area(const struct store_case *k, void *arg_)
{
	struct area_count *a = arg_;
	const char *best = NULL;
	size_t best_len = 0;

	/* the longest area of the config named in the place, as routing does; else 其他 */
	for (size_t i = 0; k->place && i < a->cfg->nstaff; i++)
		for (size_t j = 0; j < a->cfg->staff[i].nareas; j++) {
			const char *area = a->cfg->staff[i].areas[j];
			if (strlen(area) > best_len && strstr(k->place, area)) {
				best = area;
				best_len = strlen(area);
			}
		}
	if (best == NULL)
		best = "其他";
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->bars[i].label, best) == 0) {
			a->bars[i].value++;
			return 0;
		}
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 16;
		a->bars = xrealloc(a->bars, a->cap * sizeof(*a->bars));
	}
	snprintf(a->bars[a->n].label, sizeof(a->bars[a->n].label), "%s", best);
	a->bars[a->n++].value = 1;
	return 0;
}

static const char *const report_header[] = { "项目", "分项", "数值" };

/* The rows of a report export; vals owns the numbers the cells point to (report_cells_free). */
static void report_cells(const struct report *r, char ***vals_out, const char ***cells, size_t *nrows)
{
	/* the same rows as `hotlinectl report --format csv`: section, item, value */
	size_t cap = 16 + r->ntopics + CASE_STATUS_COUNT, n = 0;
	char **vals = xcalloc(cap, sizeof(char *));
	const char **c = xcalloc(cap * 3, sizeof(char *));
#define ROW(sec, item, ...) do { vals[n] = xasprintf(__VA_ARGS__); c[n * 3] = sec; c[n * 3 + 1] = item; \
	c[n * 3 + 2] = vals[n]; n++; } while (0)
	ROW("咨询", "咨询人次", "%lld", (long long)r->consultations);
	ROW("咨询", "来电来信人数", "%lld", (long long)r->callers);
	for (size_t i = 0; i < r->ntopics; i++)
		ROW("咨询按主题", r->topics[i].name, "%lld", (long long)r->topics[i].count);
	ROW("请求", "上门请求", "%lld", (long long)r->requests);
	ROW("请求", "回电请求", "%lld", (long long)r->callbacks);
	for (int i = 0; i < CASE_STATUS_COUNT; i++)
		ROW("请求按状态", case_status_name((enum case_status)i), "%lld", (long long)r->by_status[i]);
	if (r->median_visit_days >= 0)
		ROW("时效", "到上门的天数（中位数）", "%.1f", r->median_visit_days);
	if (r->median_done_days >= 0)
		ROW("时效", "到办结的天数（中位数）", "%.1f", r->median_done_days);
	ROW("意见建议", "条数", "%lld", (long long)r->feedback);
#undef ROW
	*vals_out = vals;
	*cells = c;
	*nrows = n;
}

static void report_cells_free(char **vals, const char **cells, size_t nrows)
{
	for (size_t i = 0; i < nrows; i++)
		free(vals[i]);
	free(vals);
	free(cells);
}

static int serve_reports(struct page *pg)
{
	struct report r;
	int64_t today = local_midnight(pg, pg->rq->now), from, to;
	const char *fmt = arg(pg, "format");
	char t[32];

	if (!auth_may(&pg->u, AUTH_REPORTS, NULL))
		return deny(pg, "reports", "reports");
	from = parse_day(pg, arg(pg, "from"));
	to = parse_day(pg, arg(pg, "to"));
	if (from == 0)
		from = today - 83 * 86400; /* twelve weeks to today */
	to = to ? to + 86400 : today + 86400;
	if (to <= from)
		to = from + 86400;
	if (report_build(pg->st, pg->w->menu, pg->cfg->tz, from, to, &r) < 0)
		return error_page(pg, 503, "db");
	if (*fmt) {
		char **keep;
		const char **cells;
		size_t n;
		char err[160], name[64], detail[64];
		report_cells(&r, &keep, &cells, &n);
		buf_reset(&pg->rs->body);
		snprintf(name, sizeof(name), "report.%s", strcmp(fmt, "xlsx") == 0 ? "xlsx" : "csv");
		snprintf(detail, sizeof(detail), "report %s", name + 7);
		if (strcmp(fmt, "xlsx") == 0) {
			if (export_xlsx("统计报表", report_header, 3, cells, n, &pg->rs->body, err, sizeof(err)) < 0) {
				report_cells_free(keep, cells, n);
				report_free(&r);
				log_errorx("console", "XLSX export: %s", err);
				return error_page(pg, 500, "export");
			}
			pg->rs->type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
		} else {
			buf_adds(&pg->rs->body, "\xEF\xBB\xBF");
			for (size_t i = 0; i <= n; i++) {
				const char *const *row = i == 0 ? report_header : cells + (i - 1) * 3;
				for (size_t j = 0; j < 3; j++) {
					buf_adds(&pg->rs->body, j ? "," : "");
					csv_field(&pg->rs->body, row[j]);
				}
				buf_adds(&pg->rs->body, "\r\n");
			}
			pg->rs->type = "text/csv; charset=utf-8";
		}
		report_cells_free(keep, cells, n);
		report_free(&r);
		audit(pg, "export", "reports", detail);
		pg->rs->status = 200;
		pg->rs->filename = xstrdup(name);
		return 0;
	}

	tv_set(pg->v, "from", when(pg, from, t, sizeof(t)));
	t[10] = '\0';
	tv_set(pg->v, "f_from", t);
	when(pg, to - 86400, t, sizeof(t));
	t[10] = '\0';
	tv_set(pg->v, "f_to", t);
	tv_setf(pg->v, "consultations", "%lld", (long long)r.consultations);
	tv_setf(pg->v, "callers", "%lld", (long long)r.callers);
	tv_setf(pg->v, "requests", "%lld", (long long)r.requests);
	tv_setf(pg->v, "callbacks", "%lld", (long long)r.callbacks);
	tv_setf(pg->v, "feedback_n", "%lld", (long long)r.feedback);
	if (r.median_visit_days >= 0)
		tv_setf(pg->v, "visit_days", "%.1f", r.median_visit_days);
	if (r.median_done_days >= 0)
		tv_setf(pg->v, "done_days", "%.1f", r.median_done_days);

	/* consultations by topic */
	struct bar *bars = xcalloc(r.ntopics + CASE_STATUS_COUNT + CHART_BUCKETS + 1, sizeof(*bars));
	size_t nb = 0;
	tv_list(pg->v, "topics");
	for (size_t i = 0; i < r.ntopics; i++) {
		struct tv *it = tv_item(pg->v, "topics");
		tv_set(it, "name", r.topics[i].name);
		tv_setf(it, "count", "%lld", (long long)r.topics[i].count);
		if (nb < 15) {
			snprintf(bars[nb].label, sizeof(bars[nb].label), "%s", r.topics[i].name);
			bars[nb++].value = r.topics[i].count;
		}
	}
	chart(pg, "chart_topics", "咨询按主题", bars, nb);
	/* requests by status */
	tv_list(pg->v, "statuses");
	for (int i = 0; i < CASE_STATUS_COUNT; i++) {
		struct tv *it = tv_item(pg->v, "statuses");
		tv_set(it, "name", case_status_name((enum case_status)i));
		tv_setf(it, "count", "%lld", (long long)r.by_status[i]);
		snprintf(bars[i].label, sizeof(bars[i].label), "%s", case_status_name((enum case_status)i));
		bars[i].value = r.by_status[i];
	}
	chart(pg, "chart_status", "请求按状态", bars, CASE_STATUS_COUNT);
	report_free(&r);

	/* consultations per week (per 30 days over half a year) */
	int64_t step = to - from > CHART_BUCKETS * 7 * 86400 ? 30 * 86400 : 7 * 86400;
	nb = 0;
	for (int64_t b0 = from; b0 < to && nb < CHART_BUCKETS; b0 += step) {
		struct report w;
		if (report_build(pg->st, pg->w->menu, pg->cfg->tz, b0, b0 + step < to ? b0 + step : to, &w) < 0) {
			free(bars);
			return error_page(pg, 503, "db");
		}
		when(pg, b0, bars[nb].label, sizeof(bars[nb].label));
		bars[nb].label[10] = '\0';
		strcat(bars[nb].label, step == 7 * 86400 ? " 起一周" : " 起30天");
		bars[nb++].value = w.consultations;
		report_free(&w);
	}
	chart(pg, "chart_weeks", step == 7 * 86400 ? "每周咨询人次" : "每30天咨询人次", bars, nb);
	free(bars);

	/* requests by town or village */
	struct area_count ac = { pg->cfg, NULL, 0, 0 };
	struct store_case_query q = { 0 };
	q.from = from;
	q.to = to;
	if (store_case_query(pg->st, &q, count_area, &ac) < 0) {
		free(ac.bars);
		return error_page(pg, 503, "db");
	}
	chart(pg, "chart_areas", "请求按乡镇/村", ac.bars, ac.n);
	free(ac.bars);
	return page_out(pg, 200, "reports.html", "统计报表", "nav_reports");
}

/* ---- 菜单 ---------------------------------------------------------------------------------------------- */

static void menu_rows(struct page *pg, const struct menu *m, int idx, const char *digit, int depth, bool *shown)
{
	const struct menu_node *n = menu_node_at(m, idx);
	struct tv *it;
	size_t segs = 0;

	if (shown[idx])
		return;
	shown[idx] = true;
	it = tv_item(pg->v, "nodes");
	tv_setf(it, "indent", "%d", depth * 20);
	tv_set(it, "digit", digit);
	tv_set(it, "id", n->id);
	tv_set(it, "title", n->title);
	tv_bool(it, "action", n->action != MENU_ACT_NONE);
	tv_list(it, "pages");
	for (size_t p = 0; p < n->npages; p++) {
		struct sms_count sc;
		struct tv *pi = tv_item(it, "pages");
		sms_count(n->pages[p], strlen(n->pages[p]), &sc);
		tv_setf(pi, "chars", "%zu", sc.chars);
		tv_set(pi, "coding", sc.coding == SMS_CODING_GSM7 ? "GSM-7" : "UCS-2");
		tv_setf(pi, "segments", "%zu", sc.segments);
		segs += sc.segments;
	}
	tv_setf(it, "sms", "%zu", segs);
	for (int d = 1; d < MENU_DIGITS; d++) {
		int t = n->options[d];
		char dg[12];
		if (t < 0 || menu_node_at(m, t)->parent != idx)
			continue;
		snprintf(dg, sizeof(dg), "%d", d);
		menu_rows(pg, m, t, dg, depth + 1, shown);
	}
	for (size_t k = 0; k < menu_count(m); k++)
		if (menu_node_at(m, (int)k)->parent == idx && !shown[k])
			menu_rows(pg, m, (int)k, "*", depth + 1, shown);
}

/* The simulator: each line through the real dispatch on a throw-away database, as `hotlinectl sim` does. */
static int simulate(struct page *pg, const char *lines)
{
	struct store_opts so = { 0 };
	struct store *st;
	char err[256], *copy = xstrdup(lines), *save = NULL;
	int n = 0, rc = 0;

	so.create = true;
	so.migrate = true;
	so.synchronous = "normal";
	so.country = pg->cfg->phone_country;
	if (store_open(":memory:", &so, &st, err, sizeof(err)) < 0) {
		free(copy);
		log_errorx("console", "simulator: %s", err);
		return -1;
	}
	char me[PHONE_LEN];
	(void)phone_normalise("13800000000", pg->cfg->phone_country, me, sizeof(me)); /* a villager, as sim's */
	tv_list(pg->v, "sim");
	for (char *line = strtok_r(copy, "\r\n", &save); line && n < SIM_LINES; line = strtok_r(NULL, "\r\n", &save)) {
		struct ctx c = { st, pg->cfg, pg->w->menu, pg->rq->now, NULL, CTX_NO_LIMITS };
		struct inbound in = { CHANNEL_SMS, me, line, strlen(line), 1, MSG_KIND_TEXT, 0, NULL, NULL };
		struct dispatch_result r;
		if (*line == '\0')
			continue;
		if (store_begin(st) < 0 || dispatch_inbound(&c, &in, &r) < 0) {
			store_rollback(st);
			rc = -1;
			break;
		}
		if (store_commit(st) < 0) {
			dispatch_result_free(&r);
			rc = -1;
			break;
		}
		struct tv *it = tv_item(pg->v, "sim");
		tv_set(it, "in", line);
		tv_set(it, "node", r.node);
		tv_set(it, "reply", r.reply ? r.reply : "");
		if (r.reply) {
			struct sms_count sc;
			sms_count(r.reply, strlen(r.reply), &sc);
			tv_setf(it, "segments", "%zu", sc.segments);
		}
		dispatch_result_free(&r);
		n++;
	}
	store_close(st);
	free(copy);
	return rc;
}

static int serve_menu(struct page *pg)
{
	const struct menu *m = pg->w->menu;
	bool *shown;

	if (!auth_may(&pg->u, AUTH_MENU, NULL))
		return deny(pg, "menu", "menu");
	if (is_post(pg)) {
		const char *lines = form(pg, "lines");
		if (strlen(lines) > 4000)
			return error_page(pg, 400, "bad_request");
		tv_set(pg->v, "lines", lines);
		if (simulate(pg, lines) < 0)
			return error_page(pg, 503, "db");
	}
	shown = xcalloc(menu_count(m) + 1, sizeof(*shown));
	tv_list(pg->v, "nodes");
	menu_rows(pg, m, menu_root(m), "", 0, shown);
	free(shown);
	return page_out(pg, 200, "menu.html", "菜单", "nav_menu");
}

/* ---- the router ------------------------------------------------------------------------------------------- */

static int route(struct page *pg)
{
	const struct console_req *rq = pg->rq;
	const char *path = rq->path;
	bool post = is_post(pg);
	struct auth_policy p = { pg->cfg->console_login_failures, pg->cfg->console_lockout_minutes * 60,
		pg->cfg->console_session_idle };

	if (strcmp(path, "/static/console.css") == 0) {
		const struct console_asset *a = asset("console.css");
		if (a == NULL)
			return error_page(pg, 404, "not_found");
		buf_add(&pg->rs->body, a->data, a->len);
		pg->rs->status = 200;
		pg->rs->type = "text/css; charset=utf-8";
		return 0;
	}
	if (strcmp(path, "/favicon.ico") == 0)
		return error_page(pg, 404, "not_found");
	if (strcmp(path, "/setup") == 0)
		return serve_setup(pg);
	if (strcmp(path, "/login") == 0)
		return serve_login(pg);

	if (auth_session(pg->st, pg->cfg, &p, rq->session, rq->now, &pg->u, pg->csrf, &pg->authed) < 0)
		return error_page(pg, 503, "db");
	if (!pg->authed) {
		if (post)
			return deny(pg, NULL, "POST without a session");
		return redirect(pg, "/login");
	}
	/* every form carries the session's CSRF token */
	if (post && !auth_equal(form(pg, "csrf"), pg->csrf))
		return deny(pg, path, "POST without its CSRF token");

	if (strcmp(path, "/logout") == 0)
		return post ? serve_logout(pg) : redirect(pg, "/");
	if (strcmp(path, "/") == 0)
		return serve_dashboard(pg);
	if (strcmp(path, "/cases") == 0)
		return serve_cases(pg);
	if (strcmp(path, "/users") == 0)
		return serve_users(pg);
	if (strcmp(path, "/audit") == 0)
		return serve_audit(pg);
	if (strcmp(path, "/devices") == 0)
		return serve_devices(pg);
	if (strcmp(path, "/messages") == 0)
		return serve_messages(pg);
	if (strcmp(path, "/feedback") == 0)
		return serve_feedback(pg);
	if (strcmp(path, "/reports") == 0)
		return serve_reports(pg);
	if (strcmp(path, "/menu") == 0)
		return serve_menu(pg);
	if (str_startswith(path, "/cases/")) {
		const char *num = path + strlen("/cases/"), *slash = strchr(num, '/');
		size_t n = slash ? (size_t)(slash - num) : strlen(num);
		char number[40];
		if (!number_ok(num, n))
			return error_page(pg, 404, "no_case");
		snprintf(number, sizeof(number), "%.*s", (int)n, num);
		if (slash == NULL) {
			if (post)
				return act_on_case(pg, number);
			tv_bool(pg->v, "done_ok", *arg(pg, "ok") != '\0');
			return show_case(pg, number, 200, false);
		}
		if (strcmp(slash, "/print") == 0 && !post)
			return show_case(pg, number, 200, true);
	}
	return error_page(pg, 404, "not_found");
}

int console_handle(struct store *st, const struct world *w, const struct console_req *rq, struct console_resp *rs)
{
	struct page pg;
	int rc;

	memset(&pg, 0, sizeof(pg));
	memset(rs, 0, sizeof(*rs));
	pg.st = st;
	pg.w = w;
	pg.cfg = w->cfg;
	pg.rq = rq;
	pg.rs = rs;
	pg.v = tv_new();
	rc = route(&pg);
	tv_free(pg.v);
	if (rc < 0) {
		buf_reset(&rs->body);
		buf_adds(&rs->body, "500\n");
		rs->status = 500;
		rs->type = "text/plain; charset=utf-8";
	}
	return 0;
}

int console_first_start(struct store *st, const struct config *cfg, int64_t now)
{
	char token[AUTH_TOKEN_LEN + 1];
	int n;

	if (store_account_count(st, &n) < 0)
		return -1;
	if (n > 0)
		return 0;
	if (auth_setup_create(st, now, SETUP_VALID, token) < 0)
		return -1;
	if (*cfg->console_url)
		log_info("console", "no console accounts yet: create the first admin within 24 hours at %s/setup?token=%s",
		    cfg->console_url, token);
	else
		log_info("console",
		    "no console accounts yet: create the first admin within 24 hours at http://%s:%d/setup?token=%s",
		    cfg->console_address, cfg->console_port, token);
	return 0;
}
