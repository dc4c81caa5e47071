# The two commands: `make run` (the whole system, seeded, on embedded defaults) and
# `make test` (the whole suite). Both create .venv and install pinned versions first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test test-unit test-integration fuzz bench reliability clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m tools.localstack

test: $(STAMP)
	$(BIN)/python -m pytest

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

test-integration: $(STAMP)
	$(BIN)/python -m pytest tests/integration tests/e2e

fuzz: $(STAMP)
	FUZZ_MAX_EXAMPLES=$${FUZZ_MAX_EXAMPLES:-40} $(BIN)/python -m pytest tests/integration/test_fuzz.py tests/integration/test_hostile_input.py

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

# Faults under load (broker restart, SIGKILL of every process, MongoDB restart), then a check
# that nothing acknowledged was lost. Stops the RabbitMQ at AMQP_URI for 15 s: see README.
reliability: $(STAMP)
	$(BIN)/python -m tools.reliability --full

clean:
	rm -rf $(VENV) .data
