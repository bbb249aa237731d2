/*
 * fuzz_phone: the phone-number normaliser (phone.h), the one door every
 * number comes in by, on any bytes: as the sender a network gives, as a
 * number a villager types, with the default country and without, and into
 * an output buffer of any size.
 *
 * Promises checked: the output is always terminated inside the buffer; a
 * cut output is a prefix of the whole one; only an E.164 result is ordinary
 * (and an ordinary number is "+" and 8 to 15 digits); normalising a
 * normalised number gives it back, of the same kind; a typed number that is
 * accepted is ordinary; phone_shown() points into the number; log_phone()
 * leaves at most 4 characters of a number readable and valid UTF-8 stays
 * valid.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "log.h"
#include "phone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fp_check_ordinary(const char *p)
{
	size_t n = strlen(p);

	FUZZ_CHECK(n >= 9 && n <= 16 && p[0] == '+' && p[1] != '0');
	for (size_t i = 1; i < n; i++)
		FUZZ_CHECK(p[i] >= '0' && p[i] <= '9');
}

/* Characters of s that are not '*' (what a masked line still shows of it). */
static size_t fp_shown(const char *s)
{
	size_t n = 0, i = 0, len = strlen(s);

	while (i < len)
		n += utf8_next(s, len, &i) != '*';
	return n;
}

static void fp_one(const char *in, const char *country, size_t small)
{
	char out[PHONE_LEN], again[PHONE_LEN], cut[PHONE_LEN + 1], masked[LOG_PHONE_BUF];
	enum phone_kind k, k2;

	memset(out, 'X', sizeof(out));
	k = phone_normalise(in, country, out, sizeof(out));
	FUZZ_CHECK(memchr(out, '\0', sizeof(out)) != NULL);
	FUZZ_CHECK((k == PHONE_NONE) == (out[0] == '\0'));
	FUZZ_CHECK(phone_is_ordinary(out) == (k == PHONE_E164));
	if (k == PHONE_E164)
		fp_check_ordinary(out);
	FUZZ_CHECK(phone_shown(out, country) >= out && phone_shown(out, country) <= out + strlen(out));

	/* a normalised number normalises to itself (when nothing was cut) */
	if (strlen(in) + 1 < sizeof(out) && k != PHONE_NONE) {
		k2 = phone_normalise(out, country, again, sizeof(again));
		if (fuzz_verbose())
			fprintf(stderr, "\"%s\" -> \"%s\" (%d) -> \"%s\" (%d)\n", in, out, (int)k, again, (int)k2);
		FUZZ_CHECK(k2 == k);
		FUZZ_CHECK(strcmp(again, out) == 0);
	}

	/* a smaller buffer: terminated, and a prefix of the whole answer */
	memset(cut, 'X', sizeof(cut));
	phone_normalise(in, country, cut, small);
	if (small > 0) {
		FUZZ_CHECK(memchr(cut, '\0', small) != NULL);
		if (strlen(in) + 1 < sizeof(out))
			FUZZ_CHECK(strncmp(cut, out, strlen(cut)) == 0);
	}
	FUZZ_CHECK(small >= sizeof(cut) || cut[small] == 'X');

	/* typed into a form: accepted only as a person's number */
	if (phone_parse_typed(in, country, again, sizeof(again)))
		fp_check_ordinary(again);

	/* in a log line: masked, at most 4 characters left, valid UTF-8 kept valid */
	log_init(LOG_LVL_ERROR, true);
	log_phone(in, masked, sizeof(masked));
	FUZZ_CHECK(memchr(masked, '\0', sizeof(masked)) != NULL);
	if (utf8_valid(in, strlen(in)))
		FUZZ_CHECK(utf8_valid(masked, strlen(masked)));
	log_phone(out, masked, sizeof(masked));
	if (k == PHONE_E164)
		FUZZ_CHECK(fp_shown(masked) <= 5); /* the + and the last 4 digits */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in;
	size_t small = size > 0 ? data[0] % (PHONE_LEN + 1) : 0;

	if (size > 0) {
		data++;
		size--;
	}
	in = malloc(size + 1);
	memcpy(in, data, size);
	in[size] = '\0'; /* a C string: the edges hand on NUL-terminated numbers */
	fp_one(in, PHONE_COUNTRY_DEFAULT, small);
	fp_one(in, "44", small);
	fp_one(in, NULL, small);
	free(in);
	return 0;
}
