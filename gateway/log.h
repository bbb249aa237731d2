/*
 * log: levelled logging to stderr (foreground, systemd style) with a module tag.
 *
 * Levels: log_debug (only with -v), log_info, log_warn (adds strerror(errno)),
 * log_warnx, log_error (adds strerror(errno)), log_errorx. The level is checked before anything is
 * formatted. Every function keeps errno intact and is safe to call from any
 * thread (one write(2) per line). Phone numbers are masked with log_phone().
 * Each line starts with the time in the bureau's zone (config timezone, once
 * log_set_zone has been called; UTC before), not the machine's.
 */
#ifndef HOTLINE_LOG_H
#define HOTLINE_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_LVL_DEBUG = 0, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERROR };

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Set the threshold (default LOG_LVL_INFO) and whether phones are masked (default true). */
void log_init(enum log_level level, bool mask_phones);
bool log_enabled(enum log_level level);
/* Optional: also append every line to this file descriptor (-1 to stop). */
void log_set_fd(int fd);
/* The zone the lines' times are in (a tz database name, "Asia/Shanghai"); an unknown one keeps the last. */
void log_set_zone(const char *name);

void log_msg(enum log_level level, const char *tag, bool with_errno, const char *fmt, ...) LOG_PRINTF(4, 5);

#define log_debug(tag, ...) do { if (log_enabled(LOG_LVL_DEBUG)) log_msg(LOG_LVL_DEBUG, tag, false, __VA_ARGS__); } while (0)
#define log_info(tag, ...)   log_msg(LOG_LVL_INFO, tag, false, __VA_ARGS__)
#define log_warn(tag, ...)   log_msg(LOG_LVL_WARN, tag, true, __VA_ARGS__)
#define log_warnx(tag, ...)  log_msg(LOG_LVL_WARN, tag, false, __VA_ARGS__)
#define log_error(tag, ...)  log_msg(LOG_LVL_ERROR, tag, true, __VA_ARGS__)
#define log_errorx(tag, ...) log_msg(LOG_LVL_ERROR, tag, false, __VA_ARGS__)

/*
 * Render a phone number for a log line into buf: all but its last 4
 * characters (code points: a full-width digit is one) replaced by one '*'
 * each when masking is on ("+*********5678"), verbatim otherwise; a '+'
 * stays. Returns buf. Never fails; truncates to buflen at a character.
 */
const char *log_phone(const char *phone, char *buf, size_t buflen);
#define LOG_PHONE_BUF 40

#endif
