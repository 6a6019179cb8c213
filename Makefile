# make install: idempotent set-up into .venv/ (packages, then the offline embedding model).
# make run:     install, build the bundled sample index if the index is empty, serve the chat.
# make test:    install, lint, run the tests.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install run test lint bench

install: $(STAMP)
	@$(PY) -m index.e5convert >/dev/null

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

run: install
	$(VENV)/bin/reportqa index build --sample --if-empty
	$(VENV)/bin/reportqa serve

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: lint
	$(PY) -m pytest -q

bench: install
	$(PY) benchmarks/index_build.py
	$(PY) benchmarks/cmrc.py
