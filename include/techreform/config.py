"""Settings of a deployment, from the environment, with defaults that need no configuration.

| variable | default | what |
|---|---|---|
| ``TECHREFORM_DATA_DIR`` | ``~/techreform-data`` | base folder for everything below |
| ``TECHREFORM_LANDING_DIR`` | ``<data>/landing`` | where deliveries land: ``<form>/<YYYY-MM>/`` |
| ``TECHREFORM_RAW_DIR`` | ``<data>/raw`` | raw zone: every received file, unchanged, by sha256 |
| ``TECHREFORM_OUTPUT_DIR`` | ``<data>/outputs`` | receipts, data docs, outbox, extracts |
| ``TECHREFORM_WAREHOUSE_URL`` | ``sqlite:///<data>/warehouse.sqlite`` | SQLAlchemy URL of the warehouse |
| ``TECHREFORM_CONFIG_FILE`` | none | optional JSON file of thresholds (validation, supervision, indicators, ingest limits: see ``techreform.limits``) |
| ``TECHREFORM_EXTRACT_URL`` | ``<output>/extracts`` | fsspec URL where the bureau's extracts go (see ``techreform.extracts``) |

In Airflow, a connection ``techreform_warehouse`` (its URI) overrides the warehouse URL, and a
connection ``techreform_smtp`` enables sending e-mail (see ``techreform.airflow_settings``).
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

def package_data_dir(package: str) -> Path:
    """The folder of a data package shipped with techreform, wherever the package is installed.

    ``techreform.sql`` (the SQL files) and ``techreform.expectations`` (the GX suites) are kept in the
    source tree as ``include/sql`` and ``expectations/`` and installed inside the package (see
    ``pyproject.toml``); the import system knows where they are in a wheel install, an editable install
    and a source checkout alike."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"the data package {package} is not installed with techreform")
    return Path(next(iter(spec.submodule_search_locations)))


PACKAGE_DIR = Path(__file__).resolve().parent
SQL_DIR = Path(os.environ.get("TECHREFORM_SQL_DIR") or package_data_dir("techreform.sql"))
REFERENCE_DIR = PACKAGE_DIR / "reference"
EXPECTATIONS_DIR = Path(os.environ.get("TECHREFORM_EXPECTATIONS_DIR") or package_data_dir("techreform.expectations"))


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    landing_dir: Path
    raw_dir: Path
    output_dir: Path
    warehouse_url: str
    options: Mapping[str, Any] = field(default_factory=dict)
    """Thresholds and switches from ``TECHREFORM_CONFIG_FILE`` (a JSON object), by section."""
    extract_url: str | None = None
    """``TECHREFORM_EXTRACT_URL``: where extracts are delivered (else the option, else ``<output>/extracts``)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        data_dir = Path(env.get("TECHREFORM_DATA_DIR") or Path.home() / "techreform-data").expanduser()
        options: dict[str, Any] = {}
        config_file = env.get("TECHREFORM_CONFIG_FILE")
        if config_file:
            options = json.loads(Path(config_file).read_text(encoding="utf-8"))
            if not isinstance(options, dict):
                raise ValueError(f"{config_file}: the configuration must be a JSON object")
        return cls(
            data_dir=data_dir,
            landing_dir=Path(env.get("TECHREFORM_LANDING_DIR") or data_dir / "landing"),
            raw_dir=Path(env.get("TECHREFORM_RAW_DIR") or data_dir / "raw"),
            output_dir=Path(env.get("TECHREFORM_OUTPUT_DIR") or data_dir / "outputs"),
            warehouse_url=env.get("TECHREFORM_WAREHOUSE_URL") or f"sqlite:///{data_dir / 'warehouse.sqlite'}",
            options=options,
            extract_url=env.get("TECHREFORM_EXTRACT_URL") or None,
        )

    def with_options(self, **sections: Mapping[str, Any]) -> Settings:
        merged = dict(self.options)
        merged.update(sections)
        return replace(self, options=merged)

    def section(self, name: str) -> Mapping[str, Any]:
        """One section of the options (``validation``, ``supervision``, ``indicators``, ``email``, ``ingest``)."""
        value = self.options.get(name, {})
        return value if isinstance(value, Mapping) else {}
