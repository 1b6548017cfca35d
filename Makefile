# Greenlight: `make run` serves the whole system locally, `make test` runs every test.
# Everything installs itself on first use (a virtualenv in .venv, Chromium for browser tests).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TOOLS := .tools
SAM := $(TOOLS)/sam/bin/sam
PORT ?= 3000
CLOCK_SCALE ?= 1

.PHONY: install chromium run demo test test-fast lint format validate build bench bench-cold bench-intake bench-measurement bench-load openapi clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

chromium:
	@./scripts/install-chromium

run: install
	$(BIN)/python -m local run --port $(PORT) --clock-scale $(CLOCK_SCALE)

demo: install
	$(BIN)/python -m local demo

test: install chromium
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not browser" -x

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

$(SAM):
	$(PYTHON) -m venv $(TOOLS)/sam
	$(TOOLS)/sam/bin/pip install --quiet aws-sam-cli

validate: $(SAM)
	SAM_CLI_TELEMETRY=0 $(SAM) validate --lint

# sam build needs python3.12 for the python3.12 runtime: pyenv provides it here.
build: $(SAM)
	SAM_CLI_TELEMETRY=0 PYENV_VERSION=3.12.1 $(SAM) build

bench: install
	$(BIN)/python -m benchmarks

# The JSON API's OpenAPI document, generated from its routes (tests/contract/test_openapi.py checks the copy).
openapi: install
	PYTHONPATH=shared $(BIN)/python -m greenlight.web.openapi > docs/openapi.json

# Only the cold starts against their floors (section 2 of benchmarks/RESULTS.md, replaced in place).
bench-cold: install
	$(BIN)/python -m benchmarks --only cold

# Only the sequential intakes (section 1 of benchmarks/RESULTS.md, replaced in place).
bench-intake: install
	$(BIN)/python -m benchmarks --only intake

# Only the measuring sweep at scale (section 4 of benchmarks/RESULTS.md, replaced in place).
bench-measurement: install
	$(BIN)/python -m benchmarks --only measurement

# Only the load: 200 requests driven to publication at once (section 5 of benchmarks/RESULTS.md).
bench-load: install
	$(BIN)/python -m benchmarks --only load

clean:
	rm -rf $(VENV) $(TOOLS) .aws-sam .pytest_cache .mypy_cache .ruff_cache
