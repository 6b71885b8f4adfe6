"""Recording the calls of a function of the package while the real function runs (tests only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def record_calls(monkeypatch: Any, module: Any, name: str, label: Callable[..., Any]) -> list[Any]:
    """From here on, each call of ``module.name`` appends ``label(*args, **kwargs)`` to the returned list;
    the real function runs and returns as before."""
    calls: list[Any] = []
    real = getattr(module, name)

    def recorded(*args: Any, **kwargs: Any) -> Any:
        calls.append(label(*args, **kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, recorded)
    return calls
