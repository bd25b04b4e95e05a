# The two commands: `make run` and `make test`. Both set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install system-deps run test lint clean bench bench-scale bench-webhooks bench-radio

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

system-deps:
	./scripts/system-deps.sh

run: $(STAMP)
	$(BIN)/lockhub serve --seed

# The whole suite on SQLite and on PostgreSQL, side by side (scripts/test-both.sh;
# tests/databases.py; tests marked fixed_database choose their database themselves and run once).
test: $(STAMP) system-deps
	./scripts/test-deps.sh
	./scripts/test-both.sh $(PYTEST_ARGS)

# lockhub (SQLite, PostgreSQL) vs Seam's fake vs a bare ASGI ceiling, route by route, then
# lockhub on PostgreSQL with 1, 2, 4 API processes (BENCH_ARGS="--seconds 5 --no-scaling").
bench: $(STAMP)
	./bench/setup.sh
	$(BIN)/python -m bench.api $(BENCH_ARGS)

# 100,000 devices and 1,000,000 codes: page latency, memory, engine throughput.
bench-scale: $(STAMP)
	./bench/setup.sh
	$(BIN)/python -m bench.scale $(BENCH_ARGS)

# lockhub's overhead on a lock/unlock over the Z-Wave JS and Zigbee2MQTT test stacks.
bench-radio: $(STAMP) system-deps
	./scripts/test-deps.sh
	$(BIN)/python -m bench.radio $(BENCH_ARGS)

bench-webhooks: $(STAMP)
	$(BIN)/python -m bench.webhooks $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests

clean:
	rm -rf $(VENV) .lockhub
