/*
 * auth and tmpl: the console's security core. Argon2id hashes verify only
 * their password; tokens are 256 random bits (distinct, balanced bits);
 * secrets compare in constant time (equal only when equal); the lockout
 * arithmetic (5 failures in 15 minutes lock for 15 minutes); THE role check
 * (admin, supervisor, staff by area or assignment, viewer); the flows over
 * a real SQLite store (lockout per account and per address, a disabled
 * account, idle sessions, the one-time setup token); and the template
 * renderer's escape-by-default. Time is passed in, never waited for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth.h"
#include "store.h"
#include "store_console.h"
#include "tmpl.h"
#include "util.h"

#define T0 1800000000LL

static void test_hash_verify(void **state)
{
	char h1[AUTH_HASH_MAX], h2[AUTH_HASH_MAX];

	(void)state;
	assert_int_equal(auth_init(), 0);
	assert_int_equal(auth_hash_password("correct horse", h1), 0);
	assert_int_equal(auth_hash_password("correct horse", h2), 0);
	assert_true(str_startswith(h1, "$argon2id$"));
	assert_string_not_equal(h1, h2); /* salted */
	assert_true(auth_verify_password(h1, "correct horse"));
	assert_true(auth_verify_password(h2, "correct horse"));
	assert_false(auth_verify_password(h1, "correct hors"));
	assert_false(auth_verify_password(h1, "correct horse "));
	assert_false(auth_verify_password(h1, ""));
	assert_false(auth_verify_password("not a hash", "correct horse"));
	assert_false(auth_verify_password(NULL, "x"));
	assert_false(auth_password_ok("short"));
	assert_true(auth_password_ok("eight888"));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_token_entropy(void **state)
{
	enum { N = 2000 };
	static char tok[N][AUTH_TOKEN_LEN + 1];
	char *sorted[N];
	long ones = 0;

	(void)state;
	assert_int_equal(auth_init(), 0);
	for (int i = 0; i < N; i++) {
		auth_random_token(tok[i]);
		assert_int_equal(strlen(tok[i]), AUTH_TOKEN_LEN);
		for (int j = 0; j < AUTH_TOKEN_LEN; j++) {
			char c = tok[i][j];
			assert_true((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
			int v = c <= '9' ? c - '0' : c - 'a' + 10;
			ones += __builtin_popcount((unsigned)v);
		}
		sorted[i] = tok[i];
	}
	qsort(sorted, N, sizeof(sorted[0]), cmp_str);
	for (int i = 1; i < N; i++)
		assert_string_not_equal(sorted[i - 1], sorted[i]);
	/* 512,000 bits: a fair source lands within 0.5% of half (about 7 standard deviations) */
	long bits = (long)N * AUTH_TOKEN_LEN * 4;
	assert_true(ones > bits / 2 - bits / 200 && ones < bits / 2 + bits / 200);

	char h1[AUTH_TOKEN_LEN + 1], h2[AUTH_TOKEN_LEN + 1];
	auth_token_hash(tok[0], h1);
	auth_token_hash(tok[0], h2);
	assert_string_equal(h1, h2);
	assert_string_not_equal(h1, tok[0]);
	auth_token_hash(tok[1], h2);
	assert_string_not_equal(h1, h2);
}

static void test_equal(void **state)
{
	(void)state;
	assert_true(auth_equal("abc123", "abc123"));
	assert_false(auth_equal("abc123", "abc124"));
	assert_false(auth_equal("abc123", "abc12"));
	assert_false(auth_equal("abc12", "abc123"));
	assert_false(auth_equal("", ""));
	assert_false(auth_equal(NULL, "abc"));
	assert_false(auth_equal("abc", NULL));
}

static void test_lockout_arithmetic(void **state)
{
	const int max = 5, lock = 900;
	int64_t t[8];

	(void)state;
	/* four failures: not locked */
	for (int i = 0; i < 4; i++)
		t[i] = T0 + i * 10;
	assert_int_equal(auth_locked_until(t, 4, T0 + 40, max, lock), 0);
	/* the fifth within 15 minutes locks for 15 minutes from it */
	t[4] = T0 + 60;
	assert_int_equal(auth_locked_until(t, 5, T0 + 60, max, lock), T0 + 60 + lock);
	assert_int_equal(auth_locked_until(t, 5, T0 + 60 + lock - 1, max, lock), T0 + 60 + lock);
	assert_int_equal(auth_locked_until(t, 5, T0 + 60 + lock, max, lock), 0);
	/* five failures spread over more than 15 minutes: no lockout */
	int64_t spread[5] = { T0, T0 + 300, T0 + 600, T0 + 900, T0 + 901 };
	assert_int_equal(auth_locked_until(spread, 5, T0 + 901, max, lock), 0);
	/* exactly 15 minutes between the first and the fifth still counts */
	int64_t edge[5] = { T0, T0 + 300, T0 + 600, T0 + 800, T0 + 900 };
	assert_int_equal(auth_locked_until(edge, 5, T0 + 900, max, lock), T0 + 900 + lock);
	/* after a lockout ends, one more failure does not lock again */
	int64_t after[6] = { T0, T0 + 1, T0 + 2, T0 + 3, T0 + 4, T0 + 4 + lock + 1 };
	assert_int_equal(auth_locked_until(after, 6, T0 + 4 + lock + 1, max, lock), 0);
	/* none at all, and a limit of one */
	assert_int_equal(auth_locked_until(NULL, 0, T0, max, lock), 0);
	assert_int_equal(auth_locked_until(t, 1, T0, 1, lock), T0 + lock);
}

static void test_roles(void **state)
{
	char *areas_li[] = { "白水镇", "寨子街村" };
	struct staff_cfg wang = { "王建国", "13900000001", STAFF_ROLE_STAFF, NULL, 0, true, 0 };
	struct staff_cfg li = { "李秀英", "13900000002", STAFF_ROLE_STAFF, areas_li, 2, false, 0 };
	struct auth_user admin = { 1, "a", AUTH_ADMIN, NULL };
	struct auth_user sup = { 2, "s", AUTH_SUPERVISOR, NULL };
	struct auth_user staff = { 3, "li", AUTH_STAFF, &li };
	struct auth_user unlinked = { 4, "x", AUTH_STAFF, NULL };
	struct auth_user viewer = { 5, "v", AUTH_VIEWER, NULL };
	struct store_case in_area = { 0 }, other_town = { 0 }, assigned = { 0 };

	(void)state;
	(void)wang;
	in_area.place = "白水镇某村2组";
	in_area.staff = "王建国";
	other_town.place = "崆峒镇东关村";
	other_town.staff = "王建国";
	assigned.place = "崆峒镇东关村";
	assigned.staff = "李秀英";

	for (int a = AUTH_DASHBOARD; a <= AUTH_ACT_LAST; a++) {
		assert_true(auth_may(&admin, (enum auth_act)a, &other_town));
		assert_false(auth_may(NULL, (enum auth_act)a, &other_town));
	}
	assert_false(auth_may(&admin, AUTH_CASE_VIEW, NULL)); /* a case act needs its case */

	assert_true(auth_may(&sup, AUTH_CASE_VIEW, &other_town));
	assert_true(auth_may(&sup, AUTH_CASE_ASSIGN, &other_town));
	assert_true(auth_may(&sup, AUTH_REPORTS, NULL));
	assert_false(auth_may(&sup, AUTH_USERS, NULL));
	assert_false(auth_may(&sup, AUTH_AUDIT, NULL));
	assert_true(auth_may(&sup, AUTH_CASE_ALL, NULL));
	assert_false(auth_may(&staff, AUTH_CASE_ALL, NULL));
	assert_false(auth_may(&viewer, AUTH_CASE_ALL, NULL));

	assert_true(auth_may(&staff, AUTH_CASE_LIST, NULL));
	assert_true(auth_may(&staff, AUTH_CASE_VIEW, &in_area));    /* their town */
	assert_true(auth_may(&staff, AUTH_CASE_ACT, &in_area));
	assert_true(auth_may(&staff, AUTH_CASE_VIEW, &assigned));   /* theirs, elsewhere */
	assert_false(auth_may(&staff, AUTH_CASE_VIEW, &other_town)); /* another town's, someone else's */
	assert_false(auth_may(&staff, AUTH_CASE_ACT, &other_town));
	assert_false(auth_may(&staff, AUTH_CASE_ASSIGN, &in_area));
	assert_false(auth_may(&staff, AUTH_USERS, NULL));
	assert_false(auth_may(&staff, AUTH_AUDIT, NULL));
	assert_false(auth_may(&staff, AUTH_MESSAGES, NULL));
	assert_false(auth_may(&staff, AUTH_FEEDBACK, NULL));
	assert_true(auth_may(&staff, AUTH_MENU, NULL));
	assert_true(auth_may(&sup, AUTH_MESSAGES, NULL));
	assert_true(auth_may(&sup, AUTH_FEEDBACK, NULL));
	assert_false(auth_may(&unlinked, AUTH_CASE_LIST, NULL));
	assert_false(auth_may(&unlinked, AUTH_CASE_VIEW, &in_area));

	assert_true(auth_may(&viewer, AUTH_DASHBOARD, NULL));
	assert_true(auth_may(&viewer, AUTH_REPORTS, NULL));
	assert_false(auth_may(&viewer, AUTH_CASE_LIST, NULL));
	assert_false(auth_may(&viewer, AUTH_CASE_VIEW, &in_area));
	assert_false(auth_may(&viewer, AUTH_EXPORT, NULL));
	assert_false(auth_may(&viewer, AUTH_USERS, NULL));
	assert_false(auth_may(&viewer, AUTH_MESSAGES, NULL));
	assert_false(auth_may(&viewer, AUTH_FEEDBACK, NULL));
	assert_false(auth_may(&viewer, AUTH_MENU, NULL));

	assert_int_equal(auth_role_parse("supervisor"), AUTH_SUPERVISOR);
	assert_int_equal(auth_role_parse("root"), -1);
	assert_string_equal(auth_role_code(AUTH_VIEWER), "viewer");
}

static struct store *mem_store(void)
{
	struct store_opts o = { 0 };
	struct store *st = NULL;
	char err[256];

	o.create = true;
	o.migrate = true;
	o.synchronous = "normal";
	assert_int_equal(store_open(":memory:", &o, &st, err, sizeof(err)), 0);
	return st;
}

static enum auth_login_outcome login(struct store *st, const struct config *cfg, const struct auth_policy *p,
    const char *name, const char *pw, const char *addr, int64_t now, struct auth_login *r)
{
	assert_int_equal(auth_login(st, cfg, p, name, pw, addr, now, r), 0);
	return r->outcome;
}

static void test_login_flows(void **state)
{
	struct store *st = mem_store();
	struct config cfg;
	struct auth_policy p = { 5, 900, 1800 };
	struct auth_login r;
	struct auth_user u;
	char csrf[AUTH_TOKEN_LEN + 1];
	bool ok;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(auth_init(), 0);
	assert_int_equal(auth_user_add(st, "admin", "secret-one", "admin", NULL, T0, &ok), 0);
	assert_true(ok);
	assert_int_equal(auth_user_add(st, "admin", "other-pass", "viewer", NULL, T0, &ok), 0);
	assert_false(ok); /* names are unique */
	assert_int_equal(auth_user_add(st, "clerk", "secret-two", "viewer", NULL, T0, &ok), 0);

	/* a good login opens a session whose cookie finds the user */
	assert_int_equal(login(st, &cfg, &p, "admin", "secret-one", "10.0.0.1", T0, &r), AUTH_LOGIN_OK);
	char token[AUTH_TOKEN_LEN + 1];
	snprintf(token, sizeof(token), "%s", r.token);
	assert_int_equal(auth_session(st, &cfg, &p, token, T0 + 10, &u, csrf, &ok), 0);
	assert_true(ok);
	assert_string_equal(u.name, "admin");
	assert_int_equal(u.role, AUTH_ADMIN);
	assert_int_equal(strlen(csrf), AUTH_TOKEN_LEN);
	/* idle past console.session_idle: gone */
	assert_int_equal(auth_session(st, &cfg, &p, token, T0 + 10 + 1801, &u, csrf, &ok), 0);
	assert_false(ok);
	assert_int_equal(auth_session(st, &cfg, &p, token, T0 + 20, &u, csrf, &ok), 0);
	assert_false(ok); /* deleted, not only refused */
	assert_int_equal(auth_session(st, &cfg, &p, "not-a-token", T0, &u, csrf, &ok), 0);
	assert_false(ok);

	/* five wrong passwords lock the account; the right one is then refused too */
	for (int i = 0; i < 4; i++) {
		assert_int_equal(login(st, &cfg, &p, "admin", "wrong", "10.0.0.2", T0 + 100 + i, &r), AUTH_LOGIN_BAD);
		assert_false(r.locked_now);
	}
	assert_int_equal(login(st, &cfg, &p, "admin", "wrong", "10.0.0.2", T0 + 104, &r), AUTH_LOGIN_BAD);
	assert_true(r.locked_now);
	assert_int_equal(r.locked_until, T0 + 104 + 900);
	assert_int_equal(login(st, &cfg, &p, "admin", "secret-one", "10.0.0.3", T0 + 200, &r), AUTH_LOGIN_LOCKED);
	/* the address is locked too, for every account */
	assert_int_equal(login(st, &cfg, &p, "clerk", "secret-two", "10.0.0.2", T0 + 200, &r), AUTH_LOGIN_LOCKED);
	assert_int_equal(login(st, &cfg, &p, "clerk", "secret-two", "10.0.0.4", T0 + 200, &r), AUTH_LOGIN_OK);
	/* 15 minutes later it opens again */
	assert_int_equal(login(st, &cfg, &p, "admin", "secret-one", "10.0.0.3", T0 + 104 + 900, &r), AUTH_LOGIN_OK);

	/* an unknown name is a failure like a wrong password */
	assert_int_equal(login(st, &cfg, &p, "nobody", "whatever1", "10.0.0.5", T0 + 2000, &r), AUTH_LOGIN_BAD);

	/* disabling ends the sessions and refuses the login */
	assert_int_equal(login(st, &cfg, &p, "clerk", "secret-two", "10.0.0.4", T0 + 2000, &r), AUTH_LOGIN_OK);
	snprintf(token, sizeof(token), "%s", r.token);
	assert_int_equal(auth_user_disable(st, "clerk", true, T0 + 2001, &ok), 0);
	assert_true(ok);
	assert_int_equal(auth_session(st, &cfg, &p, token, T0 + 2002, &u, csrf, &ok), 0);
	assert_false(ok);
	assert_int_equal(login(st, &cfg, &p, "clerk", "secret-two", "10.0.0.4", T0 + 2003, &r), AUTH_LOGIN_DISABLED);
	/* a new password works, the old one does not */
	assert_int_equal(auth_user_passwd(st, "admin", "new-secret", T0 + 2004, &ok), 0);
	assert_true(ok);
	assert_int_equal(login(st, &cfg, &p, "admin", "secret-one", "10.0.0.6", T0 + 2005, &r), AUTH_LOGIN_BAD);
	assert_int_equal(login(st, &cfg, &p, "admin", "new-secret", "10.0.0.6", T0 + 2006, &r), AUTH_LOGIN_OK);
	store_close(st);
}

static void test_setup_token(void **state)
{
	struct store *st = mem_store();
	char tok[AUTH_TOKEN_LEN + 1], tok2[AUTH_TOKEN_LEN + 1];
	bool ok;

	(void)state;
	assert_int_equal(auth_setup_create(st, T0, 86400, tok), 0);
	assert_int_equal(auth_setup_check(st, tok, T0 + 100, false, &ok), 0);
	assert_true(ok);
	assert_int_equal(auth_setup_check(st, tok, T0 + 86400, false, &ok), 0);
	assert_false(ok); /* expired after 24 h */
	tok2[0] = '\0';
	assert_int_equal(auth_setup_check(st, tok2, T0, false, &ok), 0);
	assert_false(ok);
	/* a new link replaces the old; a used link is gone */
	assert_int_equal(auth_setup_create(st, T0, 86400, tok2), 0);
	assert_int_equal(auth_setup_check(st, tok, T0 + 1, false, &ok), 0);
	assert_false(ok);
	assert_int_equal(auth_setup_check(st, tok2, T0 + 1, true, &ok), 0);
	assert_true(ok);
	assert_int_equal(auth_setup_check(st, tok2, T0 + 2, true, &ok), 0);
	assert_false(ok);
	store_close(st);
}

static void test_template_escapes(void **state)
{
	struct tv *v = tv_new();
	struct buf out = { 0 };
	char err[128];
	static const char t[] = "<p>{{name}}</p><a title=\"{{name}}\">{{{raw}}}</a>"
				"{{#rows}}[{{n}}:{{name}}]{{/rows}}{{^rows}}none{{/rows}}{{#flag}}F{{/flag}}{{^flag}}f{{/flag}}";

	(void)state;
	tv_set(v, "name", "<script>alert(\"x\")</script>&'`");
	tv_set(v, "raw", "<b>ok</b>");
	tv_setf(tv_item(v, "rows"), "n", "%d", 1);
	struct tv *it = tv_item(v, "rows");
	tv_set(it, "n", "2");
	tv_set(it, "name", "own");
	if (tmpl_render(t, strlen(t), v, &out, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_string_equal(buf_str(&out),
	    "<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;&#96;</p>"
	    "<a title=\"&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;&#96;\"><b>ok</b></a>"
	    "[1:&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;&#96;][2:own]f");
	assert_null(strstr(buf_str(&out), "<script"));

	/* an empty list and a set flag */
	struct tv *w = tv_new();
	tv_list(w, "rows");
	tv_bool(w, "flag", true);
	buf_reset(&out);
	assert_int_equal(tmpl_render(t, strlen(t), w, &out, err, sizeof(err)), 0);
	assert_string_equal(buf_str(&out), "<p></p><a title=\"\"></a>noneF");

	/* malformed templates are errors, not output */
	static const char *const bad[] = { "{{#a}}x", "{{/a}}", "{{name", "{{}}", "{{{raw}}" };
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		buf_reset(&out);
		assert_int_equal(tmpl_render(bad[i], strlen(bad[i]), v, &out, err, sizeof(err)), -1);
	}
	buf_free(&out);
	tv_free(v);
	tv_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_verify),
		cmocka_unit_test(test_token_entropy),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_lockout_arithmetic),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_login_flows),
		cmocka_unit_test(test_setup_token),
		cmocka_unit_test(test_template_escapes),
	};
	return cmocka_run_group_tests_name("auth", tests, NULL, NULL);
}
