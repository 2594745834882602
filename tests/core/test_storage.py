"""Blob storage: names we generate, bytes and names forced to disk before anything refers to them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.storage import FileBlobStore


@pytest.fixture
def flushed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of everything fsynced, in order (read back from the file descriptor)."""
    seen: list[str] = []
    real = os.fsync

    def record(fd: int) -> None:
        seen.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", record)
    return seen


def test_a_blob_and_its_name_are_on_disk_when_put_returns(
    tmp_path: Path, flushed: list[str]
) -> None:
    store = FileBlobStore(tmp_path)
    key = store.put(b"raw message")
    path = tmp_path / key
    assert path.read_bytes() == b"raw message" and store.get(key) == b"raw message"
    # The bytes (under the temporary name), then the directory that holds the final name.
    assert flushed == [str(path.with_suffix(".part")), str(path.parent)]


def test_a_batch_of_blobs_is_flushed_files_first_then_directories(
    tmp_path: Path, flushed: list[str]
) -> None:
    store = FileBlobStore(tmp_path)
    keys = [store.put(f"message {n}".encode(), sync=False) for n in range(5)]
    assert flushed == []
    store.sync(keys)
    paths = [str(tmp_path / key) for key in keys]
    directories = sorted({str(Path(p).parent) for p in paths})
    assert flushed == paths + directories


def test_keys_never_become_paths_outside_the_store(tmp_path: Path) -> None:
    """Only a key's last part counts, and it must be letters and digits: a path in a key
    cannot reach outside the store."""
    store = FileBlobStore(tmp_path)
    with pytest.raises(FileNotFoundError) as missing:
        store.get("../../etc/passwd")  # read as the store's own pa/passwd, which is not there
    assert str(missing.value.filename).startswith(str(tmp_path))
    for bad in ("ab/..", "ab/x.y", "ab/"):
        with pytest.raises(ValueError):
            store.get(bad)
