"""Uploads land under generated names and stop at the byte and row limits."""

from __future__ import annotations

import asyncio
import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from starlette.datastructures import UploadFile

from cardbatch.api.settings import ConsoleSettings
from cardbatch.api.uploads import StoredUpload, UploadRefused, clean_name, store_upload


def _store(data: bytes, name: str, folder: Path, **limits: int) -> StoredUpload:
    settings = ConsoleSettings(db_url="sqlite:///x.db", **limits)  # type: ignore[arg-type]
    upload = UploadFile(io.BytesIO(data), filename=name)
    # Its own thread: a session-wide browser fixture may hold this thread's event loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, store_upload(upload, folder, settings)).result()


def test_stored_under_a_generated_name_never_the_clients_path(tmp_path: Path) -> None:
    stored = _store(b"1|a\n2|b\n3|c", "../../etc/代发工资 2026.csv", tmp_path)
    assert stored.path.parent == tmp_path and stored.path.suffix == ".upload"
    assert stored.original_name == "代发工资 2026.csv"
    assert stored.lines == 3 and stored.size_bytes == 11
    assert stored.path.read_bytes() == b"1|a\n2|b\n3|c"
    assert clean_name("C:\\Users\\x\\pay;rm -rf.txt") == "pay_rm -rf.txt"


@pytest.mark.parametrize(
    ("data", "limits", "message"),
    [
        (b"x" * 100, {"upload_bytes_max": 99}, "over 99 bytes"),
        (b"a\nb\nc\n", {"upload_rows_max": 2}, "over 2 rows"),
        (b"a\nb\nc", {"upload_rows_max": 2}, "over 2 rows"),
    ],
)
def test_limits_refuse_and_keep_nothing(
    tmp_path: Path, data: bytes, limits: dict[str, int], message: str
) -> None:
    with pytest.raises(UploadRefused, match=message):
        _store(data, "f.csv", tmp_path, **limits)
    assert list(tmp_path.iterdir()) == []
