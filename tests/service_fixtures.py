"""Real services for tests, started on 127.0.0.1 on free ports and stopped afterwards; imported by
``conftest.py`` so that every test module can ask for them:

- ``s3_server``: an S3-compatible object store (moto in server mode, ``ThreadedMotoServer``) with a bucket
  of its own; gives the endpoint, the credentials, the storage URL for ``TECHREFORM_STORAGE_URL`` and the
  s3fs ``storage_options``, and the environment a process needs to use it (:meth:`S3Server.env`);
- ``local_smtp``: an SMTP server (aiosmtpd) collecting every message it accepts.

Both are context managers too (:func:`running_s3_server`, :func:`running_local_smtp`) for code outside
pytest (``scripts/measure_delivery.py``).
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class S3Server:
    """A running moto S3 server and one empty bucket in it."""

    endpoint_url: str
    bucket: str
    key: str = "testing"
    secret: str = "testing"
    region: str = "us-east-1"
    prefix: str = "techreform"
    _fs: Any = field(default=None, compare=False, repr=False)

    @property
    def url(self) -> str:
        """The store's root for ``TECHREFORM_STORAGE_URL``: ``s3://<bucket>/techreform``."""
        return f"s3://{self.bucket}/{self.prefix}"

    @property
    def storage_options(self) -> dict[str, Any]:
        """s3fs keyword arguments (``storage.storage_options``)."""
        return {
            "key": self.key,
            "secret": self.secret,
            "client_kwargs": {"endpoint_url": self.endpoint_url, "region_name": self.region},
        }

    @property
    def fs(self):
        """An s3fs filesystem on the server (its own instance, no listing cache shared with the code)."""
        return self._fs

    def airflow_connection(self) -> str:
        """The connection ``techreform_store`` as Airflow's AWS connection form fills it (JSON)."""
        return json.dumps(
            {
                "conn_type": "aws",
                "login": self.key,
                "password": self.secret,
                "extra": {"endpoint_url": self.endpoint_url, "region_name": self.region},
            }
        )

    def env(self, through_connection: bool = True) -> dict[str, str]:
        """Environment of a process using the store: ``TECHREFORM_STORAGE_URL`` and the credentials, as
        the Airflow connection ``techreform_store`` (tasks) or the standard AWS variables (any process)."""
        env = {
            "TECHREFORM_STORAGE_URL": self.url,
            "AWS_ACCESS_KEY_ID": self.key,
            "AWS_SECRET_ACCESS_KEY": self.secret,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL": self.endpoint_url,
        }
        if through_connection:
            env["AIRFLOW_CONN_TECHREFORM_STORE"] = self.airflow_connection()
        return env


@contextmanager
def running_s3_server() -> Iterator[S3Server]:
    """moto in server mode on 127.0.0.1 (a free port) with a fresh bucket; stopped on leaving (also for
    scripts: ``scripts/measure_delivery.py``)."""
    import boto3
    import s3fs
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        bucket = f"techreform-{uuid.uuid4().hex[:10]}"
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        ).create_bucket(Bucket=bucket)
        probe = S3Server(endpoint, bucket)
        fs = s3fs.S3FileSystem(skip_instance_cache=True, **probe.storage_options)
        yield S3Server(endpoint, bucket, _fs=fs)
    finally:
        server.stop()


@pytest.fixture
def s3_server() -> Iterator[S3Server]:
    """moto in server mode on 127.0.0.1 (a free port) with a fresh bucket; stopped afterwards."""
    with running_s3_server() as server:
        yield server


@dataclass
class LocalSmtp:
    """A running aiosmtpd server: ``handler.messages`` holds (envelope recipients, parsed message)."""

    handler: Any
    port: int
    host: str = "127.0.0.1"

    def connection_uri(self, sender: str = "jigai@example.org") -> str:
        """The connection ``techreform_smtp`` as a URI (plain SMTP, no TLS: the provider form's
        ``disable_tls`` and ``disable_ssl``)."""
        return (
            f"smtp://{self.host}:{self.port}?from_email={sender.replace('@', '%40')}"
            "&disable_tls=true&disable_ssl=true&timeout=10&retry_limit=0"
        )


@contextmanager
def running_local_smtp() -> Iterator[LocalSmtp]:
    """An SMTP server (aiosmtpd) on 127.0.0.1 (a free port) collecting what it accepts; stopped on leaving."""
    from aiosmtpd.controller import Controller

    from supervision_fixtures import CollectingHandler

    handler = CollectingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield LocalSmtp(handler, controller.port)
    finally:
        controller.stop()


@pytest.fixture
def local_smtp() -> Iterator[LocalSmtp]:
    """An SMTP server (aiosmtpd) on 127.0.0.1 (a free port) collecting what it accepts; stopped after."""
    with running_local_smtp() as server:
        yield server
