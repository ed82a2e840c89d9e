# dondoc — the two front-door commands are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: install
	$(BIN)/dondoc demo --out demo-output

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check bot handlers scheduler plans storage tests bench

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) demo-output .pytest_cache
