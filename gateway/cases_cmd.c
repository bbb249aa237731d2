#include "cases_cmd.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"

#define CMD_MAX_DIGITS 12 /* longer is no case number */


static const char *const text_names[CCMD_COUNT] = {
	[CCMD_ACCEPT] = "cmd_accept", [CCMD_VISITED] = "cmd_visited", [CCMD_REVIEW] = "cmd_review",
	[CCMD_DONE] = "cmd_done", [CCMD_REJECT] = "cmd_reject", [CCMD_SHOW] = "cmd_show",
	[CCMD_LIST] = "cmd_list", [CCMD_HELP] = "cmd_help", [CCMD_WITHDRAW] = "cmd_withdraw",
};

void cases_cmd_words_from_menu(const struct menu *m, struct cases_cmd_words *w)
{
	memset(w, 0, sizeof(*w));
	for (int k = 1; k < CCMD_COUNT; k++)
		w->words[k] = menu_text(m, text_names[k]);
}

/* Full-width forms as ASCII, ASCII letters lower case, the ideographic space as a space. */
static uint32_t fold(uint32_t cp)
{
	if (cp >= 0xFF01 && cp <= 0xFF5E)
		cp -= 0xFEE0;
	else if (cp == 0x3000)
		cp = ' ';
	if (cp >= 'A' && cp <= 'Z')
		cp += 'a' - 'A';
	return cp;
}

static bool is_digit(uint32_t cp)
{
	return cp >= '0' && cp <= '9';
}

static bool is_space(uint32_t cp)
{
	return cp == ' ' || cp == '\t' || cp == '\r' || cp == '\n';
}

/* Dashes people put inside a number: 2026-0005, 2026－0005, 2026—0005, 2026_0005, 2026/0005, 2026.0005. */
static bool is_dash(uint32_t cp)
{
	return cp == '-' || cp == '_' || cp == '/' || cp == '.' || (cp >= 0x2010 && cp <= 0x2015) || cp == 0x00B7 ||
	    cp == 0x2212 || cp == 0x30FC;
}

/* What may stand between the parts of a command: spaces, punctuation, quotes, brackets. */
static bool is_sep(uint32_t cp)
{
	if (is_space(cp) || is_dash(cp))
		return true;
	if (cp < 0x80)
		return cp != 0 && strchr(",:;#!?()[]<>\"'*~", (int)cp) != NULL;
	return (cp >= 0x3001 && cp <= 0x3003) || (cp >= 0x3008 && cp <= 0x3011) || (cp >= 0x2018 && cp <= 0x201F) ||
	    cp == 0x2026 || cp == UTF8_REPLACEMENT;
}

/* The code point at text[*i] folded, advancing *i; 0 at the end. */
static uint32_t next_cp(const char *text, size_t len, size_t *i)
{
	if (*i >= len)
		return 0;
	return fold(utf8_next(text, len, i));
}

static uint32_t peek_cp(const char *text, size_t len, size_t i)
{
	return next_cp(text, len, &i);
}

/* Does the word (len wlen) match text at i? Then *end is where the match ends. */
static bool word_at(const char *word, size_t wlen, const char *text, size_t len, size_t i, size_t *end)
{
	size_t w = 0;

	while (w < wlen) {
		if (i >= len)
			return false;
		if (fold(utf8_next(word, wlen, &w)) != next_cp(text, len, &i))
			return false;
	}
	*end = i;
	return true;
}

/*
 * After a word: the end, a separator, a digit or 第. An ASCII word may not be
 * followed by a letter (jiekou), a Chinese word not by another character
 * (查询, 结果, 接到).
 */
static bool boundary_ok(uint32_t next)
{
	return next == 0 || is_sep(next) || is_digit(next) || next == 0x7B2C /* 第 */;
}

/* Read a run of digits at *i: how many (all of them), the value of the first CMD_MAX_DIGITS. */
static int read_digits(const char *text, size_t len, size_t *i, long long *value)
{
	int n = 0;

	*value = 0;
	while (is_digit(peek_cp(text, len, *i))) {
		uint32_t cp = next_cp(text, len, i);
		if (n < CMD_MAX_DIGITS)
			*value = *value * 10 + (cp - '0');
		n++;
	}
	return n;
}

static size_t skip_seps(const char *text, size_t len, size_t i)
{
	while (i < len) {
		size_t j = i;
		if (!is_sep(next_cp(text, len, &j)))
			break;
		i = j;
	}
	return i;
}

