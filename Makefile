# The two commands (see README.md): `make demo` runs the main job, `make test` runs the tests.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
DEMO_DATA ?= ./data
DEMO_HOUSEHOLDS ?= 2000
DEMO_RUN_DATE ?= 2026-10-31

.PHONY: install demo lint test

install:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen --inexact  # --inexact: keep optional extras (spark) a test run added

# A demo province into $(DEMO_DATA) (replacing an earlier demo there), then one whole comparison run on it.
demo: install
	SAFETYNET_DATA=$(DEMO_DATA) $(UV) run safetynet generate --households $(DEMO_HOUSEHOLDS) --run-date $(DEMO_RUN_DATE) --overwrite
	SAFETYNET_DATA=$(DEMO_DATA) $(UV) run safetynet run --date $(DEMO_RUN_DATE)

# ruff (lint and format check) over the Python, sqlfluff (.sqlfluff: dbt templater, DuckDB) over the dbt models.
# The dbt templater compiles the project: its warehouse file and lake root point into a throwaway directory.
lint: install
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	@mkdir -p dbt_project/target
	scratch=$$(mktemp -d "$(CURDIR)/dbt_project/target/sqlfluff.XXXXXX"); \
	SAFETYNET_WAREHOUSE_DB=$$scratch/warehouse.duckdb SAFETYNET_LAKE=$$scratch/lake DBT_SEND_ANONYMOUS_USAGE_STATS=False \
		$(UV) run sqlfluff lint dbt_project/models; status=$$?; rm -rf "$$scratch"; exit $$status

# The tests also build on Spark (the optional `spark` extra and Java 17): the cross-engine test must run in CI.
test: install lint test-deps
	$(UV) sync --frozen --extra spark
	$(UV) run --extra spark pytest -n 2 --dist loadgroup

# Debian packages the tests need (headless Chromium and LibreOffice Calc for the exports and the report,
# Java 17 for Spark, PostgreSQL for the exchange-database tests, which start their own server); idempotent.
# Debian keeps PostgreSQL's initdb/pg_ctl in /usr/lib/postgresql/<version>/bin, off the PATH (tests/pg_server.py).
TEST_DEBS ?= chromium libreoffice-calc-nogui fonts-crosextra-carlito fonts-noto-cjk openjdk-17-jre-headless postgresql
HAVE_TEST_DEBS = command -v chromium >/dev/null && command -v soffice >/dev/null && command -v java >/dev/null && \
	fc-list | grep -q "Noto Sans CJK" && fc-list | grep -q Carlito && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
.PHONY: test-deps
test-deps:
	@if { $(HAVE_TEST_DEBS); } 2>/dev/null; then exit 0; fi; \
	SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	$$SUDO apt-get update -qq >/dev/null && \
	DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(TEST_DEBS) >/dev/null && \
	$(HAVE_TEST_DEBS) && echo "test-deps: installed $(TEST_DEBS)"
