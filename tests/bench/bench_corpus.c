#include "bench_corpus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

#define STEP_S 12 /* seconds between two messages of one conversation */

/*
 * Free sentences: what villagers text when they do not know the menus, long
 * and short, with the noise of real messages (punctuation, full-width digits,
 * pinyin, dialect, an emoji). Written for this benchmark; none is in the corpora.
 */
static const char *const free_sentences[] = {
	"你好，我想问一下我们家能不能吃低保，家里就我和老伴两个人，都七十多了。",
	"我老伴去年走了，儿子在外地打工不回来，我一个人在家，腿脚也不好，有没有啥补助？",
	"请问高龄补贴多大岁数才能领，我爹今年八十一了还没领到过。",
	"孩子他爸判刑了，他妈跑了，娃跟着我过，听说有个无人抚养儿童的钱，咋申请？",
	"家里着火了，房子烧了一半，现在住在亲戚家，能不能给点临时救助。",
	"我们村的低保名单公示了吗？我想看看有没有我家。",
	"低保金这个月为啥还没到卡上，往常十号就到了。",
	"五保户住敬老院要交钱吗",
	"我今年六十五了，没儿没女，听说有个特困供养，我能不能办。",
	"医院说要交三万块押金，家里实在拿不出来，民政上能帮一点不？",
	"ni hao wo xiang wen di bao zen me shen qing",
	"我想申请低保，需要带户口本和身份证去哪里办？",
	"我娘瘫痪在床三年了，我要照顾她没法出去打工，家里没有收入。",
	"请问临时救助一次最多能给多少钱？",
	"我的低保被取消了，也没人告诉我为啥，我想问问清楚。",
	"能不能派人来我家看看，我走不动路，去不了镇上。",
	"谢谢你们上次帮忙，钱已经收到了。",
	"我家孩子上学的钱交不起，有没有救助？",
	"８０岁以上的老人每个月补多少",
	"我是白水镇寨子街村的，想申请救助直通车上门服务。",
	"你们电话是多少，我想打电话问问。",
	"办公室在哪里？周六上班吗？",
	"👍谢谢",
	"俺娘八十五了，高龄补贴一个月给几个钱",
	"啥叫事实无人抚养儿童，俺孙子算不算",
	"今年的低保标准涨了没有？城里和农村一样不一样？",
	"我丈夫得了癌症，化疗花了十几万，医保报了一部分，剩下的实在拿不出来了，请问还有没有别的救助可以申请，我们家两个孩子都还在上学，家里就靠我种地。",
	"村干部说我家有车不能吃低保，可那是十几年前的旧三轮车，早就开不动了，这样也不行吗？",
	"我在外地打工，老家的母亲一个人住，她不识字也不会用手机，我能替她申请吗？",
	"去年冬天房子漏雨塌了一间，一直没钱修，住着很危险，有没有危房改造或者临时救助？",
	"请问申请低保要多长时间才能批下来？我上个月交的材料。",
	"我是残疾人，有二级残疾证，除了残疾人补贴还能申请低保吗？",
	"孩子的爸妈都不在了，我是他奶奶，今年七十三，娃十岁，我们俩咋活呀",
	"查一下我申请的进度",
	"我想提个意见，村里评低保不公平，有的人家里盖了楼房还在吃低保。",
	"收到",
	"好的",
	"嗯嗯知道了",
	"？？？",
	"你们是骗子吧",
	"1",
	"主菜单",
};

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct buf b = { 0 };
	char chunk[8192];
	size_t n;

	if (f == NULL) {
		perror(path);
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	return buf_take(&b);
}

struct row {
	char *phone, *text, *expected;
	int conv, k;
};

static int cmp_at(const void *a, const void *b)
{
	const struct bench_msg *x = a, *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->conv - y->conv;
}

