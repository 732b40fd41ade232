# Two commands do all the set-up in a fresh clone (stock Python 3.11 + pip):
#   make demo   -> creates .venv, installs pinned dependencies, runs `greenlink demo`
#   make test   -> same set-up plus the benchmarks' dependencies (requirements-bench.lock) and
#                  LibreOffice, Chromium, PostgreSQL if missing, then ruff, mypy and the whole
#                  pytest suite (which runs every benchmark in its --smoke mode)
#   make bench  -> the full benchmarks; make bench-smoke -> each benchmark's --smoke mode
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
BENCH_STAMP := $(VENV)/.bench-installed-stamp
OUT ?= greenlink-demo

.PHONY: demo test lint bench bench-smoke clean sysdeps

$(STAMP): pyproject.toml requirements.lock
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=24"
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

$(BENCH_STAMP): $(STAMP) requirements-bench.lock
	$(BIN)/python -m pip install -q -r requirements-bench.lock
	touch $(BENCH_STAMP)

demo: $(STAMP)
	$(BIN)/greenlink demo --out $(OUT)

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

sysdeps:
	./scripts/install-system-deps.sh

test: sysdeps lint $(BENCH_STAMP)
	$(BIN)/pytest

bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/simulate_speed.py
	$(BIN)/python benchmarks/metering_speed.py
	$(BIN)/python benchmarks/cbam_speed.py
	$(BIN)/python benchmarks/evidence_speed.py
	$(BIN)/python benchmarks/optimize_vs_pypsa.py
	$(BIN)/python benchmarks/service_load.py

# every benchmarks/*.py (as tests/test_benchmarks_smoke.py finds them); the metering one needs
# PostgreSQL (make sysdeps)
bench-smoke: $(BENCH_STAMP)
	set -e; for script in $(sort $(wildcard benchmarks/[!_]*.py)); do \
	  echo "== $$script --smoke"; $(BIN)/python $$script --smoke; done

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .mypy_cache .ruff_cache
