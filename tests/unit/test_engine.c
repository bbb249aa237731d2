/*
 * engine: one conversation step, pure. Conversations are data: each step is
 * what the villager sends and what must come back (a node's page, a named
 * text, or nothing yet when the caller still has work: status, feedback, a
 * call back, a confirmed form), where the session stands after it, and in
 * which mode. Menus: tests/data/menus/ok.
 *
 * Between steps the runner does what dispatch.c does with a session: it is
 * no longer fresh, and the reply becomes its last reply (what 重复 repeats).
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "engine.h"
#include "phone.h"
#include "menu.h"
#include "session.h"
#include "hl.h"

#define PHONE "+8613912345678"

struct fixture {
	struct config *cfg;
	struct menu *m;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[PATH_MAX];
	struct diag d;

	snprintf(path, sizeof(path), "%s/tests/data/hotline-test.cfg", hl_src_dir());
	diag_init(&d);
	f->cfg = config_load(path, &d);
	if (f->cfg)
		f->m = menu_load(f->cfg->menus_dir, f->cfg, &d);
	if (f->m == NULL) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "%s\n", d.items[i].text);
		diag_free(&d);
		return -1;
	}
	diag_free(&d);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	menu_free(f->m);
	config_free(f->cfg);
	free(f);
	return 0;
}

#define ANY -1
#define MENU SESSION_MENU
#define FORM SESSION_FORM
#define FEEDBACK SESSION_FEEDBACK

/*
 * One step. reply: "page:ID" or "page:ID:N" (a page of a node), "text:NAME"
 * (a system text as loaded), "form:ID" (the form node's page and form_name),
 * "=TEXT" (exactly), "~TEXT" (contains), NULL (no reply yet: the caller's
 * action writes it).
 */
struct step {
	const char *in;
	const char *reply;
	const char *at;   /* the session's node after the step */
	int mode;         /* enum session_mode, or ANY */
	int action;       /* enum engine_action */
};

static char *expected_reply(const struct menu *m, const char *spec)
{
	if (strncmp(spec, "page:", 5) == 0) {
		char id[MENU_ID_MAX];
		const char *colon = strchr(spec + 5, ':');
		size_t p = colon ? (size_t)atoi(colon + 1) : 0;
		const struct menu_node *n;
		snprintf(id, sizeof(id), "%.*s", colon ? (int)(colon - spec - 5) : (int)strlen(spec + 5), spec + 5);
		n = menu_node_at(m, menu_find(m, id));
		if (n == NULL || p >= n->npages)
			fail_msg("test error: no %s", spec);
		return strdup(n->pages[p]);
	}
	if (strncmp(spec, "text:", 5) == 0) {
		const char *t = menu_text(m, spec + 5);
		if (t == NULL)
			fail_msg("test error: no text %s", spec + 5);
		return strdup(t);
	}
	if (strncmp(spec, "form:", 5) == 0) {
		const struct menu_node *n = menu_node_at(m, menu_find(m, spec + 5));
		char *s = NULL;
		assert_non_null(n);
		assert_true(asprintf(&s, "%s\n%s", n->pages[0], menu_text(m, "form_name")) > 0);
		return s;
	}
	if (spec[0] == '=')
		return strdup(spec + 1);
	return NULL;
}

