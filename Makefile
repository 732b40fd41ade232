# Two commands do all the set-up in a fresh clone (stock Python 3.11 + pip):
#   make demo   -> creates .venv, installs pinned dependencies, runs `greenlink demo`
#   make test   -> same set-up (plus LibreOffice, Chromium, PostgreSQL if missing), then ruff,
#                  mypy and the whole pytest suite
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
OUT ?= greenlink-demo

.PHONY: demo test lint bench clean sysdeps

$(STAMP): pyproject.toml requirements.lock
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=24"
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/greenlink demo --out $(OUT)

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

sysdeps:
	./scripts/install-system-deps.sh

test: sysdeps lint
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m pip install -q -r requirements-bench.lock
	$(BIN)/python benchmarks/simulate_speed.py
	$(BIN)/python benchmarks/metering_speed.py
	$(BIN)/python benchmarks/cbam_speed.py
	$(BIN)/python benchmarks/evidence_speed.py
	$(BIN)/python benchmarks/optimize_vs_pypsa.py
	$(BIN)/python benchmarks/service_load.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .mypy_cache .ruff_cache
