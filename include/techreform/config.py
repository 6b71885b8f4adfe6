"""Settings of a deployment, from the environment, with defaults that need no configuration.

| variable | default | what |
|---|---|---|
| ``TECHREFORM_DATA_DIR`` | ``~/techreform-data`` | base folder for everything below |
| ``TECHREFORM_LANDING_DIR`` | ``<data>/landing`` | where deliveries land: ``<form>/<YYYY-MM>/`` |
| ``TECHREFORM_RAW_DIR`` | ``<data>/raw`` | raw zone: every received file, unchanged, by sha256 |
| ``TECHREFORM_OUTPUT_DIR`` | ``<data>/outputs`` | receipts, data docs, outbox, extracts |
| ``TECHREFORM_WAREHOUSE_URL`` | ``sqlite:///<data>/warehouse.sqlite`` | SQLAlchemy URL of the warehouse |
| ``TECHREFORM_CONFIG_FILE`` | none | optional JSON object of options by section (``techreform.options``, ``docs/configuration.md``) |
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
from typing import Any, TypeVar

from techreform.options import SECTIONS, read_config, section_of

T = TypeVar("T")


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
    """The options of ``TECHREFORM_CONFIG_FILE`` (a JSON object) by section, as given; checked when the
    settings are made and read as typed objects through :meth:`options_for`."""
    _sections: Mapping[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # every section read once, strictly: an unknown section or key, or a wrong type, fails here
        object.__setattr__(self, "_sections", read_config(self.options))

    extract_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        data_dir = Path(env.get("TECHREFORM_DATA_DIR") or Path.home() / "techreform-data").expanduser()
        options: dict[str, Any] = {}
        config_file = env.get("TECHREFORM_CONFIG_FILE")
        if config_file:
            try:
                options = json.loads(Path(config_file).read_text(encoding="utf-8"))
                read_config(options)
            except ValueError as exc:  # also json.JSONDecodeError: one line naming the file
                raise ValueError(f"{config_file}: {exc}") from None
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
        """These settings with whole sections replaced, e.g. ``with_options(validation={"data_docs": False})``
        (checked like the file: an unknown section or key raises ``ValueError``)."""
        merged = dict(self.options)
        merged.update(sections)
        return replace(self, options=merged)

    def options_for(self, cls: type[T]) -> T:
        """The typed options of one section, e.g. ``settings.options_for(ValidationOptions)``: the file's
        values over the defaults (:data:`techreform.options.SECTIONS`)."""
        return self._sections[section_of(cls)]  # type: ignore[no-any-return]

    def section_options(self, name: str) -> Any:
        """The typed options of the section ``name`` (``"validation"``); see :meth:`options_for`."""
        if name not in SECTIONS:
            raise KeyError(f"unknown configuration section {name!r}; known: {', '.join(SECTIONS)}")
        return self._sections[name]
