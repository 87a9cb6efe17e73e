# botbuilder: `make serve` runs the example bot, `make test` runs every test.
# Everything installs into .venv; nothing outside it except, for the tests,
# Debian's chromium, postgresql and nginx (see .ci/system-deps.sh).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
WIDGET := web/static/widget.js
FLOWS  ?= flows
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: install widget serve test lint bench bench-accuracy loadtest system-deps clean translations

install: $(STAMP) $(WIDGET)

# torch first, pinned: the CPU build of 2.13.0 comes from this machine's disk;
# an unpinned torch pulled in by sentence-transformers would be a CUDA build of GBs.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The shipped widget.js is joined from web/widget/*.js by a Python script (no
# Node); it is committed, and a test fails when it is not the build of them.
widget: $(WIDGET)
$(WIDGET): $(wildcard web/widget/*.js) tools/build_widget.py
	$(PYTHON) tools/build_widget.py

# The staff pages' catalogues (docs/translating.md): collect the marked text into
# messages.pot, merge it into every language's messages.po, compile the .mo files.
# The .mo files are committed (a test checks they match the .po), so a fresh clone works.
TRANSLATIONS := web/translations
translations:
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k lazy_ngettext:1,2 -c TRANSLATORS: \
		--add-location=file --sort-by-file --project=botbuilder --copyright-holder="botbuilder contributors" --no-wrap \
		-o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-wrap --ignore-obsolete --no-fuzzy-matching
	$(BIN)/pybabel compile -d $(TRANSLATIONS) --statistics

serve: install
	$(BIN)/botbuilder serve $(FLOWS) --host $(HOST) --port $(PORT)

# In CI (CI=true) the browser, PostgreSQL and nginx are installed (PostgreSQL started) first,
# and the storage/API tests run against PostgreSQL as well as SQLite.
test: install
	@if [ -n "$$CI" ]; then bash .ci/system-deps.sh; fi
	@if [ -n "$$CI" ] && [ -z "$$BOTBUILDER_TEST_DATABASE_URL" ]; then \
		export BOTBUILDER_TEST_DATABASE_URL="$$(bash .ci/postgres.sh)"; \
		echo "PostgreSQL for tests: $${BOTBUILDER_TEST_DATABASE_URL%%:*}://…@127.0.0.1"; \
	fi; \
	$(BIN)/python -m pytest $(PYTEST_ARGS)

system-deps:
	bash .ci/system-deps.sh

lint: install
	$(BIN)/ruff check botbuilder tests benchmarks tools
	$(BIN)/ruff format --check botbuilder tests benchmarks tools
	$(BIN)/mypy botbuilder

bench: install
	$(BIN)/python -m benchmarks

bench-accuracy: install
	$(BIN)/python -m benchmarks --accuracy

# Real servers under load on 127.0.0.1, bounded (a few minutes); phases 2-3 need root for
# their own PostgreSQL. Exit 1 on a lost or duplicated message or a 5xx. See benchmarks/loadtest.py.
loadtest: install
	$(BIN)/python -m benchmarks.loadtest $(LOADTEST_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache test-output
