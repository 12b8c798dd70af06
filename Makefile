# BrandForge: `make demo` and `make test` each do the whole set-up first (idempotent).
# torch is installed first, as the CPU build (tools/install_torch.py): from the PyTorch CPU index
# (TORCH_INDEX, default https://download.pytorch.org/whl/cpu), else from pip's local wheels, else it says
# what plain PyPI will download (the CUDA build, 2.73 GB for torch 2.13.0 on Linux x86_64).
# llama-cpp-python is built next, for this CPU but without llama.cpp's AMX kernels, which crash on
# Sapphire Rapids and later (tools/install_llama.py).
# tools/install_system.py installs the PostgreSQL server the service tests start (as root, with apt-get),
# or says what to install.
VENV ?= .venv
PY := $(VENV)/bin/python
BRAND ?= examples/brands/wanderly
OUT ?= out/$(notdir $(BRAND)).json

.PHONY: setup demo test test-fast lint format typecheck bench clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) tools/install_torch.py
	$(PY) tools/install_llama.py
	$(PY) -m pip install --quiet -e '.[embedded,dev,cluster,bench,service]'
	$(PY) -m backends.embedded_model
	$(PY) tools/install_system.py
	touch $@

setup: $(VENV)/.installed

# Exit 1 (done, some piece blocked by compliance) is a success with a warning; 2 bad input, 3 internal
# error and 4 incomplete (partial results written) fail the target.
demo: setup  ## run a real campaign with the embedded model
	$(VENV)/bin/brandforge campaign $(BRAND) --out $(OUT) || { rc=$$?; \
		if [ $$rc -eq 1 ]; then echo "note: some pieces were blocked by compliance; see $(OUT)"; exit 0; fi; \
		[ $$rc -eq 4 ] && echo "demo incomplete: the finished pieces are in $(OUT)" >&2; exit $$rc; }

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