/* Run one step on s and check it; the engine's output is returned for more checks (free it). */
static void run_step(const struct menu *m, struct session *s, const struct step *st, int no, struct engine_out *out)
{
	struct engine_in in = { .text = st->in, .len = strlen(st->in), .phone = PHONE, .country = PHONE_COUNTRY_DEFAULT };
	char *want;

	engine_step(m, s, &in, out);
	if ((int)out->action != st->action)
		fail_msg("step %d \"%s\": action %d, want %d", no, st->in, out->action, st->action);
	if (st->reply == NULL) {
		if (out->reply != NULL)
			fail_msg("step %d \"%s\": reply \"%s\", want none yet", no, st->in, out->reply);
	} else if (st->reply[0] == '~') {
		if (out->reply == NULL || strstr(out->reply, st->reply + 1) == NULL)
			fail_msg("step %d \"%s\": reply \"%s\" lacks \"%s\"", no, st->in, out->reply ? out->reply : "(none)",
			    st->reply + 1);
	} else {
		want = expected_reply(m, st->reply);
		if (out->reply == NULL || strcmp(out->reply, want) != 0)
			fail_msg("step %d \"%s\": reply \"%s\", want %s \"%s\"", no, st->in,
			    out->reply ? out->reply : "(none)", st->reply, want);
		free(want);
	}
	if (st->at && strcmp(s->node, st->at) != 0)
		fail_msg("step %d \"%s\": at \"%s\", want \"%s\"", no, st->in, s->node, st->at);
	if (st->mode != ANY && s->mode != st->mode)
		fail_msg("step %d \"%s\": mode %d, want %d", no, st->in, s->mode, st->mode);
	/* as dispatch does */
	s->fresh = false;
	if (out->reply)
		session_set(&s->last_reply, out->reply);
}

static void run(const struct menu *m, struct session *s, const struct step *steps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct engine_out out;
		run_step(m, s, &steps[i], (int)i + 1, &out);
		engine_out_free(&out);
	}
}

static void fresh(struct session *s)
{
	session_init(s, "sms:" PHONE, PHONE, CHANNEL_SMS);
}

#define RUN(f, s, steps) run((f)->m, (s), (steps), sizeof(steps) / sizeof((steps)[0]))

/* ---- digits ---------------------------------------------------------------------------------- */

static void test_digits(void **state)
{
	static const struct step steps[] = {
		{ "1", "page:dibao", "dibao", MENU, ENGINE_REPLY },
		{ "2", "page:dibao.amount", "dibao.amount", MENU, ENGINE_REPLY },
		{ "9", "page:dibao.amount:1", "dibao.amount", MENU, ENGINE_REPLY },        /* next page */
		{ "9", "text:bad_option", "dibao.amount", MENU, ENGINE_REPLY },           /* no page after the last */
		{ "3", "page:dibao.apply", "dibao.apply", MENU, ENGINE_REPLY },           /* a leaf: the parent's options */
		{ "回复4", "page:dibao.review", "dibao.review", MENU, ENGINE_REPLY },
		{ "5", "page:contact", "contact", MENU, ENGINE_REPLY },                   /* dibao's 5 */
		{ "0", "page:root", "root", MENU, ENGINE_REPLY },                         /* contact's parent is root */
		{ "0", "page:root", "root", MENU, ENGINE_REPLY },                         /* 0 at root stays */
		{ "9", "text:bad_option", "root", MENU, ENGINE_REPLY },                   /* root has no 9 */
		{ "４", "page:gaoling", "gaoling", MENU, ENGINE_REPLY },                  /* full-width */
		{ "二", "page:gaoling.amount", "gaoling.amount", MENU, ENGINE_REPLY },     /* a Chinese numeral */
		{ "0", "page:gaoling", "gaoling", MENU, ENGINE_REPLY },                   /* back one level */
		{ "5", "text:bad_option", "gaoling", MENU, ENGINE_REPLY },                /* gaoling has options, no 5 */
		{ "123", "text:bad_option", "gaoling", MENU, ENGINE_REPLY },
		{ "1", "page:gaoling.who", "gaoling.who", MENU, ENGINE_REPLY },
		{ "00", "page:root", "root", MENU, ENGINE_REPLY },                        /* home from anywhere */
		{ "6", "page:zhitongche", "zhitongche", MENU, ENGINE_REPLY },
		{ "2", "text:bad_option", "zhitongche", MENU, ENGINE_REPLY },
		{ "00", "page:root", "root", MENU, ENGINE_REPLY },
		{ "7", NULL, "status", MENU, ENGINE_STATUS },                             /* the caller lists the cases */
	};
	struct fixture *f = *state;
	struct session s;

	fresh(&s);
	RUN(f, &s, steps);
	session_clear(&s);
}

