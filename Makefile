# Two commands on a fresh machine: `make run` and `make test`. Both call `make install`.
VENV ?= .venv
PY := $(VENV)/bin/python
AVTAL := $(VENV)/bin/avtal
PYTHON ?= python3
TORCH_VERSION ?= 2.13.0

.PHONY: install run ingest serve ui test test-fast lint bench bench-ask bench-load evaluate pdfs clean

install: $(VENV)/.installed

# torch first, pinned: pip then takes the local CPU build instead of a CUDA build of several GB.
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==$(TORCH_VERSION)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# The main job: ingest the demo corpus, then the staff UI (http://localhost:8501) with the API
# beside it (http://localhost:8000, widget demo at /widget/demo). Ctrl-C stops both.
run: install
	$(AVTAL) ingest data/corpus
	$(AVTAL) ui

serve: install
	$(AVTAL) serve

ui: install
	$(AVTAL) ui

ingest: install
	$(AVTAL) ingest data/corpus

test: install
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not slow"

lint: install
	$(VENV)/bin/ruff check .

bench: install
	$(AVTAL) bench data/corpus

bench-ask: install
	$(AVTAL) bench --ask

bench-load: install
	$(PY) -m api.loadbench

evaluate: install
	$(AVTAL) eval

pdfs: install
	$(PY) data/make_pdfs.py

clean:
	rm -rf var .pytest_cache
