/*
 * hotlinectl user ... and audit: the console's accounts from the shell (the
 * same auth.c calls as the console's 用户 page, each in the audit log as
 * "hotlinectl" from "shell"), and the audit log printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "audit.h"
#include "auth.h"
#include "ctl.h"
#include "phone.h"
#include "store_console.h"

/* A password from the terminal (not echoed) or one line of stdin. */
static char *read_password(const char *prompt)
{
	char line[1100];
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) == 1;

	if (tty) {
		fprintf(stderr, "%s", prompt);
		tcgetattr(STDIN_FILENO, &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
	}
	char *ok = fgets(line, sizeof(line), stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &old);
		fputc('\n', stderr);
	}
	if (ok == NULL)
		return NULL;
	line[strcspn(line, "\r\n")] = '\0';
	return xstrdup(line);
}

static int user_usage(void)
{
	fprintf(stderr, "usage: hotlinectl user add NAME --role admin|supervisor|staff|viewer [--staff PHONE]\n"
			"       hotlinectl user passwd NAME | user disable NAME | user enable NAME | user list\n"
			"(the password is read from the terminal, or from one line of standard input)\n");
	return 2;
}

static int print_user(const struct console_account *a, void *arg)
{
	struct ctl *c = arg;
	const struct staff_cfg *s = a->staff_phone ? config_staff_by_phone(c->w->cfg, a->staff_phone) : NULL;

	printf("%s\t%s\t%s\t%s\n", a->name, a->role, s ? s->name : (a->staff_phone ? "（配置里已没有）" : "-"),
	    a->disabled ? "已停用" : "在用");
	return 0;
}

static int finish(struct store *st, int rc)
{
	if (rc < 0 || store_commit(st) < 0) {
		store_rollback(st);
		fprintf(stderr, "hotlinectl: 数据库出错，什么也没改\n");
		return 1;
	}
	return 0;
}

int ctl_user(struct ctl *c, int argc, char **argv)
{
	struct store *st;
	const char *sub = argc > 1 ? argv[1] : "", *name = argc > 2 ? argv[2] : NULL;
	int64_t now = now_unix();
	bool ok = false;
	int rc;

	if (*sub == '\0')
		return user_usage();
	if (auth_init() < 0) {
		fprintf(stderr, "hotlinectl: 密码库 libsodium 启动不了\n");
		return 1;
	}
	if ((st = ctl_store(c)) == NULL)
		return 1;
	if (strcmp(sub, "list") == 0)
		return store_account_each(st, print_user, c) < 0 ? 1 : 0;
	if (name == NULL || *name == '\0' || strlen(name) > 64)
		return user_usage();
	if (strcmp(sub, "add") == 0) {
		const char *role = NULL, *phone = NULL;
		for (int i = 3; i < argc; i++) {
			if (strcmp(argv[i], "--role") == 0 && i + 1 < argc)
				role = argv[++i];
			else if (strcmp(argv[i], "--staff") == 0 && i + 1 < argc)
				phone = argv[++i];
			else
				return user_usage();
		}
		if (role == NULL || auth_role_parse(role) < 0)
			return user_usage();
		char norm[PHONE_LEN];
		if (phone) {
			if (!ctl_phone(c, "user", phone, norm, sizeof(norm)))
				return 1;
			phone = norm;
		}
		if (phone && config_staff_by_phone(c->w->cfg, phone) == NULL) {
			fprintf(stderr, "hotlinectl: %s 的工作人员里没有电话 %s\n", c->config_path, phone);
			return 1;
		}
		if (strcmp(role, "staff") == 0 && phone == NULL) {
			fprintf(stderr, "hotlinectl: staff 账号要用 --staff 电话 连到配置里的一位工作人员\n");
			return 2;
		}
		char *pw = read_password("密码：");
		if (!auth_password_ok(pw)) {
			fprintf(stderr, "hotlinectl: 密码至少要 %d 个字符\n", AUTH_MIN_PASSWORD);
			free(pw);
			return 1;
		}
		if (store_begin(st) < 0) {
			free(pw);
			return 1;
		}
		char detail[160];
		snprintf(detail, sizeof(detail), "role %s%s", role, phone ? ", linked to a staff phone" : "");
		rc = auth_user_add(st, name, pw, role, phone, now, &ok);
		free(pw);
		if (rc == 0 && ok)
			rc = audit_log(st, now, "hotlinectl", "shell", "user_add", name, detail);
		if (finish(st, rc))
			return 1;
		if (!ok) {
			fprintf(stderr, "hotlinectl: 已经有叫 %s 的账号\n", name);
			return 1;
		}
		printf("已添加账号 %s（%s）\n", name, role);
		return 0;
	}
	if (strcmp(sub, "passwd") == 0) {
		char *pw = read_password("新密码：");
		if (!auth_password_ok(pw)) {
			fprintf(stderr, "hotlinectl: 密码至少要 %d 个字符\n", AUTH_MIN_PASSWORD);
			free(pw);
			return 1;
		}
		if (store_begin(st) < 0) {
			free(pw);
			return 1;
		}
		rc = auth_user_passwd(st, name, pw, now, &ok);
		free(pw);
		if (rc == 0 && ok)
			rc = audit_log(st, now, "hotlinectl", "shell", "user_passwd", name, NULL);
	} else if (strcmp(sub, "disable") == 0 || strcmp(sub, "enable") == 0) {
		bool dis = strcmp(sub, "disable") == 0;
		if (store_begin(st) < 0)
			return 1;
		rc = auth_user_disable(st, name, dis, now, &ok);
		if (rc == 0 && ok)
			rc = audit_log(st, now, "hotlinectl", "shell", dis ? "user_disable" : "user_enable", name, NULL);
	} else {
		return user_usage();
	}
	if (finish(st, rc))
		return 1;
	if (!ok) {
		fprintf(stderr, "hotlinectl: 没有叫 %s 的账号\n", name);
		return 1;
	}
	printf("%s：%s\n",
	    strcmp(sub, "passwd") == 0        ? "已改密码"
		: strcmp(sub, "disable") == 0 ? "已停用"
					      : "已启用",
	    name);
	return 0;
}

static int print_audit(const struct store_audit *a, void *arg)
{
	char t[40];

	(void)arg;
	ctl_iso(a->at, t, sizeof(t));
	printf("%s\t%s\t%s\t%s\t%s\t%s\n", t, a->who, *a->addr ? a->addr : "-", a->action, *a->target ? a->target : "-",
	    a->detail);
	return 0;
}

int ctl_audit(struct ctl *c, int argc, char **argv)
{
	struct store *st;
	long long limit = 100;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc && parse_int(argv[i + 1], 1, 1000000, &limit)) {
			i++;
		} else {
			fprintf(stderr, "usage: hotlinectl audit [--limit N]   (newest first: time, who, from, action, target, detail)\n");
			return 2;
		}
	}
	if ((st = ctl_store(c)) == NULL)
		return 1;
	return store_audit_each(st, 0, (int)limit, print_audit, NULL) < 0 ? 1 : 0;
}