/* The note: from i, separators skipped, trailing spaces cut. */
static void take_note(const char *text, size_t len, size_t i, struct cases_cmd *out)
{
	size_t end = len;

	i = skip_seps(text, len, i);
	/* trailing spaces (ASCII, and U+3000 as its three bytes) */
	for (;;) {
		if (end > i && is_space((unsigned char)text[end - 1]))
			end--;
		else if (end >= i + 3 && memcmp(text + end - 3, "\xE3\x80\x80", 3) == 0)
			end -= 3;
		else
			break;
	}
	if (end > i) {
		out->note = text + i;
		out->note_len = end - i;
	}
}

void cases_cmd_parse(const struct cases_cmd_words *w, const char *text, size_t len, struct cases_cmd *out)
{
	size_t start = 0, best_end, i, j;
	enum cases_cmd_kind best = CCMD_NONE;
	long long d1, d2;
	int n1, n2;

	memset(out, 0, sizeof(*out));
	while (start < len && is_space(peek_cp(text, len, start)))
		(void)next_cp(text, len, &start);
	best_end = start;
	/* the longest word that starts the message and ends at a boundary */
	for (int k = 1; k < CCMD_COUNT; k++) {
		const char *p = w->words[k];
		while (p && *p) {
			size_t wl = strcspn(p, " "), end;
			if (wl > 0 && word_at(p, wl, text, len, start, &end) && end - start > best_end - start &&
			    boundary_ok(peek_cp(text, len, end))) {
				best = (enum cases_cmd_kind)k;
				best_end = end;
			}
			p += wl;
			while (*p == ' ')
				p++;
		}
	}
	if (best == CCMD_NONE)
		return;
	out->kind = best;
	i = skip_seps(text, len, best_end);
	if (best == CCMD_LIST || best == CCMD_HELP) {
		/* these stand alone: "列表一下" or "帮助我" are someone talking */
		if (i < len)
			out->kind = CCMD_NONE;
		return;
	}
	if (peek_cp(text, len, i) == 0x7B2C) { /* 第5 */
		(void)next_cp(text, len, &i);
		i = skip_seps(text, len, i);
	}
	n1 = read_digits(text, len, &i, &d1);
	if (n1 == 0 || n1 > CMD_MAX_DIGITS) {
		out->usage = true;
		return;
	}
	out->seq = d1;
	out->seq_digits = n1;
	if (n1 == 4) {
		/* 2026-0005, or 2026 0005 as it is read aloud */
		j = i;
		uint32_t cp = next_cp(text, len, &j);
		bool dash = is_dash(cp), space = is_space(cp);
		if (dash || (space && d1 >= 2000 && d1 <= 2099)) {
			while (is_space(peek_cp(text, len, j)))
				(void)next_cp(text, len, &j);
			n2 = read_digits(text, len, &j, &d2);
			if (n2 > 0 && n2 <= CMD_MAX_DIGITS && (dash || n2 >= 4)) {
				out->year = (int)d1;
				out->seq = d2;
				out->seq_digits = n2;
				i = j;
			}
		}
	}
	if (peek_cp(text, len, i) == 0x53F7) /* 5号 */
		(void)next_cp(text, len, &i);
	if (out->seq == 0) {
		out->usage = true;
		return;
	}
	take_note(text, len, i, out);
}

size_t cases_cmd_numbers(const struct cases_cmd *cmd, const char *number_format, int year_now, char (*out)[CASES_NUMBER_MAX],
    size_t max)
{
	size_t n = 0;

	if (cmd->seq <= 0 || max == 0)
		return 0;
	if (strcmp(number_format, "year") != 0) {
		snprintf(out[n++], CASES_NUMBER_MAX, "%lld", cmd->seq);
		return n;
	}
	if (cmd->year > 0) {
		snprintf(out[n++], CASES_NUMBER_MAX, "%d-%04lld", cmd->year, cmd->seq);
		return n;
	}
	if (cmd->seq_digits == 8 && cmd->seq / 10000 >= 2000 && cmd->seq / 10000 <= 2099) {
		snprintf(out[n++], CASES_NUMBER_MAX, "%lld-%04lld", cmd->seq / 10000, cmd->seq % 10000);
		return n;
	}
	snprintf(out[n++], CASES_NUMBER_MAX, "%d-%04lld", year_now, cmd->seq);
	if (n < max)
		snprintf(out[n++], CASES_NUMBER_MAX, "%d-%04lld", year_now - 1, cmd->seq);
	return n;
}
