/*
 * cases_staff: carrying out the SMS commands cases_cmd.c reads (接 N, 访 N
 * 备注, 查 N, 列表, 帮助 from staff; 撤销 N from an applicant): who may do
 * what, the case a typed number means, the move (cases_change) and the
 * reply. Reads and writes the database inside the caller's transaction; the
 * parser itself stays pure in cases_cmd.c.
 */
#ifndef HOTLINE_CASES_STAFF_H
#define HOTLINE_CASES_STAFF_H

#include <stdbool.h>
#include <stddef.h>

#include "ctx.h"

/*
 * Commands by SMS (words and syntax: cases_cmd.h and menus/30-cases.cfg):
 * from a configured staff phone, 接 N, 访 N 备注, ...; from anyone, 撤销 N
 * for their own case. From any other phone a staff command is not a
 * command: *handled stays false and the menus answer. When *handled,
 * *reply (owned) is the answer. -1 on a database error.
 */
int cases_command(struct ctx *c, const char *phone, const char *text, size_t len, bool *handled, char **reply);

#endif
