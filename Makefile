# make demo  - run the main job against the built-in landscape simulator (twice: the second run changes nothing)
# make test  - run the test suite (end-to-end over HTTP against the simulator)
# make lint  - ruff, import-linter (layering, see [tool.importlinter] in pyproject.toml) and mypy
# make bench - benchmarks (figures printed; fails when a measured run beats its critical-path bound)
# make dist  - build the wheel and the sdist into dist/
# make dist-check - build them, run the wheel from a fresh venv against the simulator, run the sdist's tests (.ci/dist)
# make schema - regenerate the playbook JSON Schema (provisioner/data/ and schemas/) from provisioner/playbook/model.py
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench schema dist dist-check clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	bash scripts/demo.sh

test: $(STAMP)
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -q -n auto --dist worksteal

lint: $(STAMP)
	$(BIN)/ruff check provisioner tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/mypy --strict provisioner --exclude 'provisioner/sim/'  # strict outside the simulator

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

schema: $(STAMP)
	$(BIN)/python -m provisioner.playbook.schema .

dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --outdir dist .

dist-check: $(STAMP)
	bash .ci/dist

clean:
	rm -rf $(VENV) .demo .pytest_cache .ruff_cache .hypothesis dist build *.egg-info
