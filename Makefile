# entangle: two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
CORE := $(VENV)/.core-installed
FULL := $(VENV)/.full-installed

.PHONY: run run-shared test bench lint install

$(CORE): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $(CORE)

$(FULL): $(CORE)
	$(BIN)/python -m pip install -q -e '.[dev,spark,dask]'
	touch $(FULL)

install: $(FULL)

run: $(CORE)
	$(BIN)/entangle run

# The study on files a user brings (ACLED, Geo-PKO, GADM) under $ENTANGLE_DATA.
run-shared: $(CORE)
	ENTANGLE_DATA=$${ENTANGLE_DATA:-../shared/data} $(BIN)/entangle run src/entangle/studies/mali_shared.toml --out out/shared

test: $(FULL)
	$(BIN)/python -m pytest

bench: $(FULL)
	$(BIN)/python benchmarks/run.py

lint: $(FULL)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
