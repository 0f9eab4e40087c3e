# Model Collapse, Honestly: build, test and author the book.
#
#   make book          build the HTML book from a clean _build (fails on any warning), and its PDF
#   make test          library tests + book structure checks + strict nbval on every chapter
#   make pdf           the whole book as one PDF (_build/pdf/), printed from the built site
#   make browser-test  open the built site in headless chromium (run `make book` first)
#   make lab           JupyterLab on chapters/ with collapse_lib importable
#   make execute       re-execute every chapter in place (authors: do this before committing)
#   make clean         remove _build and caches (keeps .venv; `make distclean` removes it too)
#
# Every target creates .venv on first use and re-installs when requirements.txt or
# pyproject.toml change (the stamp file lives inside .venv).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.requirements.stamp
# Run every tool from the venv (jupyter kernels included).
export PATH := $(BIN):$(PATH)
export PYTHONHASHSEED := 0

CHAPTERS := $(sort $(wildcard chapters/*.ipynb))
EXECUTE_TIMEOUT ?= 600

# Offline assets for the site, fetched from the npm registry at build time (never committed).
MATHJAX_VERSION := 3.2.2
REQUIREJS_VERSION := 2.3.7
HTML_MANAGER_VERSION := 1.0.6
VENDOR := _vendor
VENDOR_STAMP := $(VENDOR)/.vendor-$(MATHJAX_VERSION)-$(REQUIREJS_VERSION)-$(HTML_MANAGER_VERSION).stamp
# The accessibility audit's rule engine, for the browser tests only (not published with the site).
AXE_VERSION := 4.14.1
AXE := _testvendor/axe-core/axe.min.js

.PHONY: help venv book pdf test browser-test lab execute vendor clean distclean bench bench-explorers bench-peers

help:
	@sed -n '2,10p' Makefile | sed 's/^# \{0,1\}//'

venv: $(STAMP)

# The last step builds matplotlib's font cache, so no first-run message lands in a
# notebook's stderr (which would fail the build).
$(STAMP): requirements.txt pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -r requirements.txt
	$(VENV)/bin/python -m pip install --quiet --no-deps -e .
	$(VENV)/bin/python -m pip check
	$(VENV)/bin/python -c "import matplotlib.pyplot"
	touch $(STAMP)

vendor: $(VENDOR_STAMP)

$(VENDOR_STAMP):
	bash tools/fetch_vendor.sh $(VENDOR) $(MATHJAX_VERSION) $(REQUIREJS_VERSION) $(HTML_MANAGER_VERSION)
	touch $@

book: $(STAMP) $(VENDOR_STAMP)
	rm -rf _build
	@start=$$(date +%s); \
	$(BIN)/jupyter-book build -W -n --keep-going . ; \
	echo "Built in $$(( $$(date +%s) - start )) s"
	@test -f _build/html/index.html
	@if [ -x "$${BOOK_CHROMIUM:-/usr/bin/chromium}" ]; then \
	  $(BIN)/python tools/make_pdf.py --out _build/html/model-collapse-honestly.pdf; \
	else echo "chromium not found: the site's PDF (model-collapse-honestly.pdf) was not printed"; fi
	@echo "Open the book: file://$(CURDIR)/_build/html/index.html"

# The whole book as one PDF, printed by headless chromium from the built site (offline).
pdf: $(STAMP)
	@test -f _build/html/index.html || $(MAKE) book
	$(BIN)/python tools/make_pdf.py --out _build/pdf/model-collapse-honestly.pdf

# Both halves always run (one log shows every failure); the target fails if either fails.
# pytest exits 5 when it collects no tests (e.g. no chapter notebook yet): that is not a failure.
test: $(STAMP)
	@status=0; \
	$(BIN)/python -m pytest tests --ignore=tests/browser -q || [ $$? -eq 5 ] || status=1; \
	if [ -n "$(CHAPTERS)" ]; then \
	  PYTHONPATH=tests $(BIN)/python -m pytest -p nbval_book --nbval --nbval-current-env \
	    --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider -q $(CHAPTERS) || status=1; \
	else echo "No chapter notebooks yet: nbval skipped."; fi; \
	exit $$status

$(AXE):
	@command -v npm >/dev/null || { echo "npm is needed to fetch axe-core (apt-get install npm)" >&2; exit 1; }
	rm -rf _testvendor/axe-core && mkdir -p _testvendor/axe-core
	cd _testvendor/axe-core && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null && \
	  tar -xzf axe-core-$(AXE_VERSION).tgz && cp package/axe.min.js package/LICENSE . && rm -rf package *.tgz

browser-test: $(STAMP) $(AXE)
	@test -f _build/html/index.html || { echo "No built site: run 'make book' first." >&2; exit 1; }
	$(BIN)/python -m pytest tests/browser -q -p no:cacheprovider

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=chapters

# Speed and memory of collapse_lib.simulate, then collapse_lib against the public reference
# code on the same experiments (figures and table in README's Performance section).
bench: $(STAMP)
	$(BIN)/python bench/bench_simulate.py
	$(BIN)/python bench/bench_peers.py

# Median update time of each chapter explorer at its defaults (README's Performance section).
bench-explorers: $(STAMP)
	$(BIN)/python bench/bench_explorers.py

# collapse_lib against the public reference code, experiment by experiment (README's Performance section).
bench-peers: $(STAMP)
	$(BIN)/python bench/bench_peers.py

# Runs every chapter in place and stores its outputs and the prose's {eval} results
# (tools/execute.py); NB=chapters/05-tokens-and-words.ipynb executes one chapter.
NB ?= $(CHAPTERS)
execute: $(STAMP)
	$(BIN)/python tools/execute.py --timeout=$(EXECUTE_TIMEOUT) $(NB)

clean:
	rm -rf _build .pytest_cache .hypothesis .jupyter_cache
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) $(VENDOR) _testvendor *.egg-info

# Grade a student's notebook for assignment N (chapters/assignments.md): executes a copy of
# NB (tools/execute.py, into CHECK_DIR) and runs assignments/checks/test_a<N>.py on the
# answers it printed with cl.course.submit. Example:
#   make check-assignment N=1 NB=~/A1-source-stress-test.ipynb
CHECK_DIR ?= _build/check-assignment
.PHONY: check-assignment
check-assignment:
	@test -n "$(N)" && test -f "$(NB)" || { echo "usage: make check-assignment N=<1-5> NB=<your notebook.ipynb>" >&2; exit 2; }
	@test -f assignments/checks/test_a$(N).py || { echo "no assignment $(N): see chapters/assignments.md" >&2; exit 2; }
	@test -x $(BIN)/python || $(MAKE) venv
	mkdir -p "$(CHECK_DIR)"
	cp "$(NB)" "$(CHECK_DIR)/A$(N)-submitted.ipynb"
	$(BIN)/python tools/execute.py "$(CHECK_DIR)/A$(N)-submitted.ipynb"
	ASSIGNMENT_NB="$(CHECK_DIR)/A$(N)-submitted.ipynb" $(BIN)/python -m pytest assignments/checks/test_a$(N).py \
	  -q -p no:cacheprovider --rootdir=assignments/checks
