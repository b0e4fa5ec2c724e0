# Developer entry points. `make demo` runs one full local rotation; `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install demo test lint bench clean

install: $(STAMP)

# The package with every extra, and the development tools of the dev dependency group (PEP 735),
# which needs pip >= 25.1: a fresh venv's pip may be older, so pip is upgraded first.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[all,demo,testing]" --group dev
	rm -f $(VENV)/.installed-*
	touch $@

demo: install
	$(PY) -m rotation demo

# The suite includes the SAM artifact tests (tests/sam), so the pack is built first, offline, into
# its own directory: once, and again only when its sources change (sam-test-build, templates/sam.mk).
test: install sam-test-build
	ROTATION_SAM_BUILD_DIR=$(SAM_TEST_BUILD_DIR) $(PY) -m pytest $(PYTEST_ARGS)

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
