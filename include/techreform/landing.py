"""The landing zone, read safely (接收目录): what a delivery folder holds, and the bytes of each file.

A delivery folder is listed with ``lstat`` semantics: only regular files are deliveries. Symbolic links
(never followed: a link to ``/etc/passwd`` must not reach the raw zone), directories, FIFOs, devices and
sockets are refused, unread, and reported by :func:`scan_delivery_folder`. A file is opened with
``O_NOFOLLOW`` and checked again with ``fstat`` on the open descriptor, so a file swapped for a link
between listing and reading is refused too. A file larger than the byte limit is never read whole: it
is hashed and copied to a spool file in chunks, so that it can be kept in the raw zone and logged by
its sha256 like any other.

On an object store (``techreform.store``, e.g. ``s3://…/landing/<form>/<YYYY-MM>/``) there are no links
or devices: a delivery is an object (a key) directly under the folder's prefix, a deeper prefix is refused
as a directory, and a file is read through the store (``receive_file`` by key, the same limit and spool).

File names are shown as people can read them: a name that is not UTF-8 (a Windows archive unpacked on
Linux gives GBK names) is decoded as GB18030 when it is valid GB18030, else its bytes are written as
``\\xNN``; control characters are written as ``\\xNN`` as well, so a name never breaks a log line."""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from techreform.files import is_local

log = logging.getLogger(__name__)

CHUNK = 1 << 20

#: What ``lstat`` says an entry is, for the entries that are not deliveries.
_KINDS = (
    (stat.S_ISLNK, "symlink", "符号链接"),
    (stat.S_ISDIR, "directory", "目录"),
    (stat.S_ISFIFO, "fifo", "命名管道"),
    (stat.S_ISCHR, "device", "字符设备"),
    (stat.S_ISBLK, "device", "块设备"),
    (stat.S_ISSOCK, "socket", "套接字"),
)


@dataclass(frozen=True)
class LandingEntry:
    """One entry of a delivery folder: its path as the OS names it, its name for people, its kind."""

    path: Path  # or a upath.UPath on an object store
    name: str
    kind: str  # file | symlink | directory | fifo | device | socket | other | unreadable
    kind_zh: str = "文件"
    mtime_ns: int = 0

    @property
    def refusal(self) -> str:
        """Why the entry is not read (Chinese and English, one line)."""
        return f"{self.name} 是{self.kind_zh}而不是普通文件，未读取 / not a regular file ({self.kind}), refused unread"


@dataclass
class FolderListing:
    """The regular files of a delivery folder in arrival order, and the entries refused."""

    files: list[LandingEntry] = field(default_factory=list)
    refused: list[LandingEntry] = field(default_factory=list)


@dataclass
class ReceivedFile:
    """A delivered file's content: its bytes, or (past the byte limit) a spooled copy, and its sha256."""

    sha256: str
    size: int
    data: bytes | None = None  # None when the file was too large to read into memory
    spooled: Path | None = None  # the copy of a too-large file, to be moved into the raw zone


