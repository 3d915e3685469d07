PYTHON ?= python3
PROVIDER ?= google
EVENTS ?= 1000
ACCOUNTS ?= 1000
FIRST_SYNC_EVENTS ?= 10000

.PHONY: setup test lint format bench bench-scale bench-first-sync demo

setup:
	bash scripts/setup.sh

test:
	bash scripts/test.sh

lint:
	ruff check .
	ruff format --check .
	$(PYTHON) -m pylint --rcfile=.pylintrc webcrm_calendar_sync
	oca-checks-odoo-module webcrm_calendar_sync

format:
	ruff check --fix .
	ruff format .

bench:
	$(PYTHON) bench/run.py --provider $(PROVIDER) --events $(EVENTS)

bench-scale:
	$(PYTHON) bench/scale.py --accounts $(ACCOUNTS) $(if $(BENCH_DB),--bench-db $(BENCH_DB))

bench-first-sync:
	$(PYTHON) bench/first_sync.py --events $(FIRST_SYNC_EVENTS)

demo:
	bash scripts/demo.sh
