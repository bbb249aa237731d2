/*
 * config-schema: print gateway/config.c's schema table, one key a line
 * (config_print_schema), for scripts/gen-cfg-man, which builds hotline.cfg(5)
 * from it and fails when config/README.md and the table disagree.
 */
#include <stdio.h>

#include "config.h"

int main(void)
{
	config_print_schema(stdout);
	return ferror(stdout) ? 1 : 0;
}
