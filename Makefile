# streamshim - see README.md. `make` builds build/libstreamshim.so.
#
# Variables: BUILD (output dir), SAN (sanitizer flags, e.g.
# -fsanitize=address,undefined), CC, CFLAGS_EXTRA; CPPFLAGS, CFLAGS and
# LDFLAGS from the environment or the command line are added after the
# project's own (Debian's hardening flags, say: debian/rules); PREFIX and
# DESTDIR for `make install` and `make uninstall`.

CC      ?= cc
BUILD   ?= build
SAN     ?=
PYTHON  ?= /usr/bin/python3

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
# The CFLAGS given from outside, kept apart for the deepbind companion. The
# override appends them (and CPPFLAGS) to ours, so that nothing given can
# drop the warnings or -std; without any, every target builds as before. A
# recursive make (check-asan) inherits a CFLAGS from the environment with
# ours already in, so sees them twice: harmless.
USER_CFLAGS := $(CFLAGS)
override CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g $(WARN) $(SAN) $(CFLAGS_EXTRA) \
                   $(CPPFLAGS) $(USER_CFLAGS)
SOFLAGS := -fPIC -fvisibility=hidden -DCURL_DISABLE_TYPECHECK -DCURL_DISABLE_DEPRECATION

# The tiers are the folders (README "Layout"):
#   hooks/pure/  the pure parts: bytes in, bytes out, no libcurl, no core;
#                unit-tested and fuzzed alone
#   hooks/       the stages, and auto mode's learned-refusal cache
#                (hooks/learned*: file I/O, no libcurl)
#   shim/        the interposition core (shim/deepbind.c: the separate PHP
#                companion)
PURE_SRC    := $(wildcard hooks/pure/*.c)
# auto mode's cache, and the judgment of a request (streamshim explain
# runs it too)
LEARNED_SRC := $(wildcard hooks/learned*.c) hooks/llm_judge.c
STAGE_SRC   := $(filter-out $(LEARNED_SRC),$(wildcard hooks/*.c))
CORE_SRC    := $(filter-out shim/deepbind.c,$(wildcard shim/*.c))
# What the unit tests, the fuzzers and streamshim-ctl link: no libcurl.
NOCURL_SRC  := $(PURE_SRC) $(LEARNED_SRC) shim/safe_file.c shim/config_load.c
HEADERS     := $(wildcard shim/*.h hooks/*.h hooks/pure/*.h)
INCLUDES    := -Ishim -Ihooks -Ihooks/pure
LIB_SRC  := $(PURE_SRC) $(LEARNED_SRC) $(STAGE_SRC) $(CORE_SRC)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
LIB      := $(BUILD)/libstreamshim.so

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%)
CLIENT_SRC := $(wildcard tests/clients/*.c)
CLIENT_BIN := $(CLIENT_SRC:tests/clients/%.c=$(BUILD)/clients/%) \
              $(BUILD)/clients/llmclient-gnutls \
              $(BUILD)/clients/libflavour_user.so $(BUILD)/clients/libforklock.so
# the driver of make soak and make valgrind (tests/soak/), built with the clients
SOAK_BIN   := $(BUILD)/soak/soak_client

.PHONY: all deps unit clients monitor-lib print-sources test check-asan check-tsan fuzz demo clean bench \
        torture torture-quick torture-build \
        bench-quick bench-baseline soak valgrind \
        install uninstall

COMPANION := $(BUILD)/libstreamshim-deepbind.so

CTL := $(BUILD)/streamshim-ctl

all: $(LIB) $(COMPANION) $(CTL)

# `streamshim models`, `check-config` and `explain` (scripts/streamshim-ctl.c
# and its scripts/ctl_*.c): the library's configuration, judgment and
# cache code, without libcurl.
CTL_SRC := scripts/streamshim-ctl.c $(wildcard scripts/ctl_*.c) $(NOCURL_SRC)
$(CTL): $(CTL_SRC) $(HEADERS) $(wildcard scripts/ctl_*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INCLUDES) $(LDFLAGS) -o $@ $(CTL_SRC) -lpthread

# The opt-in companion for RTLD_DEEPBIND hosts (PHP): see shim/deepbind.c.
# Its dlopen must reach glibc's as a tail call (the caller's RUNPATH rides
# on the return address): always optimised, never instrumented (sanitizers
# add code after the call); tests/test_php.py checks the effect. Flags
# given from outside (hardening) come before -O2, which stays the last
# word even over DEB_BUILD_OPTIONS=noopt's -O0.
$(COMPANION): shim/deepbind.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(CPPFLAGS) $(USER_CFLAGS) \
	  -O2 -foptimize-sibling-calls -fPIC -fvisibility=hidden -shared $(LDFLAGS) \
	  -o $@ $< -Wl,-z,defs -ldl

$(BUILD)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SOFLAGS) -c $< -o $@

# Bound lazily (no -z now): a process the library is preloaded into that
# never calls libcurl binds none of its functions (eager binding cost
# every such process about 50,000 instructions); nothing in the shim
# relies on eager binding. The price is partial RELRO (the library's own
# .got.plt stays writable): `make LDFLAGS=-Wl,-z,now` binds eagerly, as
# the Debian package does (hardening=+all).
#
# The relative relocations (each pointer in the library's static data) are
# packed (DT_RELR) when the toolchain can (binutils 2.38, glibc 2.36): the
# loader applies them in every process the library is preloaded into, and
# the packed form costs it fewer instructions. The library then needs a
# glibc of 2.36 or later, as the one it was built against.
PACK_RELOCS := $(shell $(CC) -shared -Wl,-z,pack-relative-relocs -o /dev/null \
                 -x c /dev/null 2>/dev/null && echo -Wl,-z,pack-relative-relocs)
$(LIB): $(LIB_OBJ) $(LIB_EXTRA_OBJ) shim/exports.map
	$(CC) $(CFLAGS) -shared $(PACK_RELOCS) $(LDFLAGS) -o $@ $(LIB_OBJ) $(LIB_EXTRA_OBJ) \
	  -Wl,--version-script=shim/exports.map -Wl,-z,defs \
	  -ldl -lpthread

# The library's own objects of $(NOCURL_SRC), in an archive the unit tests
# link: each object is compiled once, not once per test binary.
NOCURL_LIB := $(BUILD)/libnocurl.a
$(NOCURL_LIB): $(NOCURL_SRC:%.c=$(BUILD)/obj/%.o)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/unit/test_%: tests/unit/test_%.c $(NOCURL_LIB) $(wildcard tests/unit/*.h) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INCLUDES) -o $@ $< $(NOCURL_LIB)

$(BUILD)/clients/%: tests/clients/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< -lcurl -lpthread

# The same client linked against the GnuTLS flavour (as pycurl and git are).
$(BUILD)/clients/llmclient-gnutls: tests/clients/llmclient.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< -l:libcurl-gnutls.so.4 -lpthread

# A plugin on the GnuTLS flavour, loaded RTLD_LOCAL by two_flavours.
$(BUILD)/clients/libflavour_user.so: tests/clients/lib/flavour_user.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC -fvisibility=hidden -shared -o $@ $< -l:libcurl-gnutls.so.4

# tests/test_fork.py's interposer: forks while the shim holds a lock. Not
# instrumented (it wraps pthread_mutex_lock, fork and close for everyone).
$(BUILD)/clients/libforklock.so: tests/clients/lib/forklock.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -O2 -g -fPIC -fvisibility=hidden \
	  -shared -o $@ $< -ldl -lpthread

$(BUILD)/clients/two_flavours: tests/clients/two_flavours.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< -lcurl -ldl

# The multi-interface clients share their callbacks and checks (lib/xfercheck.c).
# A static pattern rule: explicit, so it wins over $(BUILD)/clients/% above.
$(BUILD)/clients/multi_many $(BUILD)/clients/multi_socket: $(BUILD)/clients/%: tests/clients/%.c \
  tests/clients/lib/xfercheck.c tests/clients/lib/xfercheck.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/clients/lib -o $@ $< tests/clients/lib/xfercheck.c -lcurl -lpthread

# The library with tests/monitor/'s checking monitor built in (hooks/
# monitors.c lists it under SS_TEST_MONITOR): tests/test_monitor.py.
MON_LIB := $(BUILD)/monitor/libstreamshim.so
MON_OBJ := $(filter-out $(BUILD)/obj/hooks/monitors.o,$(LIB_OBJ)) \
           $(BUILD)/monitor/obj/monitors.o $(BUILD)/monitor/obj/test_monitor.o
$(BUILD)/monitor/obj/monitors.o: hooks/monitors.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SOFLAGS) -DSS_TEST_MONITOR -c $< -o $@
$(BUILD)/monitor/obj/test_monitor.o: tests/monitor/test_monitor.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SOFLAGS) -c $< -o $@
$(MON_LIB): $(MON_OBJ) shim/exports.map
	$(CC) $(CFLAGS) -shared -o $@ $(MON_OBJ) \
	  -Wl,--version-script=shim/exports.map -Wl,-z,defs \
	  -ldl -lpthread
monitor-lib: $(MON_LIB)

# Unit tests of stage files with a stand-in for the core (tests/unit/*.mk),
# and the capture tools (scripts/*.mk).
-include $(wildcard tests/unit/*.mk scripts/*.mk)

unit: $(UNIT_BIN)

# The sources of each tier, for tests/test_layout.py.
print-sources:
	@echo $(LIB_SRC)
clients: $(CLIENT_BIN) $(SOAK_BIN)

deps:
	scripts/install-deps

# Everything: unit tests, then real programs under the shim (pytest).
test: deps
	$(MAKE) all unit clients monitor-lib
	$(PYTHON) -m pytest -q -p no:cacheprovider tests $(PYTEST_ARGS)

# The same suite with AddressSanitizer + UndefinedBehaviorSanitizer; the
# sanitizer runtime goes first in LD_PRELOAD for uninstrumented programs.
# tests/asan/swift_demangle_stub.c says why a stub follows the runtime.
check-asan: deps
	$(MAKE) BUILD=build-asan SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" all unit clients monitor-lib
	$(CC) -shared -fPIC -o build-asan/swift_demangle_stub.so tests/asan/swift_demangle_stub.c
	SS_BUILD=build-asan SS_PRELOAD_FIRST="$$($(CC) -print-file-name=libasan.so) $(CURDIR)/build-asan/swift_demangle_stub.so" \
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	$(PYTHON) -m pytest -q -p no:cacheprovider tests $(PYTEST_ARGS)

# Threads under ThreadSanitizer: the shim and the threaded client built
# with TSan (the client carries the runtime), many threads at once.
check-tsan: deps
	$(MAKE) BUILD=build-tsan SAN="-fsanitize=thread" all clients
	SS_BUILD=build-tsan TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
	$(PYTHON) -m pytest -q -p no:cacheprovider tests/test_c_clients.py tests/test_stream_only_clients.py -k threads $(PYTEST_ARGS)

# The benchmark (tests/bench/, BENCHMARKS.md): its libcurl client, the
# empty preloaded library of the /bin/true case, a driver that starts a
# program N times. `make bench` runs every case (installs valgrind, nginx,
# mitmproxy first), prints the table and writes BENCHMARKS.md;
# `make bench-quick` the instruction counts only (deterministic, CI), and
# fails when one is more than 10% over tests/bench/baseline.json;
# `make bench-baseline` rewrites that file from this build's counts.
BENCH_BIN := $(BUILD)/bench/bench_client $(BUILD)/bench/empty.so $(BUILD)/bench/spawn
$(BUILD)/bench/bench_client: tests/bench/bench_client.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< -lcurl
$(BUILD)/bench/empty.so: tests/bench/empty.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC -shared -o $@ $<
$(BUILD)/bench/spawn: tests/bench/spawn.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $<

bench:
	scripts/install-deps bench
	$(MAKE) all $(BENCH_BIN)
	$(PYTHON) tests/bench/run.py --full --write BENCHMARKS.md

bench-quick:
	scripts/install-deps bench-quick
	$(MAKE) all $(BENCH_BIN)
	$(PYTHON) tests/bench/run.py --quick

bench-baseline:
	scripts/install-deps bench-quick
	$(MAKE) all $(BENCH_BIN)
	$(PYTHON) tests/bench/run.py --quick --update-baseline

# libFuzzer harnesses of the pure parts (clang): `make fuzz` runs each for
# FUZZ_SECONDS, starting from the committed seeds (tests/fuzz/corpus/<name>/,
# regenerated by tests/fuzz/make_corpus.py) plus what earlier runs kept
# in build/fuzz/<name>.corpus; one line per harness: executions, coverage
# (libFuzzer's cov: edges, ft: features), corpus size.
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_SECONDS ?= 60

# The sources are compiled once (fuzzer-no-link: instrumented for coverage)
# into an archive each harness links, not once per harness.
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 $(INCLUDES)
build/fuzz/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@
build/fuzz/libnocurl.a: $(NOCURL_SRC:%.c=build/fuzz/obj/%.o)
	rm -f $@
	$(AR) rcs $@ $^
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c build/fuzz/libnocurl.a $(HEADERS) \
                  $(wildcard tests/fuzz/*.h)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< build/fuzz/libnocurl.a

fuzz:
	scripts/install-deps fuzz
	$(MAKE) $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do \
	  n=$$(basename $$f); mkdir -p $$f.corpus && \
	  if [ -d tests/fuzz/corpus/$$n ]; then cp -n tests/fuzz/corpus/$$n/* $$f.corpus/; fi; \
	  nice -n 10 $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $$f.corpus \
	    > $$f.log 2>&1 || { tail -40 $$f.log; echo "$$n: FAILED (log: $$f.log)"; exit 1; }; \
	  printf '%-22s %10s execs  %s\n' $$n \
	    "$$(sed -n 's/^stat::number_of_executed_units: *//p' $$f.log)" \
	    "$$(grep -E '^#[0-9]+[[:space:]]+DONE' $$f.log | sed -E 's/^#[0-9]+[[:space:]]+DONE[[:space:]]+//; s/ exec\/s.*//')"; \
	done

# Allocation-failure torture (tests/torture/): the library built with
# ASan + UBSan and every allocation of its own counted (failalloc.h,
# included before each source), the Nth made to fail; torture.py runs each
# scenario once to count, then once per allocation failing it. The clients
# are the ordinary build's (uninstrumented; the ASan runtime is preloaded
# first, as under check-asan). `make torture` is every scenario and every
# allocation; torture-quick (CI) a few scenarios. TORTURE_ARGS adds options
# (--only NAME, --verbose; tests/torture/torture.py --help).
TORTURE_BUILD := build-torture
TORTURE_SAN   := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
TORTURE_ARGS  ?=
torture-build: deps
	$(MAKE) all clients
	$(MAKE) BUILD=$(TORTURE_BUILD) SAN="$(TORTURE_SAN)" \
	  CFLAGS_EXTRA="-include tests/torture/failalloc.h" \
	  LIB_EXTRA_OBJ=$(TORTURE_BUILD)/obj/tests/torture/failalloc.o $(TORTURE_BUILD)/libstreamshim.so
	$(CC) -shared -fPIC -o $(TORTURE_BUILD)/swift_demangle_stub.so tests/asan/swift_demangle_stub.c
torture: torture-build
	nice -n 10 $(PYTHON) tests/torture/torture.py --build $(TORTURE_BUILD) $(TORTURE_ARGS)
torture-quick: torture-build
	nice -n 10 $(PYTHON) tests/torture/torture.py --build $(TORTURE_BUILD) --quick $(TORTURE_ARGS)

# Long runs of tests/soak/soak_client (tests/soak/run.py), not part of
# `make test` or CI: `make soak` 100,000 mixed transfers (easy and multi;
# refusals both ways, pauses, removals mid-transfer, capture), the RSS every
# 10,000 and the count of each outcome, failing on RSS growth or a lost
# transfer; `make valgrind` 10,000 multi transfers of the same kinds under
# memcheck, failing on any error or definite leak. SOAK_ARGS adds options
# (-n N, -c C; tests/soak/run.py --help).
SOAK_ARGS ?=
$(SOAK_BIN): tests/soak/soak_client.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< -lcurl
soak: deps
	$(MAKE) all $(SOAK_BIN)
	nice -n 10 $(PYTHON) tests/soak/run.py soak --build $(BUILD) $(SOAK_ARGS)
valgrind: deps
	$(MAKE) all $(SOAK_BIN)
	nice -n 10 $(PYTHON) tests/soak/run.py valgrind --build $(BUILD) $(SOAK_ARGS)

# Only what the build and the demo need (no test toolchain).
demo:
	scripts/install-deps demo
	$(MAKE) all
	scripts/demo

# `make install [PREFIX=/usr/local] [DESTDIR=]`: the wrapper in bin/, the
# library, the companion and the helpers in lib/streamshim/ (where the
# wrapper looks, ../lib/streamshim next to itself), the man pages and the
# docs. Builds what it installs, nothing else (no deps, no tests). The
# Debian package uses it with PREFIX=/usr (debian/rules).
PREFIX  ?= /usr/local
DESTDIR ?=
INSTALL ?= install
BINDIR  := $(PREFIX)/bin
PKGDIR  := $(PREFIX)/lib/streamshim
MAN1DIR := $(PREFIX)/share/man/man1
MAN5DIR := $(PREFIX)/share/man/man5
DOCDIR  := $(PREFIX)/share/doc/streamshim
MAN1    := scripts/man/streamshim.1
MAN5    := scripts/man/streamshim.conf.5 scripts/man/streamshim-capture.5
DOCS    := README.md LICENSE

# ld.so splits LD_PRELOAD at blanks and colons, so no wrapper could
# preload a library whose path holds one (it would refuse to run, exit 1):
# refused before anything is built or copied, where it is staged
# (DESTDIR) and where it runs (PREFIX) alike.
INSTALLED_LIB := $(DESTDIR)$(PKGDIR)/libstreamshim.so
ifneq ($(filter install,$(MAKECMDGOALS)),)
ifneq ($(words $(INSTALLED_LIB))$(findstring :,$(INSTALLED_LIB)),1)
$(error the library would be installed as '$(INSTALLED_LIB)', a path with a blank or a colon, which LD_PRELOAD cannot hold: choose a PREFIX (and DESTDIR) without either)
endif
endif

install: all $(MAN1) $(MAN5) $(DOCS)
	$(INSTALL) -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(PKGDIR)" \
	  "$(DESTDIR)$(MAN1DIR)" "$(DESTDIR)$(MAN5DIR)" "$(DESTDIR)$(DOCDIR)"
	$(INSTALL) -m 0755 scripts/streamshim "$(DESTDIR)$(BINDIR)/streamshim"
	$(INSTALL) -m 0644 $(LIB) $(COMPANION) "$(DESTDIR)$(PKGDIR)"
	$(INSTALL) -m 0755 $(CTL) $(CAPTOOL) "$(DESTDIR)$(PKGDIR)"
	$(INSTALL) -m 0644 $(MAN1) "$(DESTDIR)$(MAN1DIR)"
	$(INSTALL) -m 0644 $(MAN5) "$(DESTDIR)$(MAN5DIR)"
	$(INSTALL) -m 0644 $(DOCS) "$(DESTDIR)$(DOCDIR)"

# Removes what install put there, then the two directories of its own if
# they are left empty; bin/ and share/man/ are shared, and stay.
uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/streamshim" \
	  $(foreach f,$(LIB) $(COMPANION) $(CTL) $(CAPTOOL),"$(DESTDIR)$(PKGDIR)/$(notdir $(f))") \
	  $(foreach f,$(MAN1),"$(DESTDIR)$(MAN1DIR)/$(notdir $(f))") \
	  $(foreach f,$(MAN5),"$(DESTDIR)$(MAN5DIR)/$(notdir $(f))") \
	  $(foreach f,$(DOCS),"$(DESTDIR)$(DOCDIR)/$(notdir $(f))")
	for d in "$(DESTDIR)$(PKGDIR)" "$(DESTDIR)$(DOCDIR)"; do \
	  if [ -d "$$d" ]; then rmdir --ignore-fail-on-non-empty "$$d"; fi; \
	done

clean:
	rm -rf build build-asan build-tsan build-torture
