# The README's commands. Everything is installed from Debian's packages by `make deps`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PACKAGES := g++ cmake ninja-build ccache pkg-config libboost1.81-dev nlohmann-json3-dev \
            libcpp-httplib-dev libgtest-dev libgmock-dev libbenchmark-dev libbenchmark-tools \
            librapidcheck-dev gcovr libssl-dev libsqlite3-dev libcli11-dev openssl curl python3 netcat-openbsd \
            python3-numpy prometheus-cpp-dev prometheus help2man dpkg-dev \
            python3-yaml
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
COVERAGE_MIN ?= 90
FUZZ_SECONDS ?= 60
JOBS ?= $(shell nproc)

.PHONY: test-asan help deps build release install demo test coverage clean format bench-compare bench-check \
        bench-build \
        bench-check-quick bench-baseline fuzz crash-test soak selftest package
PREFIX ?= /usr/local

help:
	@echo "make demo   - install what is missing, build, run agentd and the harness against it"
	@echo "make test   - install what is missing, build, run every test, enforce coverage >= $(COVERAGE_MIN)%"
	@echo "make deps   - install the Debian packages the project needs (only those missing)"
	@echo "make build  - debug build in build/dev     make release - optimised build in build/release"
	@echo "make install PREFIX=/usr/local - agentd, agentcheck, man pages, docs    make package - the .deb"
	@echo "make bench-compare - agentd and agentcheck load beside nginx, wrk and h2load (same CPU budget)"
	@echo "make bench-check   - the micro-benchmarks against fixtures/baselines (U test, 15% tolerance)"
	@echo "make fuzz   - build the libFuzzer targets (clang) and run each FUZZ_SECONDS (default 60) s"
	@echo "make crash-test CYCLES=200 - SIGKILL agentd CYCLES times under writes; count lost, phantom, duplicate, gap"
	@echo "make soak SOAK_DURATION=10m SOAK_RATE=200 - agentd under a steady load; fail when its memory or descriptors grow"
	@echo "make selftest [SELFTEST_SCOPE=all|section|requirement] - every agentd failpoint must be killed by its checks: the kill matrix"

