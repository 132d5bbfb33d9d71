# The two commands: `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test venv contracts bench clean

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.installed-*; touch $@

## make run: the whole system on the embedded SQLite store under var/
run: $(STAMP)
	@bash deploy/ensure_rabbitmq.sh
	@$(BIN)/python deploy/run_local.py

## make test: everything the tests need, then every test
test: $(STAMP)
	@bash deploy/ensure_rabbitmq.sh --management
	$(BIN)/python -m pytest

## regenerate contracts/schemas and docs/events.md after changing a contract
contracts: $(STAMP)
	$(BIN)/python -m contracts.jsonschema

bench: $(STAMP)
	$(BIN)/python bench/store.py

clean:
	rm -rf $(VENV) var
