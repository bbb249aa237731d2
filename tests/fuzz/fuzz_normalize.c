/*
 * fuzz_normalize: any bytes through input normalisation, menu matching and
 * one engine step on the shipped menus.
 *
 * Promises checked: norm_text never writes more than it read, ends its
 * output with NUL and writes valid UTF-8; it settles (normalising its own
 * output again changes nothing); menu_match names a node of the menu or
 * none; a digit choice is digits; engine_step always answers (a reply, or
 * an action whose text dispatch writes) and leaves the session on a node
 * that exists.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "fuzz.h"
#include "menu.h"
#include "normalize.h"
#include "phone.h"
#include "session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fn_check_norm(const uint8_t *data, size_t size, unsigned flags, const struct menu *m)
{
	char *out = malloc(size + 1), *again, digits[16];
	size_t n = norm_text((const char *)data, size, out, flags), n2;
	struct menu_match mm;
	size_t count = menu_count(m);

	FUZZ_CHECK(n <= size);
	FUZZ_CHECK(out[n] == '\0');
	FUZZ_CHECK(strlen(out) == n);
	FUZZ_CHECK(utf8_valid(out, n));
	again = malloc(n + 1);
	n2 = norm_text(out, n, again, flags);
	FUZZ_CHECK(n2 == n && memcmp(again, out, n) == 0);
	free(again);

	if (flags == 0) {
		int context = size > 0 ? (int)(data[0] % (count + 1)) - 1 : -1;
		menu_match(m, out, n, -1, &mm);
		FUZZ_CHECK(mm.node >= -1 && mm.node < (int)count);
		FUZZ_CHECK(mm.node == -1 || mm.via != MENU_VIA_NONE);
		menu_match(m, out, n, context, &mm);
		FUZZ_CHECK(mm.node >= -1 && mm.node < (int)count);
		if (menu_digit_choice(m, out, digits, sizeof(digits))) {
			FUZZ_CHECK(strlen(digits) < sizeof(digits));
			for (const char *p = digits; *p; p++)
				FUZZ_CHECK(*p >= '0' && *p <= '9');
		}
	}
	free(out);
}

static void fn_check_engine(const uint8_t *data, size_t size, const struct menu *m)
{
	struct session s;
	struct engine_out eo;
	size_t len, count = menu_count(m);
	char *text = fuzz_valid_utf8(data, size, &len);
	/* start on a node chosen by the input, in menu or form mode */
	unsigned sel = size > 0 ? data[0] : 0;
	const struct menu_node *start = menu_node_at(m, (int)(sel % count));
	struct engine_in in = { .text = text, .len = len, .phone = "+8613700000001", .country = PHONE_COUNTRY_DEFAULT };

	session_init(&s, "sms:13700000001", "13700000001", (sel & 0x80) ? CHANNEL_USSD : CHANNEL_SMS);
	snprintf(s.node, sizeof(s.node), "%s", start->id);
	s.mode = (sel >> 5) & 1 ? SESSION_FORM : SESSION_MENU;
	s.form_step = (int)((sel >> 2) % 5);
	s.fresh = (sel & 0x40) != 0;
	memset(&eo, 0, sizeof(eo));
	engine_step(m, &s, &in, &eo);
	FUZZ_CHECK(eo.node >= 0 && eo.node < (int)count);
	FUZZ_CHECK(menu_find(m, s.node) >= 0);
	if (eo.action == ENGINE_REPLY)
		FUZZ_CHECK(eo.reply != NULL && *eo.reply != '\0' && utf8_valid(eo.reply, strlen(eo.reply)));
	/* and the next step from where it left the session */
	engine_out_free(&eo);
	memset(&eo, 0, sizeof(eo));
	engine_step(m, &s, &in, &eo);
	FUZZ_CHECK(eo.node >= 0 && eo.node < (int)count);
	engine_out_free(&eo);
	session_clear(&s);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct menu *m = fuzz_world()->menu;

	fn_check_norm(data, size, 0, m);
	fn_check_norm(data, size, NORM_KEEP_HASH, m);
	fn_check_engine(data, size, m);
	return 0;
}
