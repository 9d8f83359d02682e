# The README's two set-up commands: `make run` (install, then the main job) and `make test` (install, then tests).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export HF_HUB_OFFLINE := 1
export HF_HOME := $(CURDIR)/.hf_home
export HF_HUB_DISABLE_PROGRESS_BARS := 1
export HF_DATASETS_DISABLE_PROGRESS_BARS := 1
export OMP_NUM_THREADS ?= 1

# torch is installed first and pinned: a bare `torch` requirement can pull a CUDA build of several GB.
# TORCH=cpu (the default) installs the CPU build: a CPU wheel that pip already finds (a local wheel folder or
# index) if there is one, else the PyTorch project's CPU-only wheel index. TORCH=cuda (`make run TORCH=cuda`)
# installs PyPI's default build, which on Linux is the CUDA one. TORCH counts when .venv is made: `make clean` first
# to switch an existing one.
TORCH ?= cpu
TORCH_VERSION := 2.13.0
TORCH_CPU_INDEX := https://download.pytorch.org/whl/cpu

.PHONY: install run test lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
ifeq ($(TORCH),cpu)
	$(PY) -m pip install -q "torch==$(TORCH_VERSION)+cpu" 2>/dev/null \
		|| $(PY) -m pip install -q "torch==$(TORCH_VERSION)" --index-url $(TORCH_CPU_INDEX)
else ifeq ($(TORCH),cuda)
	$(PY) -m pip install -q "torch==$(TORCH_VERSION)"
else
	$(error TORCH must be cpu or cuda, not '$(TORCH)')
endif
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

install: $(VENV)/.installed

# Main job: export the meta-dataset to mist_meta/ and print its summary, then estimate MI with the shipped mist-mi/
# on an example (beside KSG and the true MI).
run: install
	$(PY) dataset_builder/export.py
	if [ -f mist-mi/config.json ]; then $(PY) scripts/example.py; else echo "mist-mi/ is missing from this checkout: skipping the MI example"; fi

# pytest exits 5 when it collects nothing; that is not a failure of the code under test.
test: install
	$(PY) -m pytest -q; status=$$?; if [ $$status -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$status

lint: install
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

bench: install
	$(PY) scripts/bench_generation.py

clean:
	rm -rf $(VENV) .hf_home mist_meta
