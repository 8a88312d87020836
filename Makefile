# Two commands do all set-up on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: install serve system comunica test lint typecheck wheel diagram clean load soak crash

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "ecrn-kg needs Python 3.11 or newer"; exit 1; }
	@$(PYTHON) -m venv $(VENV) || { echo "python venv is missing: install it (Debian: apt-get install python3-venv)"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

serve: install  ## run the service on the embedded store with the ChemClust graph loaded
	$(BIN)/ecrn-kg serve

lint: install
	$(BIN)/ruff check graph service tests bench

typecheck: install
	$(BIN)/mypy

system:  ## Debian packages of the browser, diagram, federation, Virtuoso and allocator tests: Chromium, Graphviz, Node.js, Virtuoso, jemalloc (apt-get, as root)
	@command -v chromium >/dev/null && command -v dot >/dev/null && command -v npm >/dev/null && command -v virtuoso-t >/dev/null \
	  && $(PYTHON) -c 'import ctypes.util, sys; sys.exit(not ctypes.util.find_library("jemalloc"))' || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium graphviz virtuoso-opensource libjemalloc2 \
	      $$(command -v npm >/dev/null || echo nodejs npm); \
	  else echo "note: without chromium, graphviz, npm, virtuoso-t and jemalloc (sudo apt-get install chromium graphviz nodejs npm virtuoso-opensource libjemalloc2) some tests skip"; fi; }

comunica: system  ## Comunica 4 (npm registry) in var/comunica, for the federation test
	@command -v npm >/dev/null || { echo "note: without npm the Comunica test skips"; exit 0; }; \
	test -x var/comunica/node_modules/.bin/comunica-sparql || \
	  npm install --prefix var/comunica --no-audit --no-fund --loglevel=error @comunica/query-sparql@4.5.0

test: lint typecheck system comunica  ## run the whole test suite, as CI does
	$(BIN)/pytest

wheel: install
	$(BIN)/python -m pip wheel --quiet --no-deps --no-build-isolation -w dist .

diagram: install  ## redraw docs/ontology.dot and docs/ontology.svg from ontology/ (needs Graphviz's dot)
	$(BIN)/python -m graph.diagram docs/ontology

load: install  ## 16 clients for 10 min against a real server, then again beside 4 runaway queries and a bad client
	$(BIN)/python bench/load.py --out var/bench/load/clean.json
	$(BIN)/python bench/load.py --runaway 4 --bad-rate 10 --compare var/bench/load/clean.json --out var/bench/load/faults.json

soak: install  ## the same load for 1 h, sampling the server's RSS, threads and fds every 10 s
	$(BIN)/python bench/soak.py --out var/bench/load/soak.json

crash: install  ## kill -9 the server 20 times under acknowledged writes; every acknowledged write must survive
	$(BIN)/python bench/crash.py

clean:
	rm -rf $(VENV) dist build .pytest_cache .mypy_cache .ruff_cache
