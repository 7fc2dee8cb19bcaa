# AgencyDesk — the two commands a fresh machine needs:
#   make run    set up (venv, packages, catalogue, database, demo data) and start on SQLite
#   make test   run the tests on SQLite and on PostgreSQL (127.0.0.1:5432)
# On demand, never in CI: make mutants [GROUPS="domain scope"]  (mutation run, see docs/mutants.md)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask
export FLASK_APP := run.py
PORT ?= 8080

.PHONY: setup run test test-sqlite test-postgres translations bench mutants clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed
	$(PY) babel/i18n.py compile
	bash scripts/vendor_assets.sh
	$(PY) -m app.security.vault new-key

run: setup
	$(FLASK) init
	$(FLASK) demo load --clients 2000 --staff 20 --if-empty
	@echo "AgencyDesk: http://127.0.0.1:$(PORT)/  (log in as admin with the password printed above)"
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

test: setup test-sqlite test-postgres

test-sqlite: setup
	$(PY) -m pytest

test-postgres: setup
	AGENCYDESK_TEST_DB=postgresql $(PY) -m pytest

translations: $(VENV)/.installed
	$(PY) babel/i18n.py update
	$(PY) babel/i18n.py compile

bench: setup
	$(PY) bench/bench_pages.py

# mutation testing of the critical rules (setup.cfg [mutants:*] groups); SQLite only
mutants: setup
	$(PY) -m pip install -q -r requirements-mutants.txt
	$(PY) scripts/mutants.py $(GROUPS)

clean:
	rm -rf $(VENV) instance/agencydesk.db mutants
