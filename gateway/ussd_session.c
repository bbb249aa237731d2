#include "ussd_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "session.h"
#include "store_messages.h"
#include "store_sessions.h"
#include "store_ussd.h"

/* The screen limits, and the footer of a screen with more after it: the main menu's has no 0返回. */
static void limits_of(const struct ctx *c, const char *node, struct ussd_limits *lim)
{
	const char *top = menu_text(c->menu, "ussd_more_top");
	bool root = node && strcmp(node, menu_node_at(c->menu, menu_root(c->menu))->id) == 0;

	lim->gsm7 = (size_t)c->cfg->ussd_gsm7_limit;
	lim->ucs2 = (size_t)c->cfg->ussd_ucs2_limit;
	lim->more = root && top && *top ? top : menu_text(c->menu, "ussd_more");
}

/*
 * A step answered without the engine (a further screen, a repeated request):
 * logged like any other, the input in and the screen shown out.
 */
static int log_plain_step(struct ctx *c, const struct ussd_callback *rq, const char *input, size_t inlen,
    const char *node, const char *shown, int64_t *in_id)
{
	struct store_msg m;

	memset(&m, 0, sizeof(m));
	m.channel = CHANNEL_USSD;
	m.direction = DIRECTION_IN;
	m.phone = rq->phone;
	m.text = input;
	m.text_len = inlen;
	m.parts = 1;
	m.status = MSG_STATUS_ANSWERED;
	m.node = node;
	m.kind = MSG_KIND_TEXT;
	m.session = rq->session_id;
	m.created_at = c->now;
	if (store_msg_add(c->st, &m, in_id) < 0)
		return -1;
	metrics_message(CHANNEL_USSD, DIRECTION_IN);
	memset(&m, 0, sizeof(m));
	m.channel = CHANNEL_USSD;
	m.direction = DIRECTION_OUT;
	m.phone = rq->phone;
	m.text = shown;
	m.text_len = strlen(shown);
	m.parts = 1;
	m.status = MSG_STATUS_SENT;
	m.node = node;
	m.kind = MSG_KIND_REPLY;
	m.session = rq->session_id;
	m.reply_to = *in_id;
	m.created_at = c->now;
	m.sent_at = c->now;
	if (store_msg_add(c->st, &m, NULL) < 0)
		return -1;
	metrics_message(CHANNEL_USSD, DIRECTION_OUT);
	metrics_node_hit(node);
	return 0;
}

/* Should this step show a screen of the last reply again, or the next one? */
static bool plain_step(const struct session *s, enum ussd_input_kind kind, const char *input, size_t inlen,
    const struct ussd_limits *lim, size_t *screen)
{
	struct ussd_span sp;

	if (s->fresh || s->last_reply == NULL || s->screen < 0)
		return false;
	if (kind == USSD_INPUT_AGAIN) {
		/* the aggregator asked again (a lost answer): the same screen, and no second case */
		*screen = (size_t)s->screen;
		return true;
	}
	if (kind == USSD_INPUT_NEW && ussd_is_more(input, inlen) &&
	    (size_t)s->screen + 1 < ussd_screen(s->last_reply, strlen(s->last_reply), lim, 0, &sp)) {
		*screen = (size_t)s->screen + 1;
		return true;
	}
	/* 98 with nothing more to show goes to the engine like any input (bad option, a form answer) */
	return false;
}

/*
 * A dial string with several inputs (*123*6*1# arrives as text=6*1 in a new
 * session): every input in turn, as if sent one by one, up to the one before
 * the last (the caller then runs the whole text). Stops early at an END.
 * *ended says whether one did (out then holds that answer).
 */
