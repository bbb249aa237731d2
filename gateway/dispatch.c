#include "dispatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cases.h"
#include "cases_staff.h"
#include "contacts.h"
#include "engine.h"
#include "log.h"
#include "lunar.h"
#include "metrics.h"
#include "normalize.h"
#include "phone.h"
#include "store_messages.h"
#include "store_sessions.h"
#include "tz.h"
#include "utf8.h"
#include "util.h"

/*
 * Text fit for the messages table: valid UTF-8, each invalid byte and each NUL
 * replaced by U+FFFD (*changed says so). The whole text, never cut: matching
 * cuts its own view at limits.max_text (dispatch_inbound).
 */
static char *sanitize(const char *text, size_t len, bool *changed)
{
	struct buf b = { 0 };
	size_t i = 0;

	*changed = false;
	while (i < len) {
		size_t start = i;
		uint32_t cp = utf8_next(text, len, &i);
		if (cp == 0 || (cp == UTF8_REPLACEMENT && i - start == 1)) {
			buf_adds(&b, "\xEF\xBF\xBD"); /* U+FFFD */
			*changed = true;
			continue;
		}
		buf_add(&b, text + start, i - start);
	}
	return buf_take(&b);
}

/* Is the sender someone to answer at all? NULL when yes, else why not. */
static const char *silence_reason(struct ctx *c, const struct inbound *in)
{
	if (in->kind != MSG_KIND_TEXT && in->kind != MSG_KIND_INCOMPLETE)
		return "not a text message";
	if (in->channel == CHANNEL_USSD)
		return NULL; /* the aggregator vouches for the number, and waits for an answer */
	if (!phone_is_ordinary(in->phone))
		return "sender is not a phone number (short code or name)";
	for (size_t i = 0; i < c->cfg->nmodems; i++)
		if (*c->cfg->modems[i].own_number && strcmp(c->cfg->modems[i].own_number, in->phone) == 0)
			return "sender is one of our own modems";
	return NULL;
}

struct prev_in {
	int64_t exclude;
	bool found;
	char *text;
};

static int take_prev(const struct store_msg *m, void *arg)
{
	struct prev_in *p = arg;

	if (m->id == p->exclude || m->direction != DIRECTION_IN)
		return 0;
	p->found = true;
	p->text = xstrndup(m->text, m->text_len);
	return 1;
}

/*
 * Is this message an answer to what the hotline just asked: a form field, a
 * suggestion it asked for, or a menu digit in a live conversation? Those
 * never count against the reply limits: a person answering our questions is
 * not a flood.
 */
static bool answers_us(const struct session *s, bool digit_choice)
{
	if (s->fresh)
		return false;
	return s->mode == SESSION_FORM || s->mode == SESSION_FEEDBACK || digit_choice;
}

/* A limit hit: which one (for the notice, the log and the notices' node). */
struct limit_hit {
	const char *text;   /* the notice's text name */
	const char *node;   /* "limit.minute" | "limit.day" */
	int64_t window;     /* one notice of this kind per window */
};

/*
 * Floods and loops (SMS only). A text the sender sent before is answered
 * once more (an old person resends what they did not see answered) but not
 * again within limits.repeat_window: a machine repeats itself. Over the
 * per-phone reply limits, messages go unanswered, unless they answer what
 * the hotline asked (answers_us). NULL when the message may be answered;
 * else why not, and *hit says which limit when it is a reply limit.
 */
static const char *flood_reason(struct ctx *c, const struct inbound *in, const char *text, bool choice, bool asked,
    struct limit_hit *hit)
{
	static const struct limit_hit minute_hit = { "rate_limited_minute", "limit.minute", 600 };
	static const struct limit_hit day_hit = { "rate_limited", "limit.day", 86400 };
	const struct config *cfg = c->cfg;

	memset(hit, 0, sizeof(*hit));
	/* staff text the hotline all day (commands); the limits are for loops and floods */
	if (in->channel != CHANNEL_SMS || (c->flags & CTX_NO_LIMITS) || config_staff_by_phone(cfg, in->phone))
		return NULL;
	/* an auto-responder says the same thing over and over; a person choosing 9, 9 does not loop */
	if (cfg->repeat_window > 0 && !choice) {
		struct store_msg_filter f = { 0 };
		struct prev_in prev = { 0, false, NULL };
		int answered = 0;
		f.phone = in->phone;
		f.channel = channel_name(in->channel); /* a USSD step before this SMS is no loop */
		f.since = c->now - cfg->repeat_window;
		f.newest_first = true;
		f.limit = 3;
		/* the same as the last message, and that text was answered twice within the window
		 * (not only the last one: a loop would otherwise get every other message answered) */
		if (store_msg_each(c->st, &f, take_prev, &prev) == 0 && prev.text && strcmp(prev.text, text) == 0 &&
		    store_same_text_since(c->st, in->phone, text, f.since, 0, &answered) == 0 && answered >= 2) {
			free(prev.text);
			return "the same text again within limits.repeat_window";
		}
		free(prev.text);
	}
	if (asked)
		return NULL;
	if (cfg->replies_per_minute > 0 || cfg->replies_per_day > 0) {
		int minute = 0, day = 0;
		if (store_replies_two(c->st, in->phone, c->now - 86400, c->now - 60, &minute, &day) < 0)
			return NULL;
		if (cfg->replies_per_day > 0 && day >= cfg->replies_per_day) {
			*hit = day_hit;
			return "over limits.replies_per_day";
		}
		if (cfg->replies_per_minute > 0 && minute >= cfg->replies_per_minute) {
			*hit = minute_hit;
			return "over limits.replies_per_minute";
		}
	}
	return NULL;
}

