# roundtable — set-up, run and test from a machine with only python3 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev
MYPY_PLATFORMS := win32 darwin

# Python writes its bytecode caches (__pycache__, ignored by git), as a default Python does:
# where the environment turns them off (PYTHONDONTWRITEBYTECODE), every test process, CLI
# subprocess and server would compile the project again (~0.1 s each; pytest's rewritten test
# modules ~2 s a worker), some 25 s of CPU in a `make test`.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test fast-suite e2e quick lint typecheck mypy-host $(MYPY_PLATFORMS:%=mypy-%) format bench soak fuzz bundle clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP_DEV): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(STAMP_RUN)

run: $(STAMP_RUN)
	$(BIN)/roundtable

# Every change: lint and import contracts, then mypy for the host, Windows and macOS side by side
# with the fast suite (everything not marked `e2e`).  The suite runs two pytest-xdist workers per
# core: half of a test's time is waiting (on a server, a subprocess, fsync, the Pilot), so one
# worker per core leaves the cores idle a third of the time (docs/performance.md, issue 20).
# At most 8: each worker starts its own servers and PostgreSQL cluster.
# The long trials (marked `slow`) are handed out first (tests/conftest.py) and run here at their
# small default scale; `make soak` and `make fuzz` run them larger.  Bound: 150 s on 2 cores.
# Output is kept whole per line (-Oline): mypy's lines never cut pytest's.
CORES := $(shell nproc 2>/dev/null || echo 2)
PYTEST_XDIST = -n auto
PYTEST_FAST_XDIST = -n $(shell n=$$(( $(CORES) * 2 )); [ $$n -gt 8 ] && n=8; echo $$n)

test: $(STAMP_DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(MAKE) --no-print-directory -Oline -j 4 mypy-host $(MYPY_PLATFORMS:%=mypy-%) fast-suite

fast-suite: $(STAMP_DEV)
	$(BIN)/python -m pytest -q $(PYTEST_FAST_XDIST) -m "not e2e"

# The tests whose point is a real external process (marked `e2e`): Chromium, nginx, PostgreSQL
# restarts, tmux walkthroughs, wheel and bundle builds.  Bounded: at most 15 minutes.
e2e: $(STAMP_DEV)
	timeout 15m $(BIN)/python -m pytest -q $(PYTEST_XDIST) -m e2e

# The suite without the long trials, for a quick check while working (not what CI runs).
quick: $(STAMP_DEV)
	$(BIN)/python -m pytest -q $(PYTEST_XDIST) -m "not slow and not e2e"

lint: $(STAMP_DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# mypy at its default level on the installed packages (config in pyproject.toml), for this
# machine and, with the OS calls typed for them, for Windows and macOS: the three side by side.
# One cache directory, .mypy_cache, with a tree per platform (a platform is part of mypy's cache
# key, so one tree for all three would be rebuilt by every run): a second run is warm.
# MYPY_PLATFORMS (top of this file) names the other platforms.
typecheck: $(STAMP_DEV)
	$(MAKE) --no-print-directory -j 3 mypy-host $(MYPY_PLATFORMS:%=mypy-%)

mypy-host:
	$(BIN)/mypy

$(MYPY_PLATFORMS:%=mypy-%):
	$(BIN)/mypy --platform $(@:mypy-%=%) --cache-dir .mypy_cache/$(@:mypy-%=%)

format: $(STAMP_DEV)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Every benchmark in bench/, figures and ratios written to docs/performance.md (~3-5 min).
bench: $(STAMP_DEV)
	$(BIN)/python bench/run_all.py

# Long runs, bounded in time (not part of `make test`, not run by CI), spread over the cores:
#  soak: 50 laptops syncing against the reference server for 60 s, then the crash and network-
#        fault tests with the volume (RT_SCALE=3): ~600 capture kill -9 trials (in parts of 25,
#        one test each, so the workers share them), the encrypted trials at the production
#        scrypt cost, 36 sync kill trials, and the fault proxy on all three engines (SQLite,
#        PostgreSQL, PostgreSQL behind 2 workers).  `make test` runs the same promises step by
#        step (a crash at every disk step and sync stage, tests/killpoints.py) with a small real
#        kill -9 set.  At most 30 minutes.
#  fuzz: the hypothesis and schemathesis tests with twenty times the examples (RT_SCALE=20).
#        At most 25 minutes.
SOAK_TESTS = tests/test_crash.py tests/test_crash_encrypted.py tests/test_fault_sync.py \
	$(wildcard tests/test_crash_matrix.py)
FUZZ_TESTS = tests/test_capture.py tests/test_convergence.py tests/test_minutes.py tests/test_one_core.py \
	tests/test_schemathesis.py $(wildcard tests/test_bad_input.py tests/test_store_files.py \
	tests/test_server_bad_input.py)

soak: $(STAMP_DEV)
	timeout 5m $(BIN)/python bench/bench_load.py --clients 50 --seconds 60
	RT_SCALE=3 timeout 25m $(BIN)/python -m pytest -q -p no:cacheprovider -o timeout=1500 $(PYTEST_XDIST) $(SOAK_TESTS)

fuzz: $(STAMP_DEV)
	RT_SCALE=20 timeout 25m $(BIN)/python -m pytest -q -p no:cacheprovider -o timeout=1200 $(PYTEST_XDIST) $(FUZZ_TESTS)

# The offline installation bundle (roundtable/bundle.py): roundtable's wheel and every wheel the
# laptop side needs for Windows, macOS (arm64, x86_64) and Linux x86_64, CPython 3.11-3.13, with
# install.ps1 and install.sh, in dist/roundtable-<version>-offline/ and its .zip.  Needs the index.
bundle: $(STAMP_DEV)
	$(BIN)/python -m roundtable.bundle --source . --out dist

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .grimp_cache .import_linter_cache build dist
