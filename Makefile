# The README's commands. `make run` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-postgres lint format typecheck schema bench bench-wallet clean

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

# Happy against the bare Starlette+asyncpg baseline under wrk (bench/run.py; needs wrk and
# PostgreSQL on 127.0.0.1:5432). `make bench SMOKE=1`: a few seconds per operation (CI).
# `make bench WORKERS=2`, `make bench BENCH_ARGS="--seconds 30 --no-big"`: options.
bench: $(BIN)/happy
	$(BIN)/python -m bench.run $(if $(SMOKE),--smoke) $(if $(WORKERS),--workers $(WORKERS)) \
		$(BENCH_ARGS)

# Pass building and the served pass (no PostgreSQL, no wrk).
bench-wallet: $(BIN)/happy
	$(BIN)/python bench/bench_pkpass.py
	$(BIN)/python bench/bench_wallet_endpoint.py

clean:
	rm -rf $(VENV) var test-artifacts
