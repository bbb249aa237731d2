# hotline: one flat Makefile. `make` builds the daemon and the staff tool,
# `make check` installs what is missing and runs every test, `make run`
# runs the hotline on the dummy phone.

CC      ?= cc
BUILD   ?= build
PREFIX  ?= /usr/local
DESTDIR ?=
SAN     ?=

PKGS       := gammu libconfig sqlite3 libmicrohttpd libsodium xlsxwriter libcurl libzip expat
# -isystem: warnings in library headers are not ours to fix
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null | sed 's/-I/-isystem /g')
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

OPT      ?= -O2 -g
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
CFLAGS   ?=
LDFLAGS  ?=
CPPFLAGS += -D_GNU_SOURCE -Igateway
ALL_CFLAGS = -std=c11 $(OPT) $(WARN) $(SAN) $(PKG_CFLAGS) $(CFLAGS) -MMD -MP
LDLIBS   += $(PKG_LIBS) -lpthread -lm

ifeq ($(SAN),)
else
OPT := -O1 -g -fno-omit-frame-pointer
endif

MAINS     := gateway/hotlined.c gateway/hotlinectl.c
LIB_SRCS  := $(filter-out $(MAINS), $(sort $(wildcard gateway/*.c)))
# The console's templates and stylesheet, embedded in the binary (scripts/embed-assets)
CONSOLE_ASSETS := $(sort $(wildcard console/templates/*.html console/templates/*.svg console/static/*.css))
LIB_OBJS  := $(LIB_SRCS:gateway/%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/console_assets.o
LIB       := $(BUILD)/libhotline.a

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
E2E_SRCS  := $(sort $(wildcard tests/e2e/test_*.c))
E2E_BINS  := $(E2E_SRCS:tests/e2e/%.c=$(BUILD)/tests/%)
HARNESS_SRCS := $(sort $(wildcard tests/harness/*.c))
HARNESS_OBJS := $(HARNESS_SRCS:tests/harness/%.c=$(BUILD)/obj/harness/%.o)
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)

CONFIG ?= config/hotline.cfg

.PHONY: all clean check test unit e2e browser samples lunar menucheck asan clang tsan format-check man run install bootstrap cycles \
	bench bench-compare stress fuzz valgrind kannel-demo

all: $(BUILD)/hotlined $(BUILD)/hotlinectl $(TOOL_BINS)

$(BUILD)/obj/%.o: gateway/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/gen/console_assets.c: $(CONSOLE_ASSETS) scripts/embed-assets
	@mkdir -p $(@D)
	scripts/embed-assets $@ $(CONSOLE_ASSETS)

$(BUILD)/obj/console_assets.o: $(BUILD)/gen/console_assets.c gateway/console_assets.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

# A static pattern rule: the harness objects are named targets, not intermediate
# files, so make keeps them and a test does not relink after every build.
$(HARNESS_OBJS): $(BUILD)/obj/harness/%.o: tests/harness/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests/harness $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/hotlined: $(BUILD)/obj/hotlined.o $(LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/hotlinectl: $(BUILD)/obj/hotlinectl.o $(LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tools/%: tests/tools/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(HARNESS_OBJS) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests/harness $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(HARNESS_OBJS) $(LIB) $(LDLIBS) $(CMOCKA_LIBS)

$(BUILD)/tests/%: tests/e2e/%.c $(HARNESS_OBJS) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests/harness $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(HARNESS_OBJS) $(LIB) $(LDLIBS) $(CMOCKA_LIBS)

# ---- manual pages -----------------------------------------------------------
# hotline.cfg(5) is built from config.c's schema table (tests/tools/config-schema)
# and config/README.md's tables, and fails when they disagree; hotlinectl(8) from
# hotlinectl's own --help texts; hotlined(8) is written by hand (man/).
MANPAGES := $(BUILD)/man/hotline.cfg.5 $(BUILD)/man/hotlinectl.8 $(BUILD)/man/hotlined.8

$(BUILD)/man/hotline.cfg.5: $(BUILD)/tools/config-schema config/README.md scripts/gen-cfg-man
	@mkdir -p $(@D)
	scripts/gen-cfg-man $(BUILD)/tools/config-schema config/README.md $@

$(BUILD)/man/hotlinectl.8: $(BUILD)/hotlinectl scripts/gen-ctl-man
	@mkdir -p $(@D)
	HOTLINE_CONFIG=config/hotline.cfg scripts/gen-ctl-man $(BUILD)/hotlinectl $@

$(BUILD)/man/hotlined.8: man/hotlined.8
	@mkdir -p $(@D)
	cp $< $@

man: $(MANPAGES)

# compile_commands.json for clangd and clang-tidy: the compile lines `make -n`
# would run for the daemon, the tool, the tools and every test
compile_commands.json: Makefile scripts/compile-commands
	scripts/compile-commands $(MAKE) > $@

# ---- set-up ---------------------------------------------------------------

bootstrap:
	@scripts/bootstrap

# ---- running ----------------------------------------------------------------

# The dummy phone lives in var/phone; as root (a fresh test machine) hotlined
# needs --allow-root: a bureau runs it as its own user (scripts/hotlined.service).
run: bootstrap
	@$(MAKE) --no-print-directory all
	@mkdir -p var/phone
	$(BUILD)/hotlined -c $(CONFIG) $(if $(filter 0,$(shell id -u)),--allow-root)

# hotlined behind real Kannel on loopback (bearerbox, smsbox, fakesmsc): one SMS in, the answer out.
KANNEL_TEXT ?= 低保怎么申请
kannel-demo: bootstrap
	@$(MAKE) --no-print-directory all
	@scripts/kannel-demo '$(KANNEL_TEXT)' $(BUILD)

install: all man
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/hotline/menus \
		$(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(PREFIX)/share/hotline/config $(DESTDIR)$(PREFIX)/lib/systemd/system
	install -m 0755 $(BUILD)/hotlined $(BUILD)/hotlinectl $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(BUILD)/man/hotline.cfg.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0644 $(BUILD)/man/hotlined.8 $(BUILD)/man/hotlinectl.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 menus/*.cfg menus/README.md $(DESTDIR)$(PREFIX)/share/hotline/menus/
	install -m 0644 config/hotline.cfg $(DESTDIR)$(PREFIX)/share/hotline/config/hotline.cfg.example
	install -m 0644 config/README.md $(DESTDIR)$(PREFIX)/share/hotline/config/
	sed 's#@PREFIX@#$(PREFIX)#g' scripts/hotlined.service > $(DESTDIR)$(PREFIX)/lib/systemd/system/hotlined.service

# ---- tests ------------------------------------------------------------------

# Tests find the binaries under test through HOTLINE_BUILD.
export HOTLINE_BUILD = $(abspath $(BUILD))
export HOTLINE_SRC = $(abspath .)

unit: $(UNIT_BINS)
	@scripts/run-tests unit $(UNIT_BINS)

e2e: all $(E2E_BINS)
	@scripts/run-tests e2e $(E2E_BINS)

# The staff console in a real headless Chromium (tests/browser/test_console.py):
# screenshots of each page under $(BUILD)/console-shots/.
browser: all
	@scripts/run-tests browser tests/browser/test_console.py

menucheck: $(BUILD)/hotlinectl
	$(BUILD)/hotlinectl -c $(CONFIG) menu check

# The shared sample of villager messages lives beside the checkout (../shared);
# a copy is kept for machines that have only the repository.
SHARED_SAMPLES := $(firstword $(wildcard ../shared/samples/villager-messages.tsv) tests/corpus/shared/villager-messages.tsv)

samples: $(BUILD)/hotlinectl
	@scripts/check-samples $(BUILD)/hotlinectl $(CONFIG) tests/corpus/*.tsv $(SHARED_SAMPLES)

# No module calls back into one that calls it: the calls between gateway/*.c
# files, read from the objects' symbols; `scripts/check-cycles --graph` lists them.
cycles: all
	@scripts/check-cycles $(BUILD)

# gateway/lunar.c against Debian's python3-lunardate, every day of 1900-2099
lunar: $(BUILD)/tools/lunar-dump
	@scripts/check-lunar $(BUILD)/tools/lunar-dump

test: all cycles man format-check menucheck unit e2e samples lunar browser

asan:
	@$(MAKE) --no-print-directory BUILD=build/asan SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" test

# the whole tree built with clang (-Werror), then the same tests as `make test`
clang:
	@$(MAKE) --no-print-directory BUILD=build/clang CC=clang test

# The end-to-end suites where threads meet (two modem threads, reload, the HTTP
# threads and the USSD writer, the log file swapped on reload) with hotlined built under
# ThreadSanitizer. Every report from any process goes to build/tsan/reports/;
# one unsuppressed report fails the run. tests/tsan.supp holds libGammu's own
# races, each explained. TSAN_TESTS picks other suites.
TSAN_TESTS ?= test_e2e_sms test_e2e_signals test_e2e_ussd test_e2e_ops
tsan:
	@$(MAKE) --no-print-directory BUILD=build/tsan SAN="-fsanitize=thread" \
		all $(TSAN_TESTS:%=build/tsan/tests/%)
	@HOTLINE_BUILD=$(abspath build/tsan) scripts/run-tsan $(abspath build/tsan) $(TSAN_TESTS)

# the C files listed in scripts/format-files follow .clang-format
format-check:
	@scripts/check-format

check: bootstrap
	@scripts/run-tests reset
	@$(MAKE) --no-print-directory test
	@$(MAKE) --no-print-directory clang
	@$(MAKE) --no-print-directory asan
	@$(MAKE) --no-print-directory tsan
	@scripts/run-tests summary

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ---- benchmarks (not part of `make check`) -----------------------------------
# `make bench` builds the bench programs under build/bench and runs them all
# (tests/bench/run.sh), printing one table of min/median/max at the end.
# BENCH_RUNS sets the repeats (default 3); BENCH_ONLY="engine store drain ussd
# mem startup" runs a subset. Numbers, machine and method: BENCHMARKS.md.

.PHONY: bench-build
.PRECIOUS: $(BUILD)/bench/obj/%.o
BENCH_DIR  := $(BUILD)/bench
BENCH_OBJ  := $(BENCH_DIR)/obj/bench_corpus.o
BENCH_BINS := $(BENCH_DIR)/bench_engine $(BENCH_DIR)/bench_store $(BENCH_DIR)/bench_console $(BENCH_DIR)/ussd_bare $(BENCH_DIR)/watch

$(BENCH_DIR)/obj/%.o: tests/bench/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests/bench $(ALL_CFLAGS) -c $< -o $@

$(BENCH_DIR)/bench_%: $(BENCH_DIR)/obj/bench_%.o $(BENCH_OBJ) $(LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BENCH_DIR)/ussd_bare: $(BENCH_DIR)/obj/ussd_bare.o
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BENCH_DIR)/watch: $(BENCH_DIR)/obj/watch.o
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

bench-build: all $(BENCH_BINS)

bench: bootstrap
	@$(MAKE) --no-print-directory bench-build
	@HOTLINE_BUILD=$(abspath $(BUILD)) tests/bench/run.sh

# The same benchmarks for BASE (a git revision, built in build/bench-base) and
# for this checkout, round by round, and one table of both medians: how a
# change that should not change speed is shown not to (BENCHMARKS.md).
BASE ?= HEAD~1
bench-compare: bootstrap
	@$(MAKE) --no-print-directory bench-build
	@HOTLINE_BUILD=$(abspath $(BUILD)) tests/bench/compare.sh $(BASE)

# ---- reliability (issue 6): not part of `make check` ----------------------------

# 2,000 inbound SMS, hotlined SIGKILLed at 25 random moments while it works;
# prints stored / answered / lost / duplicated and fails on any loss.
stress: all $(BUILD)/tests/test_e2e_broadcast
	@tests/stress.sh
	@HOTLINE_BCAST_STRESS=1 $(BUILD)/tests/test_e2e_broadcast

# libFuzzer harnesses (tests/fuzz/fuzz_*.c), built with clang and
# ASan+UBSan in build/fuzz, each run FUZZ_SECONDS on its seed corpus; prints
# executions and crashes per harness. `make check` runs every committed
# corpus file again through tests/unit/test_fuzz_corpus.c.
FUZZ_SECONDS ?= 60
FUZZ_NAMES   := normalize menu staffcmd ussd phone
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h build/fuzz/libhotline.a
	clang $(CPPFLAGS) -Itests/fuzz -DFUZZ_SRC_DIR='"$(abspath .)"' -std=c11 -O1 -g -fno-omit-frame-pointer \
		$(WARN) $(PKG_CFLAGS) -fsanitize=fuzzer $(FUZZ_SAN) $(LDFLAGS) -o $@ $< build/fuzz/libhotline.a $(LDLIBS)

fuzz: bootstrap
	@$(MAKE) --no-print-directory BUILD=build/fuzz CC=clang \
		SAN="-fsanitize=fuzzer-no-link $(FUZZ_SAN)" build/fuzz/libhotline.a
	@$(MAKE) --no-print-directory $(FUZZ_NAMES:%=build/fuzz/fuzz_%)
	@HOTLINE_BUILD=$(abspath build) tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_NAMES)

# The end-to-end SMS test with every hotlined it starts under memcheck
# (tests/harness: HL_WRAP); 0 errors and 0 bytes definitely lost, or it fails.
# VALGRIND_TESTS="test_e2e_badinput ..." runs other end-to-end tests so.
VALGRIND_TESTS ?= test_e2e_sms
valgrind: all $(VALGRIND_TESTS:%=$(BUILD)/tests/%)
	@tests/valgrind.sh $(VALGRIND_TESTS:%=$(BUILD)/tests/%)
