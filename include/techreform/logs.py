"""What the logs show: the pipeline's own progress, not the INFO chatter of its libraries.

:func:`quiet_libraries` is the one place that silences them, used by the CLI (``techreform run``) and by
every Airflow task (``techreform.airflow_support.run_step``): Great Expectations logs a few hundred INFO
lines per validation (≈ 214 of 226 lines of a ``validate_load_*`` task log), some from a logger it sets
to INFO itself when imported; only its warnings and errors are kept."""

from __future__ import annotations

import logging

NOISY_LOGGERS: tuple[str, ...] = ("great_expectations",)
"""Libraries whose records below WARNING are dropped."""


class _WarningsOnly(logging.Filter):
    """Keeps WARNING and above (a filter survives a library's own ``setLevel(INFO)`` at import)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


_FILTER = _WarningsOnly()


def quiet_libraries() -> None:
    """Drop the INFO and DEBUG records of :data:`NOISY_LOGGERS` and of each of their child loggers that
    exists now (a filter on each, so a level the library sets later does not bring them back). A child
    created later inherits WARNING unless it sets its own level; call this again after importing the
    library (idempotent; the pipeline's own loggers are untouched)."""
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    manager = logging.Logger.manager
    for name in (*NOISY_LOGGERS, *(f"{n}.data_context.types.base" for n in NOISY_LOGGERS)):
        _quiet(logging.getLogger(name))
    for name, logger in list(manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and name.startswith(tuple(f"{n}." for n in NOISY_LOGGERS)):
            _quiet(logger)


def _quiet(logger: logging.Logger) -> None:
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    if logger.level and logger.level < logging.WARNING:
        logger.setLevel(logging.WARNING)
