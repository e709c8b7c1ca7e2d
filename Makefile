# entangle: two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
comma := ,
BIN := $(VENV)/bin
CORE := $(VENV)/.core-installed
FULL := $(VENV)/.full-installed

# requirements.lock pins every package (extras dev, spark, dask included) for Python 3.11+ on any
# platform; installs take their versions from it as pip constraints. `make lock` rebuilds it from
# pyproject.toml with the uv version and the PyPI cut-off date below, so the same inputs give the same
# lock on any machine (it resolves from scratch; the old lock is not a preference): bump LOCK_DATE (and UV_VERSION if needed) to move to newer releases.
LOCK := requirements.lock
LOCK_DATE ?= 2026-12-01T00:00:00Z
UV_VERSION := 0.13.9
EXTRAS := dev,spark,dask

.PHONY: run run-shared test bench lint install lock

$(CORE): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c $(LOCK) -e .
	touch $(CORE)

$(FULL): $(CORE)
	$(BIN)/python -m pip install -q -c $(LOCK) -e '.[$(EXTRAS)]'
	touch $(FULL)

lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q uv==$(UV_VERSION)
	$(BIN)/uv pip compile pyproject.toml $(foreach e,$(subst $(comma), ,$(EXTRAS)),--extra $(e)) \
		--universal --python-version 3.11 --exclude-newer $(LOCK_DATE) --index-url https://pypi.org/simple \
		--custom-compile-command 'make lock' --no-cache --quiet -o $(LOCK).new
	mv $(LOCK).new $(LOCK)

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
