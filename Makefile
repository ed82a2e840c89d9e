# dondoc — the two front-door commands are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint check bench docs clean

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

# Ruff on all the code, mypy on the packages (pyproject.toml, [tool.mypy]).
lint: install
	$(BIN)/ruff check bot handlers scheduler reports chat plans storage tests bench
	$(BIN)/python -m mypy

# The inner loop, under a minute: lint, then the tests not marked slow or e2e, on SQLite only.
# `make test` stays the whole suite on both engines.
check: lint
	DONDOC_TEST_DB=sqlite $(BIN)/python -m pytest -q -m "not slow and not e2e" $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench

# The guide's generated page: every deadline form with its dates, read by the engine itself
# (plans/deadline_guide.py; tests/plans/test_deadline_guide.py fails while it is out of date).
docs: install
	$(BIN)/python -m plans.deadline_guide docs/han-thoi-gian.md

clean:
	rm -rf $(VENV) demo-output .pytest_cache
