# The two commands a newcomer needs: `make run` and `make test`. Both create .venv on first
# use and reinstall only when pyproject.toml changes.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint format bench eval constraints clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "sendbot needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

run: $(STAMP)
	@$(BIN)/sendbot run $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# The inner loop: everything but the tests marked slow (real subprocesses, crash tests).
# CI runs `make test`, the whole suite.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python -m bench.feeds --feeds 1000

# How well !rights answers questions it has never seen (bench/rights_test.txt); the last line
# is questions=N accuracy=X confident_wrong=Y refused=Z build_ms=B query_p99_ms=Q.
eval: $(STAMP)
	$(BIN)/python -m bench.rights

# constraints.txt: the runtime dependencies' versions in this venv (the ones the tests passed with).
constraints: $(STAMP)
	$(BIN)/python tools/constraints.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