static void test_digits_answered_node(void **state)
{
	struct fixture *f = *state;
	struct session s;
	struct engine_out out;
	struct engine_in in = { .text = "2", .len = 1, .phone = PHONE, .country = PHONE_COUNTRY_DEFAULT };

	fresh(&s);
	engine_step(f->m, &s, &in, &out);
	assert_int_equal(out.node, menu_find(f->m, "tekun"));
	assert_false(out.unknown);
	assert_null(out.payload);
	engine_out_free(&out);
	/* a bad option is answered by the node the sender is at */
	in.text = "8";
	engine_step(f->m, &s, &in, &out);
	assert_int_equal(out.node, menu_find(f->m, "tekun"));
	engine_out_free(&out);
	session_clear(&s);
}

/* ---- words ------------------------------------------------------------------------------------ */

static void test_keywords(void **state)
{
	static const struct step steps[] = {
		{ "我想问一下低保咋申请", "page:dibao.apply", "dibao.apply", MENU, ENGINE_REPLY },
		{ "多少钱", "page:dibao.amount", "dibao.amount", MENU, ENGINE_REPLY },   /* a cue in the sender's topic */
		{ "高龄", "page:gaoling", "gaoling", MENU, ENGINE_REPLY },               /* a keyword jumps anywhere */
		{ "特困多少钱", "page:tekun.amount", "tekun.amount", MENU, ENGINE_REPLY },
		{ "我今年八十五岁", "page:gaoling", "gaoling", MENU, ENGINE_REPLY },
		{ "你好", "page:root", "root", MENU, ENGINE_REPLY },
		{ "电话", "page:contact", "contact", MENU, ENGINE_REPLY },
		{ "查询", NULL, "status", MENU, ENGINE_STATUS },
		{ "人工", NULL, "human", MENU, ENGINE_CALLBACK },
	};
	struct fixture *f = *state;
	struct session s;

	fresh(&s);
	RUN(f, &s, steps);
	session_clear(&s);
}

static void test_cue_needs_a_topic(void **state)
{
	/* a fresh sender has no topic: a bare cue is not understood */
	static const struct step steps[] = {
		{ "多少钱", "text:unknown", "root", MENU, ENGINE_REPLY },
	};
	struct fixture *f = *state;
	struct session s;

	fresh(&s);
	RUN(f, &s, steps);
	session_clear(&s);

	/* ... but a session that had expired (fresh again) at a topic has none either */
	fresh(&s);
	snprintf(s.node, sizeof(s.node), "dibao.who");
	RUN(f, &s, steps);
	session_clear(&s);
}

static void test_unknown_and_empty(void **state)
{
	static const struct step steps[] = {
		{ "1", "page:dibao", "dibao", MENU, ENGINE_REPLY },
		{ "4", "page:dibao.review", "dibao.review", MENU, ENGINE_REPLY },
		{ "村口的路灯坏了", "text:unknown", "root", MENU, ENGINE_REPLY },          /* not understood: root */
		{ "1", "page:dibao", "dibao", MENU, ENGINE_REPLY },                       /* so digits read from root */
		{ "", "page:root", "root", MENU, ENGINE_REPLY },                          /* empty: the main menu */
		{ "3", "page:linshi", "linshi", MENU, ENGINE_REPLY },
		{ "？？！😀", "page:root", "root", MENU, ENGINE_REPLY },                  /* nothing left once normalised */
	};
	struct fixture *f = *state;
	struct session s;
	struct engine_out out;
	struct engine_in in = { .text = "abcdef", .len = 6, .phone = PHONE, .country = PHONE_COUNTRY_DEFAULT };

	fresh(&s);
	RUN(f, &s, steps);
	engine_step(f->m, &s, &in, &out);
	assert_true(out.unknown);
	assert_int_equal(out.node, menu_root(f->m));
	engine_out_free(&out);
	in.text = "低保";
	in.len = strlen(in.text);
	engine_step(f->m, &s, &in, &out);
	assert_false(out.unknown);
	engine_out_free(&out);
	session_clear(&s);
}

