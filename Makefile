# Set-up and everyday commands. `make demo` and `make test` are all the set-up
# there is: the first run creates .venv and installs the package into it.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LAB_STAMP := $(VENV)/.lab-installed
OUT ?= output/demo

.PHONY: install demo test lint lab clean help

help:
	@echo "make demo   generate Shapes-10, train a net, print its accuracy, write figures to $(OUT)/"
	@echo "make test   run the whole test suite, notebooks included"
	@echo "make lab    open JupyterLab on the course (assignments/, notebooks/, solutions/)"
	@echo "make lint   ruff check and format check"
	@echo "make clean  remove the virtual environment, build files and outputs"

$(STAMP): pyproject.toml setup.py $(shell find course -name '*.pyx')
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10+ is needed; found " + sys.version.split()[0] + ". Run: make PYTHON=python3.11 ...")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/course demo --out $(OUT)

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check course tests benchmarks
	$(BIN)/ruff format --check course tests benchmarks

$(LAB_STAMP): $(STAMP)
	$(BIN)/python -m pip install -e '.[dev,lab]'
	touch $(LAB_STAMP)

lab: $(LAB_STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=$(CURDIR) $(if $(filter 0,$(shell id -u)),--allow-root)

clean:
	rm -rf $(VENV) build *.egg-info output .pytest_cache .hypothesis
	find course -name '*.so' -delete
	find course -name '*.pyx' | sed 's/\.pyx$$/.c/' | xargs rm -f  # the C files Cython generated