deps:
	@missing=$$(for p in $(PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing $$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "deps: all $(words $(PACKAGES)) packages present"; fi
	@# The contract tools (redocly, prism; pinned in tools/contract/package-lock.json) come from
	@# npm. Node.js 20.19+ with its npm is needed: Debian 12's nodejs is too old and its npm
	@# package conflicts with NodeSource's nodejs, so neither is installed from here.
	@if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then \
	  echo "deps: node/npm not found: the contract tests (contract.lint, contract.prism) need" \
	       "Node.js 20.19 or newer with npm (https://nodejs.org/ or NodeSource); then run make deps again" >&2; \
	elif [ ! -d tools/contract/node_modules ] || \
	     [ tools/contract/package-lock.json -nt tools/contract/node_modules ]; then \
	  echo "deps: npm ci --prefix tools/contract"; \
	  npm ci --prefix tools/contract --no-audit --no-fund; \
	else echo "deps: tools/contract/node_modules is up to date"; fi

build: deps
	cmake --preset dev >/dev/null
	cmake --build --preset dev -j $(JOBS)

release: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)

install: release
	cmake --install build/release --prefix $(PREFIX)

# The Debian package of the release build: build/release/packages/agent-service_VERSION_ARCH.deb
# (agentd, agentcheck, their man pages, the spec, the contract documents, the CI templates).
package: release
	cpack --config build/release/CPackConfig.cmake -B build/release/packages

demo: release
	@bash scripts/demo.sh build/release

test: deps
	cmake --preset coverage >/dev/null
	@# Counters from an earlier build or from test discovery would mix into this run's.
	@if [ -d build/coverage ]; then find build/coverage -name '*.gcda' -delete; fi
	cmake --build --preset coverage -j $(JOBS)
	find build/coverage -name '*.gcda' -delete
	ctest --preset coverage -j $(JOBS)
	@$(MAKE) --no-print-directory coverage
	@$(MAKE) --no-print-directory test-asan
	@$(MAKE) --no-print-directory bench-check-quick

# The test suite again, built with AddressSanitizer and UndefinedBehaviorSanitizer (agentd,
# agentcheck and every test). The end-to-end tests whose subject is the harness's own output
# (the broken agent, the reproductions, the load smoke test) have already run in the coverage
# build; under the sanitizers they would only repeat it, three times slower. The soak smoke test
# judges agentd's memory, which ASan's quarantine of freed blocks makes grow by design. (The
# durability tests preload their fsync probe into agentd: verify_asan_link_order=0 lets them.)
# conformance.reference_tls runs the same checks as conformance.reference (over HTTPS), so the
# plain run is left to the coverage build too; the lifecycle layer runs 5 crash cycles here
# (20 in the coverage build). The contract documents, the package and the CI templates are
# checked in the coverage build alone: they test documents and packaging, not agentd's memory.
ASAN_SKIP = conformance\.(reference|broken_agent|reproductions|load_smoke|soak_smoke)$$|^contract\.|^packaging\.deb$$|^examples\.
ASAN_CRASH_CYCLES = 5
test-asan: deps
	cmake --preset asan >/dev/null
	cmake --build --preset asan -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:verify_asan_link_order=0 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 AGENTCHECK_CRASH_CYCLES=$(ASAN_CRASH_CYCLES) \
	  ctest --preset asan -j $(JOBS) -E '$(ASAN_SKIP)'

# The crash durability check for many cycles (release build): agentcheck owns agentd's process,
# kills it with SIGKILL at random moments under writes, restarts it on the same data directory
# and counts lost, phantom and duplicate writes and event gaps (make test runs 20 cycles).
CYCLES ?= 200
crash-test: release
	bash scripts/conformance_lifecycle.sh build/release/reference/agentd \
	  build/release/conformance/agentcheck reports/crash $(CYCLES) --only LIFE-006.crash-durability

# A soak of the reference agent (release build): agentcheck starts agentd itself, holds the
# built-in soak scenario on it for SOAK_DURATION at SOAK_RATE requests/s, samples its RSS and
# descriptors once a second, and fails when they grow after the warm-up (least-squares slope
# beyond SOAK_FLAGS' --rss-slope-max, 1024 KiB/min by default). Reports in reports/soak.
SOAK_DURATION ?= 10m
SOAK_RATE ?= 200
SOAK_FLAGS ?=
soak: release
	bash scripts/soak.sh build/release/reference/agentd build/release/conformance/agentcheck \
	  reports/soak $(SOAK_DURATION) $(SOAK_RATE) $(SOAK_FLAGS)

# The self-test (debug build, which has agentd's failpoints): the clean agentd must pass, and
# each failpoint must fail a check of the requirement it breaks. SELFTEST_SCOPE=all runs every
# check against every failpoint (the full kill matrix; make test runs `requirement`, each
# failpoint against its own requirement's checks). Reports in reports/selftest.
SELFTEST_SCOPE ?= all
SELFTEST_FLAGS ?=
selftest: deps
	cmake --preset dev >/dev/null
	cmake --build --preset dev -j $(JOBS) --target agentd agentcheck
	bash scripts/selftest.sh build/dev/reference/agentd build/dev/conformance/agentcheck \
	  reports/selftest $(SELFTEST_SCOPE) $(SELFTEST_FLAGS)

# Every fuzz target for FUZZ_SECONDS on its seeds (fixtures/fuzz); a table, exit 1 on a crash.
# libFuzzer comes with clang (libclang-rt-14-dev), which only this target needs.
fuzz: PACKAGES += clang libclang-rt-14-dev
fuzz: deps
	FUZZ_JOBS=$(JOBS) bash fuzz/run.sh $(FUZZ_SECONDS)

bench-compare: release
	bash bench/compare.sh build/release reports/bench-compare

# The two micro-benchmark binaries alone, optimised (what bench-check needs of make release).
bench-build: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS) --target agent_micro_bench agentcheck_micro_bench

# The micro-benchmarks against their baselines (compare.py's U test; see bench/check.py).
# Debian's python3 runs it: it has python3-numpy, which compare.py needs.
bench-check: bench-build
	/usr/bin/python3 bench/check.py

# What make test runs: the check's own tests, then a quick check that only a real slowdown fails.
bench-check-quick: bench-build
	/usr/bin/python3 bench/tests/test_pyshim.py
	/usr/bin/python3 bench/tests/test_check.py build/release
	/usr/bin/python3 bench/check.py --quick

bench-baseline: bench-build
	/usr/bin/python3 bench/check.py --update

coverage:
	@mkdir -p reports/coverage
	gcovr --root . --object-directory build/coverage \
	  --filter 'reference/' --filter 'conformance/' \
	  --exclude '.*/tests/.*' --exclude '.*_test\.cpp' \
	  --exclude-unreachable-branches --exclude-throw-branches \
	  --html-details reports/coverage/index.html --cobertura reports/coverage/cobertura.xml \
	  --print-summary --fail-under-line $(COVERAGE_MIN)

format:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf build reports/latest reports/coverage
