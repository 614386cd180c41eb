"""Reading batch files safely: size limit, content hash, encoding detection, masked values.

Shared by the format modules; no format knowledge lives here.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import date
from pathlib import Path

from cardbatch.domain.masking import mask_card, mask_name
from cardbatch.money import MoneyError, parse_yuan
from cardbatch.payfiles.model import (
    FIELD_CHARS_MAX,
    FILE_BYTES_MAX,
    FileProblem,
    file_error,
)

UTF8_BOM = b"\xef\xbb\xbf"
_SHOWN_CHARS_MAX = 40
_PERSONAL_FIELDS = {"account": mask_card, "name": mask_name}


def read_limited(path: Path) -> bytes:
    """The bytes of ``path``, refusing files above :data:`FILE_BYTES_MAX` and empty files."""
    size_bytes = path.stat().st_size
    if size_bytes > FILE_BYTES_MAX:
        raise file_error(
            path.name,
            None,
            "size",
            str(size_bytes),
            f"file larger than {FILE_BYTES_MAX} bytes",
            "too_large",
        )
    data = path.read_bytes()
    if not data[:4096].strip() and not data.strip():
        raise file_error(path.name, None, "file", "", "file is empty", "empty")
    return data


def sha256_hex(data: bytes) -> str:
    """Content hash used to recognise the same file submitted twice."""
    return hashlib.sha256(data).hexdigest()


def decode_text(data: bytes, source: str) -> tuple[str, str]:
    """Decode text as UTF-8 (with or without BOM) or else GBK; return ``(text, encoding)``.

    Undecodable input is a :class:`FileError` naming the line of the first bad byte.
    """
    if data.startswith(UTF8_BOM):
        return _decode(data[len(UTF8_BOM) :], "utf-8", source), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return _decode(data, "gbk", source), "gbk"


def _decode(data: bytes, encoding: str, source: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line_no = data[: exc.start].count(b"\n") + 1
        bad = data[exc.start : exc.start + 4].hex(" ")
        raise file_error(
            source, line_no, "encoding", bad, "neither UTF-8 nor GBK text", "undecodable"
        ) from None


def detect_newline(text: str) -> str:
    """``"\\r\\n"`` when the first line ends so, else ``"\\n"``."""
    end = text.find("\n")
    return "\r\n" if end > 0 and text[end - 1] == "\r" else "\n"


def shown(field: str, value: str) -> str:
    """A value as it may appear in an error message: personal data masked, long text cut."""
    masker = _PERSONAL_FIELDS.get(field)
    text = masker(value) if masker else value
    return text if len(text) <= _SHOWN_CHARS_MAX else text[:_SHOWN_CHARS_MAX] + "..."


def problem(
    source: str,
    line: int | None,
    field: str,
    value: str,
    reason: str,
    code: str,
    iso_code: str = "FF01",
) -> FileProblem:
    """A :class:`FileProblem` with ``value`` masked by :func:`shown`."""
    return FileProblem(source, line, field, shown(field, value), reason, code, iso_code)


_PLAIN_YUAN_DIGITS_MAX = 13  # 13 digits of yuan stay below money.AMOUNT_FEN_MAX


def plain_yuan_fen(text: str) -> int | None:
    """Fen of the common plain form ``"1234.56"`` (ASCII digits, exactly two decimals), else
    ``None``. A fast path only: it agrees with ``money.parse_yuan`` wherever it answers (a
    property test checks this), and everything else goes to ``parse_yuan``."""
    whole, dot, fraction = text.partition(".")
    if (
        dot
        and len(fraction) == 2
        and 0 < len(whole) <= _PLAIN_YUAN_DIGITS_MAX
        and whole.isascii()
        and fraction.isascii()
        and whole.isdigit()
        and fraction.isdigit()
    ):
        return int(whole) * 100 + int(fraction)
    return None


def parse_amount(
    text: str, source: str, line: int, problems: list[FileProblem], field: str = "amount"
) -> int:
    """Yuan text to fen; on failure record a problem and return 0 (the file will be refused)."""
    amount_fen = plain_yuan_fen(text)
    if amount_fen is not None:
        return amount_fen
    try:
        return parse_yuan(text)
    except MoneyError as exc:
        problems.append(problem(source, line, field, text, str(exc), "bad_amount"))
        return 0


def parse_count(text: str, source: str, line: int, problems: list[FileProblem]) -> int:
    """A non-negative row count; on failure record a problem and return 0."""
    cleaned = text.strip()
    if not cleaned.isdigit() or not cleaned.isascii():
        problems.append(problem(source, line, "count", text, "not a row count", "bad_count"))
        return 0
    return int(cleaned)


def parse_compact_date(
    text: str, source: str, line: int, problems: list[FileProblem], field: str = "date"
) -> date | None:
    """``YYYYMMDD`` or ``YYYY-MM-DD`` to a date; on failure record a problem, return None."""
    cleaned = text.strip().replace("-", "")
    try:
        if len(cleaned) != 8 or not cleaned.isdigit():
            raise ValueError("expected YYYYMMDD")
        return date(int(cleaned[:4]), int(cleaned[4:6]), int(cleaned[6:]))
    except ValueError:
        problems.append(
            problem(source, line, field, text, "not a calendar date (YYYYMMDD)", "bad_date", "DT01")
        )
        return None


def check_text(
    value: str,
    field: str,
    source: str,
    line: int,
    problems: list[FileProblem],
    *,
    required: bool = True,
) -> str:
    """Trimmed text field; records a problem when empty (if required) or too long."""
    cleaned = value.strip()
    if required and not cleaned:
        problems.append(problem(source, line, field, value, "must not be empty", "missing_field"))
    elif len(cleaned) > FIELD_CHARS_MAX:
        problems.append(
            problem(source, line, field, cleaned, f"longer than {FIELD_CHARS_MAX}", "too_long")
        )
    return cleaned


def merge_declared(
    in_file: int | None, given: int | None, field: str, source: str, problems: list[FileProblem]
) -> int | None:
    """The control total: the file's own, else the separately declared one; both must agree."""
    if in_file is not None and given is not None and in_file != given:
        problems.append(
            problem(
                source,
                None,
                field,
                str(given),
                f"declared {given} but the file says {in_file}",
                "declared_mismatch",
                "AM18" if field == "count" else "AM10",
            )
        )
    return in_file if in_file is not None else given


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename: never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
