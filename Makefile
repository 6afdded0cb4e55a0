# recon — two commands: `make demo` and `make test`. Everything else is a helper of those.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RECON_HOME ?= $(CURDIR)/recon_home
export RECON_HOME

.PHONY: install demo test test-random lint ui bench services validate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install when the dependencies change; uv when available (fast), plain pip otherwise.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip uv || true
	if [ -x $(BIN)/uv ]; then $(BIN)/uv pip install --python $(BIN)/python -e '.[dev]'; \
	else $(BIN)/python -m pip install -e '.[dev]'; fi
	$(BIN)/recon prepare
	touch $@

install: $(VENV)/.installed

## demo: a generated week of pay cycles through the whole pipeline, embedded (DuckDB, local folders)
demo: install
	$(BIN)/recon demo

## test: every test, against real services (Postgres, an SFTP server, a Kafka-protocol broker)
# Two workers, one test file each at a time (module fixtures build their week once); file order,
# so a red run can be replayed. `make test-random` runs the suite in a random order (seed printed).
test: install services lint
	$(BIN)/python -m pytest -p no:randomly -n 2 --dist loadfile --durations=25

## lint: ruff for the Python (pyproject.toml), sqlfluff for the dbt models (.sqlfluff)
lint: install
	$(BIN)/ruff check .
	$(BIN)/sqlfluff lint dbt_project/models --processes 2 --disable-progress-bar

test-random: install services
	$(BIN)/python -m pytest -p randomly -n 2 --dist loadfile

## services: make sure the services the tests talk to are up (the others start inside the tests),
## and that Debian's chromium is there for the portal's browser tests
services:
	@bash scripts/ensure_postgres.sh
	@bash scripts/ensure_chromium.sh

## ui: the Dagster UI on this project's instance ($(RECON_HOME)/dagster)
ui: install
	$(BIN)/recon prepare --instance
	PATH=$(CURDIR)/$(BIN):$$PATH DAGSTER_HOME=$(RECON_HOME)/dagster $(BIN)/dagster dev -w workspace.yaml

validate: install
	$(BIN)/recon prepare --instance
	PATH=$(CURDIR)/$(BIN):$$PATH DAGSTER_HOME=$(RECON_HOME)/dagster $(BIN)/dagster definitions validate -w workspace.yaml

## bench: speed and memory figures (numbers go in the README)
bench: install
	$(BIN)/python bench/run_bench.py
	$(BIN)/python bench/close_pack_bench.py
	$(BIN)/python bench/search_bench.py
	$(BIN)/python bench/hostile_bench.py

clean:
	rm -rf $(VENV) recon_home dbt_project/target dbt_project/logs
