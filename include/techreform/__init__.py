"""Statistical monitoring of Gansu's enterprise technical-transformation programme (企业技术改造).

The package holds all logic of the pipeline; the Airflow DAGs in ``dags/`` only wire its functions.
Modules, one job each:

- :mod:`techreform.steps` – the monthly chain as one table of steps (the DAG's tasks, the CLI's loop) and
  the run context every step takes; :mod:`techreform.pipeline` – the steps' functions.
- :mod:`techreform.config` – settings from the environment; :mod:`techreform.options` – the configuration
  file, one strict typed object per section (``docs/configuration.md``).
- :mod:`techreform.periods` – report periods (报告期) ``YYYY-MM`` and their arithmetic.
- :mod:`techreform.codes` – unified social credit codes (GB 32100-2015) and e-mail addresses.
- :mod:`techreform.forms` – the reporting forms of the data contract, as data (fields, key, target table).
- :mod:`techreform.reference` – the shipped code lists, the calendar, a row's prefecture.
- :mod:`techreform.labels` – Chinese labels of statuses, severities and levels.
- :mod:`techreform.cells` / :mod:`techreform.readers` – reading delivered files and normalising cells.
- :mod:`techreform.landing` – delivery folders read safely: regular files only (no links followed), their bytes.
- :mod:`techreform.limits` – resource limits of ingestion (the ``ingest`` settings).
- :mod:`techreform.ingest` – landing → raw zone → staging, quarantine of rows that do not parse, one file's
  failure isolated to that file.
- :mod:`techreform.warehouse` – engines, SQL files, per-period transactional writes.
- :mod:`techreform.runlock` – one run per report period at a time (advisory lock / lock file).
- :mod:`techreform.errors` – expected errors as one line (no SQL text, no password).
- :mod:`techreform.files` – every output file written aside and moved into place.
- :mod:`techreform.numbers` – a number read from any value, and shown as people read it.
- :mod:`techreform.delivery` – the instant review on delivery (即报即审): the landing watcher, the review of
  each landed file and its receipt.
- :mod:`techreform.alerts` – failure e-mails to the data engineers.
- :mod:`techreform.faults` – named kill points for the fault suite.
- :mod:`techreform.load` – staged rows → validation → quarantine, row outcomes and facts.
- :mod:`techreform.validation`, :mod:`techreform.indicators`, :mod:`techreform.supervision`,
  :mod:`techreform.extracts` – the capabilities (see ``docs/``); :mod:`techreform.generator` – the sample
  province; :mod:`techreform.airflow_support` – the glue to Airflow; :mod:`techreform.cli` – ``techreform``.

Data flow and where each concept lives: ``docs/architecture.md``.
"""

__version__ = "0.1.0"