static int walk_inputs(struct ctx *c, const struct ussd_callback *rq, struct ussd_reply *out, bool *ended)
{
	*ended = false;
	for (size_t i = 0; i < rq->text_len; i++) {
		struct ussd_callback sub = *rq;
		char *prefix;
		int rc;

		if (rq->text[i] != '*')
			continue;
		prefix = xstrndup(rq->text, i);
		sub.text = prefix;
		sub.text_len = i;
		rc = ussd_session_step_in(c, &sub, out);
		free(prefix);
		if (rc < 0)
			return -1;
		if (out->end) {
			*ended = true;
			return 0;
		}
		ussd_reply_free(out);
	}
	return 0;
}

int ussd_session_step_in(struct ctx *c, const struct ussd_callback *rq, struct ussd_reply *out)
{
	struct session s;
	struct ussd_limits lim;
	struct dispatch_result res;
	enum ussd_input_kind kind;
	char key[sizeof(s.key)];
	size_t off, inlen, screen = 0;
	const char *input;
	bool queued = false, ended_before = false;

	memset(out, 0, sizeof(*out));
	memset(&res, 0, sizeof(res));
	session_key(CHANNEL_USSD, rq->session_id, rq->phone, key, sizeof(key));
	session_init(&s, key, rq->phone, CHANNEL_USSD);
	if (store_session_load(c->st, key, c->now, c->cfg->ussd_timeout, &s) < 0)
		goto fail;
	limits_of(c, s.fresh ? NULL : s.node, &lim);
	kind = ussd_new_input(s.fresh ? NULL : s.ussd_text, rq->text, rq->text_len, &off, &inlen);
	input = rq->text + off;
	if (s.fresh && kind != USSD_INPUT_FIRST) {
		/* a session belongs to its caller: another phone's live session under this id stays its own,
		 * and this phone starts at the main menu, as if it had just dialled */
		bool other = false;
		if (store_ussd_other_owner(c->st, rq->session_id, key, c->now - c->cfg->ussd_timeout, &other) < 0)
			goto fail;
		if (other) {
			char pb[LOG_PHONE_BUF];
			log_warnx("ussd", "session %.32s: a step from %s, not the session's phone: a fresh session for it",
			    rq->session_id, log_phone(rq->phone, pb, sizeof(pb)));
			metrics_event(METRIC_USSD_PHONE_MISMATCH);
			kind = USSD_INPUT_FIRST;
			input = rq->text + rq->text_len;
			inlen = 0;
		} else if (off > 0) {
			/* *123*6*1#: walk 6, then 1 */
			bool ended;
			session_clear(&s);
			if (walk_inputs(c, rq, out, &ended) < 0)
				goto fail_walk;
			if (ended)
				return 0;
			return ussd_session_step_in(c, rq, out);
		}
	}
	ended_before = !s.fresh && s.ussd_ended && kind != USSD_INPUT_FIRST;

	if (ended_before) {
		/* the session ended with END: a retry, or a step after it, gets the same answer, once more, and
		 * never starts anything again (a second form, a second case) */
		out->body = ussd_answer(s.last_reply ? s.last_reply : menu_text(c->menu, "unknown"), &lim, 0, true,
		    &out->end, &out->screens);
		snprintf(out->node, sizeof(out->node), "%s", s.node);
		if (log_plain_step(c, rq, input, inlen, s.node, out->body + 4, &out->in_id) < 0)
			goto fail;
	} else if (plain_step(&s, kind, input, inlen, &lim, &screen)) {
		out->body = ussd_answer(s.last_reply, &lim, screen, false, &out->end, &out->screens);
		snprintf(out->node, sizeof(out->node), "%s", s.node);
		if (log_plain_step(c, rq, input, inlen, s.node, out->body + 4, &out->in_id) < 0)
			goto fail;
	} else {
		struct inbound in = { CHANNEL_USSD, rq->phone, input, inlen, 1, MSG_KIND_TEXT, 0, rq->session_id, rq->text };
		const char *reply;

		/* a new dial under a live session id starts over: main menu, no half-filled form */
		if (kind == USSD_INPUT_FIRST && !s.fresh) {
			if (store_session_delete(c->st, key) < 0)
				goto fail;
			/* as a load would find it now: no session */
			session_clear(&s);
			session_init(&s, key, rq->phone, CHANNEL_USSD);
		}
		/* dispatch works on the session loaded above: one load per step */
		if (dispatch_inbound_loaded(c, &in, &s, &res) < 0)
			goto fail;
		/* dispatch always answers USSD; should it ever not, the main menu rather than nothing */
		reply = res.reply ? res.reply : menu_text(c->menu, "unknown");
		out->engine = true;
		out->in_id = res.in_id;
		snprintf(out->node, sizeof(out->node), "%s", res.node);
		limits_of(c, res.node, &lim);
		out->body = ussd_answer(reply, &lim, 0, res.keep, &out->end, &out->screens);
		if (res.keep && c->cfg->ussd_sms_copy) {
			if (outbox_queue_sms(c, rq->phone, reply, NOTIFY_REPLY, res.in_id, res.node, NULL) < 0)
				goto fail;
			out->sms_copy = true;
		}
		/* what is worth keeping (a case, feedback, a call back) also queued SMS for staff */
		queued = res.keep;
	}
	out->screen = screen;
	/* the session was saved with the text by dispatch, unless no menu step ran; an END is kept */
	if ((!out->engine || res.why_silent || out->end) &&
	    store_ussd_mark(c->st, key, rq->text, (int)screen, out->end, c->now) < 0)
		goto fail;
	out->queued = queued;
	dispatch_result_free(&res);
	session_clear(&s);
	return 0;
fail:
	dispatch_result_free(&res);
	session_clear(&s);
fail_walk:
	ussd_reply_free(out);
	return -1;
}

