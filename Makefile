# The two commands of a fresh machine: `make run` and `make test`. Each creates .venv if missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck bench bench-gbcs bench-inventory bench-devices bench-duis bench-duis-hub bench-duis-roundtrip bench-http-clients bench-simulate bench-readings fuzz clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The main job: a week of a network of 1,000 premises, every message through the real path; the
# report lands in runs/<date-time>/ (report.html, report.json, readings, audit chain).
run: $(STAMP)
	$(BIN)/smetsnet simulate --out runs/$$(date -u +%Y%m%d-%H%M%S)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest -q

# Every benchmark prints its own figures; `make bench` runs them all (a few minutes).
bench: bench-gbcs fuzz bench-devices bench-duis bench-duis-hub bench-http-clients bench-duis-roundtrip bench-inventory bench-simulate bench-readings

bench-gbcs: $(STAMP)
	$(BIN)/python bench/gbcs_decode.py --cold-caches

bench-devices: $(STAMP)
	$(BIN)/python bench/devices.py --premises 100000

# The round trip as fast as the hub acknowledges, then at an offered rate it sustains (latency).
bench-duis-roundtrip: $(STAMP)
	$(BIN)/python bench/duis_roundtrip.py --requests 4800 --users 24 --profile 0
	$(BIN)/python bench/duis_roundtrip.py --requests 3000 --users 24 --rate $${RATE:-200}

# The hub alone (no HTTP): service requests per second in one process, and where the time goes.
bench-duis-hub: $(STAMP)
	$(BIN)/python bench/duis_hub.py --profile

bench-http-clients: $(STAMP)
	$(BIN)/python bench/http_clients.py

# The issue's figure is PREMISES=100000 (about half an hour and ~20 GB here, two processes);
# the default keeps `make bench` to minutes.
bench-simulate: $(STAMP)
	$(BIN)/python bench/simulate.py --premises $${PREMISES:-10000} --workers $${WORKERS:-2}

bench-readings: $(STAMP)
	$(BIN)/python bench/readings.py --meters 20000

bench-duis: $(STAMP)
	$(BIN)/python bench/duis_parse.py

bench-inventory: $(STAMP)
	$(BIN)/python bench/inventory.py --premises 1000000 --backend both

fuzz: $(STAMP)
	$(BIN)/python bench/fuzz_gbcs.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
