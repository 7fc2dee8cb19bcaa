"""备份与恢复: a consistent snapshot of the whole database, with a checksum.

``flask backup PATH`` writes the snapshot to PATH and ``PATH.sha256`` beside it
(``sha256sum`` format: ``sha256sum -c`` checks it too). SQLite uses its online
backup API (a consistent copy while the app runs); PostgreSQL ``pg_dump -Fc`` (one
transaction, a consistent snapshot). ``flask restore PATH`` refuses a file whose
checksum is missing or does not match, or that is not a snapshot of this kind of
database, before it touches anything.
"""
from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess


class BackupError(RuntimeError):
    """A backup or restore that could not be done (the message is Chinese)."""


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sidecar(path: str) -> str:
    return path + ".sha256"


def _sqlite_file(url) -> str:
    if not url.database or url.database == ":memory:":
        raise BackupError("内存数据库无法备份。")
    return url.database


def _libpq(url) -> tuple[str, dict]:
    """(libpq URL, environment) for pg_dump / pg_restore."""
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return plain, dict(os.environ)


def backup(engine, path: str) -> dict:
    """Write a snapshot of ``engine``'s database to ``path`` and its checksum.

    :return: ``{"path", "bytes", "sha256"}``.
    """
    url = engine.url
    path = os.path.abspath(path)
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        raise BackupError(f"目录不存在：{folder}")
    tmp = path + ".partial"
    try:
        if url.get_backend_name() == "sqlite":
            source = sqlite3.connect(_sqlite_file(url))
            target = sqlite3.connect(tmp)
            try:
                source.backup(target)
            finally:
                target.close()
                source.close()
        elif url.get_backend_name() == "postgresql":
            libpq, env = _libpq(url)
            done = subprocess.run(["pg_dump", "-Fc", "--no-owner", "-f", tmp, libpq],
                                  env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise BackupError(f"pg_dump 失败：{done.stderr.strip()}")
        else:
            raise BackupError(f"不支持的数据库：{url.get_backend_name()}")
        digest = _sha256(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    with open(_sidecar(path), "w", encoding="ascii") as fh:
        fh.write(f"{digest}  {os.path.basename(path)}\n")
    return {"path": path, "bytes": os.path.getsize(path), "sha256": digest}


def verify(path: str) -> str:
    """The snapshot's checksum if the file is whole; else :class:`BackupError`."""
    if not os.path.isfile(path):
        raise BackupError(f"备份文件不存在：{path}")
    sidecar = _sidecar(path)
    if not os.path.isfile(sidecar):
        raise BackupError(f"缺少校验文件 {sidecar}，拒绝恢复。")
    with open(sidecar, encoding="ascii", errors="replace") as fh:
        expected = (fh.read().split() or [""])[0].lower()
    actual = _sha256(path)
    if actual != expected:
        raise BackupError("备份文件已损坏（校验值不符），拒绝恢复；数据库未改动。")
    return actual


def restore(engine, path: str) -> dict:
    """Replace ``engine``'s database by the snapshot at ``path`` (checked first).

    The caller must stop the app and the scheduler first: a restore replaces
    everything, including what was written since the backup.
    """
    digest = verify(path)
    url = engine.url
    engine.dispose()
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            ok = source.execute("PRAGMA integrity_check").fetchone()
        except sqlite3.DatabaseError:
            ok = None
        if not ok or ok[0] != "ok":
            source.close()
            raise BackupError("备份文件不是完好的 SQLite 数据库，拒绝恢复；数据库未改动。")
        target = sqlite3.connect(_sqlite_file(url))
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    elif url.get_backend_name() == "postgresql":
        libpq, env = _libpq(url)
        listed = subprocess.run(["pg_restore", "-l", path], env=env, capture_output=True,
                                text=True)
        if listed.returncode != 0:
            raise BackupError("备份文件不是 pg_dump 的快照，拒绝恢复；数据库未改动。")
        done = subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner",
                               "--single-transaction", "-d", libpq, path],
                              env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise BackupError(f"pg_restore 失败（已回滚）：{done.stderr.strip()[:500]}")
    else:
        raise BackupError(f"不支持的数据库：{url.get_backend_name()}")
    return {"path": os.path.abspath(path), "sha256": digest}
