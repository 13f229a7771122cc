# Campus Platform: every set-up step lives here, so a fresh machine with only
# Python 3.11+, make and the OS package manager can run the app and the tests.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/uv/bin/uv
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

# uv may only use the interpreter this machine has: no Python downloads.
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(shell command -v $(PYTHON))

# Area fragments (mk/*.mk) append to these: set-up steps the tests need, and
# the pytest marker each area's tests carry.
SETUP_TARGETS :=
LINT_TARGETS :=

.PHONY: help install run test lint format apt-update
help:
	@echo "make run    install, migrate, seed demo data and serve the app on http://$(HOST):$(PORT) (SQLite)"
	@echo "make test   install everything and run every test (SQLite and a local PostgreSQL)"
	@echo "make lint   ruff lint and format check"

# Fragments call `$(MAKE) apt-update` before their first apt-get install; the stamp keeps the
# package lists from being fetched again within the hour.
APT_STAMP := $(TOOLS)/.apt-updated
apt-update:
	@if [ "$$(id -u)" != 0 ]; then echo "apt-get needs root: install the packages listed in the Makefile by hand" >&2; exit 1; fi
	@if [ -z "$$(find $(APT_STAMP) -mmin -60 2>/dev/null)" ]; then \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && mkdir -p $(TOOLS) && touch $(APT_STAMP); \
	fi

$(UV):
	$(PYTHON) -m venv $(TOOLS)/uv || { $(MAKE) apt-update && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(TOOLS)/uv; }
	$(TOOLS)/uv/bin/pip install -q --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	touch $@

install: $(VENV)/.synced

include $(sort $(wildcard mk/*.mk))

run: install
	$(BIN)/python -m app migrate
	$(BIN)/python -m app seed-demo
	@$(BIN)/python -m app demo-banner --host $(HOST) --port $(PORT)
	$(BIN)/python -m app serve --host $(HOST) --port $(PORT)

lint: install $(LINT_TARGETS)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: install $(SETUP_TARGETS) lint
	$(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)
