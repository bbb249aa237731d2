/*
 * tz: the bureau's clock. Civil time in one named zone of the system's tz
 * database (Debian's tzdata: /usr/share/zoneinfo/<name>, or $TZDIR), read
 * once into an immutable value, so any thread can turn a stored UTC time
 * into the zone's date and time and back without touching the process's TZ
 * (localtime_r and mktime follow the machine's zone, which on a server is
 * often UTC). Stored times stay UTC; only what people see, and the hours that
 * govern quiet hours, working hours, digests and case years, go through here.
 *
 * Offsets come from the zone file's transitions; after the last one, from
 * its footer when that is a fixed offset ("CST-8"), else the last
 * transition's offset (zones that still change for summer time are then
 * right only up to the file's last listed transition: Debian ships them
 * "fat", with transitions to 2037).
 */
#ifndef HOTLINE_TZ_H
#define HOTLINE_TZ_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct tz;

/* Read zone `name` ("Asia/Shanghai"). NULL with a reason in err when it is not a zone. */
struct tz *tz_load(const char *name, char *err, size_t errlen);
void tz_free(struct tz *z);
/* The zone's name as loaded. */
const char *tz_name(const struct tz *z);

/* Seconds east of UTC in the zone at UTC time t (z NULL: 0, UTC). */
int tz_offset(const struct tz *z, int64_t t);
/* The zone's civil time at t, like localtime_r (tm_gmtoff set, tm_isdst 0). */
void tz_civil(const struct tz *z, int64_t t, struct tm *out);
/* The UTC time of civil time tm in the zone (tm_year, mon, mday, hour, min, sec; others ignored; fields may overflow). */
int64_t tz_from_civil(const struct tz *z, const struct tm *tm);
/* Midnight (00:00) of the zone's day that holds t. */
int64_t tz_day_start(const struct tz *z, int64_t t);
/* "2026-11-28T16:40:01+08:00" in the zone; buf at least 32 bytes. */
const char *tz_iso8601(const struct tz *z, int64_t t, char *buf, size_t len);

#endif
