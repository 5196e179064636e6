# Comptoir — the two commands: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
PWA_DIST := backend/comptoir/static/app
PWA_BUILT := $(PWA_DIST)/index.html
PWA_SOURCES := $(shell find pwa -type f -not -path 'pwa/node_modules/*' -not -path 'pwa/dist/*' 2>/dev/null)

.PHONY: help install pwa run test lint migrate seed clean

help:
	@echo "make run   - install, build the app, migrate, load demo data, serve on :8000"
	@echo "make test  - install, build the app, run the whole test suite"
	@echo "make lint  - ruff and mypy"

$(INSTALLED): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(INSTALLED)

$(PWA_BUILT): $(PWA_SOURCES)
	cd pwa && npm ci --no-audit --no-fund --loglevel=error && npm run build
	@test -f $@ && touch $@

pwa: $(PWA_BUILT)

migrate: install
	$(VENV)/bin/comptoir migrate

seed: migrate
	$(VENV)/bin/comptoir seed-demo

run: install pwa seed
	$(VENV)/bin/comptoir serve --no-migrate

test: install pwa
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check backend tests benchmarks
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) $(PWA_DIST) pwa/node_modules
