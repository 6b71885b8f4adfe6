"""The store (存储): the one place where every file the pipeline reads or writes lives.

Landing (接收目录), the raw zone, the Great Expectations results and Data Docs, the review receipts
(审核回执), the e-mail outbox, the alerts and the statistics bureau's extracts are all addressed under
one root, the setting ``TECHREFORM_STORAGE_URL`` (or ``storage.url`` in the configuration file):

- default ``file://<data dir>``: a local folder — the embedded default and ``make demo``; the older
  variables ``TECHREFORM_LANDING_DIR``, ``TECHREFORM_RAW_DIR`` and ``TECHREFORM_OUTPUT_DIR`` still move
  those three folders of a local store;
- ``s3://bucket/prefix``: an S3-compatible object store (s3fs), for a deployment whose workers do not
  share a disk. Credentials and endpoint come from ``storage.storage_options`` (s3fs keyword arguments),
  the environment (``AWS_ACCESS_KEY_ID``…), or, in Airflow, the connection ``techreform_store``
  (``storage.conn_id``; AWS type: login = access key, password = secret key, extra ``endpoint_url``,
  ``region_name``) — see :func:`storage_options_from_connection` and ``docs/storage.md``.

Paths are ``pathlib.Path`` for a local store and ``upath.UPath`` (universal-pathlib over fsspec) for any
other; both have the same methods (``/``, ``name``, ``parent``, ``read_bytes``, ``exists``). Layout under
the root, one function per concept below::

    landing/<form>/<YYYY-MM>/...                 deliveries (and landing/explanations/<YYYY-MM>/)
    raw/<form>/<YYYY-MM>/<sha256>/<name>         the raw zone
    raw/<form>/<YYYY-MM>/<sha256>/rows-as-received.jsonl.gz   beside a workbook: its rows as received
    outputs/data_docs/results/<YYYY-MM>/<form>.json   GX validation results
    outputs/data_docs/site/index.html            Data Docs pages people read (self-contained, offline)
    outputs/data_docs/gx/index.html              GX's own Data Docs site (built in a temporary folder, then published)
    outputs/receipts/<YYYY-MM>/receipt_*         review receipts
    outputs/outbox/<YYYY-MM>/*.eml               supervision e-mails without an SMTP server
    outputs/outbox/extracts/<YYYY-MM>/*.eml      the bureau's e-mails without an SMTP server
    outputs/alerts/<YYYY-MM>/*.eml               alerts without an SMTP server
    outputs/reports/<YYYY-MM>/monthly_report_*   the monthly analysis report (HTML, PDF)
    outputs/extracts/<YYYY-MM>/r<N>/             the bureau's extracts (techreform.extracts)

Writes are complete or absent (:mod:`techreform.files`): on a local store written aside and renamed, on
an object store one PUT (a multipart upload too appears only when complete). Nothing is read from a
task's local disk by another task: scratch files (a too-large delivery being hashed, the Data Docs being
built) stay in the task's temporary folder and are published to the store.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from techreform.files import is_local, write_bytes, write_text

if TYPE_CHECKING:
    from upath import UPath

    from techreform.config import Settings

log = logging.getLogger(__name__)

StorePath = Union[Path, "UPath"]
"""A path in the store: ``pathlib.Path`` (local store) or ``upath.UPath`` (an object store)."""

STORAGE_URL_ENV = "TECHREFORM_STORAGE_URL"
DEFAULT_CONN_ID = "techreform_store"
#: Exceptions of the object-store clients, by module: worded as one line naming the store.
_CLIENT_MODULES = ("botocore", "aiobotocore", "s3fs", "aiohttp", "fsspec", "upath")

__all__ = [
    "Store",
    "StoreError",
    "StorePath",
    "is_local",
    "local_root",
    "store_of",
    "write_bytes",
    "write_text",
]


class StoreError(RuntimeError):
    """The store cannot be reached or refused an operation (one line naming the store and the step)."""


def local_root(url: str | None) -> Path | None:
    """The folder of a local storage URL (``file:///srv/x`` or a plain path), ``None`` for any other."""
    if not url:
        return None
    if url.startswith("file://"):
        return Path(url[len("file://") :])
    if "://" in url:
        return None
    return Path(url)


def redact(url: str) -> str:
    """A storage URL without credentials (``s3://key:secret@bucket`` → ``s3://bucket``)."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        rest = rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"


@dataclass(frozen=True)
class Store:
    """The store of one deployment: its root and the three top folders as paths."""

    url: str
    """The root as people read it (never with credentials)."""
    landing: Any
    raw: Any
    outputs: Any
    storage_options: Mapping[str, Any] = field(default_factory=dict, repr=False)
    """fsspec keyword arguments (credentials): never shown by ``repr``."""

    @property
    def local(self) -> bool:
        return is_local(self.outputs)

    # --- one path per concept ------------------------------------------------------------------------

    def delivery_folder(self, form_name: str, period: str) -> StorePath:
        """``landing/<form>/<YYYY-MM>/``: a form's deliveries of one period."""
        return self.landing / form_name / str(period)

    def raw_file(self, form_name: str, period: str, sha256: str, name: str) -> StorePath:
        """``raw/<form>/<YYYY-MM>/<sha256>/<name>``: a received file, unchanged."""
        return self.raw / form_name / str(period) / sha256 / name

    @property
    def data_docs(self) -> StorePath:
        return self.outputs / "data_docs"

    def results_dir(self, period: str) -> StorePath:
        """``outputs/data_docs/results/<YYYY-MM>/``: the GX results of a period, one JSON per form."""
        return self.data_docs / "results" / str(period)

    @property
    def data_docs_site(self) -> StorePath:
        """``outputs/data_docs/site/``: the self-contained Data Docs pages people read (``index.html``)."""
        return self.data_docs / "site"

    @property
    def data_docs_gx_site(self) -> StorePath:
        """``outputs/data_docs/gx/``: the site GX renders (needs its CDNs; kept beside the pages)."""
        return self.data_docs / "gx"

    def receipts_dir(self, period: str) -> StorePath:
        return self.outputs / "receipts" / str(period)

    def outbox_dir(self, period: str) -> StorePath:
        return self.outputs / "outbox" / str(period)

    def extracts_outbox_dir(self, period: str) -> StorePath:
        return self.outputs / "outbox" / "extracts" / str(period)

    def reports_dir(self, period: str) -> StorePath:
        """``outputs/reports/<YYYY-MM>/``: the monthly analysis report (统计监测月报), HTML and PDF."""
        return self.outputs / "reports" / str(period)

    def alerts_dir(self, period: str) -> StorePath:
        return self.outputs / "alerts" / str(period)

    @property
    def extracts(self) -> StorePath:
        return self.outputs / "extracts"

    # --- reading, listing --------------------------------------------------------------------------

    def check(self, step: str = "") -> None:
        """Raise :class:`StoreError` (one line) when the store cannot be reached; local stores are
        always reachable (their folders are created on first write)."""
        if self.local:
            return
        root = self.outputs.parent
        try:
            root.fs.invalidate_cache()
            bucket = root.path.split("/", 1)[0]
            if not root.fs.exists(bucket):
                raise FileNotFoundError(f"bucket {bucket} does not exist")
        except Exception as exc:  # the client's own error classes: worded as one line
            during = f" during {step}" if step else ""
            raise StoreError(
                f"the store {self.url} cannot be reached{during}: {describe(exc)} — 存储不可用（{step or '存储'}）"
            ) from exc


def describe(exc: BaseException) -> str:
    """``<class>: <first line>`` of a store client's error."""
    text = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def read_bytes(path: StorePath) -> bytes:
    """The bytes of ``path`` as the store holds them now (on an object store the cached listing is
    dropped first: another worker may have written or removed it since this process listed)."""
    _refresh(path)
    return path.read_bytes()


def exists(path: StorePath) -> bool:
    _refresh(path)
    return path.exists()


def size(path: StorePath) -> int:
    """The size in bytes of ``path`` as the store holds it now, without reading it (on an object store
    one HEAD request, ``fs.size``, after the cached listing is dropped)."""
    _refresh(path)
    if is_local(path):
        return path.stat().st_size
    return int(path.fs.size(path.path))


def _refresh(path: StorePath) -> None:
    if not is_local(path):  # another process (worker) may have written since this one listed
        path.fs.invalidate_cache(path.path)


def _children(folder: StorePath) -> list[StorePath]:
    """What ``folder`` holds now (listed afresh on an object store), leaving out names starting with ``.``
    (partial writes); none when it does not exist."""
    _refresh(folder)
    try:
        if not folder.is_dir():
            return []
        return [c for c in folder.iterdir() if not c.name.startswith(".")]
    except FileNotFoundError:
        return []


def list_files(folder: StorePath, pattern: str = "*") -> list[StorePath]:
    """The files (not folders) directly in ``folder`` whose name matches ``pattern``, sorted by name;
    none when the folder does not exist. Names starting with ``.`` (partial writes) are left out."""
    import fnmatch

    matching = (c for c in _children(folder) if fnmatch.fnmatch(c.name, pattern) and c.is_file())
    return sorted(matching, key=lambda c: c.name)


def list_folders(folder: StorePath) -> list[StorePath]:
    """The sub-folders of ``folder``, sorted by name (none when it does not exist)."""
    return sorted((c for c in _children(folder) if c.is_dir()), key=lambda c: c.name)


def find_files(folder: StorePath) -> list[str]:
    """Every file under ``folder`` (recursively) as a path relative to it (``a/b.html``), sorted."""
    _refresh(folder)
    if is_local(folder):
        if not folder.is_dir():
            return []
        return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    base = folder.path.rstrip("/") + "/"
    return sorted(name[len(base) :] for name in folder.fs.find(folder.path) if name.startswith(base))


def remove(path: StorePath) -> None:
    """Remove a file from the store (nothing when it is absent)."""
    with suppress(FileNotFoundError):
        path.unlink(missing_ok=True)


def put_file(target: StorePath, source: Path, fault: str | None = None) -> StorePath:
    """Publish the finished local file ``source`` (scratch) as ``target``, complete or absent; the
    scratch file is gone afterwards. Local store: moved (renamed when on the same disk, else copied aside
    and renamed); object store: uploaded in one (multipart) PUT."""
    from techreform.faults import fault_point

    if is_local(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            if fault:
                fault_point(fault)
            source.replace(target)
            return target
        except OSError:  # another file system: copy aside, then rename
            with open(source, "rb") as handle, _aside(target, fault) as tmp, open(tmp, "wb") as out:
                while chunk := handle.read(1 << 20):
                    out.write(chunk)
            source.unlink(missing_ok=True)
            return target
    if fault:
        fault_point(fault)
    target.fs.put_file(str(source), target.path)
    source.unlink(missing_ok=True)
    return target


@contextmanager
def _aside(target: Path, fault: str | None) -> Iterator[Path]:
    from techreform.files import atomic_path

    with atomic_path(target, fault) as tmp:
        yield tmp


@contextmanager
def scratch_dir(prefix: str = "techreform-") -> Iterator[Path]:
    """A temporary local folder of this task, removed afterwards (never shared with another task)."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        yield Path(tmp)


def location(path: StorePath) -> str:
    """What the warehouse and the logs record for a store path: the local path, or the object's URL."""
    return str(path)


def at_location(store: Store, recorded: str) -> StorePath:
    """The store path of a location the warehouse recorded (:func:`location`): a local path, or an
    object's URL opened with ``store``'s credentials."""
    if "://" not in recorded:
        return Path(recorded)
    from upath import UPath

    return UPath(recorded, **dict(store.storage_options))


def relative(store: Store, path: StorePath) -> str:
    """``path`` relative to the store's root (for comparisons and messages)."""
    text = str(path)
    for base, label in ((store.landing, "landing"), (store.raw, "raw"), (store.outputs, "outputs")):
        prefix = str(base).rstrip("/") + "/"
        if text.startswith(prefix):
            return f"{label}/{text[len(prefix) :]}"
    return text


# --- the store of the settings --------------------------------------------------------------------


def store_of(settings: Settings) -> Store:
    """The store of ``settings``: local folders (``settings.landing_dir``, ``raw_dir``, ``output_dir``)
    for a local storage URL, else ``<url>/landing``, ``<url>/raw``, ``<url>/outputs``."""
    url = settings.storage_url
    if local_root(url) is not None or not url:
        return Store(
            url=url or f"file://{settings.data_dir}",
            landing=Path(settings.landing_dir),
            raw=Path(settings.raw_dir),
            outputs=Path(settings.output_dir),
        )
    options = json.dumps(dict(settings.storage_options), sort_keys=True, default=str)
    return _remote_store(url.rstrip("/"), options, os.getpid())


@cache
def _remote_store(url: str, options_json: str, pid: int) -> Store:
    """One store (and one fsspec filesystem) per URL, options and process (a forked worker makes its own)."""
    from upath import UPath

    options = json.loads(options_json)
    root = UPath(url, **options)
    return Store(
        url=redact(url),
        landing=root / "landing",
        raw=root / "raw",
        outputs=root / "outputs",
        storage_options=options,
    )


def storage_options_from_connection(conn: Any) -> dict[str, Any]:
    """s3fs keyword arguments from an Airflow connection of AWS type (as its form fills it): login =
    access key id, password = secret access key; extra ``endpoint_url`` (an S3-compatible server),
    ``region_name``, ``aws_session_token``; an extra ``storage_options`` object is passed as it is."""
    extra = dict(getattr(conn, "extra_dejson", None) or {})
    options: dict[str, Any] = dict(extra.get("storage_options") or {})
    if getattr(conn, "login", None):
        options["key"] = conn.login
    if getattr(conn, "password", None):
        options["secret"] = conn.password
    if extra.get("aws_session_token"):
        options["token"] = extra["aws_session_token"]
    client_kwargs = dict(options.get("client_kwargs") or {})
    endpoint = extra.get("endpoint_url") or (extra.get("service_config") or {}).get("s3", {}).get("endpoint_url")
    if endpoint:
        client_kwargs["endpoint_url"] = endpoint
    if extra.get("region_name"):
        client_kwargs["region_name"] = extra["region_name"]
    if client_kwargs:
        options["client_kwargs"] = client_kwargs
    return options


@contextmanager
def store_errors(store: Store, step: str) -> Iterator[None]:
    """Re-raise an object-store client's error of the block as one line naming the store and ``step``."""
    try:
        yield
    except StoreError:
        raise
    except Exception as exc:
        module = type(exc).__module__ or ""
        if store.local or not module.startswith(_CLIENT_MODULES):
            raise
        raise StoreError(
            f"the store {store.url} failed during {step}: {describe(exc)} — 存储不可用或出错（{step}）"
        ) from exc
