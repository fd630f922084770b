# OpenIOP: the README's two commands.
#   make demo   venv, install, migrate, load the demo program, serve on 127.0.0.1:$(PORT)
#   make test   venv with test dependencies, the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: demo test lint serve clean-demo messages

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
