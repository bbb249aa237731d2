#include "audit.h"

#include "store_console.h"

int audit_log(struct store *st, int64_t now, const char *who, const char *addr, const char *action,
    const char *target, const char *detail)
{
	struct store_audit a = { 0, now, who, addr, action, target, detail };

	return store_audit_add(st, &a);
}
