# Two commands do all set-up on a fresh machine with Python 3.11 and make:
#   make demo   – virtual environment, pinned install, sample province, the monthly DAG through Airflow
#   make test   – the whole test suite (SQLite and the PostgreSQL at 127.0.0.1:5432)
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
CONSTRAINTS := constraints-3.11.txt
DEMO_DIR ?= $(CURDIR)/var/demo
PYTEST_ARGS ?=
# the suite on two workers, one per core of the 2-core machines it runs on (pytest-xdist; a test file
# stays on one worker, so its module fixtures are built once); TEST_WORKERS=0 runs it in one process
TEST_WORKERS ?= 2
XDIST := $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

.PHONY: venv system demo lint test test-fast mutation generate benchmark benchmark-validation measure-delivery docs clean help

help:
	@echo "make demo | make test | make mutation | make generate | make benchmark | make measure-delivery | make docs | make clean"

$(BIN)/.installed: pyproject.toml $(CONSTRAINTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
	$(BIN)/uv pip install --quiet --python $(BIN)/python -c $(CONSTRAINTS) -e ".[test,deploy]"
	# bytecode once, at install: the environment sets PYTHONDONTWRITEBYTECODE, so without it every process
	# compiles GX, pandas and Airflow from source again (≈ 3 s per process; docs/performance.md)
	$(BIN)/python -m compileall -q -j 0 $$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') > /dev/null || true
	touch $@

venv: $(BIN)/.installed

# Debian packages beyond Python (Chromium, Noto CJK, poppler-utils): scripts/install_system_packages.sh
system:
	bash scripts/install_system_packages.sh

demo: venv system
	$(BIN)/python scripts/demo.py --data-dir $(DEMO_DIR)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: venv system lint
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

test-fast: venv system lint
	$(BIN)/python -m pytest -m "not slow" $(XDIST) $(PYTEST_ARGS)

# Mutation testing (docs/testing.md): mutmut over the core Python modules, one group at a time against
# the fast tests that cover it, and the hand-written mutants of the SQL. Slow (tens of minutes); not
# part of `make test`. MUTATION_GROUPS picks groups (scripts/mutation.py --list), e.g. "codes cells".
MUTATION_GROUPS ?=
# the raw score (equivalent mutants count against it; docs/testing.md judges the non-equivalent ones)
MUTATION_FAIL_UNDER ?= 85

mutation: venv
	nice -n 15 $(BIN)/python scripts/sql_mutants.py; sql=$$?; \
	nice -n 15 $(BIN)/python scripts/mutation.py --fail-under $(MUTATION_FAIL_UNDER) $(MUTATION_GROUPS); py=$$?; \
	exit $$(( sql || py ))

generate: venv
	$(BIN)/techreform-generate --out $(DEMO_DIR)

# End-to-end benchmark (docs/performance.md): the chain on SQLite and PostgreSQL, a naive pipeline and the
# I/O floor on a national month (generated once into BENCHMARK_DATA), best of BENCHMARK_REPEAT.
BENCHMARK_DATA ?= $(CURDIR)/var/benchmark-national
BENCHMARK_REPEAT ?= 2
BENCHMARK_ARGS ?=

benchmark: venv
	nice -n 5 $(BIN)/python scripts/benchmark.py --data $(BENCHMARK_DATA) --repeat $(BENCHMARK_REPEAT) $(BENCHMARK_ARGS)

benchmark-validation: venv
	$(BIN)/python scripts/benchmark_validation.py

# Instant review (docs/delivery.md, "Measured"): landing → receipt at the SMTP server on the multi-worker
# deployment of the tests (PostgreSQL, Redis, two Celery workers, moto S3, aiosmtpd), a prefecture file of
# about 1,000 rows and the largest E1 file the default ingest limits accept, best of MEASURE_REPEAT.
MEASURE_REPEAT ?= 3
MEASURE_ARGS ?=

measure-delivery: venv
	nice -n 5 $(BIN)/python scripts/measure_delivery.py --repeat $(MEASURE_REPEAT) $(MEASURE_ARGS)

docs: venv
	$(BIN)/python -m techreform.options --markdown > docs/configuration.md

clean:
	rm -rf var .pytest_cache
