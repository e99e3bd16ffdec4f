# llmperf — two commands do all the set-up on a fresh clone:
#   make demo   installs what it needs, builds, measures the bundled backend (scenarios/quickstart.yml)
#   make test   installs what it needs, builds, runs every test
SHELL := /bin/bash
SWIFT ?= swift
APT_PACKAGES := libcurl4-openssl-dev libsqlite3-dev openssl
# the HTML report test opens reports in a real headless browser; the HTTP/2 tests talk to nghttpd
TEST_APT_PACKAGES := chromium nghttp2-server
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test deps test-deps apt model build release lint format clean

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

lint:
	$(SWIFT) format lint --strict -r Sources Tests Package.swift

format:
	$(SWIFT) format -i -r Sources Tests Package.swift

clean:
	rm -rf .build
