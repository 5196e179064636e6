# Comptoir — the two commands: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
PWA_DIST := backend/comptoir/static/app
PWA_BUILT := $(PWA_DIST)/index.html
PWA_DEPS := pwa/node_modules/.installed
# The API documentation's viewer (Swagger UI), served at /schema from our own files (no CDN).
SCHEMA_VIEWER_DIR := pwa/schema-viewer
SCHEMA_VIEWER := backend/comptoir/static/schema-viewer/swagger-ui-bundle.js
# What the build reads: a change to any of these rebuilds the app (scripts/ and tests do not).
PWA_SOURCES := $(shell find pwa/src pwa/public -type f -not -name '*.test.ts' 2>/dev/null) \
	pwa/index.html pwa/vite.config.ts pwa/tsconfig.json pwa/tsconfig.sw.json

.PHONY: help install pwa schema-viewer api-types registry-types chromium pdf-libraries run test \
	lint migrate seed clean

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

# npm ci only when the lock file changes; it wipes node_modules, so it is not run every build.
$(PWA_DEPS): pwa/package.json pwa/package-lock.json
	cd pwa && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(PWA_BUILT): $(PWA_DEPS) $(PWA_SOURCES)
	cd pwa && npm run build
	@test -f $@ && touch $@

pwa: $(PWA_BUILT)

# Its own small package (swagger-ui-dist, pinned in its lock file): copied, never fetched at run time.
$(SCHEMA_VIEWER): $(SCHEMA_VIEWER_DIR)/package.json $(SCHEMA_VIEWER_DIR)/package-lock.json \
		$(SCHEMA_VIEWER_DIR)/copy-assets.mjs
	cd $(SCHEMA_VIEWER_DIR) && npm ci --no-audit --no-fund --loglevel=error && npm run build
	@test -f $@ && touch $@

schema-viewer: $(SCHEMA_VIEWER)

# Regenerate the PWA's typed API client from the app's OpenAPI document (commit the result).
api-types: install $(PWA_DEPS)
	@tmp=$$(mktemp --suffix=.json) && trap 'rm -f "$$tmp"' EXIT && \
	$(PY) -m comptoir.openapi_export > "$$tmp" && \
	cd pwa && npx openapi-typescript "$$tmp" -o src/api/schema.d.ts

# Regenerate the PWA's event types and error codes from the backend's registries (commit them).
registry-types: install
	$(PY) -m comptoir.events.export > pwa/src/api/events.gen.ts
	$(PY) -m comptoir.error_codes > pwa/src/api/errors.gen.ts

migrate: install
	$(VENV)/bin/comptoir migrate

seed: migrate
	$(VENV)/bin/comptoir seed-demo

run: install pwa schema-viewer pdf-libraries seed
	$(VENV)/bin/comptoir serve --no-migrate

# Browser tests drive Debian's Chromium, never a downloaded browser. As root on Debian (CI, a
# fresh machine) it is installed when missing; elsewhere the browser tests skip and say why.
chromium:
	@if [ "$$(id -u)" = 0 ] && [ -f /etc/debian_version ]; then \
	  command -v chromium >/dev/null || (apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium); \
	fi

# Invoice PDFs (WeasyPrint) need Pango, HarfBuzz's subsetter and a font from the system; the tests
# read PDFs with poppler's pdftotext and pdfimages. Installed like Chromium: as root on Debian,
# the packages missing (any of them) are installed; elsewhere install them by hand.
PDF_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
	poppler-utils
pdf-libraries:
	@if [ "$$(id -u)" = 0 ] && [ -f /etc/debian_version ]; then \
	  missing=$$(for package in $(PDF_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q 'install ok installed' \
	      || echo $$package; done); \
	  [ -z "$$missing" ] || (apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing); \
	fi

test: install pwa schema-viewer chromium pdf-libraries
	cd pwa && npm test
	$(PY) -m pytest $(PYTEST_ARGS)

# Lighthouse 12 (mobile) on the sign-in page, the orders list and a tracking page, on Debian's
# Chromium (CHROME_PATH, default /usr/bin/chromium); also the first route's JavaScript in gzip.
.PHONY: lighthouse
lighthouse: install pwa chromium
	$(PY) benchmarks/lighthouse.py

lint: install
	$(VENV)/bin/ruff check backend tests benchmarks
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) $(PWA_DIST) pwa/node_modules \
		backend/comptoir/static/schema-viewer $(SCHEMA_VIEWER_DIR)/node_modules
