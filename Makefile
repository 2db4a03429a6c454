# cx-warehouse: the two commands are `make demo` and `make test`; both set themselves up.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.cxw-setup-stamp
export CXW_HOME ?= $(CURDIR)/.cxw
export AIRFLOW__CORE__LOAD_EXAMPLES := False

.PHONY: setup demo test test-fast lint format lock clean warehouse-stop suites

setup: $(STAMP) ## create .venv and install the pinned stack (idempotent)

$(STAMP): requirements.txt constraints.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet uv==0.13.9
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.txt -c constraints.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)
	@echo "setup: .venv ready"

demo: setup ## the one-command tour: warehouse, sources, pipeline, report
	$(BIN)/cxw demo

lint: setup ## ruff (with Airflow AIR rules) and sqlfluff on the dbt project
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd dbt_project && ../$(BIN)/sqlfluff lint --processes 2 --disable-progress-bar models macros snapshots tests analyses

test: lint ## lint, then the whole test suite against a real embedded warehouse
	CXW_HOME=$(CURDIR)/.cxw-test $(BIN)/pytest -q

test-fast: setup ## unit tests only
	$(BIN)/pytest -q tests/unit

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lock: setup ## refresh constraints.txt from the current environment
	$(BIN)/uv pip freeze --python $(BIN)/python | grep -v -E '^((uv|pip|setuptools)==|-e )' > constraints.txt

suites: setup ## regenerate the GX suites after a StreamSpec or expectations/marts.yml change
	$(BIN)/python -m cxw.quality.suites

warehouse-stop:
	-$(BIN)/cxw warehouse stop

clean: warehouse-stop
	rm -rf $(VENV) .cxw-test
