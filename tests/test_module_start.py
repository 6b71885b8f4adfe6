"""The root logger's level does not leak from one test module to the next (``tests/module_start.py``):
two modules run in one pytest session, the first raising the root logger to INFO as Airflow's logging
configuration does, the second counting what reaches it."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

FIRST = """
import logging

def test_sets_root_to_info():
    logging.getLogger().setLevel(logging.INFO)
    assert logging.getLogger().getEffectiveLevel() == logging.INFO
"""

SECOND = """
import logging

def test_root_is_back_at_the_start_level():
    assert logging.getLogger().level == {level}
    assert not logging.getLogger("mail.log").isEnabledFor(logging.INFO)
"""


@pytest.mark.parametrize("with_plugin", [True, False])
def test_each_module_starts_at_the_session_level(pytester: pytest.Pytester, with_plugin: bool) -> None:
    import logging

    level = logging.getLogger().level
    pytester.makepyfile(test_a_first=FIRST, test_b_second=SECOND.format(level=level))
    try:
        args = ["-p", "no:cacheprovider"]
        result = pytester.runpytest(*(["-p", "module_start"] if with_plugin else []), *args)
    finally:
        logging.getLogger().setLevel(level)
    if with_plugin:
        result.assert_outcomes(passed=2)
    else:  # without the plugin the first module's level leaks: the check can fail
        result.assert_outcomes(passed=1, failed=1)
