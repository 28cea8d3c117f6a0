# Key-account care: `make run` starts the product on embedded defaults, `make test` runs every test.
# Each target installs only what is missing: the venv is rebuilt only when requirements.txt changes.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BASE_PYTHON ?= $(shell pyenv which python 2>/dev/null || command -v python3.10)
CUSTOMERS ?= 200
PYTEST_ARGS ?=

.PHONY: venv run test lint seed emulator check-env clean

venv: $(STAMP)

$(STAMP): requirements.txt .python-version
	@test -n "$(BASE_PYTHON)" || { echo "Python 3.10 not found: install it with pyenv (see .python-version)"; exit 1; }
	@$(BASE_PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 10), f"need Python 3.10, got {sys.version}"'
	@test -x $(PY) || $(BASE_PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip check
	@touch $(STAMP)

run: venv
	$(PY) -m carecore.supervisor

test: venv
	$(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(PY) -m ruff check .

seed: venv
	$(PY) -m carecore.seed --customers $(CUSTOMERS)

check-env: venv
	$(PY) -m pip check

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