/* Carry out what the engine asked; fills eo->reply. */
static int run_action(struct ctx *c, const struct inbound *in, struct session *s, int64_t in_id,
    struct engine_out *eo)
{
	const struct menu_node *node = menu_node_at(c->menu, eo->node);
	char *number = NULL;
	int rc = 0;

	switch (eo->action) {
	case ENGINE_REPLY:
		return 0;
	case ENGINE_FORM_DONE:
		rc = cases_create_request(c, s, channel_name(in->channel), node ? node->id : "zhitongche", in_id, &number);
		if (rc == 0) {
			struct menu_var v[] = { { "case.number", number } };
			free(eo->reply);
			eo->reply = menu_render(menu_text_for(c->menu, "case_created", in->channel == CHANNEL_USSD), v, 1);
			session_form_reset(s);
			if (node && node->parent >= 0)
				snprintf(s->node, sizeof(s->node), "%s", menu_node_at(c->menu, node->parent)->id);
		}
		break;
	case ENGINE_FEEDBACK:
		rc = feedback_add(c, in->phone, channel_name(in->channel), eo->payload, in_id, &number);
		if (rc == 0) {
			struct menu_var v[] = { { "feedback.number", number } };
			free(eo->reply);
			eo->reply = menu_render(menu_text_for(c->menu, "feedback_ack", in->channel == CHANNEL_USSD), v, 1);
		}
		break;
	case ENGINE_CALLBACK: {
		bool existing = false;
		rc = cases_create_callback(c, in->phone, channel_name(in->channel), node ? node->id : "human", NULL, in_id, &number,
		    &existing);
		if (rc == 0) {
			struct menu_var v[] = { { "case.number", number } };
			free(eo->reply);
			eo->reply = menu_render(menu_text_for(c->menu, "callback_ack", in->channel == CHANNEL_USSD), v, 1);
		}
		break;
	}
	case ENGINE_STATUS:
		free(eo->reply);
		eo->reply = NULL;
		rc = cases_status_text(c, in->phone, &eo->reply);
		break;
	}
	free(number);
	return rc;
}


/* The engine asks where a sender lives only when its answer needs it. */
struct place_q {
	struct ctx *c;
	const char *phone;
};

static char *known_place(void *arg)
{
	struct place_q *q = arg;

	return cases_known_place(q->c, q->phone);
}

