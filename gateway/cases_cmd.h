/*
 * cases_cmd: the short SMS commands of staff (接 N, 访 N 备注, ...) and of
 * applicants (撤销 N), read from what a person typed on a feature phone.
 *
 * The words are data: menus/30-cases.cfg (texts cmd_accept ... cmd_withdraw,
 * each a space-separated list such as "接 接单 jie j"). The parser is pure;
 * who may do what, and the replies, are cases_command() (cases_staff.h).
 */
#ifndef HOTLINE_CASES_CMD_H
#define HOTLINE_CASES_CMD_H

#include <stdbool.h>
#include <stddef.h>

#include "menu.h"

#define CASES_NUMBER_MAX 40 /* a case number as text, with its NUL */

enum cases_cmd_kind {
	CCMD_NONE = 0, /* not a command: menu input */
	CCMD_ACCEPT,   /* 接 N */
	CCMD_VISITED,  /* 访 N 备注 */
	CCMD_REVIEW,   /* 审 N 备注 */
	CCMD_DONE,     /* 结 N 备注 */
	CCMD_REJECT,   /* 退 N 原因 */
	CCMD_SHOW,     /* 查 N */
	CCMD_LIST,     /* 列表 */
	CCMD_HELP,     /* 帮助 */
	CCMD_WITHDRAW, /* 撤销 N (applicants) */
	CCMD_COUNT
};

/* The words of each command: space-separated lists, borrowed (words[0] unused). */
struct cases_cmd_words {
	const char *words[CCMD_COUNT];
};

/* The menus' words (texts cmd_*). Never fails: a missing text gives no words. */
void cases_cmd_words_from_menu(const struct menu *m, struct cases_cmd_words *w);

struct cases_cmd {
	enum cases_cmd_kind kind;
	bool usage;        /* a command word, but no usable case number after it */
	int year;          /* typed year (2026-0005, 2026 0005, 20260005), 0 when none */
	long long seq;     /* the case's sequence number (0005 -> 5); 0 when none */
	int seq_digits;    /* digits typed for seq (20260005 is 8) */
	const char *note;  /* points into the text: what follows the number, trimmed; NULL when empty */
	size_t note_len;
};

/*
 * Read one message. A command is one of the words at the start (after
 * spaces; the longest word wins; ASCII letters in any case, full-width or
 * not), not followed directly by a letter or another Chinese character (查询
 * and jiekou are no commands), then, except for list and help, a case number
 * (ASCII or full-width digits, 2026-0005 / 2026－0005 / 2026 0005 / 0005 / 5,
 * perhaps 第5 or 5号), then the note. list and help stand alone. A number of
 * 0, over 12 digits or missing sets usage. Pure; never fails.
 */
void cases_cmd_parse(const struct cases_cmd_words *w, const char *text, size_t len, struct cases_cmd *out);

/*
 * The case numbers a parsed command may mean, most likely first, into
 * out[0..max): with number_format "year", a typed
 * year gives that year's number (2026-0005); 8 digits starting with 20 are
 * year and number (20260005); otherwise this year's, then last year's. With
 * "plain", the number itself. Returns how many (0 when the command has no
 * number).
 */
size_t cases_cmd_numbers(const struct cases_cmd *cmd, const char *number_format, int year_now,
    char (*out)[CASES_NUMBER_MAX], size_t max);

#endif