int bench_corpus_load(struct bench_corpus *c, const char *const *paths, size_t npaths)
{
	struct row *rows = NULL;
	size_t nrows = 0, cap = 0;
	char **files = xcalloc(npaths + 1, sizeof(char *));
	int nconv = 0;

	memset(c, 0, sizeof(*c));
	for (size_t p = 0; p < npaths; p++) {
		char *save = NULL, *line;
		int first_conv = nconv;
		files[p] = read_file(paths[p]);
		if (files[p] == NULL)
			goto fail;
		for (line = strtok_r(files[p], "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char *cols[5] = { 0 };
			int nc = 0;
			char *s = line;
			if (*line == '#' || *line == '\0')
				continue;
			while (nc < 5) {
				cols[nc++] = s;
				s = strchr(s, '\t');
				if (s == NULL)
					break;
				*s++ = '\0';
			}
			if (nc < 4) {
				fprintf(stderr, "bench: %s: a line without case, phone, text, expected\n", paths[p]);
				goto fail;
			}
			if (nrows == cap) {
				cap = cap ? cap * 2 : 1024;
				rows = xrealloc(rows, cap * sizeof(*rows));
			}
			rows[nrows].phone = cols[1];
			rows[nrows].text = cols[2];
			rows[nrows].expected = cols[3];
			/* same phone in the same file: the same conversation */
			rows[nrows].conv = -1;
			rows[nrows].k = 0;
			for (size_t i = nrows; i-- > 0 && rows[i].conv >= first_conv;)
				if (strcmp(rows[i].phone, cols[1]) == 0) {
					rows[nrows].conv = rows[i].conv;
					rows[nrows].k = rows[i].k + 1;
					break;
				}
			if (rows[nrows].conv < 0)
				rows[nrows].conv = nconv++;
			nrows++;
		}
	}
	c->from_files = nrows;
	c->free_sentences = ARRAY_LEN(free_sentences);
	c->n = nrows + ARRAY_LEN(free_sentences);
	c->nconv = nconv + (int)ARRAY_LEN(free_sentences);
	c->msgs = xcalloc(c->n, sizeof(*c->msgs));
	/* every conversation starts at its own moment in the pass; one pass is 3600 s */
	c->span = 3600;
	for (size_t i = 0; i < nrows; i++) {
		struct bench_msg *m = &c->msgs[i];
		m->conv = rows[i].conv;
		m->text = xstrdup(rows[i].text);
		m->len = strlen(m->text);
		m->expected = xstrdup(rows[i].expected);
		m->at = (int64_t)rows[i].conv * (c->span - 10 * STEP_S) / c->nconv + (int64_t)rows[i].k * STEP_S;
	}
	for (size_t i = 0; i < ARRAY_LEN(free_sentences); i++) {
		struct bench_msg *m = &c->msgs[nrows + i];
		m->conv = nconv + (int)i;
		m->text = xstrdup(free_sentences[i]);
		m->len = strlen(m->text);
		m->expected = xstrdup("");
		m->at = (int64_t)m->conv * (c->span - 10 * STEP_S) / c->nconv;
	}
	qsort(c->msgs, c->n, sizeof(*c->msgs), cmp_at);
	for (size_t p = 0; p < npaths; p++)
		free(files[p]);
	free(files);
	free(rows);
	return 0;
fail:
	for (size_t p = 0; p < npaths; p++)
		free(files[p]);
	free(files);
	free(rows);
	return -1;
}

void bench_corpus_free(struct bench_corpus *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free((char *)c->msgs[i].text);
		free((char *)c->msgs[i].expected);
	}
	free(c->msgs);
	memset(c, 0, sizeof(*c));
}

void bench_phone(int pass, int conv, char *buf, size_t len)
{
	/* 13 + 9 digits: never one of the shipped staff numbers (139 0000 000x) for pass < 90000 */
	snprintf(buf, len, "13%09d", pass * 10000 + conv);
}

int bench_expected_ok(const char *expected, const char *node)
{
	const char *p = expected;

	while (*p) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);
		if (strncmp(node, p, n) == 0 && (node[n] == '\0' || node[n] == '.'))
			return 1;
		if (!bar)
			break;
		p = bar + 1;
	}
	return 0;
}

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double bench_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
