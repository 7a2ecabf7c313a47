# Yoom: `make run` starts the app on its embedded video; `make test` runs the whole suite.
# Both install whatever is missing first (a venv, Python packages, bun) and skip what is there.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
REFLEX := $(VENV)/bin/reflex
BUN_VERSION := 1.4.5
BUN := .tools/node_modules/.bin/bun
# axe-core: the accessibility engine tests/browser/test_accessibility.py injects into each page.
AXE_VERSION := 4.14.1
AXE := .tools/node_modules/axe-core/axe.min.js
PORT ?= 3000

# Reflex 0.10 needs bun (or Node >= 22.22); bun comes from the npm registry into .tools/.
export PATH := $(CURDIR)/.tools/node_modules/.bin:$(PATH)
export REFLEX_USE_SYSTEM_BUN := 1
# One backend worker: without Redis, meetings' signaling and Reflex's state live in one process. With
# REFLEX_REDIS_URL set, run more (`make run GRANIAN_WORKERS=4`); more than 1 without it is refused at start.
export GRANIAN_WORKERS ?= 1

.PHONY: run dev test test-fast test-js lint format setup migrate chromium bench lock clean

run: migrate
	$(REFLEX) run --env prod --single-port --frontend-port $(PORT)

dev: migrate
	$(REFLEX) run

test: setup chromium lint test-js
	$(PY) -m pytest

test-fast: setup lint test-js
	$(PY) -m pytest tests/unit tests/integration

# The meeting engine's JavaScript modules (assets/), tested by bun (bunfig.toml: tests/js/).
test-js: $(BUN)
	$(BUN) test

# ruff formats and lints (imports sorted too); `make test` fails on anything it reports.
lint: setup
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

setup: $(VENV)/.installed $(BUN) $(AXE)

migrate: setup
	$(REFLEX) db migrate

$(VENV)/.installed: requirements.txt constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Yoom needs Python 3.11 or newer: run make with PYTHON=python3.11")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	@touch $@

$(BUN):
	@command -v npm >/dev/null || { echo "Yoom needs Node.js and npm to install bun: install them first"; exit 1; }
	npm install --prefix .tools --no-audit --no-fund --loglevel=error bun@$(BUN_VERSION)
	@$(BUN) --version >/dev/null

$(AXE):
	@command -v npm >/dev/null || { echo "Yoom needs Node.js and npm to install axe-core: install them first"; exit 1; }
	npm install --prefix .tools --no-audit --no-fund --loglevel=error --save-exact axe-core@$(AXE_VERSION)

# Browser tests drive Debian's Chromium (Playwright can't download its own browsers here).
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else \
			echo "Browser tests need Chromium at /usr/bin/chromium: sudo apt-get install chromium"; exit 1; \
		fi; \
	fi

bench: migrate
	$(PY) benchmarks/run_all.py

lock:
	$(PY) -m pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf .web .states $(VENV) .tools
