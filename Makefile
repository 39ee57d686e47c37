# Luneo — two commands matter: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUN_STAMP  := $(VENV)/.run-installed
TEST_STAMP := $(VENV)/.test-installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test lint bench venv install install-test test-tools lock clean worker migrate seed

$(BIN)/uv:
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "python3 -m venv failed: installing Debian's python3-venv"; rm -rf $(VENV); \
	  apt-get install -y -qq python3-venv >/dev/null && $(PYTHON) -m venv $(VENV); } || { \
	  echo "cannot create a virtual environment: install python3-venv (Debian) and retry"; exit 1; }
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q uv

$(RUN_STAMP): $(BIN)/uv pyproject.toml requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	touch $@

$(TEST_STAMP): $(RUN_STAMP) requirements-test.lock
	$(BIN)/uv pip install -q --python $(BIN)/python -r requirements-test.lock
	touch $@

install: $(RUN_STAMP)
install-test: $(TEST_STAMP)

## run: create the environment, migrate, seed the demo brand, serve API + worker on :8000
run: $(RUN_STAMP)
	$(BIN)/luneo serve --seed --host $(HOST) --port $(PORT)

worker: $(RUN_STAMP)
	$(BIN)/luneo worker

migrate: $(RUN_STAMP)
	$(BIN)/luneo db upgrade

seed: $(RUN_STAMP)
	$(BIN)/luneo seed demo

## test-tools: optional system tools the suite uses (validators); skipped tests say what is missing
test-tools:
	@bash scripts/install-test-tools.sh

## test: install what tests need and run the whole suite
test: $(TEST_STAMP) test-tools
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q $(PYTEST_ARGS)

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

bench: $(TEST_STAMP)
	@for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

## lock: re-resolve pinned dependencies from pyproject.toml
lock: $(BIN)/uv
	$(BIN)/uv pip compile -q pyproject.toml -o requirements.lock
	$(BIN)/uv pip compile -q pyproject.toml --extra test -o requirements-test.lock

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
