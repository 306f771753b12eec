# Kadian — the two commands are `make demo` and `make test`; everything else is a step of theirs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

SHARED   ?= ../shared
DATA     ?= $(SHARED)/data/real
CARGO    ?= cargo
VENV     := models/training/.venv
PYTHON   := $(VENV)/bin/python
EVAL_OUT ?= eval-out

# Debian packages the build, the tests and the demo need (the fonts: the plate
# renderer of `make models`; DejaVu Sans Condensed is in fonts-dejavu-extra).
APT_PACKAGES := libopencv-dev clang libclang-dev ffmpeg chromium chromium-driver \
                fonts-wqy-zenhei fonts-noto-cjk fonts-dejavu-core fonts-dejavu-extra python3-venv curl jq

.PHONY: help deps build test demo bench eval models

help:
	@echo "make demo    build, start a hub with demo data, print the tablet URL"
	@echo "make test    install what is missing, then run every test"
	@echo "make deps    apt packages (no-op when present)"
	@echo "make bench   benchmarks (figures printed)"
	@echo "make eval    measure the models on $(DATA)"
	@echo "make models  retrain the models and rewrite models/onnx/"

# Installs only what is missing, so a second run touches nothing.
deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  SUDO=$$( [ $$(id -u) -eq 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "deps: all present"; fi

build: deps
	$(CARGO) build --workspace --release

# The whole-system tests (package e2e) run the hub and checkpoint binaries; cargo
# builds a package's binaries for its integration tests, with the test build's
# features (a separate `cargo build` would compile the dependencies a second time).
test: deps
	$(CARGO) test --workspace --no-fail-fast

bench: deps
	$(CARGO) bench --workspace

eval: deps
	mkdir -p $(EVAL_OUT)
	$(CARGO) run --release -p models --bin evaluate -- plates $(DATA)/plates/dev --out $(EVAL_OUT)/plates.csv
	$(CARGO) run --release -p models --bin evaluate -- frames $(DATA)/frames/dev --out $(EVAL_OUT)/frames.csv
	$(CARGO) run --release -p models --bin evaluate -- checkpoint $(DATA)/checkpoint --out $(EVAL_OUT)/checkpoint.csv

$(VENV)/.installed: models/training/requirements.txt
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q --upgrade pip
	$(PYTHON) -m pip install -q -r models/training/requirements.txt
	$(PYTHON) -m pip uninstall -q -y triton  # CUDA-only, 1 GB; training runs on the CPU
	touch $@

models: deps $(VENV)/.installed
	$(MAKE) -C models/training all PYTHON=$(abspath $(PYTHON)) DATA=$(abspath $(DATA))

demo: build
	bash demo/run.sh
