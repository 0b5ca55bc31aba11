# Everything goes through a local virtualenv built from pyproject.toml.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8080

.PHONY: run test lint bench bench-full bench-tools clean install browser conformance

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# Bytecode written once here (the environment may forbid Python to write it): without
# it every start compiles the package again (~150 ms of `serve`'s start-up).
install: $(VENV)/.installed
	@$(BIN)/python -m compileall -q cci_mock

run: install
	$(BIN)/cci-mock serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check cci_mock tests tools bench

test: install lint
	$(BIN)/python -m pytest -q

# Every documented endpoint (fixtures/examples/index.json) against the mock: a table and
# "N/132 endpoints conform" (tests/api/test_discovery.py asserts 132/132).
conformance: install
	$(BIN)/python tools/conformance.py

# Chromium for the console's browser test (tests/clients/test_console_browser.py), from
# the OS packages: installed when missing and running as root with apt; otherwise the
# test is skipped with the reason. CCI_MOCK_NO_BROWSER=1 skips this step.
browser:
	@if [ -n "$$CCI_MOCK_NO_BROWSER" ] || command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium (apt-get) for the console's browser test"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			chromium >/dev/null) \
		|| echo "chromium could not be installed: the browser test will be skipped"; \
	else echo "no chromium (and not root with apt-get): the browser test will be skipped"; fi

# wrk when missing and running as root (apt); otherwise the bench uses its aiohttp client
bench-tools:
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && apt-get update -qq && apt-get install -y -qq wrk >/dev/null; } \
	  || echo "wrk not available: make bench uses its aiohttp load generator"

# Every scenario against `cci-mock serve` and a bare aiohttp floor in the same run
# (BENCH_ARGS="--scenarios get,list" to pick; bench-full: the 30 s / 100k-object version).
bench: install bench-tools
	$(BIN)/python -m bench.http_bench $(BENCH_ARGS)

bench-full: install bench-tools
	$(BIN)/python -m bench.http_bench --full --json bench-full.json $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