static void test_repeat(void **state)
{
	static const struct step steps[] = {
		{ "重复", "text:repeat_none", "root", MENU, ENGINE_REPLY }, /* nothing said yet */
		{ "1", "page:dibao", "dibao", MENU, ENGINE_REPLY },
		{ "2", "page:dibao.amount", "dibao.amount", MENU, ENGINE_REPLY },
		{ "9", "page:dibao.amount:1", "dibao.amount", MENU, ENGINE_REPLY },
		{ "重复", "page:dibao.amount:1", "dibao.amount", MENU, ENGINE_REPLY }, /* the last reply, the session stays */
		{ "CF", "page:dibao.amount:1", "dibao.amount", MENU, ENGINE_REPLY },
		{ "0", "page:dibao", "dibao", MENU, ENGINE_REPLY },                    /* and goes on from where it was */
	};
	struct fixture *f = *state;
	struct session s;

	fresh(&s);
	RUN(f, &s, steps);
	assert_int_equal(s.page, 0);
	session_clear(&s);

	/* the last reply survives the session (a timed-out session keeps it) */
	fresh(&s);
	session_set(&s.last_reply, "上次说的话");
	{
		static const struct step again[] = { { "重复", "=上次说的话", "root", MENU, ENGINE_REPLY } };
		RUN(f, &s, again);
	}
	session_clear(&s);
}

/* ---- feedback ------------------------------------------------------------------------------ */

static void test_feedback_mode(void **state)
{
	static const struct step steps[] = {
		{ "8", "page:feedback", "feedback", FEEDBACK, ENGINE_REPLY },
		{ "", "page:feedback", "feedback", FEEDBACK, ENGINE_REPLY },   /* nothing said: asked again */
		{ "村里的路灯坏了三个月了", NULL, "feedback", MENU, ENGINE_FEEDBACK },
		{ "8", "page:feedback", "feedback", FEEDBACK, ENGINE_REPLY },
		{ "0", "page:root", "root", MENU, ENGINE_REPLY },              /* 0 leaves without a message */
		{ "8", "page:feedback", "feedback", FEEDBACK, ENGINE_REPLY },
		{ "00", "page:root", "root", MENU, ENGINE_REPLY },
		{ "投诉", "page:feedback", "feedback", FEEDBACK, ENGINE_REPLY }, /* the keyword alone: the question */
		{ "1", NULL, "feedback", MENU, ENGINE_FEEDBACK },               /* in feedback mode even a digit is the message */
	};
	struct fixture *f = *state;
	struct session s;
	struct engine_out out;

	fresh(&s);
	RUN(f, &s, steps);
	session_clear(&s);

	/* the payload is the message as sent, not normalised */
	fresh(&s);
	run_step(f->m, &s, &steps[0], 1, &out);
	engine_out_free(&out);
	{
		static const struct step say = { "村里的路灯坏了！！请修一修。", NULL, "feedback", MENU, ENGINE_FEEDBACK };
		run_step(f->m, &s, &say, 2, &out);
		assert_string_equal(out.payload, "村里的路灯坏了！！请修一修。");
		assert_true(out.keep);
		engine_out_free(&out);
	}
	session_clear(&s);
}

static void test_feedback_inline(void **state)
{
	struct fixture *f = *state;
	struct session s;
	struct engine_out out;
	/* 建议 and 8 more characters: the message is the suggestion itself */
	static const struct step inline_step = { "我建议村里的路灯修一修", NULL, "feedback", MENU, ENGINE_FEEDBACK };
	/* too short to be the suggestion: ask for it */
	static const struct step short_step = { "我有个建议", "page:feedback", "feedback", FEEDBACK, ENGINE_REPLY };

	fresh(&s);
	run_step(f->m, &s, &inline_step, 1, &out);
	assert_string_equal(out.payload, "我建议村里的路灯修一修");
	assert_int_equal(out.node, menu_find(f->m, "feedback"));
	engine_out_free(&out);
	session_clear(&s);

	fresh(&s);
	run_step(f->m, &s, &short_step, 1, &out);
	assert_null(out.payload);
	engine_out_free(&out);
	session_clear(&s);
}

