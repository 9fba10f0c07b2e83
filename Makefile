# rai: make demo (sets up and runs the policy-checked pipeline on the bundled Adult data)
#      make test (sets up and runs the test suite)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo demo-dp test test-fast lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: setup
	$(BIN)/rai run examples/adult-income/pipeline.yaml

demo-dp: setup
	$(BIN)/rai run examples/adult-income/pipeline-dp.yaml

test: setup
	$(BIN)/lint-imports
	$(BIN)/pytest -n 2

test-fast: setup
	$(BIN)/pytest -n 2 -m "not tf and not slow"

lint: setup
	$(BIN)/ruff check governance lifecycle dashboards rai tests benchmarks
	$(BIN)/lint-imports

bench: setup
	$(BIN)/python benchmarks/bench_audit_fairness.py
	$(BIN)/python benchmarks/bench_audit_drift.py
	$(BIN)/python benchmarks/bench_trail.py
	$(BIN)/python benchmarks/bench_report.py
	$(BIN)/python benchmarks/bench_dashboard.py

clean:
	rm -rf $(VENV) .rai .pytest_cache
