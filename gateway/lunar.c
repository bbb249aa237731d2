/*
 * lunar: the Chinese lunar calendar (农历) for 1900-01-31 .. 2100-02-08,
 * from a table of one 17-bit word per lunar year 1900..2099.
 *
 * Each word: bits 15..4 say which of months 1..12 have 30 days (bit 15 is
 * month 1); bits 3..0 are the leap month (0 = none); bit 16 says whether the
 * leap month has 30 days. The words are those of Debian's python3-lunardate
 * (lunardate.yearInfos); `make check` compares every day of 1900..2099
 * against that library (tests/unit/test_lunar.c + scripts/check-lunar), so a
 * wrong bit cannot hide.
 */
#include "lunar.h"

#include <stddef.h>

static const unsigned int year_info[] = {
	0x04bd8, 0x04ae0, 0x0a570, 0x054d5, 0x0d260, 0x0d950, 0x16554, 0x056a0,
	0x09ad0, 0x055d2, 0x04ae0, 0x0a5b6, 0x0a4d0, 0x0d250, 0x1d255, 0x0b540,
	0x0d6a0, 0x0ada2, 0x095b0, 0x14977, 0x04970, 0x0a4b0, 0x0b4b5, 0x06a50,
	0x06d40, 0x1ab54, 0x02b60, 0x09570, 0x052f2, 0x04970, 0x06566, 0x0d4a0,
	0x0ea50, 0x06e95, 0x05ad0, 0x02b60, 0x186e3, 0x092e0, 0x1c8d7, 0x0c950,
	0x0d4a0, 0x1d8a6, 0x0b550, 0x056a0, 0x1a5b4, 0x025d0, 0x092d0, 0x0d2b2,
	0x0a950, 0x0b557, 0x06ca0, 0x0b550, 0x15355, 0x04da0, 0x0a5d0, 0x14573,
	0x052d0, 0x0a9a8, 0x0e950, 0x06aa0, 0x0aea6, 0x0ab50, 0x04b60, 0x0aae4,
	0x0a570, 0x05260, 0x0f263, 0x0d950, 0x05b57, 0x056a0, 0x096d0, 0x04dd5,
	0x04ad0, 0x0a4d0, 0x0d4d4, 0x0d250, 0x0d558, 0x0b540, 0x0b5a0, 0x195a6,
	0x095b0, 0x049b0, 0x0a974, 0x0a4b0, 0x0b27a, 0x06a50, 0x06d40, 0x0af46,
	0x0ab60, 0x09570, 0x04af5, 0x04970, 0x064b0, 0x074a3, 0x0ea50, 0x06b58,
	0x05ac0, 0x0ab60, 0x096d5, 0x092e0, 0x0c960, 0x0d954, 0x0d4a0, 0x0da50,
	0x07552, 0x056a0, 0x0abb7, 0x025d0, 0x092d0, 0x0cab5, 0x0a950, 0x0b4a0,
	0x0baa4, 0x0ad50, 0x055d9, 0x04ba0, 0x0a5b0, 0x15176, 0x052b0, 0x0a930,
	0x07954, 0x06aa0, 0x0ad50, 0x05b52, 0x04b60, 0x0a6e6, 0x0a4e0, 0x0d260,
	0x0ea65, 0x0d530, 0x05aa0, 0x076a3, 0x096d0, 0x04afb, 0x04ad0, 0x0a4d0,
	0x1d0b6, 0x0d250, 0x0d520, 0x0dd45, 0x0b5a0, 0x056d0, 0x055b2, 0x049b0,
	0x0a577, 0x0a4b0, 0x0aa50, 0x1b255, 0x06d20, 0x0ada0, 0x14b63, 0x09370,
	0x049f8, 0x04970, 0x064b0, 0x168a6, 0x0ea50, 0x06aa0, 0x1a6c4, 0x0aae0,
	0x092e0, 0x0d2e3, 0x0c960, 0x0d557, 0x0d4a0, 0x0da50, 0x05d55, 0x056a0,
	0x0a6d0, 0x055d4, 0x052d0, 0x0a9b8, 0x0a950, 0x0b4a0, 0x0b6a6, 0x0ad50,
	0x055a0, 0x0aba4, 0x0a5b0, 0x052b0, 0x0b273, 0x06930, 0x07337, 0x06aa0,
	0x0ad50, 0x14b55, 0x04b60, 0x0a570, 0x054e4, 0x0d160, 0x0e968, 0x0d520,
	0x0daa0, 0x16aa6, 0x056d0, 0x04ae0, 0x0a9d4, 0x0a2d0, 0x0d150, 0x0f252,
};

#define FIRST_YEAR 1900
#define NYEARS ((int)(sizeof(year_info) / sizeof(year_info[0])))

/* Days since 1970-01-01 of a Gregorian date (Howard Hinnant's algorithm). */
long lunar_days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = (long)y - era * 400;
	long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void lunar_civil_from_days(long z, int *y, int *m, int *d)
{
	z += 719468;
	long era = (z >= 0 ? z : z - 146096) / 146097;
	long doe = z - era * 146097;
	long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static int month_days(unsigned int info, int month)
{
	return (info >> (16 - month)) & 1 ? 30 : 29;
}

static int leap_days(unsigned int info)
{
	if ((info & 0xf) == 0)
		return 0;
	return (info >> 16) & 1 ? 30 : 29;
}

static int year_days(unsigned int info)
{
	int n = leap_days(info);

	for (int mo = 1; mo <= 12; mo++)
		n += month_days(info, mo);
	return n;
}

bool lunar_from_days(long days, struct lunar_date *out)
{
	long off = days - lunar_days_from_civil(1900, 1, 31);
	int i;

	if (off < 0)
		return false;
	for (i = 0; i < NYEARS; i++) {
		int n = year_days(year_info[i]);
		if (off < n)
			break;
		off -= n;
	}
	if (i == NYEARS)
		return false;
	unsigned int info = year_info[i];
	int leap = (int)(info & 0xf);
	out->year = FIRST_YEAR + i;
	for (int mo = 1; mo <= 12; mo++) {
		int n = month_days(info, mo);
		if (off < n) {
			out->month = mo;
			out->day = (int)off + 1;
			out->leap = false;
			return true;
		}
		off -= n;
		if (mo == leap) {
			n = leap_days(info);
			if (off < n) {
				out->month = mo;
				out->day = (int)off + 1;
				out->leap = true;
				return true;
			}
			off -= n;
		}
	}
	return false; /* not reached: year_days() counted these months */
}

bool lunar_from_civil(int y, int m, int d, struct lunar_date *out)
{
	return lunar_from_days(lunar_days_from_civil(y, m, d), out);
}
