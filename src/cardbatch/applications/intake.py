"""Cleaning and validating application rows: every row ends accepted or rejected.

A rejected row carries its line, field, reason code and a message in which
personal data is masked. Reason codes are listed in ``docs/applications.md``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from cardbatch.applications.reader import RawFile, RawRow
from cardbatch.domain.identity import IdentityError, normalize_mobile, normalize_ric
from cardbatch.domain.masking import mask_phone, mask_ric
from cardbatch.money import MoneyError, format_fen, parse_yuan
from cardbatch.textsafe import without_mark

NAME_LEN_MAX = 100
EMPLOYER_LEN_MAX = 200
ADDRESS_LEN_MAX = 300
INCOME_FEN_MAX = 100_000_000_00  # 100 million yuan a month: anything above is a typo
_PRODUCT_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


@dataclass(frozen=True)
class Application:
    """A cleaned application row."""

    line_no: int
    name: str
    id_number: str
    phone: str
    employer: str
    monthly_income_fen: int
    product_code: str
    address: str


@dataclass(frozen=True)
class RowError:
    line_no: int
    field: str
    code: str
    message: str


@dataclass(frozen=True)
class IntakeResult:
    accepted: list[Application]
    rejected: list[tuple[RawRow, RowError]]

    @property
    def rows_total(self) -> int:
        return len(self.accepted) + len(self.rejected)


def clean_file(raw: RawFile) -> IntakeResult:
    """Clean every row; the second row with the same ID and product is a duplicate."""
    accepted: list[Application] = []
    rejected: list[tuple[RawRow, RowError]] = []
    first_line: dict[tuple[str, str], int] = {}
    for row in raw.rows:
        result = clean_row(row)
        if isinstance(result, RowError):
            rejected.append((row, result))
            continue
        key = (result.id_number, result.product_code)
        if key in first_line:
            message = (
                f"line {row.line_no}: resident ID {mask_ric(result.id_number)} already applies "
                f"for {result.product_code} on line {first_line[key]}"
            )
            rejected.append((row, RowError(row.line_no, "id_number", "duplicate_in_file", message)))
            continue
        first_line[key] = row.line_no
        accepted.append(result)
    return IntakeResult(accepted, rejected)


def clean_row(row: RawRow) -> Application | RowError:
    """One row cleaned, or every problem found in it (fields and codes joined by ``;``)."""
    v = {f: _text(t) for f, t in row.values.items()}
    n = row.line_no
    values = {
        "name": _name(n, v["name"]),
        "id_number": _ric(n, v["id_number"]),
        "phone": _phone(n, v["phone"]),
        "monthly_income": _income(n, v["monthly_income"]),
        "product": _product(n, v["product"]),
        "employer": _bounded(n, "employer", v["employer"], EMPLOYER_LEN_MAX, required=False),
        "address": _bounded(n, "address", v["address"], ADDRESS_LEN_MAX, required=True),
    }
    errors = [e for e in values.values() if isinstance(e, RowError)]
    if errors:
        return _merged(n, errors)
    ok = {k: x for k, x in values.items() if not isinstance(x, RowError)}
    return Application(
        n,
        str(ok["name"]),
        str(ok["id_number"]),
        str(ok["phone"]),
        str(ok["employer"]),
        int(ok["monthly_income"]),
        str(ok["product"]),
        str(ok["address"]),
    )


def _merged(line_no: int, errors: list[RowError]) -> RowError:
    if len(errors) == 1:
        return errors[0]
    return RowError(
        line_no,
        ";".join(e.field for e in errors),
        ";".join(e.code for e in errors),
        f"line {line_no}: " + "; ".join(e.message.split(": ", 1)[1] for e in errors),
    )


def _name(n: int, text: str) -> str | RowError:
    name = " ".join(text.split())
    if not name:
        return _err(n, "name", "required", "applicant name is empty")
    if len(name) > NAME_LEN_MAX or any(c.isdigit() for c in name):
        return _err(n, "name", "name_format", "applicant name is too long or contains digits")
    return name


def _ric(n: int, text: str) -> str | RowError:
    try:
        return normalize_ric(text)
    except IdentityError as exc:
        shown = mask_ric(text) or "(empty)"
        return _err(n, "id_number", exc.code, f"resident ID {shown}: {exc.message}")


def _phone(n: int, text: str) -> str | RowError:
    try:
        return normalize_mobile(text)
    except IdentityError as exc:
        shown = mask_phone(text) or "(empty)"
        return _err(n, "phone", exc.code, f"phone {shown}: {exc.message}")


def _product(n: int, text: str) -> str | RowError:
    product = text  # as given: product codes match the rules' codes exactly
    if not _PRODUCT_RE.match(product):
        return _err(n, "product", "product_format", f"product code {product!r} is not valid")
    return product


def _bounded(n: int, field: str, text: str, chars_max: int, *, required: bool) -> str | RowError:
    if required and not text:
        return _err(n, field, "required", f"{field} is empty")
    if len(text) > chars_max:
        return _err(n, field, "text_too_long", f"{field} over {chars_max} chars")
    return text


def _income(line_no: int, text: str) -> int | RowError:
    if not text:
        return _err(line_no, "monthly_income", "required", "monthly income is empty")
    try:
        amount_fen = parse_yuan(text)
    except MoneyError as exc:
        return _err(line_no, "monthly_income", "amount_format", str(exc))
    if amount_fen < 0:
        return _err(line_no, "monthly_income", "amount_negative", f"income {text!r} is negative")
    if amount_fen > INCOME_FEN_MAX:
        limit = format_fen(INCOME_FEN_MAX)
        return _err(line_no, "monthly_income", "amount_too_large", f"income over {limit} yuan")
    return amount_fen


def _text(value: str) -> str:
    """NFKC (full-width to half-width), trimmed; a rejects file's formula guard removed."""
    return without_mark(unicodedata.normalize("NFKC", value).strip())


def _err(line_no: int, field: str, code: str, message: str) -> RowError:
    return RowError(line_no, field, code, f"line {line_no}: {message}")
