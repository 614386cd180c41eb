"""Reading rule files: TOML text -> :class:`RuleSet`, or every error with its key path.

Errors are values (:class:`RuleError`), collected over the whole file and
reported together, each naming the key path (``interest.daily_rate``,
``allocation.order_current[2]``) and saying what is wrong with which value.
The messages are our own and stable; tests quote them exactly.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cardbatch.rules.model import RuleSet

RULES_FILE_BYTES_MAX = 256 * 1024


@dataclass(frozen=True)
class RuleError:
    """One problem in a rule file: where (key path) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class RuleSetInvalid(ValueError):
    """A rule file that did not validate; ``errors`` lists every problem."""

    def __init__(self, source: str, errors: list[RuleError]) -> None:
        self.source = source
        self.errors = errors
        lines = "; ".join(str(e) for e in errors)
        super().__init__(f"{source}: {len(errors)} error(s): {lines}")


def _key_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def _choices(expected: str) -> str:
    return expected.replace(" or ", ", ")


_TYPE_MESSAGES = {
    "int_type": "must be an integer",
    "bool_type": "must be true or false",
    "string_type": "must be a string",
    "list_type": "must be a list",
    "model_type": "must be a table",
    "dict_type": "must be a table",
    "decimal_type": "must be an exact decimal string",
}


def _message(err: Any) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    if kind in _TYPE_MESSAGES:
        return f"{_TYPE_MESSAGES[kind]}, got {value!r}"
    if kind == "literal_error":
        return f"must be one of {_choices(str(ctx['expected']))}, got {value!r}"
    if kind == "greater_than_equal":
        return f"must be at least {ctx['ge']}, got {value!r}"
    if kind == "less_than_equal":
        return f"must be at most {ctx['le']}, got {value!r}"
    if kind == "string_pattern_mismatch":
        return f"must match {ctx['pattern']}, got {value!r}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"must be at most {ctx['max_length']} characters long"
    return f"{err['msg']}, got {value!r}"


def validate_rules(data: dict[str, Any]) -> tuple[RuleSet | None, list[RuleError]]:
    """Validate parsed TOML data; the rule set, or ``None`` and every error."""
    try:
        return RuleSet.model_validate(data), []
    except ValidationError as exc:
        errors = [RuleError(_key_path(tuple(e["loc"])), _message(e)) for e in exc.errors()]
        return None, errors


def check_rules_text(text: str) -> tuple[RuleSet | None, list[RuleError]]:
    """Parse and validate TOML text; a syntax error is one error with its line and column."""
    if len(text.encode("utf-8")) > RULES_FILE_BYTES_MAX:
        return None, [RuleError("", f"rule file is larger than {RULES_FILE_BYTES_MAX} bytes")]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return None, [RuleError("", f"not valid TOML: {exc}")]
    return validate_rules(data)


def parse_rules(text: str, source: str = "<rules>") -> RuleSet:
    """The rule set in ``text``; raises :class:`RuleSetInvalid` listing every error."""
    rules, errors = check_rules_text(text)
    if rules is None:
        raise RuleSetInvalid(source, errors)
    return rules


def read_rules_file(path: Path) -> str:
    """The text of a rule file (UTF-8); raises ``OSError``/``UnicodeDecodeError`` as they come."""
    if path.stat().st_size > RULES_FILE_BYTES_MAX:
        raise RuleSetInvalid(
            str(path), [RuleError("", f"rule file is larger than {RULES_FILE_BYTES_MAX} bytes")]
        )
    return path.read_text(encoding="utf-8")


def text_sha256(text: str) -> str:
    """The content hash stored with a version (of the exact UTF-8 text)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
