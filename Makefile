# The verbs of optbus. Every target installs what it needs: a fresh machine needs only Python 3.11+.
SHELL := /bin/bash
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(shell command -v uv 2>/dev/null || echo $(TOOLS)/bin/uv)
PYTEST := $(UV) run --frozen pytest

.PHONY: setup alerting-tools k8s-tools demo test test-unit test-integration test-fault test-e2e bench lint format schemas

$(TOOLS)/bin/uv:
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"

setup: $(UV)
	$(UV) sync --frozen --all-groups --quiet

# promtool and amtool check the alerting files, and the alert end-to-end test runs Prometheus
# and Alertmanager: Debian's packages, installed when missing (as root, where apt-get exists).
# Elsewhere it says what to install; the tests then fail on the missing tool.
ALERTING_TOOLS := promtool amtool prometheus prometheus-alertmanager
alerting-tools:
	@missing=$$(for tool in $(ALERTING_TOOLS); do command -v $$tool >/dev/null || echo $$tool; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends prometheus prometheus-alertmanager; \
	else \
		echo "missing $$missing: install Debian's prometheus and prometheus-alertmanager" >&2; \
	fi

# `kustomize build` of every Kubernetes kustomization (tests/test_deploy_manifests.py) needs
# kustomize, or kubectl's built-in copy, at v5 or later (the manifests use `labels`). Debian's
# kubernetes-client (kubectl 1.20, kustomize v2) is too old and neither PyPI nor npm ships one,
# so nothing is installed here: it says what is missing and the tests then fail on it.
k8s-tools:
	@if command -v kustomize >/dev/null \
		|| kubectl version --client 2>/dev/null | grep -q 'Kustomize Version: v[5-9]'; then exit 0; fi; \
	echo "missing kustomize v5+: install kustomize, or kubectl 1.27 or later (docs/deploy.md)" >&2

demo: setup
	$(UV) run --frozen optbus demo

test: setup alerting-tools k8s-tools lint test-unit test-integration test-fault test-e2e

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
