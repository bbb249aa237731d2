/*
 * lunar-dump FROM TO: every day from FROM to TO (YYYY-MM-DD) as
 * "YYYY-MM-DD<TAB>lunar year<TAB>month<TAB>day<TAB>leap 0|1" (or "-" when
 * out of the table), for scripts/check-lunar to compare with python3-lunardate.
 */
#include <stdio.h>

#include "lunar.h"

int main(int argc, char **argv)
{
	int y1, m1, d1, y2, m2, d2;

	if (argc != 3 || sscanf(argv[1], "%d-%d-%d", &y1, &m1, &d1) != 3 ||
	    sscanf(argv[2], "%d-%d-%d", &y2, &m2, &d2) != 3) {
		fprintf(stderr, "usage: lunar-dump FROM TO (YYYY-MM-DD)\n");
		return 2;
	}
	for (long day = lunar_days_from_civil(y1, m1, d1); day <= lunar_days_from_civil(y2, m2, d2); day++) {
		int y, m, d;
		struct lunar_date l;
		lunar_civil_from_days(day, &y, &m, &d);
		if (lunar_from_days(day, &l))
			printf("%04d-%02d-%02d\t%d\t%d\t%d\t%d\n", y, m, d, l.year, l.month, l.day, l.leap ? 1 : 0);
		else
			printf("%04d-%02d-%02d\t-\n", y, m, d);
	}
	return 0;
}
