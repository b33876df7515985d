# The README's commands. `make run` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-postgres lint format typecheck schema bench clean

$(BIN)/happy: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(BIN)/happy

run: $(BIN)/happy
	$(BIN)/happy db upgrade
	$(BIN)/happy demo
	$(BIN)/happy serve --host $(HOST) --port $(PORT)

test: $(BIN)/happy
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(BIN)/happy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/happy
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(BIN)/happy
	$(BIN)/mypy

schema: $(BIN)/happy
	$(BIN)/happy schema export

bench: $(BIN)/happy
	$(BIN)/python bench/bench_pkpass.py
	$(BIN)/python bench/bench_member_api.py
	$(BIN)/python bench/bench_wallet_endpoint.py

clean:
	rm -rf $(VENV) var test-artifacts
