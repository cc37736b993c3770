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

# Each libFuzzer target runs for FUZZ_SECONDS (clang, -O2 with ASan + UBSan), FUZZ_JOBS at a
# time (default: the cores), from its corpus in build/fuzz/corpus/<target> and the repository's
# seeds (tests/fuzz/<target>.seeds), with tests/fuzz/json.dict and its own flags
# (tests/fuzz/<target>.flags); tools/fuzz/run prints each one's coverage at the start (corpus
# and seeds alone) and at the end, executions and exec/s, then a table. FUZZ_TARGETS picks some
# ("fuzz_app_api fuzz_control"; empty: all). make test: 15 x 6 s, two at a time.
FUZZ_SECONDS ?= 6
FUZZ_TARGETS ?=
FUZZ_JOBS ?= $(JOBS)
fuzz-build: bootstrap
	cmake --preset fuzz
	cmake --build --preset fuzz -j $(JOBS)

fuzz-smoke: fuzz-build
	tools/fuzz/run --label "fuzz smoke" --jobs $(FUZZ_JOBS) --seconds $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Each target until FUZZ_LONG_RUNS executions or FUZZ_LONG_SECONDS, whichever comes first
# (a tests/fuzz/<target>.seconds caps one target's time: fuzz_scenario's), printing its
# executions and coverage (cov: edges, ft: features).
FUZZ_LONG_RUNS ?= 10000000
FUZZ_LONG_SECONDS ?= 10800
fuzz-long: fuzz-build
	tools/fuzz/run --label "fuzz long" --jobs $(FUZZ_JOBS) --runs $(FUZZ_LONG_RUNS) \
	  --seconds $(FUZZ_LONG_SECONDS) $(FUZZ_TARGETS)

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
