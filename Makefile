# tongban: `make run` for the demo, `make test` for the suite. Both install what they need.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(PYTHON) -m uv
VENV := .venv
PY := $(VENV)/bin/python
TONGBAN := $(VENV)/bin/tongban
PG_URL ?= $(or $(TONGBAN_TEST_DATABASE_URL),postgresql://postgres@127.0.0.1:5432/test)
export TONGBAN_DEMO_VAR ?= var

.PHONY: run test setup assets i18n lint typecheck test-sqlite test-pg browser-deps demo-reset bench clean

$(VENV)/.synced: pyproject.toml uv.lock
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install -q --disable-pip-version-check uv
	$(UV) sync --frozen --quiet
	@touch $@

setup: $(VENV)/.synced

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

assets: node_modules/.installed
	$(PY) scripts/build_assets.py

i18n: setup
	$(PY) scripts/i18n.py compile

run: setup assets i18n
	TONGBAN_DEMO=1 $(TONGBAN) demo up

lint: setup
	$(PY) -m ruff check src tests scripts benchmarks
	$(PY) -m mypy
	$(VENV)/bin/lint-imports --no-cache

test-sqlite: setup
	TONGBAN_TEST_DATABASE_URL=sqlite $(PY) -m pytest

test-pg: setup
	@if $(PY) scripts/pg_ready.py "$(PG_URL)"; then \
	  echo "== PostgreSQL leg: $(PG_URL)"; \
	  TONGBAN_TEST_DATABASE_URL="$(PG_URL)" $(PY) -m pytest; \
	elif [ "$${TONGBAN_REQUIRE_PG:-0}" = "1" ]; then \
	  echo "PostgreSQL is required (TONGBAN_REQUIRE_PG=1) but unreachable at $(PG_URL)" >&2; exit 1; \
	else \
	  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
	  echo "!! PostgreSQL unreachable at $(PG_URL): the PostgreSQL leg was SKIPPED."; \
	  echo "!! Set TONGBAN_TEST_DATABASE_URL, or TONGBAN_REQUIRE_PG=1 to make this fail."; \
	  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
	fi

# The browser tests (tests/browser, on the PostgreSQL leg) drive Debian's Chromium with a CJK font:
# installed here when missing and run as root; otherwise the tests skip loudly (or fail under
# TONGBAN_REQUIRE_BROWSER=1). Never a browser download.
browser-deps:
	@if command -v chromium >/dev/null 2>&1 && command -v fc-list >/dev/null 2>&1 && [ -n "$$(fc-list :lang=zh family)" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "== installing Debian's chromium and fonts-wqy-microhei for the browser tests"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -q --no-install-recommends chromium fonts-wqy-microhei fontconfig >/dev/null 2>&1 || \
	  { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends chromium fonts-wqy-microhei fontconfig >/dev/null; }; \
	else \
	  echo "!! chromium or a CJK font is missing and this is not root: the browser tests will be SKIPPED"; \
	fi

# The two legs run at once (two processes on two cores: most of a leg is one Python thread, the
# other waits on PostgreSQL or the browser); each leg's output is printed whole when it ends.
# TEST_JOBS=1 runs them one after the other.
TEST_JOBS ?= 2
test: setup assets i18n lint browser-deps
	$(MAKE) --no-print-directory -j$(TEST_JOBS) --output-sync=target test-sqlite test-pg

bench: setup
	$(TONGBAN) bench --help

clean:
	rm -rf $(VENV) node_modules src/tongban/web/static/vendor
