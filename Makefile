# sipas - build, test, run.  Plain make + pkg-config (docs/design.md).
#
#   make          build bin/sipas (installs missing Debian packages first)
#   make run      build, create sipas.db with demo data, serve on 127.0.0.1:8080
#   make test     the whole suite, normally and under ASan+UBSan, and the browser suite
#   make check-layers  refuse an include that points up the layers (LAYERS)
#   make test-browser  the browser suite (tests/browser/) alone, against bin/sipas
#   make screenshots   PNGs of the kiosk and the questionnaire into docs/screenshots/
#   make bench    benchmarks (not part of the tests)
#   make fuzz     bounded libFuzzer runs of every parser
#   make install  bin/sipas, its systemd unit and its system user under
#                 $(DESTDIR)$(PREFIX) (docs/operations.md)
#   make deps     install the Debian packages the build and tests need, and the
#                 browser tests' npm packages (package-lock.json) into build/node
#   make clean

PKGS      := libmicrohttpd sqlite3 gsl jansson gnutls libqrencode xlsxwriter zlib libsodium libcurl libpq
DEBS      := libmicrohttpd-dev libsqlite3-dev libgsl-dev libjansson-dev libgnutls28-dev \
             libqrencode-dev libxlsxwriter-dev zlib1g-dev libsodium-dev libcurl4-gnutls-dev libpq-dev pkg-config
TEST_DEBS := sqlite3 clang time openssl valgrind libxml2-utils unzip \
             systemd procps python3-aiosmtpd postgresql-15
# The browser tests: Debian's Chromium, driven by playwright-core from npm
# (nodejs and npm from Debian only when there is no npm: some machines have a
# nodejs that conflicts with Debian's npm).
BROWSER_DEBS := chromium
NODE_DIR  := build/node
NODE_DEPS := $(NODE_DIR)/node_modules/.package-lock.json
SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

BUILD ?= build/release
SAN   ?=
BIN   := $(if $(SAN),$(BUILD)/sipas,bin/sipas)

CC    ?= cc
WARN  := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2
# Recursively expanded on purpose: pkg-config runs after `deps-ok` has
# installed what was missing.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(CFLAGS) $(WARN) $(SAN) $(PKG_CFLAGS)
LDLIBS   = $(PKG_LIBS) -lm -lpthread

