# llmperf — two commands do all the set-up on a fresh clone:
#   make demo   installs what it needs, builds, measures the bundled backend (scenarios/quickstart.yml)
#   make test   installs what it needs, builds, runs every test
#   make fuzz   builds the libFuzzer harnesses (Fuzz/) and runs each for FUZZ_SECONDS (default 60)
#   make bench  builds the benchmark suites (Benchmarks/) in release and prints their table
SHELL := /bin/bash
SWIFT ?= swift
# libvulkan-dev: the Vulkan engine compiles against vulkan.h (the loader itself is opened at run time)
APT_PACKAGES := libcurl4-openssl-dev libsqlite3-dev openssl libvulkan-dev
# the HTML report test opens reports in a real headless browser; the HTTP/2 tests talk to nghttpd; the Vulkan
# tests run on Mesa's lavapipe (a Vulkan device on the CPU), and one recompiles the shaders with glslc
TEST_APT_PACKAGES := chromium nghttp2-server mesa-vulkan-drivers glslc
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test deps test-deps apt model build release lint format clean fuzz bench bench-check bench-thresholds

## Install the system packages the build and the tests need (only those missing).
deps:
	@$(MAKE) --no-print-directory apt PACKAGES="$(APT_PACKAGES)"

test-deps: deps
	@$(MAKE) --no-print-directory apt PACKAGES="$(TEST_APT_PACKAGES)"

apt:
	@missing=""; for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

## Fetch the default model (SmolLM2-135M-Instruct, Q4_1 GGUF) into the cache once.
model:
	@scripts/fetch-model >/dev/null

release: deps
	$(SWIFT) build -c release --product llmperf

build: deps
	$(SWIFT) build

demo: deps model release
	.build/release/llmperf run scenarios/quickstart.yml

test: test-deps model
	$(SWIFT) build --build-tests
	# `llmperf lab` runs the real model: its end-to-end test uses the optimised binary.
	$(SWIFT) build -c release --product llmperf
	# Serially: the integration tests measure real latencies on a 2-core machine, and a
	# neighbouring suite's CPU burst (the model tests) would shift what they measure.
	LLMPERF_BIN=$(CURDIR)/.build/debug/llmperf LLMPERF_RELEASE_BIN=$(CURDIR)/.build/release/llmperf \
		$(SWIFT) test --skip-build --no-parallel

## Fuzzing: one libFuzzer executable per parser (Fuzz/Package.swift), built with its own scratch path so
## it never touches .build. Each runs FUZZ_SECONDS from the committed seeds (Fuzz/Corpus/<target>); what
## it learns goes to $(FUZZ_BUILD)/corpus, a crashing input to $(FUZZ_BUILD)/crashes, and the run fails.
## Reproduce one: $(FUZZ_BUILD)/debug/<target> $(FUZZ_BUILD)/crashes/<file>
FUZZ_SECONDS ?= 60
FUZZ_BUILD ?= .build-fuzz
FUZZ_TARGETS := FuzzScenarioLoader FuzzSSEStream FuzzGGUFHeader FuzzRequestDecoder FuzzPrometheusText

fuzz: deps
	$(SWIFT) build --package-path Fuzz --scratch-path $(FUZZ_BUILD) -Xswiftc -sanitize=fuzzer,address
	@mkdir -p $(FUZZ_BUILD)/crashes
	@for target in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_BUILD)/corpus/$$target; \
		echo "fuzz: $$target for $(FUZZ_SECONDS) s (log: $(FUZZ_BUILD)/$$target.log)"; \
		if ! $(FUZZ_BUILD)/debug/$$target -max_total_time=$(FUZZ_SECONDS) -timeout=10 -max_len=16384 \
			-print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/crashes/$$target- \
			$(FUZZ_BUILD)/corpus/$$target Fuzz/Corpus/$$target > $(FUZZ_BUILD)/$$target.log 2>&1; then \
			tail -n 60 $(FUZZ_BUILD)/$$target.log; \
			echo "fuzz: $$target failed; the input is in $(FUZZ_BUILD)/crashes/"; exit 1; \
		fi; \
		grep -E "^stat::number_of_executed_units|^#[0-9]+ +DONE" $(FUZZ_BUILD)/$$target.log | tr '\n' ' '; echo; \
	done

## Benchmarks: the suites in Benchmarks/ (ordo-one/benchmark), built in release with their own scratch path
## so they never touch .build; not part of `make test`. `make bench` runs them and prints one table per
## benchmark; `make bench-check` runs them and compares each p90 with the committed thresholds
## (Benchmarks/Thresholds, tolerances in Benchmarks/BenchmarkSupport): exit 0 when within them (or only
## better), 1 on a regression. `make bench-thresholds` records new thresholds (commit them on purpose).
## BENCH_ARGS passes options to the plugin, e.g. BENCH_ARGS="--target EngineBenchmarks --filter 'matvec.*'".
BENCH_BUILD ?= .build-bench
BENCH_ARGS ?=
BENCH := $(SWIFT) package --package-path Benchmarks --scratch-path $(BENCH_BUILD) \
	--allow-writing-to-package-directory benchmark
BENCH_THRESHOLDS := $(CURDIR)/Benchmarks/Thresholds

bench: deps model
	$(BENCH) --no-progress $(BENCH_ARGS)

# `swift package` exits 1 for every error its plugin throws, "only better than the thresholds" included:
# that one is told apart by the plugin's error line.
bench-check: deps model
	@mkdir -p $(BENCH_BUILD)
	@set -o pipefail; $(BENCH) thresholds check --path $(BENCH_THRESHOLDS) --no-progress $(BENCH_ARGS) 2>&1 \
		| tee $(BENCH_BUILD)/bench-check.log; rc=$$?; \
	if [ $$rc = 0 ]; then echo "bench-check: within the thresholds"; \
	elif grep -aq "error: benchmarkThresholdImprovement" $(BENCH_BUILD)/bench-check.log; then \
		echo "bench-check: better than the thresholds (make bench-thresholds records them)"; \
	else echo "bench-check: worse than the thresholds, or the run failed (exit $$rc)"; exit 1; fi

bench-thresholds: deps model
	$(BENCH) thresholds update --path $(BENCH_THRESHOLDS) --no-progress $(BENCH_ARGS)

lint:
	$(SWIFT) format lint --strict -r Sources Tests Benchmarks Fuzz Package.swift

format:
	$(SWIFT) format -i -r Sources Tests Benchmarks Fuzz Package.swift

clean:
	rm -rf .build
