"""Complete or absent: a process killed while it writes an extract (``TECHREFORM_EXTRACT_FAULT`` names the
point where it SIGKILLs itself) leaves no revision, and a re-run writes it whole. On a local folder and on
an S3-compatible store (moto in server mode on 127.0.0.1, s3fs as the fsspec backend), where a revision
counts only once its manifest.json exists."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from extracts_fixtures import PERIOD, folder_digests, loaded, loaded_templates, manifest, province  # noqa: F401
from supervision_fixtures import free_port
from techreform.extracts import Store, extract_period
from techreform.extracts.delivery import FAULT_ENV
from techreform.warehouse import engine_for

pytestmark = pytest.mark.slow

ON_SQLITE = pytest.mark.parametrize("warehouse_url", ["sqlite"], indirect=True)
"""The kill tests start Python processes (slow to import); what they prove is a property of the store,
so they run on the SQLite warehouse only (the other tests here run on both)."""

RUN_EXTRACT = "import sys; from techreform.cli import main; sys.exit(main(['extract', '--period', sys.argv[1]]))"


def run_extract_process(settings, config: dict, fault: str | None = None) -> subprocess.CompletedProcess:
    """``techreform extract`` in a subprocess on the test's warehouse, with the extracts' options."""
    config_file = settings.data_dir / "extracts-config.json"
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(json.dumps({"extracts": config}), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != FAULT_ENV}
    env.update(
        {
            "TECHREFORM_DATA_DIR": str(settings.data_dir),
            "TECHREFORM_WAREHOUSE_URL": settings.warehouse_url,
            "TECHREFORM_CONFIG_FILE": str(config_file),
        }
    )
    if fault:
        env[FAULT_ENV] = fault
    return subprocess.run(
        [sys.executable, "-c", RUN_EXTRACT, PERIOD], env=env, capture_output=True, text=True, timeout=300
    )


@ON_SQLITE
def test_a_kill_while_writing_aside_leaves_no_revision_and_a_rerun_writes_it_whole(loaded):
    root = loaded.data_dir / "bureau"
    killed = run_extract_process(loaded, {"url": str(root)}, fault="aside")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    period_dir = root / PERIOD
    assert not list(period_dir.glob("r*")), "a killed run must leave no revision"
    assert list((period_dir / "_incoming").iterdir()), "the files were written aside"

    done = run_extract_process(loaded, {"url": str(root)})
    assert done.returncode == 0, done.stderr
    assert "r1 written" in done.stdout
    assert sorted(p.name for p in period_dir.iterdir()) == ["r1"]  # the left-overs are gone
    listed = manifest(period_dir / "r1")
    assert {f["name"] for f in listed["files"]} == set(folder_digests(period_dir / "r1")) - {"manifest.json"}

    again = run_extract_process(loaded, {"url": str(root)})
    assert again.returncode == 0 and "unchanged" in again.stdout


@pytest.fixture
def s3_store():
    """A moto S3 server on 127.0.0.1 (a free port) with an empty bucket of its own; stopped afterwards
    (moto keeps its state per process, so each test gets a bucket with a new name)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    options = {
        "key": "testing",
        "secret": "testing",
        "client_kwargs": {"endpoint_url": f"http://{host}:{port}", "region_name": "us-east-1"},
    }
    import boto3
    import s3fs

    bucket = f"tongjiju-{uuid.uuid4().hex[:8]}"
    boto3.client(
        "s3",
        endpoint_url=f"http://{host}:{port}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket=bucket)
    fs = s3fs.S3FileSystem(skip_instance_cache=True, **options)
    try:
        yield {"url": f"s3://{bucket}/techreform/extracts", "storage_options": options}, fs
    finally:
        server.stop()


@ON_SQLITE
@pytest.mark.parametrize("fault", ["copying", "before_manifest"])
def test_on_s3_a_revision_exists_only_with_its_manifest_and_a_killed_copy_is_rewritten(loaded, s3_store, fault):
    config, fs = s3_store
    prefix = f"{config['url'][len('s3://') :]}/{PERIOD}"
    killed = run_extract_process(loaded, config, fault=fault)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    half = fs.find(f"{prefix}/r1")
    assert half and f"{prefix}/r1/manifest.json" not in half, "objects were copied, the manifest was not"
    store = Store(config["url"], config["storage_options"])
    assert store.revisions(PERIOD) == []

    done = run_extract_process(loaded, config)
    assert done.returncode == 0, done.stderr
    fs.invalidate_cache()
    assert store.revisions(PERIOD) == [1]
    listed = store.read_manifest(PERIOD, 1)
    objects = {p[len(f"{prefix}/r1/") :] for p in fs.find(f"{prefix}/r1")}
    assert objects == {f["name"] for f in listed["files"]} | {"manifest.json"}
    assert not fs.exists(f"{prefix}/_incoming")
    import hashlib

    for entry in listed["files"]:
        data = fs.cat_file(f"{prefix}/r1/{entry['name']}")
        assert hashlib.sha256(data).hexdigest() == entry["sha256"] and len(data) == entry["bytes"]
    assert listed["location"] == f"{config['url']}/{PERIOD}/r1/"


def test_on_s3_a_rerun_writes_nothing_and_the_bureau_reads_the_parquet_through_fsspec(loaded, s3_store):
    import pandas as pd

    config, fs = s3_store
    settings = loaded.with_options(validation={"hard_fail_threshold": 1.0}, extracts=config)
    engine = engine_for(settings.warehouse_url)
    first = extract_period(engine, settings, PERIOD)
    assert first["written"] and first["location"].startswith(config["url"])
    prefix = f"{config['url'][len('s3://') :]}/{PERIOD}"
    before = {p: fs.info(p)["ETag"] for p in fs.find(prefix)}
    second = extract_period(engine, settings, PERIOD)
    assert not second["written"] and second["revision"] == 1
    fs.invalidate_cache()
    assert {p: fs.info(p)["ETag"] for p in fs.find(prefix)} == before
    frame = pd.read_parquet(
        f"{config['url']}/{PERIOD}/r1/enterprise_monthly.parquet", storage_options=config["storage_options"]
    )
    assert len(frame) == first["changes"]["enterprise_monthly"]["added"] and frame.uscc.str.len().eq(18).all()


def test_the_local_default_is_under_the_output_folder(loaded):
    result = extract_period(engine_for(loaded.warehouse_url), loaded, PERIOD)
    assert Path(result["location"]) == loaded.output_dir / "extracts" / PERIOD / "r1"
