"""The store (``techreform.store``): one root for every file, a local folder by default, an S3-compatible
object store (moto in server mode here) in production — the same warehouse and the same files either way,
complete-or-absent writes, landing listed by key, and a store that cannot be reached failing in one line."""

from __future__ import annotations

import email
import io
import json
import os
import re
import shutil
import zipfile
from email import policy
from pathlib import Path

import pendulum
import pytest

from techreform.config import Settings
from techreform.store import StoreError, list_files, local_root, storage_options_from_connection, store_of

PERIOD = "2013-02"


# --- settings and layout --------------------------------------------------------------------------


def test_the_default_store_is_the_data_folder_with_the_folders_of_before(tmp_path):
    settings = Settings.from_env({"TECHREFORM_DATA_DIR": str(tmp_path)})
    assert settings.storage_url == f"file://{tmp_path}"
    store = store_of(settings)
    assert store.local and store.landing == tmp_path / "landing" and store.outputs == tmp_path / "outputs"
    moved = Settings.from_env({"TECHREFORM_DATA_DIR": str(tmp_path), "TECHREFORM_LANDING_DIR": "/srv/landing"})
    assert store_of(moved).landing == Path("/srv/landing")
    elsewhere = Settings.from_env({"TECHREFORM_DATA_DIR": str(tmp_path), "TECHREFORM_STORAGE_URL": "file:///srv/tr"})
    assert store_of(elsewhere).raw == Path("/srv/tr/raw") and local_root("/srv/tr") == Path("/srv/tr")


def test_an_object_store_holds_every_folder_and_refuses_a_local_folder_variable(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps({"storage": {"url": "s3://bucket/prod", "storage_options": {"key": "k", "secret": "s"}}}),
        encoding="utf-8",
    )
    settings = Settings.from_env({"TECHREFORM_DATA_DIR": str(tmp_path), "TECHREFORM_CONFIG_FILE": str(config)})
    store = store_of(settings)
    assert not store.local and store.url == "s3://bucket/prod"
    assert (
        str(store.delivery_folder("enterprise_monthly", "2013-02"))
        == "s3://bucket/prod/landing/enterprise_monthly/2013-02"
    )
    assert str(store.receipts_dir("2013-02")) == "s3://bucket/prod/outputs/receipts/2013-02"
    assert store.outputs.storage_options == {"key": "k", "secret": "s"}
    env = {"TECHREFORM_DATA_DIR": str(tmp_path), "TECHREFORM_STORAGE_URL": "s3://other/x"}
    assert str(store_of(Settings.from_env(env)).raw) == "s3://other/x/raw"  # the variable wins over the file
    with pytest.raises(ValueError, match="TECHREFORM_OUTPUT_DIR applies to a local store only"):
        Settings.from_env({**env, "TECHREFORM_OUTPUT_DIR": "/srv/out"})


def test_the_airflow_aws_connection_gives_the_credentials_and_the_endpoint():
    from airflow.sdk import Connection

    conn = Connection(
        conn_id="techreform_store",
        conn_type="aws",
        login="AKIA",
        password="secret",
        extra=json.dumps({"endpoint_url": "http://minio:9000", "region_name": "cn-northwest-1"}),
    )
    assert storage_options_from_connection(conn) == {
        "key": "AKIA",
        "secret": "secret",
        "client_kwargs": {"endpoint_url": "http://minio:9000", "region_name": "cn-northwest-1"},
    }


# --- on the moto server -----------------------------------------------------------------------------


def s3_settings(tmp_path: Path, server, warehouse_url: str = "") -> Settings:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"storage": {"url": server.url, "storage_options": server.storage_options}}))
    env = {"TECHREFORM_DATA_DIR": str(tmp_path / "data"), "TECHREFORM_CONFIG_FILE": str(config)}
    if warehouse_url:
        env["TECHREFORM_WAREHOUSE_URL"] = warehouse_url
    return Settings.from_env(env)