def display_name(name: str) -> str:
    """A file name as messages and the file log show it (see the module's docstring)."""
    raw = os.fsencode(name)
    for encoding in ("utf-8", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        text = raw.decode("utf-8", "backslashreplace")
    return "".join(f"\\x{ord(ch):02x}" if ord(ch) < 0x20 or ord(ch) == 0x7F else ch for ch in text)


def _kind(mode: int) -> tuple[str, str]:
    for test, kind, kind_zh in _KINDS:
        if test(mode):
            return kind, kind_zh
    return ("file", "文件") if stat.S_ISREG(mode) else ("other", "特殊文件")


def scan_delivery_folder(folder: Path) -> FolderListing:
    """The entries of ``folder`` by ``lstat``: regular files sorted by (modification time, name), the rest
    refused. Hidden entries and Office lock files (``~$``) are not deliveries and are left out. A folder
    of an object store is listed by key (:func:`_scan_object_folder`)."""
    if not is_local(folder):
        return _scan_object_folder(folder)
    listing = FolderListing()
    try:
        if not stat.S_ISDIR(os.lstat(folder).st_mode):  # a delivery folder that is itself a link: not read
            log.error(
                "%s 不是目录（可能是符号链接），未读取 / not a directory (a link?), not read", display_name(str(folder))
            )
            return listing
    except FileNotFoundError:
        return listing
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith((".", "~$")):
                continue
            info = entry.stat(follow_symlinks=False)
            kind, kind_zh = _kind(info.st_mode)
            item = LandingEntry(Path(entry.path), display_name(entry.name), kind, kind_zh, info.st_mtime_ns)
            (listing.files if kind == "file" else listing.refused).append(item)
    listing.files.sort(key=lambda e: (e.mtime_ns, e.path.name))
    listing.refused.sort(key=lambda e: e.path.name)
    return listing


def _mtime_ns(info: dict) -> int:
    """An object's modification time (``LastModified`` of S3, ``mtime`` of others) in nanoseconds."""
    import datetime as dt

    value = info.get("LastModified") or info.get("mtime") or info.get("last_modified") or 0
    if isinstance(value, dt.datetime):
        return int(value.timestamp() * 1_000_000_000)
    if isinstance(value, str):
        try:
            return int(dt.datetime.fromisoformat(value).timestamp() * 1_000_000_000)
        except ValueError:
            return 0
    return int(float(value) * 1_000_000_000)


def _scan_object_folder(folder) -> FolderListing:
    """The objects directly under a folder (prefix) of an object store: files sorted by (modification
    time, name); deeper prefixes refused as directories; hidden names and lock files left out."""
    listing = FolderListing()
    fs = folder.fs
    fs.invalidate_cache(folder.path)  # another worker may have landed files since this process listed
    try:
        infos = fs.ls(folder.path, detail=True)
    except FileNotFoundError:
        return listing
    for info in infos:
        name = str(info["name"]).rstrip("/").rsplit("/", 1)[-1]
        if not name or name.startswith((".", "~$")):
            continue
        path = folder / name
        if info.get("type") == "directory":
            listing.refused.append(LandingEntry(path, display_name(name), "directory", "目录"))
        else:
            listing.files.append(LandingEntry(path, display_name(name), "file", "文件", _mtime_ns(info)))
    listing.files.sort(key=lambda e: (e.mtime_ns, e.path.name))
    listing.refused.sort(key=lambda e: e.path.name)
    return listing


class NotARegularFile(OSError):
    """The path, opened without following links, is not a regular file (any more)."""


def receive_file(path: Path, max_bytes: int, spool_dir: Path) -> ReceivedFile:
    """Open ``path`` without following a link, and read it: whole when it has at most ``max_bytes``,
    else hashed and copied in chunks to a file under ``spool_dir`` (the bytes are never held whole).
    Raises :class:`NotARegularFile` for anything but a regular file, ``OSError`` when it cannot be read.
    An object of an object store is read by its key the same way."""
    if not is_local(path):
        with path.fs.open(path.path, "rb") as handle:
            data = handle.read(max_bytes + 1)
            if len(data) <= max_bytes:
                return ReceivedFile(hashlib.sha256(data).hexdigest(), len(data), data=data)
            handle.seek(0)
            return _spool(handle, spool_dir)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno in (getattr(os, "ELOOP", 40), getattr(os, "EMLINK", 31)):
            raise NotARegularFile(exc.errno, "符号链接，未读取 / a symbolic link, refused unread") from None
        raise
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            kind, kind_zh = _kind(info.st_mode)
            raise NotARegularFile(0, f"{kind_zh}而不是普通文件，未读取 / not a regular file ({kind})")
        if info.st_size <= max_bytes:
            data = handle.read(max_bytes + 1)
            if len(data) <= max_bytes:  # it did not grow while being read
                return ReceivedFile(hashlib.sha256(data).hexdigest(), len(data), data=data)
            handle.seek(0)
        return _spool(handle, spool_dir)


def _spool(handle, spool_dir: Path) -> ReceivedFile:
    """Hash and copy an open file in chunks to ``spool_dir/<uuid>.part``."""
    spool_dir.mkdir(parents=True, exist_ok=True)
    target = spool_dir / f"{uuid.uuid4().hex}.part"
    digest = hashlib.sha256()
    size = 0
    with open(target, "wb") as out:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
    return ReceivedFile(digest.hexdigest(), size, spooled=target)
