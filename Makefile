# Kiln's front door. `make run` and `make test` work on a fresh machine with Python 3.11+
# and Node 20+: every other tool is installed here from the package registries.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
INSTALLED := $(VENV)/.installed
NODE_PREFIX := $(VENV)/node
CDK := $(NODE_PREFIX)/node_modules/.bin/cdk
CDK_VERSION := 2.1148.1
# What `make lint` checks (mypy's own list is `files` in pyproject.toml).
LINTED := functions infra local tests clients/python
export PYTHONPATH := $(CURDIR)/functions:$(CURDIR)
# The CDK CLI must never phone home from a laptop or CI.
export CDK_DISABLE_CLI_TELEMETRY := true
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1

.PHONY: install run lint test chromium test-unit test-integration test-infra synth deploy bench layer clean admin-key

install: $(INSTALLED)

$(INSTALLED): pyproject.toml clients/python/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
# The clients package (SDK, the `kiln` command, the MCP server): .venv/bin/kiln
	$(BIN)/pip install --quiet -e ./clients/python
	touch $@

$(CDK):
	npm install --silent --no-audit --no-fund --prefix $(NODE_PREFIX) aws-cdk@$(CDK_VERSION)

run: $(INSTALLED) ## start the local cloud on http://localhost:$${KILN_LOCAL_PORT:-3001}
	$(PY) -m local

lint: $(INSTALLED) ## ruff (lint, then format check) and mypy, configured in pyproject.toml
	$(BIN)/ruff check $(LINTED)
	$(BIN)/mypy
	$(BIN)/ruff format --check $(LINTED)

# The web console's browser tests (tests/browser) drive Debian's Chromium through Playwright
# (a dev dependency, never `playwright install`). Installed here when missing and apt-get can
# run (as root); otherwise those tests skip, saying why.
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "chromium is missing and apt-get cannot run here: the browser tests will skip"; fi

test: $(INSTALLED) chromium lint ## lint, then the whole suite: unit, integration (local cloud over HTTP), infra
	$(PY) -m pytest -n 2 --dist loadgroup

test-unit: $(INSTALLED)
	$(PY) -m pytest tests/unit

test-integration: $(INSTALLED)
	$(PY) -m pytest tests/integration

test-infra: $(INSTALLED)
	$(PY) -m pytest tests/infra

layer: $(INSTALLED) ## build the Lambda dependency layers (arm64, Python 3.13; the MCP function has its own) without Docker
	$(PY) layers/build.py

synth: $(INSTALLED) $(CDK) layer ## synthesize the CDK app offline into cdk.out/
	$(CDK) synth --no-notices --quiet -c dev=$${KILN_DEV:-false}

deploy: $(INSTALLED) $(CDK) layer ## deploy to the AWS account of your current credentials
	$(CDK) deploy --all --no-notices -c dev=$${KILN_DEV:-false} --require-approval broadening

admin-key: $(INSTALLED) ## mint an admin key in a deployed stack (needs AWS credentials)
	$(PY) -m kiln.bootstrap --stack $${KILN_STACK:-Kiln}

bench: $(INSTALLED) ## benchmarks (ratios side by side); not part of the test suite
	$(PY) -m tests.bench

clean:
	rm -rf $(VENV) cdk.out .build .pytest_cache
