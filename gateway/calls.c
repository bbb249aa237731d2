#include "calls.h"

#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "phone.h"
#include "store_messages.h"

static const char SILENT_REPEAT[] = "called again within calls.window";

int calls_missed(struct ctx *c, const char *caller)
{
	struct store_msg m;
	char who[LOG_PHONE_BUF], *number = NULL;
	const char *why = NULL, *node = NULL;
	int64_t id;
	int earlier = 0;
	bool existing = false;

	memset(&m, 0, sizeof(m));
	m.channel = CHANNEL_CALL;
	m.direction = DIRECTION_IN;
	m.phone = caller;
	m.text = "";
	m.status = MSG_STATUS_RECEIVED;
	m.kind = MSG_KIND_CALL;
	m.modem = c->modem;
	m.created_at = c->now;
	if (store_msg_add(c->st, &m, &id) < 0)
		return -1;
	metrics_message(CHANNEL_CALL, DIRECTION_IN);
	log_phone(caller, who, sizeof(who));

	if (!phone_is_ordinary(caller))
		why = "caller is not a phone number";
	if (why == NULL && c->cfg->calls_window > 0) {
		struct store_msg_filter g = { 0 };
		g.phone = caller;
		g.channel = "call";
		g.since = c->now - c->cfg->calls_window;
		g.until = c->now + 1;
		if (store_msg_count(c->st, &g, id, &earlier) < 0)
			return -1;
		if (earlier > 0)
			why = SILENT_REPEAT;
	}
	if (why != NULL) {
		log_info("calls", "%s: call from %s hung up; no new request (%s)", c->modem ? c->modem : "?", who, why);
		return store_msg_set(c->st, id, "ignored", NULL);
	}
	if (c->cfg->calls_callback) {
		if (cases_create_callback(c, caller, "call", "callback", NULL, id, &number, &existing) < 0)
			return -1;
		struct menu_var v[] = { { "case.number", number } };
		char *text = menu_render(menu_text(c->menu, "call_callback"), v, 1);
		int rc = outbox_queue_sms(c, caller, text, NOTIFY_REPLY, id, "callback", NULL);
		free(text);
		node = "callback";
		log_info("calls", "%s: call from %s hung up; callback request %s%s", c->modem ? c->modem : "?", who, number,
		    existing ? " (already open)" : "");
		free(number);
		if (rc < 0)
			return -1;
	} else if (c->cfg->calls_reply_menu) {
		int root = menu_root(c->menu);
		if (outbox_queue_sms(c, caller, menu_node_at(c->menu, root)->pages[0], NOTIFY_REPLY, id, "root", NULL) < 0)
			return -1;
		node = "root";
		log_info("calls", "%s: call from %s hung up; the main menu goes to them by SMS", c->modem ? c->modem : "?", who);
	}
	return store_msg_set(c->st, id, node ? "answered" : "ignored", node);
}
