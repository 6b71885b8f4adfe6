"""A pytest plugin (loaded by ``conftest.py``): every test module starts with the root logger at the
level it had when the session began.

Some code the tests run sets the root logger's level for the whole process: Airflow's logging
configuration (imported by the DAG tests) puts it at INFO. Under two workers (``make test``) the files
run in an order that changes from run to run, so a test that counts log records saw other libraries'
INFO records after one file and not after another (``docs/testing.md``, the order-dependent test).
Handlers are left alone: pytest's own capture handlers come and go around each test."""

from __future__ import annotations

import logging

import pytest

_LEVEL_AT_START = logging.getLogger().level
_LAST_MODULE: list[object] = [None]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """At the first test of each module, put the root logger back at the session's starting level."""
    module = getattr(item, "module", None)
    if module is _LAST_MODULE[0]:
        return
    _LAST_MODULE[0] = module
    logging.getLogger().setLevel(_LEVEL_AT_START)