/* ---- the home-visit form --------------------------------------------------------------------- */

static const struct step to_form[] = {
	{ "6", "page:zhitongche", "zhitongche", MENU, ENGINE_REPLY },
	{ "1", "form:zhitongche.apply", "zhitongche.apply", FORM, ENGINE_REPLY },
};

static char *confirm_text(const struct menu *m, const char *name, const char *place, const char *need,
    const char *phone, bool again)
{
	struct menu_var v[] = {
		{ "form.name", name }, { "form.place", place }, { "form.need", need }, { "form.phone", phone },
	};

	return menu_render(menu_text(m, again ? "form_confirm_again" : "form_confirm"), v, 4);
}

static void test_form_walk(void **state)
{
	static const struct step steps[] = {
		/* name: re-asked on nothing usable */
		{ "", "text:form_name_again", "zhitongche.apply", FORM, ENGINE_REPLY },
		{ "。。。", "text:form_name_again", "zhitongche.apply", FORM, ENGINE_REPLY },
		{ "1", "text:form_name_again", "zhitongche.apply", FORM, ENGINE_REPLY },
		{ "我叫张桂兰", "text:form_place", "zhitongche.apply", FORM, ENGINE_REPLY },
		/* place */
		{ "3", "text:form_place_again", "zhitongche.apply", FORM, ENGINE_REPLY },
		{ " ", "text:form_place_again", "zhitongche.apply", FORM, ENGINE_REPLY },
		{ "崆峒镇寨子街村3组", "text:form_need", "zhitongche.apply", FORM, ENGINE_REPLY },
		/* need */
		{ "！", "text:form_need_again", "zhitongche.apply", FORM, ENGINE_REPLY },
		{ "好", "text:form_need_again", "zhitongche.apply", FORM, ENGINE_REPLY },
		{ "老伴瘫痪在床，想办低保", "text:form_phone", "zhitongche.apply", FORM, ENGINE_REPLY },
		/* phone */
		{ "不知道", "text:form_phone_again", "zhitongche.apply", FORM, ENGINE_REPLY },
		{ "12345", "text:form_phone_again", "zhitongche.apply", FORM, ENGINE_REPLY },
		{ "my 13912345678", "text:form_phone_again", "zhitongche.apply", FORM, ENGINE_REPLY },
		{ "1", "~请核对", "zhitongche.apply", FORM, ENGINE_REPLY }, /* 1 = this phone */
	};
	struct fixture *f = *state;
	struct session s;
	struct engine_out out;
	char *want;

	fresh(&s);
	RUN(f, &s, to_form);
	assert_int_equal(s.form_step, FORM_NAME);
	RUN(f, &s, steps);
	assert_string_equal(s.form_name, "张桂兰");
	assert_string_equal(s.form_place, "崆峒镇寨子街村3组");
	assert_string_equal(s.form_need, "老伴瘫痪在床，想办低保");
	assert_string_equal(s.form_phone, PHONE);
	assert_int_equal(s.form_step, FORM_CONFIRM);
	want = confirm_text(f->m, "张桂兰", "崆峒镇寨子街村3组", "老伴瘫痪在床，想办低保", PHONE, false);
	assert_string_equal(s.last_reply, want);
	free(want);

	/* confirm: anything but 1 or 0 asks again, with the answers */
	{
		static const struct step again[] = {
			{ "2", "~请回复1或0", "zhitongche.apply", FORM, ENGINE_REPLY },
			{ "好的", "~请回复1或0", "zhitongche.apply", FORM, ENGINE_REPLY },
		};
		RUN(f, &s, again);
		want = confirm_text(f->m, "张桂兰", "崆峒镇寨子街村3组", "老伴瘫痪在床，想办低保", PHONE, true);
		assert_string_equal(s.last_reply, want);
		free(want);
	}
	/* 1: done; the caller creates the case from the form still in the session */
	{
		static const struct step done = { "回复1", NULL, "zhitongche.apply", FORM, ENGINE_FORM_DONE };
		run_step(f->m, &s, &done, 1, &out);
		assert_true(out.keep);
		assert_int_equal(out.node, menu_find(f->m, "zhitongche.apply"));
		assert_string_equal(s.form_name, "张桂兰");
		assert_string_equal(s.form_phone, PHONE);
		engine_out_free(&out);
	}
	session_clear(&s);
}

