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

# The whole suite twice: on SQLite, then on a PostgreSQL server the tests start themselves
# (tests/pg.py). Both passes always run; any failure in either — including pytest's exit code 5,
# "no tests collected", or a PostgreSQL that cannot start — fails the target.
TEST_DATABASES := sqlite postgresql

test: install
	@failed=""; \
	for db in $(TEST_DATABASES); do \
		echo "==> pytest on $$db"; \
		start=$$(date +%s); \
		DONDOC_TEST_DB=$$db $(BIN)/python -m pytest $(PYTEST_ARGS); code=$$?; \
		echo "==> pytest on $$db: exit $$code in $$(( $$(date +%s) - start )) s"; \
		[ $$code -eq 0 ] || failed="$$failed $$db(exit $$code)"; \
	done; \
	if [ -n "$$failed" ]; then echo "==> FAILED:$$failed"; exit 1; fi

lint: install
	$(BIN)/ruff check bot handlers scheduler plans storage tests bench

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) demo-output .pytest_cache
