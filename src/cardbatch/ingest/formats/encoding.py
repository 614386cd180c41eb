"""Text encodings of input files: UTF-8 (with or without BOM) and GB18030 (a superset of GBK).

``auto`` reads the whole file once, block by block (memory bounded by the block
size): a UTF-8 BOM means UTF-8; otherwise strict UTF-8 is tried and then
GB18030. A file that decodes as neither, that starts with a UTF-16 BOM, or
that holds NUL bytes is refused as a whole.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

from cardbatch.ingest.errors import WholeFileError

BLOCK_BYTES = 1 << 20
ENCODINGS = ("auto", "utf-8", "gb18030")
UTF8_BOM = codecs.BOM_UTF8
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


@dataclass(frozen=True)
class TextFacts:
    """What the full decoding pass learnt: the codec, and whether quoting can occur."""

    codec: str
    has_quote: bool = True  # a '"' somewhere in the file
    has_lone_cr: bool = True  # a carriage return not followed by a line feed


def detect_encoding(path: Path, requested: str = "auto") -> str:
    """The Python codec to read ``path`` with: ``utf-8-sig``, ``utf-8`` or ``gb18030``."""
    return inspect_text(path, requested).codec


def inspect_text(path: Path, requested: str = "auto") -> TextFacts:
    """Decode the whole file once (block by block) to choose the codec; see the module doc."""
    if requested not in ENCODINGS:
        raise WholeFileError(
            "encoding", f"unknown encoding {requested!r}: use auto, utf-8 or gb18030"
        )
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith(_UTF16_BOMS):
        raise WholeFileError(
            "encoding", f"{path.name}: UTF-16 files are not accepted; save as UTF-8"
        )
    candidates = ["utf-8", "gb18030"] if requested == "auto" else [requested]
    if head.startswith(UTF8_BOM) and "utf-8" in candidates:
        candidates = ["utf-8-sig"]
    failure = ""
    for codec in candidates:
        facts, failure = _decode(path, codec)
        if facts is not None:
            return facts
    if requested == "auto":
        raise WholeFileError(
            "encoding", f"{path.name}: neither UTF-8 nor GBK/GB18030 text ({failure})"
        )
    raise WholeFileError("encoding", f"{path.name}: not valid {requested} text ({failure})")


def _decode(path: Path, codec: str) -> tuple[TextFacts | None, str]:
    """The facts of ``path`` decoded as ``codec``, or where it stops decoding ("line N")."""
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    line = 1
    has_quote = has_lone_cr = False
    carry = ""
    with path.open("rb") as handle:
        while True:
            block = handle.read(BLOCK_BYTES)
            try:
                text = decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                lines_before = block[: exc.start].count(b"\n")
                return None, f"undecodable bytes near line {line + lines_before}"
            if "\x00" in text:
                lines_before = text.count("\n", 0, text.index("\x00"))
                return None, f"NUL byte near line {line + lines_before}"
            line += text.count("\n")
            has_quote = has_quote or '"' in text
            text = carry + text
            carry = "\r" if text.endswith("\r") and block else ""
            text = text[: len(text) - len(carry)]
            has_lone_cr = has_lone_cr or "\r" in text.replace("\r\n", "")
            if not block:
                return TextFacts(codec, has_quote, has_lone_cr), ""
