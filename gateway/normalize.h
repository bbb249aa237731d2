/*
 * normalize: turn what a villager typed into the form the menus match on.
 * Pure; see menus/README.md ("How a message finds its node") for the rules.
 */
#ifndef HOTLINE_NORMALIZE_H
#define HOTLINE_NORMALIZE_H

#include <stdbool.h>
#include <stddef.h>

#define NORM_KEEP_HASH 0x1 /* keep '#' (the digit wildcard of keywords) */

/*
 * Normalise len bytes of in (any bytes; invalid UTF-8 is dropped) into out,
 * which must hold at least len + 1 bytes: the result is never longer than the
 * input. Returns the length written (out is NUL-terminated).
 *
 * Full-width forms become ASCII, ASCII letters lower case, circled and
 * Chinese numerals Arabic digits (八十五 -> 85, 一二三 -> 123), spaces,
 * punctuation, symbols and emoji are dropped, except that one space stays
 * between two ASCII letters or digits that had a separator between them.
 */
size_t norm_text(const char *in, size_t len, char *out, unsigned flags);

/* Allocating form; caller frees. */
char *norm_dup(const char *in, size_t len, unsigned flags);

#endif
