#include "maintenance.h"

#include "log.h"
#include "modem.h"

/* Run the body at most once every `secs` seconds (per call site). */
#define EVERY(secs, last, now) for (int once_ = ((now) - (last) >= (secs)); once_; once_ = 0, (last) = (now))

void maintenance_tick(struct ctx *c)
{
	static int64_t last_flush;

	EVERY(5, last_flush, c->now) {
		if (modem_flush_incomplete(c) < 0)
			log_warnx("maintenance", "could not process incomplete multipart messages; trying again");
	}
}
