# ugc: `make run` starts the whole platform, `make test` checks everything.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | cksum | cut -d' ' -f1)
PIP_FLAGS := --quiet --disable-pip-version-check

.DEFAULT_GOAL := help
.PHONY: help install run test unit integration check-deploy fuzz research lint typecheck format bench-ingest bench-content bench-strangers bench-etl bench-erasure clean lock

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "ugc needs Python 3.11+; set PYTHON=python3.x"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install $(PIP_FLAGS) --upgrade pip
	$(BIN)/python -m pip install $(PIP_FLAGS) --constraint requirements.lock -e '.[local,dev,research]'
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) ## Create .venv and install ugc with the local servers and dev tools

lock: install ## Pin the image's runtime packages at the versions installed (requirements.lock)
	$(BIN)/python -m tests.deploy.image_lock > requirements.lock.new && mv requirements.lock.new requirements.lock

run: install ## Start the local platform (broker, document store, ClickHouse, APIs)
	$(BIN)/ugc dev

test: lint typecheck ## Lint, type-check and run every test
	$(BIN)/pytest

unit: install ## Only the unit tests (no servers)
	$(BIN)/pytest -m unit

integration: install ## Only the integration tests (real local servers)
	$(BIN)/pytest -m integration

check-deploy: install ## The deploy files by their own tools, and nginx live (part of `make test`)
	$(BIN)/pytest tests/deploy tests/integration/test_nginx_edge.py tests/integration/test_metrics_exposition.py

research: install ## The storage study at the seed's volumes (about an hour), then docs/research
	$(BIN)/ugc research events
	$(BIN)/ugc research content
	$(BIN)/ugc research render

fuzz: install ## schemathesis over the three APIs of a real `ugc dev` (fixed seed, a few minutes)
	$(BIN)/python -m tests.fuzz.run

lint: install ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install ## mypy --strict
	$(BIN)/mypy

format: install ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench-ingest: install ## Benchmark the events API against the local broker
	$(BIN)/python -m bench.ingest

bench-content: install ## Benchmark the content API against the local MongoDB server
	$(BIN)/python -m bench.content

bench-erasure: install ## Erase a viewer of 1,000 events from 10M: time to done, cost meanwhile
	$(BIN)/python -m bench.erasure

bench-strangers: install ## What a flood of unauthenticated requests costs signed-in callers
	$(BIN)/python -m bench.strangers

bench-etl: install ## Benchmark the loader, end-to-end freshness and analytics at 10M events
	$(BIN)/python -m bench.etl

clean: ## Remove the virtualenv and caches (keeps .ugc data)
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