/* Today as days since 1970-01-01 on the bureau's calendar (config timezone). */
static long dispatch_today(const struct config *cfg, int64_t now)
{
	struct tm tm;

	tz_civil(cfg->tz, now, &tm);
	return lunar_days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

int dispatch_inbound(struct ctx *c, const struct inbound *in, struct dispatch_result *res)
{
	return dispatch_inbound_loaded(c, in, NULL, res);
}

int dispatch_inbound_loaded(struct ctx *c, const struct inbound *in, struct session *loaded,
    struct dispatch_result *res)
{
	struct store_msg m;
	struct session own, *s = loaded ? loaded : &own;
	struct engine_out eo;
	bool changed, notice = false, handled = false;
	struct limit_hit hit = { NULL, NULL, 0 };
	bool asked = false;
	char *text = sanitize(in->text, in->len, &changed);
	char key[160];
	const char *why;
	char *reply = NULL;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	memset(&eo, 0, sizeof(eo));
	memset(&m, 0, sizeof(m));
	m.channel = in->channel;
	m.direction = DIRECTION_IN;
	m.phone = in->phone;
	m.text = text;
	m.text_len = strlen(text);
	if (changed) {
		m.raw = in->text;
		m.raw_len = in->len;
	}
	m.parts = in->parts;
	m.modem = c->modem;
	m.status = MSG_STATUS_RECEIVED;
	m.kind = in->kind;
	m.session = in->ussd_session;
	m.smsc_time = in->smsc_time;
	m.created_at = c->now;
	metrics_message(in->channel, DIRECTION_IN);

	/* the text used for matching: long texts are cut (the stored copy is whole) */
	size_t mlen = strlen(text);
	if (mlen > (size_t)c->cfg->max_text) {
		mlen = (size_t)c->cfg->max_text;
		while (mlen > 0 && ((unsigned char)text[mlen] & 0xC0) == 0x80)
			mlen--;
	}

	session_key(in->channel, in->ussd_session, in->phone, key, sizeof(key));
	session_init(&own, key, in->phone, in->channel);

	/* decide first, then store the message once, with its outcome */
	why = silence_reason(c, in);
	if (why == NULL) {
		/* one load per step: a USSD step brings the session it loaded already */
		if (!loaded && store_session_load(c->st, key, c->now,
		    in->channel == CHANNEL_USSD ? c->cfg->ussd_timeout : c->cfg->session_timeout, s) < 0)
			goto out_session;
		char *norm = norm_dup(text, mlen, 0);
		char digits[8];
		bool choice = menu_digit_choice(c->menu, norm, digits, sizeof(digits));
		free(norm);
		/* an answer to what we asked, and its reply, never count against the limits */
		asked = in->channel == CHANNEL_SMS && answers_us(s, choice);
		m.asked = asked;
		why = flood_reason(c, in, text, choice, asked, &hit);
	}
	if (why != NULL) {
		int n = 0;
		res->why_silent = why;
		if (hit.node && store_notices_since(c->st, in->phone, c->now - hit.window, hit.node, &n) == 0 && n == 0)
			notice = true;
		m.status = notice ? MSG_STATUS_LIMITED : MSG_STATUS_IGNORED;
		if (store_msg_add(c->st, &m, &res->in_id) < 0)
			goto out_session;
		if (hit.node) {
			metrics_event(METRIC_LIMITED);
			log_debug("dispatch", "message %lld not answered: %s", (long long)res->in_id, why);
		}
		/* one notice per kind and window: which limit, and when to write again; the session (a
		 * half-filled form) is left as it was */
		if (notice && outbox_queue_sms(c, in->phone, menu_text(c->menu, hit.text), NOTIFY_NOTICE,
		    res->in_id, hit.node, NULL) < 0)
			goto out_session;
		metrics_silenced();
		rc = 0;
		goto out_session;
	}

	if (cases_command(c, in->phone, text, mlen, &handled, &reply) < 0)
		goto out_session;
	/* 退订 / 订阅: SMS only (a USSD screen is no subscription) */
	if (!handled && in->channel == CHANNEL_SMS &&
	    contacts_keyword(c, in->phone, text, mlen, &handled, &reply) < 0)
		goto out_session;
	if (handled) {
		snprintf(res->node, sizeof(res->node), "command");
	} else {
		struct place_q pq = { c, in->phone };
		struct engine_in ei = {
			.text = text, .len = mlen, .phone = in->phone, .country = c->cfg->phone_country,
			.today = dispatch_today(c->cfg, c->now), .known_place = known_place, .place_arg = &pq,
		};
		engine_step(c->menu, s, &ei, &eo);
		snprintf(res->node, sizeof(res->node), "%s", menu_node_at(c->menu, eo.node)->id);
	}
	m.status = MSG_STATUS_ANSWERED;
	m.node = res->node;
	if (store_msg_add(c->st, &m, &res->in_id) < 0)
		goto out_session;
	if (!handled) {
		/* cases and feedback refer to the message that asked for them */
		if (run_action(c, in, s, res->in_id, &eo) < 0)
			goto out_session;
		reply = eo.reply;
		eo.reply = NULL;
		res->keep = eo.keep;
		metrics_node_hit(res->node);
		if (eo.unknown)
			metrics_unknown();
	}
	if (reply == NULL || *reply == '\0') {
		/* never silence: the main menu at least */
		free(reply);
		reply = xstrdup(menu_text(c->menu, "unknown"));
	}
	session_set(&s->last_reply, reply);
	if (in->ussd_text) {
		/* saved with the session: what the aggregator sent, the first screen of the answer */
		session_set(&s->ussd_text, in->ussd_text);
		s->screen = 0;
	}
	s->updated_at = c->now;
	if (store_session_save(c->st, s) < 0)
		goto out_session;

	if (in->channel == CHANNEL_SMS) {
		if (outbox_queue_sms_asked(c, in->phone, reply, NOTIFY_REPLY, res->in_id, res->node, asked, NULL) < 0)
			goto out_session;
	} else {
		/* USSD: the answer goes back in the HTTP response; keep it in the log as sent */
		struct store_msg o;
		memset(&o, 0, sizeof(o));
		o.channel = in->channel;
		o.direction = DIRECTION_OUT;
		o.phone = in->phone;
		o.text = reply;
		o.text_len = strlen(reply);
		o.status = MSG_STATUS_SENT;
		o.node = res->node;
		o.kind = MSG_KIND_REPLY;
		o.session = in->ussd_session;
		o.reply_to = res->in_id;
		o.created_at = c->now;
		o.sent_at = c->now;
		if (store_msg_add(c->st, &o, NULL) < 0)
			goto out_session;
		metrics_message(in->channel, DIRECTION_OUT);
	}
	res->reply = reply;
	reply = NULL;
	rc = 0;
out_session:
	session_clear(&own); /* a session the caller brought is the caller's */
	engine_out_free(&eo);
	free(reply);
	free(text);
	return rc;
}

void dispatch_result_free(struct dispatch_result *res)
{
	free(res->reply);
	res->reply = NULL;
}
