PYTHON ?= python3
PROVIDER ?= google
EVENTS ?= 1000
ACCOUNTS ?= 1000

.PHONY: setup test lint format bench bench-scale demo

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

demo:
	bash scripts/demo.sh