def test_a_write_to_the_object_store_is_complete_or_absent_and_listed_by_key(tmp_path, s3_server):
    from techreform.files import write_bytes
    from techreform.landing import receive_file, scan_delivery_folder

    store = store_of(s3_settings(tmp_path, s3_server))
    target = store.receipts_dir("2013-02") / "receipt_2013-02_620100.html"

    class Boom(Exception):
        pass

    def fail(*_args):
        raise Boom

    import techreform.files as files

    files.fault_point, saved = fail, files.fault_point
    try:
        with pytest.raises(Boom):
            write_bytes(target, b"<html>half</html>", fault="during_receipt_write")
    finally:
        files.fault_point = saved
    assert not s3_server.fs.exists(
        f"{s3_server.bucket}/techreform/outputs/receipts/2013-02/receipt_2013-02_620100.html"
    )
    write_bytes(target, "审核回执".encode())
    assert list_files(store.receipts_dir("2013-02")) == [target] and target.read_bytes() == "审核回执".encode()

    landing = f"{s3_server.bucket}/techreform/landing/enterprise_monthly/2013-02"
    s3_server.fs.pipe_file(f"{landing}/b.csv", b"uscc\n1\n")
    s3_server.fs.pipe_file(f"{landing}/a.csv", b"uscc\n2\n" * 10)
    s3_server.fs.pipe_file(f"{landing}/.hidden.csv", b"x")
    s3_server.fs.pipe_file(f"{landing}/nested/c.csv", b"x")
    listing = scan_delivery_folder(store.delivery_folder("enterprise_monthly", "2013-02"))
    assert sorted(e.name for e in listing.files) == ["a.csv", "b.csv"]
    assert [(e.name, e.kind) for e in listing.refused] == [("nested", "directory")]
    small = receive_file(store.delivery_folder("enterprise_monthly", "2013-02") / "b.csv", 100, tmp_path / "spool")
    assert small.data == b"uscc\n1\n" and small.size == 7
    big = receive_file(store.delivery_folder("enterprise_monthly", "2013-02") / "a.csv", 10, tmp_path / "spool")
    assert big.data is None and big.size == 70 and big.spooled.read_bytes() == b"uscc\n2\n" * 10


def test_a_store_that_cannot_be_reached_fails_the_step_in_one_line_naming_it(tmp_path, sqlite_url):
    from service_fixtures import free_port
    from techreform.steps import STEPS_BY_NAME, context_for

    port = free_port()  # nothing listens there
    config = tmp_path / "config.json"
    options = {
        "key": "k",
        "secret": "s",
        "client_kwargs": {"endpoint_url": f"http://127.0.0.1:{port}", "region_name": "us-east-1"},
        "config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 2},
    }
    config.write_text(json.dumps({"storage": {"url": "s3://gone/techreform", "storage_options": options}}))
    settings = Settings.from_env(
        {
            "TECHREFORM_DATA_DIR": str(tmp_path),
            "TECHREFORM_CONFIG_FILE": str(config),
            "TECHREFORM_WAREHOUSE_URL": sqlite_url,
        }
    )
    with pytest.raises(StoreError) as failed:
        STEPS_BY_NAME["ingest_enterprises"].run(context_for(settings, PERIOD))
    message = str(failed.value)
    assert "\n" not in message and "s3://gone/techreform" in message and "ingest_enterprises" in message
    assert "secret" not in message and "'s'" not in message


# --- the monthly chain through Airflow, local folder and object store ----------------------------------


@pytest.fixture(scope="module")
def province(tmp_path_factory) -> Path:
    from techreform.generator import GeneratorConfig, generate

    out = tmp_path_factory.mktemp("store_province")
    generate(
        out,
        GeneratorConfig(enterprises=60, projects=30, first_period="2013-01", last_period=PERIOD, defect_rate=0.03),
    )
    return out


def run_dag(period: str) -> dict[str, str]:
    from airflow.dag_processing.dagbag import DagBag

    from techreform.periods import Period

    dag = DagBag(str(Path(__file__).resolve().parents[1] / "dags")).dags["techreform_monthly"]
    closes = Period.parse(period).next
    run = dag.test(logical_date=pendulum.datetime(closes.year, closes.month, 1, tz="Asia/Shanghai"))
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "success", states
    return states


