/*
 * store_parts: the inbound parts of SMS as read from the phones
 * (store_parts.c), kept until they make a whole message, so that the linking
 * of a long SMS survives a restart. Conventions of store.h.
 */
#ifndef HOTLINE_STORE_PARTS_H
#define HOTLINE_STORE_PARTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "util.h"

struct store_part {
	int64_t id;
	const char *modem, *sender;
	int64_t smsc_time;
	int ref;      /* -1 for a lone SMS */
	int ref_bits; /* 0, 8 or 16 */
	int total, seq;
	const char *text;
	size_t text_len;
	const void *raw;
	size_t raw_len;
	const char *kind; /* text|flash|binary|status-report */
	int64_t received_at;
	int64_t message_id; /* the message it already is (a lone SMS stored after its message), 0 when none yet */
	int location;       /* where it sits on the phone (folder and place, gsm.h); -1 unknown */
};
/*
 * Store one part unless the same part (modem, sender, SMSC time, reference,
 * part number, text digest, place on the phone) is stored and not yet deleted
 * from the phone: *inserted says which. This is what makes a part read again
 * after a crash a no-op, while two identical texts sent in the same second
 * (two places on the phone) stay two messages.
 */
int store_part_add(struct store *st, const struct store_part *p, bool *inserted) WARN_UNUSED;
/*
 * The parts at these places of a modem were deleted from the phone: their
 * places may hold new messages (one transaction of its own).
 */
int store_parts_gone(struct store *st, const char *modem, const int *locations, size_t n) WARN_UNUSED;
/* Is this very part (the same key) stored already? */
int store_part_seen(struct store *st, const struct store_part *p, bool *seen) WARN_UNUSED;

/* The stored parts of one message that is not yet a message. */
struct store_group {
	char modem[40], sender[48];
	int ref, ref_bits, total;
	int64_t first_received; /* when its first part was stored */
	int64_t smsc_time;      /* of its first part */
	size_t n;               /* distinct parts present */
	bool complete;          /* all `total` parts present */
	char kind[16];
	struct buf text; /* texts of the present parts in order (load only) */
};
/* Load the group a part belongs to (its texts joined in part order). */
int store_group_load(struct store *st, const char *modem, const char *sender, int ref, int ref_bits, int total,
    struct store_group *g) WARN_UNUSED;
/* Mark the group's parts as made into message_id. */
int store_group_consume(struct store *st, const struct store_group *g, int64_t message_id) WARN_UNUSED;
/* Groups still incomplete whose first part came before cutoff (no texts). */
int store_group_stale(struct store *st, int64_t cutoff, struct store_group *out, size_t max, size_t *n) WARN_UNUSED;
void store_group_free(struct store_group *g);

#endif
