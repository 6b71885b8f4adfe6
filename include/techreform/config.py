"""Settings of a deployment, from the environment, with defaults that need no configuration.

| variable | default | what |
|---|---|---|
| ``TECHREFORM_DATA_DIR`` | ``~/techreform-data`` | base folder for everything below |
| ``TECHREFORM_STORAGE_URL`` | ``file://<data>`` | the store of every file (``techreform.store``): a local folder or ``s3://bucket/prefix`` |
| ``TECHREFORM_LANDING_DIR`` | ``<store>/landing`` | local store only: where deliveries land: ``<form>/<YYYY-MM>/`` |
| ``TECHREFORM_RAW_DIR`` | ``<store>/raw`` | local store only: raw zone: every received file, unchanged, by sha256 |
| ``TECHREFORM_OUTPUT_DIR`` | ``<store>/outputs`` | local store only: receipts, data docs, outbox, extracts |
| ``TECHREFORM_WAREHOUSE_URL`` | ``sqlite:///<data>/warehouse.sqlite`` | SQLAlchemy URL of the warehouse |
| ``TECHREFORM_CONFIG_FILE`` | none | optional JSON object of options by section (``techreform.options``, ``docs/configuration.md``) |
| ``TECHREFORM_EXTRACT_URL`` | ``<output>/extracts`` | fsspec URL where the bureau's extracts go (see ``techreform.extracts``) |

In Airflow, a connection ``techreform_warehouse`` (its URI) overrides the warehouse URL, a connection
``techreform_store`` gives the object store's credentials, and a connection ``techreform_smtp`` enables
sending e-mail (see ``techreform.airflow_support``).
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from techreform.options import SECTIONS, StorageOptions, read_config, section_of

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
    storage_url: str | None = None
    """The store's root (``techreform.store``): ``file://…`` or a plain path = the local folders above;
    ``s3://bucket/prefix`` = ``<url>/landing``, ``<url>/raw``, ``<url>/outputs``. ``None``: local."""
    storage_options: Mapping[str, Any] = field(default_factory=dict)
    """fsspec keyword arguments of a store that is not local (credentials, endpoint)."""

    def __repr__(self) -> str:
        """The settings as a log or a traceback may show them: the warehouse URL without its password, the
        storage URL without credentials, the storage options (credentials) and the options left out."""
        from sqlalchemy.engine import make_url

        from techreform.store import redact

        try:
            warehouse = make_url(self.warehouse_url).render_as_string(hide_password=True)
        except Exception:  # noqa: BLE001 - not a URL: show nothing of it rather than a secret
            warehouse = "<not a URL>"
        storage = None if self.storage_url is None else redact(self.storage_url)
        return (
            f"Settings(data_dir={str(self.data_dir)!r}, warehouse_url={warehouse!r}, storage_url={storage!r}, "
            f"options={sorted(self.options)!r})"
        )

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
        from techreform.store import STORAGE_URL_ENV, local_root

        storage = read_config(options)[section_of(StorageOptions)]
        storage_url = env.get(STORAGE_URL_ENV) or storage.url or f"file://{data_dir.absolute()}"
        root = local_root(storage_url)
        if root is None:  # an object store holds every folder: a local folder variable would split them
            for variable in ("TECHREFORM_LANDING_DIR", "TECHREFORM_RAW_DIR", "TECHREFORM_OUTPUT_DIR"):
                if env.get(variable):
                    raise ValueError(
                        f"{variable} applies to a local store only; with the store {storage_url} the folder "
                        f"is under it (landing/, raw/, outputs/) — unset {variable}"
                    )
        base = (root or data_dir).expanduser()
        return cls(
            data_dir=data_dir,
            landing_dir=Path(env.get("TECHREFORM_LANDING_DIR") or base / "landing"),
            raw_dir=Path(env.get("TECHREFORM_RAW_DIR") or base / "raw"),
            output_dir=Path(env.get("TECHREFORM_OUTPUT_DIR") or base / "outputs"),
            warehouse_url=env.get("TECHREFORM_WAREHOUSE_URL") or f"sqlite:///{data_dir / 'warehouse.sqlite'}",
            options=options,
            extract_url=env.get("TECHREFORM_EXTRACT_URL") or None,
            storage_url=storage_url,
            storage_options=dict(storage.storage_options),
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
