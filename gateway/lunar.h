/*
 * lunar: Gregorian dates to the Chinese lunar calendar (农历), exact for
 * 1900-01-31 .. 2100-02-08 (lunar years 1900..2099), and day arithmetic.
 * Pure: no clock; callers pass the date.
 */
#ifndef HOTLINE_LUNAR_H
#define HOTLINE_LUNAR_H

#include <stdbool.h>

struct lunar_date {
	int year;  /* the lunar year, named by the Gregorian year it mostly falls in */
	int month; /* 1..12 */
	int day;   /* 1..30 */
	bool leap; /* a leap month (闰月) */
};

/* Days since 1970-01-01 of a Gregorian date, and back. */
long lunar_days_from_civil(int y, int m, int d);
void lunar_civil_from_days(long days, int *y, int *m, int *d);

/* The lunar date of a day; false outside the table's range. */
bool lunar_from_days(long days, struct lunar_date *out);
bool lunar_from_civil(int y, int m, int d, struct lunar_date *out);

#endif
