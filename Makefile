# The two commands (see README.md): `make demo` runs the main job, `make test` runs the tests.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
DEMO_DATA ?= ./data
DEMO_HOUSEHOLDS ?= 2000
DEMO_RUN_DATE ?= 2026-10-31

.PHONY: install demo test

install:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen

demo: install
	SAFETYNET_DATA=$(DEMO_DATA) $(UV) run safetynet generate --households $(DEMO_HOUSEHOLDS) --run-date $(DEMO_RUN_DATE)

test: install
	$(UV) run pytest -n 2
