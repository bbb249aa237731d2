/*
 * utf8: decoding and encoding UTF-8 one code point at a time. Pure.
 */
#ifndef HOTLINE_UTF8_H
#define HOTLINE_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UTF8_REPLACEMENT 0xFFFDu

/*
 * Decode the code point at s[*i] (len bytes in s) and advance *i past it.
 * An invalid or truncated sequence yields U+FFFD and advances one byte, so a
 * loop over any byte string always ends. Overlong forms and surrogates are
 * invalid.
 */
uint32_t utf8_next(const char *s, size_t len, size_t *i);
/* Write cp as UTF-8 into out (at least 4 bytes); returns the byte count. */
size_t utf8_put(uint32_t cp, char *out);
/* True when the whole string is valid UTF-8 without NUL bytes. */
bool utf8_valid(const char *s, size_t len);
/* Code points in s (invalid bytes count one each). */
size_t utf8_chars(const char *s, size_t len);

#endif
