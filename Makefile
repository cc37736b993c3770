# The two commands of README.md. Each does its own set-up on a fresh Debian 12.
#   make run    install, build (release), run the scenario suite against zone-demo
#   make test   install, build (dev: ASan + UBSan, -Werror), run every test
#   make bench  build (release), run every benchmark, rewrite docs/benchmarks.md's figures
.PHONY: all bootstrap run test bench package build-dev build-release interop-deps ui-deps fuzz-build fuzz-smoke fuzz-long valgrind format format-check install-sdk clean

JOBS ?= $(shell nproc 2>/dev/null || echo 2)

all: build-dev

bootstrap:
	@tools/bootstrap

build-dev: bootstrap
	cmake --preset dev
	cmake --build --preset dev -j $(JOBS)

build-release: bootstrap
	cmake --preset release
	cmake --build --preset release -j $(JOBS)

# The independent WXBizMsgCrypt peer, pinned by tests/interop/package-lock.json.
interop-deps: bootstrap
	if [ -f tests/interop/package-lock.json ]; then \
	  cd tests/interop && npm ci --no-audit --no-fund --loglevel=error; fi

# playwright-core, which drives Debian's chromium in the inspector test (tests/ui), pinned by
# tests/ui/package-lock.json. Playwright's own browsers are never downloaded.
ui-deps: bootstrap
	if [ -f tests/ui/package-lock.json ]; then \
	  cd tests/ui && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error; fi

# The main job: the scenario suite against zone-demo, two files at a time, with the
# report printed (docs/scenarios.md); then where zonelab and zone-demo are, whatever the suite
# said (docs/getting-started.md).
BIN = $(CURDIR)/build/release/bin
run: build-release
	@echo './build/release/bin/zonelab run -j 2 scenarios'; \
	./build/release/bin/zonelab run -j 2 scenarios; rc=$$?; \
	echo; \
	echo 'zonelab and zone-demo are in $(BIN). To call them by name, run:'; \
	echo '  export PATH="$(BIN):$$PATH"'; \
	exit $$rc

test: build-dev interop-deps ui-deps
	ctest --preset dev
	@grep -h -E '^interop:|^inspector: (screenshot|PASS)|^[0-9]+ passed, [0-9]+ failed' build/dev/Testing/Temporary/LastTest.log || true
	$(MAKE) --no-print-directory fuzz-smoke
	cmake --build --preset dev --target format-check

# Every benchmark in one run, each figure next to its target, peers (nginx, WireMock) side by
# side; rewrites the figures section of docs/benchmarks.md. About 6 minutes; the first run
# installs what tools/bench/peers needs. BENCH_ARGS=--quick tries it in about 2 minutes, printing
# only; BENCH_ARGS=--no-docs prints only.
BENCH_ARGS ?=
bench: build-release
	tools/bench/all $(BENCH_ARGS)

# Each libFuzzer target runs for FUZZ_SECONDS (clang, -O2 with ASan + UBSan), from its corpus
# in build/fuzz/corpus/<target> and the repository's seeds (tests/fuzz/<target>.seeds: folders
# whose every file is replayed first, a crash's regression seed among them), with
# tests/fuzz/json.dict and its own flags (tests/fuzz/<target>.flags). FUZZ_TARGETS picks some
# ("fuzz_app_api fuzz_control"; empty: all). Each prints its coverage at the start (INITED:
# corpus and seeds alone) and at the end (DONE), executions and exec/s. make test: 14 x 6 s.
FUZZ_SECONDS ?= 6
FUZZ_TARGETS ?=
define fuzz_each
	@set -e; mkdir -p build/fuzz/logs; \
	targets="$(FUZZ_TARGETS)"; [ -n "$$targets" ] || targets=$$(cd build/fuzz/tests/fuzz && ls fuzz_*); \
	for n in $$targets; do \
	  t=build/fuzz/tests/fuzz/$$n; [ -x "$$t" ] || { echo "$(1): no target $$n"; exit 1; }; \
	  seeds=""; [ -f tests/fuzz/$$n.seeds ] && seeds=$$(cat tests/fuzz/$$n.seeds); \
	  flags=""; [ -f tests/fuzz/$$n.flags ] && flags=$$(cat tests/fuzz/$$n.flags); \
	  mkdir -p build/fuzz/corpus/$$n; \
	  echo "$(1): $$n $(2)"; \
	  if ! "$$t" $(3) -print_final_stats=1 -dict=tests/fuzz/json.dict $$flags \
	       -artifact_prefix=build/fuzz/logs/$$n- build/fuzz/corpus/$$n $$seeds \
	       > build/fuzz/logs/$$n.log 2>&1; then \
	    tail -n 40 build/fuzz/logs/$$n.log; echo "$(1): $$n FAILED"; exit 1; \
	  fi; \
	  grep -a -E 'INITED +cov' build/fuzz/logs/$$n.log | tail -n 1 | sed "s/^/  $$n start /"; \
	  grep -a -E 'DONE +cov' build/fuzz/logs/$$n.log | sed "s/^/  $$n end   /"; \
	  grep -a -E 'stat::(number_of_executed_units|average_exec_per_sec)' build/fuzz/logs/$$n.log | \
	    sed "s/^/  $$n /"; \
	done
endef

fuzz-build: bootstrap
	cmake --preset fuzz
	cmake --build --preset fuzz -j $(JOBS)

fuzz-smoke: fuzz-build
	$(call fuzz_each,fuzz smoke,for $(FUZZ_SECONDS) s,-max_total_time=$(FUZZ_SECONDS))

# Each target until FUZZ_LONG_RUNS executions or FUZZ_LONG_SECONDS, whichever comes first,
# printing its executions and coverage (cov: edges, ft: features).
FUZZ_LONG_RUNS ?= 10000000
FUZZ_LONG_SECONDS ?= 3600
fuzz-long: fuzz-build
	$(call fuzz_each,fuzz long,for $(FUZZ_LONG_RUNS) runs or $(FUZZ_LONG_SECONDS) s,-runs=$(FUZZ_LONG_RUNS) -max_total_time=$(FUZZ_LONG_SECONDS))

# The scenario suite and a serve start/stop under valgrind (the release tree: no sanitizers),
# every child followed; fails on any memory error or definite leak. About 15 minutes.
valgrind: build-release
	tools/valgrind/run build/release

# Debian packages (zonelab, libzonesdk0, libzonesdk-dev) and the Python fake's wheel, in
# build/package/packages (tools/package/build; docs/packages.md).
package: bootstrap
	tools/package/build

# The fake SDK for users' programs: headers, libzonesdk, zonesdk.pc, CMake package.
PREFIX ?= /usr/local
install-sdk: build-release
	cmake --install build/release --prefix $(PREFIX)

format: build-dev
	cmake --build --preset dev --target format

format-check: build-dev
	cmake --build --preset dev --target format-check

clean:
	rm -rf build
