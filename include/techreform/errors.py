"""Expected errors as one line a person can act on (no traceback, no SQL text, no password).

:func:`warehouse_errors` turns a database error raised by SQLAlchemy (whose text carries the statement and
its parameters over several lines) into :class:`WarehouseError`: the step, the warehouse as
``dialect://host:port/database`` and the driver's first line, e.g.
``warehouse postgresql://db:5432/techreform failed during load E1: OperationalError: terminating connection
due to administrator command — 数据仓库连接中断或出错``. :func:`one_line` is what the CLI prints."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa


class WarehouseError(RuntimeError):
    """The warehouse failed (connection lost, server gone, a statement refused) during a step."""


def warehouse_label(url: str | sa.engine.URL) -> str:
    """``dialect://host:port/database`` of a warehouse URL: never the user or the password."""
    url = sa.engine.make_url(url)
    if url.get_backend_name() == "sqlite":
        return f"sqlite:///{url.database or ':memory:'}"
    port = f":{url.port}" if url.port else ""
    return f"{url.get_backend_name()}://{url.host or 'localhost'}{port}/{url.database or ''}"


def first_line(text: str) -> str:
    """The first non-empty line of ``text``, stripped."""
    for line in str(text).splitlines():
        if line.strip():
            return line.strip()
    return ""


def describe_database_error(exc: sa.exc.DBAPIError) -> str:
    """``<driver error class>: <first line of the driver's message>`` (the SQL text left out)."""
    orig = getattr(exc, "orig", None) or exc
    return f"{type(orig).__name__}: {first_line(str(orig)) or type(exc).__name__}"


@contextmanager
def warehouse_errors(url: str | sa.engine.URL, step: str) -> Iterator[None]:
    """Re-raise a database error of the block as a one-line :class:`WarehouseError` naming ``step``."""
    try:
        yield
    except sa.exc.DBAPIError as exc:
        raise WarehouseError(
            f"warehouse {warehouse_label(url)} failed during {step}: "
            f"{describe_database_error(exc)} — 数据仓库连接中断或出错（{step}）"
        ) from exc


def one_line(exc: BaseException) -> str:
    """An exception as one line: database errors as :func:`warehouse_errors` words them, others by
    the first line of their message (and their class when they have none)."""
    if isinstance(exc, sa.exc.DBAPIError):
        return describe_database_error(exc)
    return first_line(str(exc)) or type(exc).__name__
