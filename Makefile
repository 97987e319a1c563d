# GP4U developer commands. `make help` lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= $(shell command -v python3.11 || command -v python3)
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV_BIN := .venv/bin
NPM ?= npm
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) \
	web/index.html web/vite.config.ts web/tsconfig.json

export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never
export UV_COMPILE_BYTECODE := 1
export UV_LINK_MODE := copy

.PHONY: help install run test lint security format bench lock migration clean \
	web web-test web-client web-client-check

help: ## Show the commands
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[1m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.runtime: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --no-dev --inexact
	@touch $@

.venv/.dev: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen
	@touch $@ .venv/.runtime

install: .venv/.runtime ## Install GP4U and its pinned dependencies into .venv
	@$(VENV_BIN)/python -m compileall -q src >/dev/null

run: install web ## Start GP4U at http://127.0.0.1:8000 (web UI and API; embedded SQLite; offline market without network)
	$(VENV_BIN)/gp4u serve

test: .venv/.dev lint security web-client-check web web-test ## Lint, security checks, the web UI's build and tests, then the whole suite (SQLite; PostgreSQL too if GP4U_TEST_DATABASE_URL)
	@$(VENV_BIN)/python -m compileall -q src >/dev/null
	$(VENV_BIN)/pytest $(PYTEST_ARGS)

# The web UI (web/): npm ci only when package-lock.json changed, a build only when a source did.
web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && $(NPM) ci --no-audit --no-fund
	@touch $@

web/dist/index.html: web/node_modules/.installed $(WEB_SOURCES)
	cd web && $(NPM) run build

web: web/dist/index.html ## Build the web UI into web/dist (served by `gp4u serve` at /)

web-test: web/node_modules/.installed ## The web UI's component tests (Vitest)
	cd web && $(NPM) test

web-client: .venv/.dev web/node_modules/.installed ## Regenerate the UI's typed API client (web/src/api/schema.d.ts) and query fields from the app
	$(VENV_BIN)/python scripts/openapi.py --write var/web-client
	web/node_modules/.bin/openapi-typescript var/web-client/openapi.json --output web/src/api/schema.d.ts
	cp var/web-client/fields.json web/src/market/fields.json

web-client-check: .venv/.dev web/node_modules/.installed ## Fail if the committed API client or query fields are out of date
	@out=$$(mktemp -d) && trap 'rm -rf "$$out"' EXIT && \
	$(VENV_BIN)/python scripts/openapi.py --write "$$out" && \
	web/node_modules/.bin/openapi-typescript "$$out/openapi.json" --output "$$out/schema.d.ts" >/dev/null && \
	if ! cmp -s "$$out/schema.d.ts" web/src/api/schema.d.ts || ! cmp -s "$$out/fields.json" web/src/market/fields.json; then \
		echo "web/src/api/schema.d.ts or web/src/market/fields.json is out of date: run 'make web-client' and commit the result" >&2; \
		exit 1; \
	fi; echo "web client is up to date"

lint: .venv/.dev ## ruff (lint + format check), mypy --strict, import-linter layer contracts
	$(VENV_BIN)/ruff check src tests bench
	$(VENV_BIN)/ruff format --check src tests bench
	$(VENV_BIN)/mypy
	$(VENV_BIN)/lint-imports --no-cache

security: .venv/.dev ## bandit over src (medium+); pip-audit over the locked dependencies
	$(VENV_BIN)/bandit --configfile .bandit.yml --recursive src \
		--severity-level medium --confidence-level medium --quiet
	@requirements=$$(mktemp) && trap 'rm -f "$$requirements"' EXIT && \
	$(UV) export --frozen --format requirements-txt --no-hashes --no-emit-project \
		--quiet --output-file "$$requirements" && \
	$(VENV_BIN)/python scripts/audit_dependencies.py "$$requirements"

format: .venv/.dev ## Format and auto-fix the code
	$(VENV_BIN)/ruff check --fix src tests bench
	$(VENV_BIN)/ruff format src tests bench

bench: .venv/.dev ## Run the benchmarks (JSON on stdout; GP4U_BENCH_DATABASE_URL adds PostgreSQL)
	@$(VENV_BIN)/python -m compileall -q src >/dev/null
	$(VENV_BIN)/python bench/run_all.py

lock: $(UV) ## Re-resolve dependencies into uv.lock
	$(UV) lock

migration: .venv/.dev ## New migration from model changes: make migration m="what changed"
	$(VENV_BIN)/python -c "from alembic import command; from gp4u.db.migrate import alembic_config; \
	import tempfile, os; d = tempfile.mkdtemp(); url = f'sqlite+aiosqlite:///{d}/m.db'; \
	command.upgrade(alembic_config(url), 'head'); \
	command.revision(alembic_config(url), message='$(m)', autogenerate=True)"

clean: ## Remove the virtualenvs, caches and the local data directory
	rm -rf .venv $(TOOLS) var .pytest_cache .mypy_cache .ruff_cache .hypothesis web/node_modules web/dist
