# Developer entry points. `make demo` runs one full local rotation; `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install demo test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[all,dev]"
	rm -f $(VENV)/.installed-*
	touch $@

demo: install
	$(PY) -m rotation demo

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check rotation tests templates
	$(VENV)/bin/ruff format --check rotation tests templates
	$(VENV)/bin/mypy

bench: install
	$(PY) -m tests.bench

clean:
	rm -rf $(VENV) .venv-sam .aws-sam .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info

# The SAM template pack's targets (build-<LogicalId>, build, validate, package-sizes).
-include templates/sam.mk