# The folders are layers, lowest first (docs/design.md, "Layout"): a file
# may include the headers of its own folder and of the folders before it,
# never of one after it (make check-layers); tests/, bench/ and fuzz/ may
# include anything.  The engine is every layer but the last, cli/.
LAYERS     := lib db forms responses scoring reports hub office monitor collector cli
ENGINE_SRC := $(sort $(wildcard $(patsubst %,%/*.c,$(filter-out cli,$(LAYERS)))))
ENGINE_ASM := forms/builtin_data.S
CLI_SRC    := $(sort $(wildcard cli/*.c))
TEST_SRC   := $(sort $(wildcard tests/*.c)) fuzz/targets.c
ENGINE_OBJ := $(ENGINE_SRC:%.c=$(BUILD)/%.o) $(ENGINE_ASM:%.S=$(BUILD)/%.o) $(BUILD)/collector/www_data.o
CLI_OBJ    := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ   := $(TEST_SRC:%.c=$(BUILD)/%.o)
BUILTIN_DATA := $(wildcard forms/*.json forms/registry/*.csv)
WWW_FILES := $(sort $(wildcard collector/www/*))

.PHONY: all run test test-one test-browser screenshots bench fuzz valgrind deps deps-ok test-deps-ok \
	browser-deps-ok clean check-symbols check-layers install

all: $(BIN)

deps:
	$(SUDO) apt-get update
	$(SUDO) apt-get install -y $(DEBS) $(TEST_DEBS) $(BROWSER_DEBS)
	command -v npm >/dev/null 2>&1 || $(SUDO) apt-get install -y nodejs npm
	$(npm-ci)

# npm ci of package.json and package-lock.json in the build tree, so that
# node_modules stays out of the sources.
define npm-ci
	mkdir -p $(NODE_DIR)
	cp package.json package-lock.json $(NODE_DIR)/
	npm ci --prefix $(NODE_DIR) --no-audit --no-fund
endef

deps-ok:
	@command -v pkg-config >/dev/null 2>&1 && pkg-config --exists $(PKGS) || $(MAKE) --no-print-directory deps

test-deps-ok: deps-ok
	@command -v sqlite3 >/dev/null && command -v xmllint >/dev/null && \
		command -v unzip >/dev/null && command -v systemd-analyze >/dev/null && [ -x /bin/kill ] && \
		/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null && \
		[ -x /usr/lib/postgresql/15/bin/initdb ] || \
		$(MAKE) --no-print-directory deps

browser-deps-ok: test-deps-ok
	@[ -x /usr/bin/chromium ] && command -v npm >/dev/null || $(MAKE) --no-print-directory deps

$(NODE_DEPS): package.json package-lock.json | browser-deps-ok
	$(npm-ci)

$(BUILD)/%.o: %.c | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/forms/builtin_data.o: forms/builtin_data.S $(BUILTIN_DATA) | deps-ok
	@mkdir -p $(dir $@)
	$(CC) -c $< -o $@

# The pages (collector/www/) compiled in: a generated table of every file.
$(BUILD)/collector/www_data.S: collector/www_embed.sh $(WWW_FILES)
	@mkdir -p $(dir $@)
	sh collector/www_embed.sh $(BUILD)/collector/www-gz $(WWW_FILES) > $@

$(BUILD)/collector/www_data.o: $(BUILD)/collector/www_data.S
	$(CC) -c $< -o $@

$(BIN): $(ENGINE_OBJ) $(CLI_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -Wl,--fatal-warnings -o $@ $^ $(LDLIBS)

$(BUILD)/tests/run: $(ENGINE_OBJ) $(TEST_OBJ) | test-deps-ok
	$(CC) $(SAN) -Wl,--fatal-warnings -o $@ $^ $(LDLIBS)

# make install (docs/operations.md): the binary to $(BINDIR), the unit
# sipas.service to $(UNITDIR) and the sysusers.d entry of the user `sipas`
# to $(SYSUSERSDIR) -- the vendor directories under PREFIX, which systemd reads
# for /usr and /usr/local alike; local changes go in drop-ins under /etc
# (systemctl edit sipas).  Only without DESTDIR (a live install, not a
# staged one) is the user created and systemd told to re-read its units.
# INSTALL_BIN installs another build of the binary (the tests use it).
# The push to the national hub (docs/hub.md): sipas-push.service and
# sipas-push.timer beside sipas.service, and $(SYSCONFDIR)/sipas/push.env
# (mode 0600), a template installed only where there is none.
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
SYSCONFDIR  ?= /etc
INSTALL_BIN ?= $(BIN)

install: $(INSTALL_BIN)
	install -D -m 0755 $(INSTALL_BIN) $(DESTDIR)$(BINDIR)/sipas
	install -d -m 0755 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR)
	sed 's|@BINDIR@|$(BINDIR)|g' dist/sipas.service.in > $(DESTDIR)$(UNITDIR)/sipas.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/sipas.service
	install -m 0644 dist/sipas.sysusers $(DESTDIR)$(SYSUSERSDIR)/sipas.conf
	sed 's|@BINDIR@|$(BINDIR)|g' dist/sipas-push.service.in > $(DESTDIR)$(UNITDIR)/sipas-push.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/sipas-push.service
	install -m 0644 dist/sipas-push.timer $(DESTDIR)$(UNITDIR)/sipas-push.timer
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/sipas
	[ -e $(DESTDIR)$(SYSCONFDIR)/sipas/push.env ] || install -m 0600 dist/push.env $(DESTDIR)$(SYSCONFDIR)/sipas/push.env
	@if [ -z "$(DESTDIR)" ]; then \
		if command -v systemd-sysusers >/dev/null; then systemd-sysusers $(SYSUSERSDIR)/sipas.conf; \
		else echo "no systemd-sysusers: create the system user sipas (home /var/lib/sipas) yourself"; fi; \
		if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi; \
		echo "installed; start it with: systemctl enable --now sipas"; \
	fi

run: $(BIN)
	./$(BIN) init
	./$(BIN) demo --if-empty
	./$(BIN) user add --if-none --login office --name "Văn phòng thường trực" --role office
	./$(BIN) serve

# One pass of the suite for this BUILD/SAN; the counts go to $(BUILD)/tests/result.
test-one: $(BIN) $(BUILD)/tests/run build/fuzz/fuzz_body
	SIPAS_BIN=$(abspath $(BIN)) SIPAS_SOURCE=$(CURDIR) \
		SIPAS_FUZZ_BODY=$(abspath build/fuzz/fuzz_body) \
		$(BUILD)/tests/run | tee $(BUILD)/tests/output; \
		status=$${PIPESTATUS[0]}; tail -n 1 $(BUILD)/tests/output > $(BUILD)/tests/result; exit $$status

# The browser suite (tests/browser/run.mjs: a real server, headless Chromium),
# once, against bin/sipas; the counts go to build/browser/result.
test-browser: $(BIN) $(NODE_DEPS) | browser-deps-ok
	@mkdir -p build/browser; rm -f build/browser/result
	SIPAS_BIN=$(abspath $(BIN)) SIPAS_NODE_DIR=$(abspath $(NODE_DIR)) \
		node tests/browser/run.mjs | tee build/browser/output; \
		status=$${PIPESTATUS[0]}; tail -n 1 build/browser/output > build/browser/result; exit $$status

screenshots: $(BIN) $(NODE_DEPS) | browser-deps-ok
	SIPAS_BIN=$(abspath $(BIN)) SIPAS_NODE_DIR=$(abspath $(NODE_DIR)) \
		node tests/browser/screenshots.mjs docs/screenshots

test: SHELL := /bin/bash
test-one: SHELL := /bin/bash
test-browser: SHELL := /bin/bash
test:
	@status=0; \
	$(MAKE) --no-print-directory check-symbols || status=1; \
	$(MAKE) --no-print-directory check-layers || status=1; \
	$(MAKE) --no-print-directory test-one || status=1; \
	$(MAKE) --no-print-directory BUILD=build/asan \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
		test-one || status=1; \
	$(MAKE) --no-print-directory test-browser || status=1; \
	cat build/release/tests/result build/asan/tests/result build/browser/result 2>/dev/null | \
		awk '{p += $$1; f += $$3} END {print "all runs (normal + ASan/UBSan + browser):"; print p " passed, " f " failed"}'; \
	exit $$status

# Coverage-guided libFuzzer runs, FUZZ_SECONDS each (bounded); new inputs
# land in build/fuzz/new-NAME, crashes in build/fuzz/ (see fuzz/targets.h).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := csv form period import body date weight url expires hours fold records
FUZZ_FLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined $(PKG_CFLAGS)
build/fuzz/fuzz_%: fuzz/targets.c fuzz/libfuzzer.c $(ENGINE_SRC) $(BUILTIN_DATA) $(WWW_FILES) | deps-ok test-deps-ok
	@mkdir -p build/fuzz
	clang -c forms/builtin_data.S -o build/fuzz/builtin_data-$*.o
	sh collector/www_embed.sh build/fuzz/www-gz-$* $(WWW_FILES) > build/fuzz/www_data-$*.S
	clang -c build/fuzz/www_data-$*.S -o build/fuzz/www_data-$*.o
	clang $(FUZZ_FLAGS) -DFUZZ_TARGET=fuzz_$* -o $@ fuzz/libfuzzer.c fuzz/targets.c \
		$(ENGINE_SRC) build/fuzz/builtin_data-$*.o build/fuzz/www_data-$*.o $(LDLIBS)

fuzz: $(FUZZ_TARGETS:%=build/fuzz/fuzz_%)
	@set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p build/fuzz/new-$$t; \
		echo "fuzzing $$t for $(FUZZ_SECONDS) s"; \
		build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -artifact_prefix=build/fuzz/$$t- \
			-print_final_stats=1 build/fuzz/new-$$t fuzz/corpus/$$t 2>&1 | tail -n 12; \
	done

$(BUILD)/bench/scan: $(BUILD)/bench/scan.o $(ENGINE_OBJ)
	$(CC) $(SAN) -Wl,--fatal-warnings -o $@ $^ $(LDLIBS)

$(BUILD)/bench/bare: $(BUILD)/bench/bare.o
	$(CC) $(SAN) -Wl,--fatal-warnings -o $@ $^ $(LDLIBS)

bench: $(BIN) $(BUILD)/bench/scan $(BUILD)/bench/bare $(NODE_DEPS) | browser-deps-ok
	@command -v /usr/bin/time >/dev/null || $(SUDO) apt-get install -y time
	@command -v wrk >/dev/null || $(SUDO) apt-get install -y wrk
	bench/run.sh

# The suite with every bin/sipas run under valgrind (leaks and memory errors
# fail the case with exit 99), and the runner's in-process cases under it too.
valgrind: $(BIN) $(BUILD)/tests/run build/fuzz/fuzz_body
	@command -v valgrind >/dev/null || $(SUDO) apt-get install -y valgrind
	SIPAS_VALGRIND=1 SIPAS_BIN=$(abspath $(BIN)) \
		SIPAS_SOURCE=$(CURDIR) SIPAS_FUZZ_BODY=$(abspath build/fuzz/fuzz_body) valgrind --quiet --leak-check=full --error-exitcode=99 \
		--errors-for-leak-kinds=definite,indirect $(BUILD)/tests/run

check-symbols: $(ENGINE_OBJ)
	@bad=$$(nm -g --defined-only $(ENGINE_OBJ) | awk 'NF == 3 {print $$3}' | \
		grep -Ev '^(array|err|strbuf|csv|dossier|utf8|period|db|store|import|progress|demo|form|registry|response|builtin|intmap|secret|link|device|col|score|rep|fuzz|url|published|clock|user|session|audit|scope|fold|cusum|wilson|funnel|alert|outbox|notify|hours|staff|live|comments|records|hub|push)_' ); \
	if [ -n "$$bad" ]; then echo "exported symbols without a module prefix:"; echo "$$bad"; exit 1; fi

# Every #include "…" of a layer's file (.c, .h, .S) resolved against its
# folder: one that lands in a later layer, or outside the layers, is
# printed as FILE:LINE with the rule it breaks.  Reads the files only.
check-layers:
	@awk -v layers='$(LAYERS)' ' \
		BEGIN { n = split(layers, l, " "); for (i = 1; i <= n; i++) rank[l[i]] = i } \
		/^[[:space:]]*#[[:space:]]*include[[:space:]]*"/ { \
			match($$0, /"[^"]*"/); inc = substr($$0, RSTART + 1, RLENGTH - 2); \
			path = FILENAME; sub(/[^\/]*$$/, "", path); path = path inc; \
			k = 0; m = split(path, part, "/"); \
			for (i = 1; i <= m; i++) { \
				if (part[i] == "" || part[i] == ".") continue; \
				if (part[i] == ".." && k > 0 && seg[k] != "..") k--; else seg[++k] = part[i]; \
			} \
			from = FILENAME; sub(/\/.*/, "", from); to = k > 1 ? seg[1] : ""; \
			if (to == from) next; \
			if (!(to in rank)) why = "a layer includes only layers"; \
			else if (rank[to] > rank[from]) why = from "/ may not include " to "/, a later layer"; \
			else next; \
			printf "%s:%d: #include \"%s\": %s (layers, lowest first: %s)\n", FILENAME, FNR, inc, why, layers; \
			bad++; \
		} \
		END { if (bad) { printf "%d include(s) break the layer order (LAYERS in the Makefile; docs/design.md, \"Layout\")\n", bad; exit 1 } }' \
		/dev/null $(sort $(wildcard $(foreach l,$(LAYERS),$(l)/*.[chS] $(l)/*/*.[chS])))

clean:
	rm -rf build bin

-include $(ENGINE_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d)
