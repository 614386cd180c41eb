"""Receiving an uploaded file for later areas (batches, ingest): limits and safe storage.

The file is streamed to a generated name (``<uuid>.upload``) under the given
folder, never to the client's file name or path, while its bytes and lines are
counted against ``upload_bytes_max`` and ``upload_rows_max``. Past either limit
the partial file is removed and :class:`UploadRefused` names the limit; the
endpoint answers it with 413.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from starlette.datastructures import UploadFile

from cardbatch.api.settings import ConsoleSettings

CHUNK_BYTES = 1024 * 1024
_SAFE_NAME = re.compile(r"[^\w.\- ]+")
ORIGINAL_NAME_LEN_MAX = 120


class UploadRefused(ValueError):
    """The upload is over a limit; nothing was kept."""


@dataclass(frozen=True)
class StoredUpload:
    path: Path  # generated name inside the upload folder
    original_name: str  # the client's base name, cleaned, for display only
    size_bytes: int
    lines: int


def clean_name(filename: str | None) -> str:
    """The client's base name without any folder part or unusual characters."""
    base = (filename or "upload").replace("\\", "/").rsplit("/", 1)[-1]
    return _SAFE_NAME.sub("_", base)[:ORIGINAL_NAME_LEN_MAX] or "upload"


async def store_upload(upload: UploadFile, folder: Path, settings: ConsoleSettings) -> StoredUpload:
    """Stream ``upload`` to a generated file under ``folder``, enforcing the limits."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{uuid.uuid4().hex}.upload"
    size_bytes = lines = 0
    last = b""
    try:
        with target.open("wb") as out:
            while chunk := await upload.read(CHUNK_BYTES):
                size_bytes += len(chunk)
                lines += chunk.count(b"\n")
                last = chunk[-1:]
                if size_bytes > settings.upload_bytes_max:
                    raise UploadRefused(f"upload over {settings.upload_bytes_max} bytes")
                if lines > settings.upload_rows_max:
                    raise UploadRefused(f"upload over {settings.upload_rows_max} rows")
                out.write(chunk)
        if size_bytes and last != b"\n":
            lines += 1  # a last line without a newline still counts
        if lines > settings.upload_rows_max:
            raise UploadRefused(f"upload over {settings.upload_rows_max} rows")
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return StoredUpload(target, clean_name(upload.filename), size_bytes, lines)