def _clear_env(monkeypatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith(("TECHREFORM_", "AIRFLOW_CONN_TECHREFORM")) or key.startswith("AWS_"):
            monkeypatch.delenv(key)


VOLATILE_COLUMNS = {"received_at", "updated_at", "message_id", "claim_owner", "claim_host", "claim_pid"}
VOLATILE_COLUMNS |= {"claim_until", "created_at", "manifest_sha256", "first_seen_at", "computed_at", "run_at"}
"""Columns that record when or by whom (a run's times, claims, the extract manifest's digest, which holds
its creation time): compared by presence only."""
VOLATILE_COLUMNS |= {"checked_at", "reviewed_at"}  # when a check ran (dq_review_check), a landing was reviewed


def warehouse_state(url: str, root: str) -> dict[str, list[tuple]]:
    """Every row of every table, the store's root written as ``<store>``, volatile columns left out."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    tables: dict[str, list[tuple]] = {}
    with engine.connect() as conn:
        for name in sorted(sa.inspect(conn).get_table_names()):
            result = conn.execute(sa.text(f'select * from "{name}"'))  # noqa: S608 - names from the catalog
            keep = [i for i, c in enumerate(result.keys()) if c not in VOLATILE_COLUMNS]
            tables[name] = sorted(
                (tuple(r[i].replace(root, "<store>") if isinstance(r[i], str) else r[i] for i in keep) for r in result),
                key=repr,
            )
    engine.dispose()
    return tables


_VOLATILE_TEXT = [
    re.compile(r'"(created_at|validation_time|run_time|checkpoint_id|batch_id|id)": "[^"]*"'),
    re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(\+00:00|Z)?"),
    re.compile(r"\d{8}T\d{6}(\.\d+)?Z"),
    re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"),
]


def comparable(name: str, data: bytes, root: str) -> object:
    """A file's content without what differs between two identical runs (declared here): an e-mail's
    Date, Message-ID and MIME boundaries (its headers and decoded parts are compared); a workbook's
    creation time (its sheets are compared); times and ids in JSON and HTML; the store's root."""
    if name.endswith(".eml"):
        message = email.message_from_bytes(data, policy=policy.default)
        headers = sorted(
            (k, re.sub(r'boundary="[^"]*"', "boundary=<volatile>", str(v)))
            for k, v in message.items()
            if k not in ("Date", "Message-ID")
        )
        parts = [
            comparable(p.get_filename() or f"part.{p.get_content_subtype()}", p.get_payload(decode=True), root)
            for p in message.walk()
            if not p.is_multipart()
        ]
        return headers, parts
    if name.endswith(".xlsx"):
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            return {n: book.read(n) for n in book.namelist() if not n.startswith("docProps/")}
    if name.endswith((".json", ".html", ".csv", ".md", ".txt", ".plain")):
        text = data.decode("utf-8", "replace").replace(root, "<store>")
        for pattern in _VOLATILE_TEXT:
            text = pattern.sub("<volatile>", text)
        return text
    return data


def local_files(base: Path) -> dict[str, object]:
    root = str(base)
    return {
        p.relative_to(base).as_posix(): comparable(p.name, p.read_bytes(), root)
        for p in sorted(base.rglob("*"))
        if p.is_file() and not p.name.endswith(".sqlite")
    }


def delivered_at_one_time(landing: Path) -> None:
    """Give every file under a local landing folder one modification time. Files are delivered in order
    of (modification time, name), and S3's ``LastModified`` has one-second resolution; with one time here
    and the uploads in name order (:func:`upload_in_name_order`), both stores deliver in name order."""
    for path in landing.rglob("*"):
        if path.is_file():
            os.utime(path, (1_360_000_000, 1_360_000_000))


def upload_in_name_order(root: Path, folder: str, server) -> None:
    """Upload ``root/folder`` to the S3 server under its prefix, one object at a time in name order, so
    that the objects' ``LastModified`` never decreases in name order (the store then delivers by name)."""
    for path in sorted((root / folder).rglob("*")):
        if path.is_file():
            key = path.relative_to(root).as_posix()
            server.fs.pipe_file(f"{server.bucket}/{server.prefix}/{key}", path.read_bytes())


def s3_files(server) -> dict[str, object]:
    fs = server.fs
    fs.invalidate_cache()
    base = f"{server.bucket}/{server.prefix}/"
    return {key[len(base) :]: comparable(key, fs.cat_file(key), server.url) for key in sorted(fs.find(base))}


@pytest.mark.slow
@pytest.mark.airflow
def test_the_monthly_dag_on_the_object_store_gives_the_warehouse_and_files_of_the_local_folder(
    province, tmp_path, warehouse_url, pg_available, s3_server, airflow_db, monkeypatch
):
    # 1. the local folder (the embedded default)
    local = tmp_path / "local"
    shutil.copytree(province / "landing", local / "landing")
    delivered_at_one_time(local / "landing")
    _clear_env(monkeypatch)
    monkeypatch.setenv("TECHREFORM_DATA_DIR", str(local))
    monkeypatch.setenv("TECHREFORM_WAREHOUSE_URL", warehouse_url)
    run_dag(PERIOD)
    local_state = warehouse_state(warehouse_url, str(local))
    local_outputs = local_files(local)

    # 2. the object store: deliveries uploaded under <url>/landing, credentials from the Airflow
    # connection techreform_store, a fresh warehouse of the same engine, a data folder that stays empty
    second_url = _second_warehouse(warehouse_url, tmp_path)
    upload_in_name_order(local, "landing", s3_server)
    _clear_env(monkeypatch)
    for key, value in s3_server.env(through_connection=True).items():
        if not key.startswith("AWS_"):  # the tasks get the credentials from the connection only
            monkeypatch.setenv(key, value)
    data = tmp_path / "s3-data"
    monkeypatch.setenv("TECHREFORM_DATA_DIR", str(data))
    monkeypatch.setenv("TECHREFORM_WAREHOUSE_URL", second_url)
    run_dag(PERIOD)

    remote_state = warehouse_state(second_url, s3_server.url)
    assert sorted(remote_state) == sorted(local_state)
    for table in sorted(local_state):
        assert remote_state[table] == local_state[table], table
    remote = s3_files(s3_server)
    assert sorted(remote) == sorted(local_outputs)
    assert any(k.startswith("outputs/data_docs/gx/validations/") for k in remote)
    assert f"outputs/data_docs/site/{PERIOD}/E1.html" in remote and "outputs/data_docs/site/index.html" in remote
    assert any(k.startswith("outputs/receipts/") for k in remote) and any(k.endswith(".eml") for k in remote)
    assert any(k.startswith("raw/") for k in remote) and any(k.startswith("outputs/extracts/") for k in remote)
    differing = [key for key in sorted(remote) if remote[key] != local_outputs[key]]
    assert not differing, (differing, _first_difference(remote[differing[0]], local_outputs[differing[0]]))
    assert not data.exists() or not [p for p in data.rglob("*") if p.is_file()], "nothing on the worker's disk"
    assert asset_event_extras("techreform://warehouse/fct_indicator")[-2:] == [{"period": PERIOD}] * 2


def asset_event_extras(uri: str) -> list[dict]:
    """The ``extra`` of every event of the Asset ``uri`` in Airflow's metadata, oldest first."""
    import sqlalchemy as sa
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.execute(
            sa.select(AssetEvent.extra)
            .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
            .where(AssetModel.uri == uri)
            .order_by(AssetEvent.id)
        ).all()
    return [dict(r[0] or {}) for r in rows]


def _first_difference(a: object, b: object) -> str:
    a, b = repr(a), repr(b)
    at = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return f"…{a[max(at - 80, 0) : at + 80]}… != …{b[max(at - 80, 0) : at + 80]}…"


def _second_warehouse(url: str, tmp_path: Path) -> str:
    """An empty warehouse of the same engine as ``url``."""
    if url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'second.sqlite'}"
    import uuid

    import sqlalchemy as sa

    from conftest import PG_ADMIN_URL

    name = f"techreform_s_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'create database "{name}"')

    def drop() -> None:
        from techreform.warehouse import dispose_engines

        dispose_engines()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'drop database if exists "{name}" with (force)')
        admin.dispose()

    _DROPS.append(drop)
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


_DROPS: list = []


@pytest.fixture(autouse=True)
def _drop_second_databases():
    yield
    while _DROPS:
        _DROPS.pop()()


def test_the_size_of_a_file_comes_from_the_store_without_reading_it(tmp_path, s3_server):
    """``size``: a local file's size, and an object's from the store's listing, fresh even when another
    client rewrote it after this process cached the listing."""
    from techreform.files import write_bytes
    from techreform.store import exists, size

    local = store_of(Settings.from_env({"TECHREFORM_DATA_DIR": str(tmp_path / "data")}))
    write_bytes(local.reports_dir(PERIOD) / "a.pdf", b"%PDF" * 5)
    assert size(local.reports_dir(PERIOD) / "a.pdf") == 20

    remote = store_of(s3_settings(tmp_path, s3_server)).reports_dir(PERIOD) / "a.pdf"
    write_bytes(remote, b"%PDF" * 5)
    assert exists(remote) and size(remote) == 20
    s3_server.fs.pipe_file(f"{s3_server.bucket}/{s3_server.prefix}/outputs/reports/{PERIOD}/a.pdf", b"%PDF" * 7)
    assert size(remote) == 28
