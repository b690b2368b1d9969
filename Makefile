# imuno — one place for every command. `make demo` and `make test` set up a
# fresh machine by themselves (scripts/setup.sh); nothing is assumed installed.

SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv/bin
PYTEST_FAST := -m "not slow"

export UV_PYTHON_DOWNLOADS := never
export QT_QPA_PLATFORM := offscreen

.PHONY: help setup demo test test-all check lint types layers bench postgres clean

help:
	@echo "make demo      hub on embedded SQLite with demo data and a site client"
	@echo "make test      the representative test suite (PostgreSQL started by itself)"
	@echo "make test-all  every test, including slow fault-injection and scale tests"
	@echo "make check     lint, types, layer contracts and the test suite"
	@echo "make bench     the benchmarks in bench/ (prints figures)"

setup:
	@scripts/setup.sh

demo: setup
	@scripts/demo.sh

# The PostgreSQL URL comes from a throwaway cluster that the script starts
# (or reuses) on 127.0.0.1:55432; IMUNO_REQUIRE_PG makes a missing server a
# failure rather than a skip.
test: setup
	@url=$$(scripts/test-postgres.sh) && \
	IMUNO_TEST_PG_URL=$$url IMUNO_REQUIRE_PG=1 $(VENV)/pytest $(PYTEST_FAST) $(PYTEST_ARGS)

test-all: setup
	@url=$$(scripts/test-postgres.sh) && \
	IMUNO_TEST_PG_URL=$$url IMUNO_REQUIRE_PG=1 $(VENV)/pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .

types: setup
	$(VENV)/mypy

layers: setup
	$(VENV)/lint-imports

check: lint types layers test

bench: setup
	@url=$$(scripts/test-postgres.sh) && IMUNO_BENCH_PG_URL=$$url bench/run.sh

postgres:
	@scripts/test-postgres.sh

clean:
	rm -rf .venv .mypy_cache .ruff_cache .pytest_cache var artifacts
