#include "phone.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"

static size_t digits_of(const char *in, char *out, size_t outlen, bool *alpha, bool *plus)
{
	size_t n = 0, i = 0, len = strlen(in);

	*alpha = false;
	*plus = false;
	while (i < len && n + 1 < outlen) {
		uint32_t cp = utf8_next(in, len, &i);
		if (cp >= 0xFF10 && cp <= 0xFF19) /* full-width digits */
			cp = '0' + (cp - 0xFF10);
		if (cp >= '0' && cp <= '9')
			out[n++] = (char)cp;
		else if ((cp == '+' || cp == 0xFF0B) && n == 0)
			*plus = true;
		else if (cp < 0x80 && isalpha((int)cp))
			*alpha = true;
	}
	out[n] = '\0';
	return n;
}

void phone_key(const char *in, char *out, size_t outlen)
{
	char d[64];
	bool alpha, plus;
	size_t n;

	if (outlen == 0)
		return;
	n = digits_of(in, d, sizeof(d), &alpha, &plus);
	if (alpha || n == 0) {
		size_t k = 0;
		for (size_t i = 0; in[i] && k + 1 < outlen; i++)
			if (!isspace((unsigned char)in[i]))
				out[k++] = (char)toupper((unsigned char)in[i]);
		out[k] = '\0';
		return;
	}
	const char *p = d;
	if (n == 15 && strncmp(p, "0086", 4) == 0 && p[4] == '1')
		p += 4;
	else if (n == 13 && strncmp(p, "86", 2) == 0 && p[2] == '1')
		p += 2;
	snprintf(out, outlen, "%s", p);
}

bool phone_same(const char *a, const char *b)
{
	char ka[PHONE_KEY_LEN], kb[PHONE_KEY_LEN];

	phone_key(a, ka, sizeof(ka));
	phone_key(b, kb, sizeof(kb));
	return ka[0] != '\0' && strcmp(ka, kb) == 0;
}

bool phone_is_ordinary(const char *in)
{
	char d[64], key[PHONE_KEY_LEN];
	bool alpha, plus;
	size_t n = digits_of(in, d, sizeof(d), &alpha, &plus);

	if (alpha || n == 0)
		return false;
	phone_key(in, key, sizeof(key));
	n = strlen(key);
	if (n == 11 && key[0] == '1' && key[1] >= '3' && key[1] <= '9')
		return true; /* a Chinese mobile */
	if (key[0] == '0' && key[1] != '0' && n >= 10 && n <= 12)
		return true; /* a landline with its area code */
	if (plus && strncmp(key, "86", 2) != 0 && n >= 8 && n <= 15)
		return true; /* another country's number */
	return false;
}

bool phone_parse_typed(const char *in, char *out, size_t outlen)
{
	char d[64];
	bool alpha, plus;
	size_t n = digits_of(in, d, sizeof(d), &alpha, &plus);

	if (alpha || n < 7 || n > 15)
		return false;
	snprintf(out, outlen, "%s%s", plus ? "+" : "", d);
	return true;
}
