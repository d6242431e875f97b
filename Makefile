# Set-up and everyday commands. `make demo` and `make test` are all the set-up
# there is: the first run creates .venv and installs the package into it.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LAB_STAMP := $(VENV)/.lab-installed
OUT ?= output/demo
GALLERY_PORT ?= 8866

.PHONY: install demo test lint lab lab-instructor gallery browser browser-test clean help

help:
	@echo "make demo   generate Shapes-10, train a net, print its accuracy, write figures to $(OUT)/"
	@echo "make test   run the whole test suite, notebooks included"
	@echo "make lab    open JupyterLab as a student sees the course (assignments/ and notebooks/)"
	@echo "make lab-instructor  open JupyterLab on the whole repository, at solutions/"
	@echo "make gallery  serve the widget gallery as a web page on http://127.0.0.1:$(GALLERY_PORT)/"
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

test: $(STAMP) browser
	$(BIN)/python -m pytest

# The browser tests drive Debian's chromium (no browser is downloaded). As root
# with apt, this installs it; elsewhere it says how, and those tests are skipped.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } \
	      || echo "note: apt-get could not install chromium; the browser tests will be skipped"; \
	  else \
	    echo "note: Debian's chromium is missing (sudo apt-get install chromium); the browser tests will be skipped"; \
	  fi; }

browser-test: $(STAMP) browser
	$(BIN)/python -m pytest tests/test_browser_gallery.py

gallery: $(STAMP)
	$(BIN)/voila notebooks/02_widget_gallery.ipynb --Voila.ip=127.0.0.1 --port=$(GALLERY_PORT) --no-browser

lint: $(STAMP)
	$(BIN)/ruff check course tests benchmarks
	$(BIN)/ruff format --check course tests benchmarks

$(LAB_STAMP): $(STAMP)
	$(BIN)/python -m pip install -e '.[dev,lab]'
	touch $(LAB_STAMP)

# The student's view: assignments and lectures (the file browser hides the rest; a view,
# not a lock: the instructor's masters are still on disk).
STUDENT_HIDES := ["solutions","tests","benchmarks","course","output","build","*.egg-info","__pycache__","*.pyc","*.so","setup.py","pyproject.toml","Makefile"]
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: $(LAB_STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=$(CURDIR) --LabApp.default_url=/lab/tree/assignments \
	  '--ContentsManager.hide_globs=$(STUDENT_HIDES)' $(ALLOW_ROOT)

lab-instructor: $(LAB_STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=$(CURDIR) --LabApp.default_url=/lab/tree/solutions $(ALLOW_ROOT)

clean:
	rm -rf $(VENV) build *.egg-info output .pytest_cache .hypothesis
	find course -name '*.so' -delete
	find course -name '*.pyx' | sed 's/\.pyx$$/.c/' | xargs rm -f  # the C files Cython generated
