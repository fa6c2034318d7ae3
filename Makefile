# The verbs of optbus. Every target installs what it needs: a fresh machine needs only Python 3.11+.
SHELL := /bin/bash
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(shell command -v uv 2>/dev/null || echo $(TOOLS)/bin/uv)
PYTEST := $(UV) run --frozen pytest

.PHONY: setup demo test test-unit test-integration test-fault test-e2e bench lint format schemas

$(TOOLS)/bin/uv:
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"

setup: $(UV)
	$(UV) sync --frozen --all-groups --quiet

demo: setup
	$(UV) run --frozen optbus demo

test: setup lint test-unit test-integration test-fault test-e2e

test-unit:
	$(PYTEST) -m "not integration and not e2e and not fault" -q

test-integration:
	$(PYTEST) -m integration -q

test-fault:
	$(PYTEST) -m fault -q

test-e2e:
	$(PYTEST) -m e2e -q

bench: setup
	$(UV) run --frozen python bench/run.py

lint: setup
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy libs/optbus/src libs/brokers/src services/*/src cli/src
	$(UV) run --frozen lint-imports

format: setup
	$(UV) run --frozen ruff check --fix .
	$(UV) run --frozen ruff format .

schemas: setup
	$(UV) run --frozen python -m optbus.schemas schemas

dashboards: setup
	$(UV) run --frozen python grafana/generate.py
