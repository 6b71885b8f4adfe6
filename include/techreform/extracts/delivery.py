"""The store the extracts are delivered to: any fsspec URL — a local folder (the default), an
S3-compatible object store (``s3://bucket/prefix``, with s3fs), SFTP.

Layout: ``<root>/<YYYY-MM>/r<N>/`` with the tables, ``public/`` and ``manifest.json``. **A revision
exists exactly when its ``manifest.json`` exists**; ``manifest.json`` is always the last file written.

Complete or absent:

- *Local folder*: every file of the revision is written into ``<root>/<YYYY-MM>/_incoming/<uuid>/``,
  the manifest last, then the folder is renamed to ``r<N>`` — one atomic ``rename`` on the same
  filesystem, which fails if ``r<N>`` exists (a concurrent run), so it never mixes two revisions.
- *Object stores* (no atomic rename of a prefix): every file is written under the temporary prefix
  ``<root>/<YYYY-MM>/_incoming/<uuid>/``, then copied into ``r<N>/``, and ``manifest.json`` is written
  last. A run killed before the manifest leaves objects under ``r<N>/`` without a manifest: that is not
  a revision; the next run removes them and writes ``r<N>`` again. Readers (and this code) look only
  at revisions with a manifest.

Left-over ``_incoming/`` folders of killed runs are removed by the next run of the period.

Fault injection for tests: with ``TECHREFORM_EXTRACT_FAULT=<point>`` the process kills itself
(SIGKILL, no clean-up) when it reaches that point: ``aside`` (every file written aside, nothing moved),
``copying`` (object stores: the first file copied into ``r<N>/``), ``before_manifest`` (object stores:
every file copied but the manifest)."""

from __future__ import annotations

import json
import os
import re
import signal
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

FAULT_ENV = "TECHREFORM_EXTRACT_FAULT"
MANIFEST = "manifest.json"
INCOMING = "_incoming"
_REVISION = re.compile(r"^r(\d+)$")


def fault_point(name: str) -> None:
    """Kill this process here when ``TECHREFORM_EXTRACT_FAULT`` names this point (tests only)."""
    if os.environ.get(FAULT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass
class Store:
    """The extracts' root on some fsspec filesystem."""

    url: str
    storage_options: Mapping[str, Any]

    def __post_init__(self) -> None:
        self.fs, self.root = fsspec.core.url_to_fs(self.url, **dict(self.storage_options))
        self.root = self.root.rstrip("/")
        self.local = isinstance(self.fs, LocalFileSystem)

    def path(self, *parts: str) -> str:
        return "/".join([self.root, *parts])

    def location(self, period: str, revision: int) -> str:
        """The URL of a revision, for people and the manifest."""
        return f"{self.url}/{period}/r{revision}/"

    def revisions(self, period: str) -> list[int]:
        """Revisions of the period that exist (have a manifest), ascending."""
        folder = self.path(period)
        self.fs.invalidate_cache()  # another process may have written since this instance listed
        if not self.fs.exists(folder):
            return []
        found = []
        for entry in self.fs.ls(folder, detail=False):
            match = _REVISION.match(entry.rstrip("/").rsplit("/", 1)[-1])
            if match and self.fs.exists(f"{entry.rstrip('/')}/{MANIFEST}"):
                found.append(int(match.group(1)))
        return sorted(found)

    def read_manifest(self, period: str, revision: int) -> dict[str, Any]:
        return json.loads(self.fs.cat_file(self.path(period, f"r{revision}", MANIFEST)))

    def read_bytes(self, period: str, revision: int, name: str) -> bytes:
        return self.fs.cat_file(self.path(period, f"r{revision}", name))

    def clean_incoming(self, period: str) -> None:
        """Remove what killed runs left aside (never a revision)."""
        incoming = self.path(period, INCOMING)
        if self.fs.exists(incoming):
            self.fs.rm(incoming, recursive=True)

    def publish(self, period: str, revision: int, files: Mapping[str, bytes]) -> str:
        """Write ``files`` (relative names → bytes, ``manifest.json`` among them) as revision ``r<N>``,
        complete or not at all; returns the revision's URL."""
        if MANIFEST not in files:
            raise ValueError("a revision needs its manifest.json")
        self.clean_incoming(period)
        aside = self.path(period, INCOMING, uuid.uuid4().hex)
        final = self.path(period, f"r{revision}")
        ordered = [n for n in sorted(files) if n != MANIFEST] + [MANIFEST]
        for name in ordered:
            target = f"{aside}/{name}"
            if self.local:
                self.fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
            self.fs.pipe_file(target, files[name])
        fault_point("aside")
        if self.local:
            os.rename(aside, final)  # atomic; fails if r<N> exists
        else:
            if self.fs.exists(final):  # objects of a killed run, without manifest: not a revision
                if self.fs.exists(f"{final}/{MANIFEST}"):
                    raise FileExistsError(f"{self.location(period, revision)} exists already")
                self.fs.rm(final, recursive=True)
            for k, name in enumerate(ordered):
                if name == MANIFEST:
                    fault_point("before_manifest")
                self.fs.copy(f"{aside}/{name}", f"{final}/{name}")
                if k == 0:
                    fault_point("copying")
            self.fs.rm(aside, recursive=True)
        self.clean_incoming(period)
        return self.location(period, revision)
