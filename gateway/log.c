#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tz.h"
#include "utf8.h"

static atomic_int log_threshold = LOG_LVL_INFO;
static atomic_bool log_mask = true;
static atomic_int log_extra_fd = -1;

/*
 * The zone of the lines' times: its own copy, not the config's (a reload frees
 * that while other threads log). A zone replaced on reload is kept, reachable,
 * for a line being written with it on another thread; reloads that change the
 * zone are few.
 */
struct zone_kept {
	struct tz *z;
	struct zone_kept *next;
};
static _Atomic(struct tz *) log_zone;
static struct zone_kept *zones_kept;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void log_init(enum log_level level, bool mask_phones)
{
	atomic_store(&log_threshold, (int)level);
	atomic_store(&log_mask, mask_phones);
}

bool log_enabled(enum log_level level)
{
	return (int)level >= atomic_load(&log_threshold);
}

void log_set_fd(int fd)
{
	atomic_store(&log_extra_fd, fd);
}

void log_set_zone(const char *name)
{
	struct tz *old = atomic_load(&log_zone), *z;
	struct zone_kept *k;
	char err[256];

	if (name == NULL || (old && strcmp(tz_name(old), name) == 0))
		return;
	if ((z = tz_load(name, err, sizeof(err))) == NULL)
		return; /* the config check has said why */
	if (old) {
		/* calloc, not util's xcalloc: util logs, and log must not call back into it */
		if ((k = calloc(1, sizeof(*k))) == NULL) {
			tz_free(z);
			return;
		}
		k->z = old;
		k->next = zones_kept;
		zones_kept = k;
	}
	atomic_store(&log_zone, z);
}

void log_msg(enum log_level level, const char *tag, bool with_errno, const char *fmt, ...)
{
	int saved = errno;
	char line[2048];
	size_t n = 0;
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int r, fd;

	if (!log_enabled(level)) {
		errno = saved;
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	tz_civil(atomic_load(&log_zone), (int64_t)ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	r = snprintf(line + n, sizeof(line) - n, ".%03ld %s %s: ", ts.tv_nsec / 1000000L,
	    level_names[level], tag);
	if (r > 0)
		n += (size_t)r;
	va_start(ap, fmt);
	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (r > 0)
		n += (size_t)r;
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	if (with_errno) {
		r = snprintf(line + n, sizeof(line) - n, ": %s", strerror(saved));
		if (r > 0)
			n += (size_t)r;
		if (n >= sizeof(line) - 1)
			n = sizeof(line) - 2;
	}
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* nowhere left to report it */
	}
	fd = atomic_load(&log_extra_fd);
	if (fd >= 0 && write(fd, line, n) < 0) {
		/* the extra copy is best effort */
	}
	errno = saved;
}

const char *log_phone(const char *phone, char *buf, size_t buflen)
{
	size_t len, i = 0, n = 0, chars = 0, seen = 0;
	bool mask = atomic_load(&log_mask);

	if (buflen == 0)
		return buf;
	if (phone == NULL)
		phone = "";
	len = strlen(phone);
	while (i < len) { /* characters, not bytes: a full-width digit is one */
		utf8_next(phone, len, &i);
		chars++;
	}
	for (i = 0; i < len;) {
		size_t at = i;
		uint32_t cp = utf8_next(phone, len, &i);
		bool hide = mask && chars > 4 && seen + 4 < chars && cp != '+';
		size_t w = hide ? 1 : i - at;

		seen++;
		if (n + w + 1 > buflen)
			break;
		if (hide)
			buf[n] = '*';
		else
			memcpy(buf + n, phone + at, w);
		n += w;
	}
	buf[n] = '\0';
	return buf;
}
