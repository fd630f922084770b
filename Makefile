# OpenIOP: the README's two commands.
#   make demo   venv, install, migrate, load the demo program, serve on 127.0.0.1:$(PORT)
#   make test   venv with test dependencies, the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: demo test lint serve clean-demo messages bench load faults restore-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install only when the project's metadata changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(VENV)/.installed $@

# Issue 13: gunicorn and locust for `make load` (and `make faults`).
$(VENV)/.installed-load: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test,load]"
	touch $(VENV)/.installed $(VENV)/.installed-test $@

demo: $(VENV)/.installed
	OPENIOP_DEMO=1 DEBUG=1 $(BIN)/openiop migrate --noinput -v0
	OPENIOP_DEMO=1 DEBUG=1 $(BIN)/openiop demo
	@echo ""
	@echo "  OpenIOP demo: http://127.0.0.1:$(PORT)/"
	@echo "  Logins (password openiop-demo): director intake counsellor supervisee supervisor lab billing compliance admin"
	@echo "  Portal (http://127.0.0.1:$(PORT)/my/sign-in/): participant family"
	@echo ""
	OPENIOP_DEMO=1 DEBUG=1 $(BIN)/openiop serve --port $(PORT)

# One worker per core. `--dist load` hands tests out in collection order, which keeps
# pytest-django's order on every worker: tests that flush the database (live server,
# transactional) run after those that need the migrations' seed data.
# `make test PYTEST_ARGS=` runs in one process.
PYTEST_ARGS ?= -n auto --dist load

test: $(VENV)/.installed-test
	OPENIOP_TESTING=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	OPENIOP_TESTING=1 $(BIN)/mypy openiop

# The portal's Spanish catalogue (issue 9): extract the marked strings, then compile with
# polib (no msgfmt needed). Translate the new entries in the .po file between the two.
messages: $(VENV)/.installed-test
	cd openiop && OPENIOP_TESTING=1 ../$(BIN)/openiop makemessages -l es -e html,txt,py \
		--no-location --no-obsolete -i tests -i browser_tests -i migrations -i static
	$(BIN)/python -c "import polib; p = 'openiop/locale/es/LC_MESSAGES/django'; polib.pofile(p + '.po').save_as_mofile(p + '.mo')"

# Issue 13, point 2: server time (p50, p95) and queries of the key pages against generated
# histories of scale S (2,000 episodes) and L (20,000), on SQLite and, when DATABASE_URL
# names a PostgreSQL server, there too (databases <name>_bench_s and _l, built once and
# reused); prints a table, writes bench/results.json and checks the targets on PostgreSQL.
# make bench BENCH_ARGS="--scales S --requests 50 --rebuild"
BENCH_ARGS ?=
bench: $(VENV)/.installed
	OPENIOP_DEMO=1 $(BIN)/openiop bench $(BENCH_ARGS)

# Issue 13, point 4: gunicorn on PostgreSQL (DATABASE_URL's server, else 127.0.0.1:5432)
# under 100 locust users for 60 s, then the bare view; proves no write was lost. Options:
# make load LOAD_ARGS="--users 50 --duration 30 --history 0 --keep-db"
LOAD_ARGS ?=
load: $(VENV)/.installed-load
	OPENIOP_DEMO=1 $(BIN)/openiop load $(LOAD_ARGS)

# Issue 13, point 5: the faults, PASS or FAIL each (exit status 1 if any failed), on a
# throwaway PostgreSQL cluster of its own (initdb into a temporary directory, port 54329 or
# the next free one; the server on 5432 is not touched): PostgreSQL restarted under load
# behind gunicorn, the worker killed mid-job and twenty clients on one roster (pytest),
# and the backup round trip. `make faults FAULTS_ARGS="--only restart"` runs one part.
FAULTS_ARGS ?=
faults: $(VENV)/.installed-load
	OPENIOP_DEMO=1 $(BIN)/openiop faults $(FAULTS_ARGS)

# Issue 13, point 5 (last fault): back up the database (DATABASE_URL, else the SQLite file),
# restore it into a newly created empty database of the same kind (dropped afterwards) and
# compare every table's row count and checksum and the audit chain: PASS or FAIL.
restore-check: $(VENV)/.installed
	OPENIOP_DEMO=1 $(BIN)/openiop backup_check
