"""A pytest plugin (loaded by ``conftest.py``): what happens at the first test of each test module, the
one place that notices a module starting.

1. The root logger goes back to the level it had when the session began. Some code the tests run sets
   it for the whole process: importing Airflow (the DAG tests) puts it at INFO. Under two workers
   (``make test``) the files run in an order that changes from run to run, so a test that counts log
   records saw other libraries' INFO records after one file and not after another (``docs/testing.md``,
   the order-dependent test). Handlers are left alone: pytest's own capture handlers come and go around
   each test.
2. The garbage of the modules before is collected, then what is alive is frozen (the imported packages,
   session fixtures: ``gc.freeze``). The pipeline gives memory back after each step of a run
   (``techreform.memory.release_freed_memory``: a full collection), and in this one long-lived process a
   full collection walked every object of Airflow, GX, pandas and every test so far: most of the suite's
   time went there. Frozen objects are not walked; they are unfrozen and collected again at the next
   module, so nothing that becomes garbage is kept."""

from __future__ import annotations

import gc
import logging

import pytest

_LEVEL_AT_START = logging.getLogger().level
_LAST_MODULE: list[object] = [None]
_FROZEN_ONCE: list[bool] = [False]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """At the first test of each module: the root logger's level as at the start, then the collection
    and the freeze."""
    module = getattr(item, "module", None)
    if module is _LAST_MODULE[0]:
        return
    _LAST_MODULE[0] = module
    logging.getLogger().setLevel(_LEVEL_AT_START)
    if not _FROZEN_ONCE[0]:  # the packages most tests import lazily, imported once to be frozen
        import great_expectations  # noqa: F401
        import openpyxl  # noqa: F401
        import pandas  # noqa: F401
        import pyarrow  # noqa: F401
        import scipy.optimize  # noqa: F401

        import techreform.pipeline  # noqa: F401
        import techreform.validation  # noqa: F401

        _FROZEN_ONCE[0] = True
    gc.unfreeze()
    gc.collect()
    gc.freeze()
