# The two commands: `make run` (the whole system, seeded, on embedded defaults) and
# `make test` (the whole suite). Both create .venv and install pinned versions first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test test-unit test-integration test-browser screenshots fuzz bench reliability reliability-cluster \
	cluster cluster-stop clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m tools.localstack

# Two passes: unit + integration under eventlet, then the browser tests without it (see conftest.py).
test: $(STAMP)
	$(BIN)/python -m pytest
	BINHYEN_BROWSER_TESTS=1 $(BIN)/python -m pytest tests/e2e

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

test-integration: $(STAMP)
	$(BIN)/python -m pytest tests/integration

test-browser: $(STAMP)
	BINHYEN_BROWSER_TESTS=1 $(BIN)/python -m pytest tests/e2e

# The README's pictures: every browser test's screenshots, into docs/console/.
screenshots: $(STAMP)
	SCREENSHOT_DIR=docs/console BINHYEN_BROWSER_TESTS=1 $(BIN)/python -m pytest tests/e2e

fuzz: $(STAMP)
	FUZZ_MAX_EXAMPLES=$${FUZZ_MAX_EXAMPLES:-40} $(BIN)/python -m pytest tests/integration/test_fuzz.py tests/integration/test_hostile_input.py

# Apprise (the fan-out's comparison) is installed for the benchmarks only: the `bench` extra.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,bench]'
	$(BIN)/python bench/run_all.py

# Faults under load (broker restart, SIGKILL of every process, MongoDB restart), then a check
# that nothing acknowledged was lost. Stops the RabbitMQ at AMQP_URI for 15 s: see README.
reliability: $(STAMP)
	$(BIN)/python -m tools.reliability --full

# The same on a three-node RabbitMQ cluster of the suite's own (quorum queues), stopping the
# node that leads the queues, then another: by hand (about 5 minutes, needs root or rabbitmq).
reliability-cluster: $(STAMP)
	$(BIN)/python -m tools.reliability --full --broker cluster

# Three local RabbitMQ nodes, clustered, on ports 5681-5683 (prints the AMQP_URI to use).
cluster: $(STAMP)
	$(BIN)/python -m tools.cluster start

cluster-stop: $(STAMP)
	$(BIN)/python -m tools.cluster stop

clean:
	rm -rf $(VENV) .data
