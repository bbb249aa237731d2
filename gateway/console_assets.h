/*
 * console_assets: the console's templates and stylesheet, embedded at build
 * time from console/templates/ and console/static/ (scripts/embed-assets
 * writes build/gen/console_assets.c).
 */
#ifndef HOTLINE_CONSOLE_ASSETS_H
#define HOTLINE_CONSOLE_ASSETS_H

#include <stddef.h>

struct console_asset {
	const char *name; /* the file's base name: "case.html", "console.css" */
	const char *data; /* NUL-terminated */
	size_t len;
};
/* Ends with a { NULL } entry. */
extern const struct console_asset console_assets[];

#endif