int ussd_session_step(struct ctx *c, const struct ussd_callback *rq, struct ussd_reply *out)
{
	if (store_begin(c->st) < 0)
		return -1;
	if (ussd_session_step_in(c, rq, out) < 0) {
		store_rollback(c->st);
		return -1;
	}
	if (store_commit(c->st) < 0) {
		ussd_reply_free(out);
		return -1;
	}
	if (out->queued)
		outbox_kick();
	return 0;
}

void ussd_reply_free(struct ussd_reply *r)
{
	free(r->body);
	r->body = NULL;
}

int ussd_session_end(struct ctx *c, const struct ussd_end *ev, int64_t *id)
{
	if (store_begin(c->st) < 0)
		return -1;
	if (ussd_session_end_in(c, ev, id) < 0) {
		store_rollback(c->st);
		return -1;
	}
	if (store_commit(c->st) < 0)
		return -1;
	metrics_message(CHANNEL_USSD, DIRECTION_IN);
	return 0;
}

int ussd_session_end_in(struct ctx *c, const struct ussd_end *ev, int64_t *id)
{
	struct store_msg m;
	struct buf text = { 0 };
	char key[sizeof(((struct session *)0)->key)];
	int64_t mid;

	/* a line for the log, not for a villager: what the aggregator reported */
	buf_printf(&text, "status=%s", ev->status);
	if (*ev->input)
		buf_printf(&text, " input=%s", ev->input);
	if (ev->duration_ms >= 0)
		buf_printf(&text, " duration_ms=%lld", ev->duration_ms);
	memset(&m, 0, sizeof(m));
	m.channel = CHANNEL_USSD;
	m.direction = DIRECTION_IN;
	m.phone = ev->phone;
	m.text = buf_str(&text);
	m.text_len = text.len;
	m.parts = 1;
	m.status = MSG_STATUS_IGNORED;
	m.kind = MSG_KIND_END;
	m.session = ev->session_id;
	m.error = *ev->error ? ev->error : NULL;
	m.created_at = c->now;
	session_key(CHANNEL_USSD, ev->session_id, ev->phone, key, sizeof(key));
	if (store_msg_add(c->st, &m, &mid) < 0 || store_session_delete(c->st, key) < 0) {
		buf_free(&text);
		return -1;
	}
	if (id)
		*id = mid;
	buf_free(&text);
	return 0;
}