static void test_form_typed_phone_and_one_message(void **state)
{
	static const struct step steps[] = {
		/* name and place in one message */
		{ "张桂兰 崆峒镇寨子街村3组", "text:form_need", "zhitongche.apply", FORM, ENGINE_REPLY },
		{ "想办高龄补贴", "text:form_phone", "zhitongche.apply", FORM, ENGINE_REPLY },
		/* another number, typed in a sentence */
		{ "儿子电话１３９ 0000-1111", "~请核对", "zhitongche.apply", FORM, ENGINE_REPLY },
	};
	struct fixture *f = *state;
	struct session s;

	fresh(&s);
	RUN(f, &s, to_form);
	RUN(f, &s, steps);
	assert_string_equal(s.form_name, "张桂兰");
	assert_string_equal(s.form_place, "崆峒镇寨子街村3组");
	assert_string_equal(s.form_need, "想办高龄补贴");
	assert_string_equal(s.form_phone, "+8613900001111");
	assert_int_equal(s.form_step, FORM_CONFIRM);
	session_clear(&s);

	/* a Chinese comma between name and village, as villagers type it */
	fresh(&s);
	{
		static const struct step comma[] = {
			{ "我叫张桂兰，崆峒镇寨子街村3组", "text:form_need", "zhitongche.apply", FORM, ENGINE_REPLY },
		};
		RUN(f, &s, to_form);
		RUN(f, &s, comma);
	}
	assert_string_equal(s.form_name, "张桂兰");
	assert_string_equal(s.form_place, "崆峒镇寨子街村3组");
	session_clear(&s);

	/* the form is reached by its keyword too */
	fresh(&s);
	{
		static const struct step kw[] = {
			{ "我要申请上门", "form:zhitongche.apply", "zhitongche.apply", FORM, ENGINE_REPLY },
		};
		RUN(f, &s, kw);
	}
	session_clear(&s);
}

/* Answers that take the form from one step to the next, NAME .. PHONE. */
static const struct step fill[] = {
	{ "张桂兰", "text:form_place", "zhitongche.apply", FORM, ENGINE_REPLY },
	{ "寨子街村3组", "text:form_need", "zhitongche.apply", FORM, ENGINE_REPLY },
	{ "想办低保", "text:form_phone", "zhitongche.apply", FORM, ENGINE_REPLY },
	{ "1", "~请核对", "zhitongche.apply", FORM, ENGINE_REPLY },
};

static void test_form_cancel_every_step(void **state)
{
	struct fixture *f = *state;

	/* 0 (however written) at each of the five steps: cancelled, nothing kept, back at 直通车 */
	for (int at = FORM_NAME; at <= FORM_CONFIRM; at++) {
		static const char *const zeros[] = { "0", "回复0", "０", "〇" };
		struct session s;
		struct step cancel = { zeros[at % 4], "text:form_cancelled", "zhitongche", MENU, ENGINE_REPLY };

		fresh(&s);
		RUN(f, &s, to_form);
		run(f->m, &s, fill, (size_t)at);
		assert_int_equal(s.form_step, at);
		run(f->m, &s, &cancel, 1);
		assert_null(s.form_name);
		assert_null(s.form_place);
		assert_null(s.form_need);
		assert_null(s.form_phone);
		assert_int_equal(s.form_step, FORM_NAME);
		/* and the menu works again from there */
		{
			static const struct step next = { "1", "form:zhitongche.apply", "zhitongche.apply", FORM, ENGINE_REPLY };
			run(f->m, &s, &next, 1);
		}
		session_clear(&s);
	}
}

