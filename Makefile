# The two commands: `make run` (embedded default) and `make test` (whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: run test screenshots lint fmt bench migrations-check venv clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

venv: $(STAMP)

## Serve on 127.0.0.1:8000 with a worker and demo data (SQLite, no Redis needed).
run: venv
	bin/run

## Run the whole test suite on every core (set DATABASE_URL / REDIS_URL for real services).
## PYTEST_ARGS adds to it; PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= auto
test: venv
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

## Refresh the README's pictures in docs/screenshots/ (the tests that take them; `make test` writes them elsewhere).
screenshots: venv
	SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(BIN)/python -m pytest -m screenshots $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrations-check: venv
	$(BIN)/python manage.py makemigrations --check --dry-run

## Run every benchmark (set DATABASE_URL to PostgreSQL; bench/reminders.py and bench/load.py also need REDIS_URL).
bench: venv
	@for script in bench/import.py bench/markdown.py bench/pack.py bench/reminders.py bench/search.py bench/reader_poll.py bench/load.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf var staticfiles
