# The two commands: `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
# one stamp per set of pins: `make run` installs the runtime pins only,
# `make test` (and the developer tools) the test pins over them
RUN_STAMP  := $(VENV)/.installed-run-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
TEST_STAMP := $(VENV)/.installed-test-$(shell cat requirements.lock requirements-test.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test venv test-venv contracts messages bench mutation clean

venv: $(RUN_STAMP)
test-venv: $(TEST_STAMP)

$(RUN_STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.installed-run-*; touch $@

$(TEST_STAMP): $(RUN_STAMP) requirements-test.lock
	$(BIN)/pip install -q -r requirements.lock -r requirements-test.lock
	@rm -f $(VENV)/.installed-test-*; touch $@

## make run: the whole system on the embedded SQLite store under var/
run: $(RUN_STAMP)
	@bash deploy/ensure_rabbitmq.sh
	@$(BIN)/python deploy/run_local.py

## make test: everything the tests need, then every test
test: $(TEST_STAMP)
	@bash deploy/ensure_rabbitmq.sh --management
	@bash deploy/ensure_chromium.sh
	$(BIN)/python -m pytest

## regenerate contracts/schemas and docs/events.md after changing a contract
contracts: $(TEST_STAMP)
	$(BIN)/python -m contracts.jsonschema

## after adding console messages: extract them (Python and templates) into both
## catalogs of services/gateway/translations, then fill in the new English msgstr
MESSAGES_POT := $(VENV)/messages.pot
messages: $(RUN_STAMP)
	$(BIN)/pybabel -q extract -F services/gateway/babel.cfg -k _ --no-location --omit-header \
		-o $(MESSAGES_POT) services/gateway
	$(BIN)/pybabel -q update -i $(MESSAGES_POT) -d services/gateway/translations -D messages \
		--no-fuzzy-matching --ignore-obsolete -w 120

bench: $(TEST_STAMP)
	$(BIN)/python bench/store.py

## make mutation: mutmut over the deciders, the folds and matching with the unit
## tests (pyproject.toml [tool.mutmut]; docs/mutation.md), then the share killed.
## MUTANTS="services.staff*" runs only the mutants named (globs); 2 children at most.
MUTANTS ?=
mutation: $(TEST_STAMP)
	rm -rf mutants
	VSC_MUTATION=1 $(BIN)/mutmut run --max-children 2 $(MUTANTS)
	$(BIN)/python bench/mutation_report.py

clean:
	rm -rf $(VENV) var mutants