static void test_form_home_every_step(void **state)
{
	struct fixture *f = *state;

	for (int at = FORM_NAME; at <= FORM_CONFIRM; at++) {
		struct session s;
		static const struct step home = { "00", "page:root", "root", MENU, ENGINE_REPLY };

		fresh(&s);
		RUN(f, &s, to_form);
		run(f->m, &s, fill, (size_t)at);
		run(f->m, &s, &home, 1);
		assert_null(s.form_name);
		assert_null(s.form_phone);
		session_clear(&s);
	}
}

/* ---- the session's page, a node that went away --------------------------------------------- */

static void test_current_page(void **state)
{
	struct fixture *f = *state;
	struct session s;
	const struct menu_node *amount = menu_node_at(f->m, menu_find(f->m, "dibao.amount"));
	const struct menu_node *root = menu_node_at(f->m, menu_root(f->m));

	fresh(&s);
	assert_string_equal(engine_current_page(f->m, &s), root->pages[0]);
	snprintf(s.node, sizeof(s.node), "dibao.amount");
	s.page = 1;
	assert_string_equal(engine_current_page(f->m, &s), amount->pages[1]);
	s.page = 7; /* out of range: the first page */
	assert_string_equal(engine_current_page(f->m, &s), amount->pages[0]);
	/* after a reload without that node: root */
	snprintf(s.node, sizeof(s.node), "gone.node");
	s.page = 0;
	assert_string_equal(engine_current_page(f->m, &s), root->pages[0]);
	{
		static const struct step steps[] = {
			{ "1", "page:dibao", "dibao", MENU, ENGINE_REPLY }, /* read against root */
		};
		RUN(f, &s, steps);
	}
	session_clear(&s);
}

/* Whatever comes in, something goes out (or the caller is told what to do). */
static void test_never_silent(void **state)
{
	struct fixture *f = *state;
	static const char *const inputs[] = { "", " ", "0", "00", "9", "99", "999", "9999", "\xff\xfe", "低保", "😀",
		"重复", "cf", "db", "8#岁", "{office.name}", "'; DROP TABLE sessions; --" };

	for (int mode = 0; mode < 3; mode++)
		for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
			struct session s;
			struct engine_out out;
			struct engine_in in = { .text = inputs[i], .len = strlen(inputs[i]), .phone = PHONE, .country = PHONE_COUNTRY_DEFAULT };
			fresh(&s);
			s.fresh = false;
			if (mode == 1) {
				run(f->m, &s, to_form, 2);
			} else if (mode == 2) {
				static const struct step fb = { "8", "page:feedback", "feedback", FEEDBACK, ENGINE_REPLY };
				run(f->m, &s, &fb, 1);
			}
			engine_step(f->m, &s, &in, &out);
			if (out.action == ENGINE_REPLY && (out.reply == NULL || *out.reply == '\0'))
				fail_msg("\"%s\" in mode %d: no reply", inputs[i], mode);
			assert_non_null(menu_node_at(f->m, out.node));
			assert_true(menu_find(f->m, s.node) >= 0);
			engine_out_free(&out);
			session_clear(&s);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digits),
		cmocka_unit_test(test_digits_answered_node),
		cmocka_unit_test(test_keywords),
		cmocka_unit_test(test_cue_needs_a_topic),
		cmocka_unit_test(test_unknown_and_empty),
		cmocka_unit_test(test_repeat),
		cmocka_unit_test(test_feedback_mode),
		cmocka_unit_test(test_feedback_inline),
		cmocka_unit_test(test_form_walk),
		cmocka_unit_test(test_form_typed_phone_and_one_message),
		cmocka_unit_test(test_form_cancel_every_step),
		cmocka_unit_test(test_form_home_every_step),
		cmocka_unit_test(test_current_page),
		cmocka_unit_test(test_never_silent),
	};

	return cmocka_run_group_tests_name("engine", tests, setup, teardown);
}
