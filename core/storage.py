"""Attachment blobs on disk, outside any web root, under names we generate."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path
from typing import Protocol


class BlobStore(Protocol):
    """Where attachment bytes live; ``file_path`` in the table is the key it returns."""

    def put(self, data: bytes) -> str: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> bool: ...


class FileBlobStore:
    """Blobs as files under ``root/ab/cdef...``; the user's file name never touches the path."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def put(self, data: bytes, *, sync: bool = True) -> str:
        """Store the bytes under a new key. With ``sync=False`` the file is written but not yet
        forced to disk: call ``sync`` with the keys before anything that refers to them commits
        (one ``sync`` for many blobs costs about one disk flush instead of one each)."""
        key = secrets.token_hex(16)
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        with open(tmp, "wb") as fh:
            fh.write(data)
            if sync:
                fh.flush()
                os.fsync(fh.fileno())
        tmp.replace(path)
        if sync:
            _fsync(path.parent)  # the rename itself: the new name is in the directory
        return f"{key[:2]}/{key}"

    def sync(self, keys: list[str]) -> None:
        """Force blobs written with ``put(..., sync=False)`` to disk, then their directories, so
        that their names survive a crash too (the first fsync commits the file system's journal
        for all of them, so the others cost little)."""
        paths = [self._path(key.split("/")[-1]) for key in keys]
        for path in paths:
            _fsync(path)
        for directory in sorted({path.parent for path in paths}):
            _fsync(directory)

    def get(self, key: str) -> bytes:
        return self._path(key.split("/")[-1]).read_bytes()

    def delete(self, key: str) -> bool:
        """Remove a blob; False when it was already gone (erasure and retention repeat)."""
        try:
            self._path(key.split("/")[-1]).unlink()
        except FileNotFoundError:
            return False
        return True

    def _path(self, key: str) -> Path:
        if not key.isalnum():
            raise ValueError("bad blob key")
        return self.root / key[:2] / key


def _fsync(path: Path) -> None:
    """fsync a file or a directory by its path."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
