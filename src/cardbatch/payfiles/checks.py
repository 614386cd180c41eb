"""Pure checks of batch files: whole-file rules (refuse before anything is posted) and the
per-row rules that need no account lookup.

Whole-file rules are plain functions in :data:`FILE_CHECKS`, each returning a list of
:class:`FileProblem` (errors as values); :func:`require_valid_file` raises them together as one
:class:`FileError`. Per-row rules return a :class:`Reason` or ``None``. Rules that need the
store (account exists and is active, holder name, mandate, employer balance, same file
submitted before) need the store; :func:`check_account` applies the account rules to an
account the caller has looked up.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import date
from typing import NamedTuple

from cardbatch.domain.records import DepositAccount, DepositStatus
from cardbatch.gcpause import gc_paused
from cardbatch.money import format_fen
from cardbatch.payfiles import iso20022, pipe, tabular, textio
from cardbatch.payfiles.model import (
    BatchFile,
    BatchRow,
    FileError,
    FileProblem,
    RowResult,
    row_failure,
)
from cardbatch.payfiles.reasons import (
    ACCOUNT_CLOSED,
    ACCOUNT_FROZEN,
    ACCOUNT_NOT_FOUND,
    AMOUNT_OVER_LIMIT,
    DUPLICATE,
    INVALID_AMOUNT,
    NAME_MISMATCH,
    NO_MANDATE,
    Reason,
)

# Default per-row limit: 1,000,000.00 yuan. A setting: callers pass their product's limit.
AMOUNT_FEN_MAX_PER_ROW = 100_000_000


class CheckContext(NamedTuple):
    """What a file is checked against.

    ``business_date``: the batch date the header must carry unless ``allow_date``;
    ``unit_no``: the employer's or biller's unit number (pipe files);
    ``party_account``: the employer's or biller's account (ISO 20022 debtor/creditor account).
    ``None`` skips the corresponding comparison.
    """

    business_date: date
    allow_date: bool = False
    unit_no: str | None = None
    party_account: str | None = None


FileCheck = Callable[[BatchFile, CheckContext], list[FileProblem]]


def check_has_rows(batch: BatchFile, ctx: CheckContext) -> list[FileProblem]:
    """A file with no detail rows is refused."""
    if batch.rows:
        return []
    return [textio.problem(batch.source_name, None, "rows", "0", "no detail rows", "no_rows")]


def check_date(batch: BatchFile, ctx: CheckContext) -> list[FileProblem]:
    """The header's batch date must be the business date (unless allowed)."""
    if ctx.allow_date or batch.batch_date is None or batch.batch_date == ctx.business_date:
        return []
    reason = f"batch date is not the business date {ctx.business_date.isoformat()}"
    value = batch.batch_date.isoformat()
    return [textio.problem(batch.source_name, 1, "date", value, reason, "date_mismatch", "DT01")]


def check_unit(batch: BatchFile, ctx: CheckContext) -> list[FileProblem]:
    """The file's unit number and employer/biller account must be the expected ones."""
    problems = []
    if ctx.unit_no is not None and batch.unit_no is not None and batch.unit_no != ctx.unit_no:
        reason = f"unit number is not the employer's or biller's {ctx.unit_no!r}"
        problems.append(
            textio.problem(
                batch.source_name, 1, "unit_no", batch.unit_no, reason, "unit_mismatch", "NARR"
            )
        )
    expected, found = ctx.party_account, batch.party_account
    if expected is not None and found is not None and found != expected:
        reason = "employer/biller account in the file is not the submitting one"
        problems.append(
            textio.problem(
                batch.source_name, None, "account", found, reason, "unit_mismatch", "NARR"
            )
        )
    return problems


def check_count(batch: BatchFile, ctx: CheckContext) -> list[FileProblem]:
    """The number of detail rows must equal the declared count."""
    if batch.declared_count == len(batch.rows):
        return []
    reason = f"{len(batch.rows)} detail rows but the control says {batch.declared_count}"
    value = str(batch.declared_count)
    return [textio.problem(batch.source_name, 1, "count", value, reason, "count_mismatch", "AM18")]


def check_total(batch: BatchFile, ctx: CheckContext) -> list[FileProblem]:
    """The sum of the detail amounts must equal the declared total."""
    if batch.declared_total_fen == batch.total_fen:
        return []
    declared = batch.declared_total_fen
    shown = format_fen(declared, grouping=False) if declared is not None else ""
    reason = f"detail amounts sum to {format_fen(batch.total_fen, grouping=False)}, control {shown}"
    return [textio.problem(batch.source_name, 1, "total", shown, reason, "total_mismatch", "AM10")]


def check_format_rules(batch: BatchFile, ctx: CheckContext) -> list[FileProblem]:
    """The format module's own rules (pipe unit per row, unique ISO EndToEndIds)."""
    if batch.format == "pipe":
        return pipe.validate(batch)
    if batch.format in ("csv", "xlsx"):
        return tabular.validate(batch)
    return iso20022.validate(batch)


FILE_CHECKS: tuple[FileCheck, ...] = (
    check_has_rows,
    check_date,
    check_unit,
    check_count,
    check_total,
    check_format_rules,
)


def check_file(batch: BatchFile, ctx: CheckContext) -> list[FileProblem]:
    """Every whole-file problem of ``batch`` (empty when the file may go on)."""
    return [problem for check in FILE_CHECKS for problem in check(batch, ctx)]


def require_valid_file(batch: BatchFile, ctx: CheckContext) -> None:
    """Raise one :class:`FileError` with every whole-file problem, if there are any."""
    problems = check_file(batch, ctx)
    if problems:
        raise FileError(problems)


# ---------------------------------------------------------------- rows

_NAME_PUNCTUATION = str.maketrans(
    {"。": ".", "・": "·", "•": "·", "‧": "·", "∙": "·", "⋅": "·", "、": ","}
)
_SPACE_NEXT_TO_WIDE = re.compile(r"(?<=[^\x00-\x7f]) | (?=[^\x00-\x7f])")


def normalize_name(name: str) -> str:
    """A name for comparison: NFKC (full-width to half-width, U+3000 to space), ideographic
    punctuation mapped, whitespace collapsed, spaces beside Chinese characters removed,
    Latin letters case-folded. ``"张　三"`` and ``"张三"`` compare equal; ``"LI  Lei"`` and
    ``"li lei"`` too, ``"LI Lei"`` and ``"LILei"`` not."""
    text = unicodedata.normalize("NFKC", name).translate(_NAME_PUNCTUATION)
    text = " ".join(text.split())
    return _SPACE_NEXT_TO_WIDE.sub("", text).casefold()


def names_match(name_in_file: str, holder_name: str) -> bool:
    """True when the file's name is the account holder's after :func:`normalize_name`."""
    return normalize_name(name_in_file) == normalize_name(holder_name)


def check_amount(row: BatchRow, amount_fen_max: int = AMOUNT_FEN_MAX_PER_ROW) -> Reason | None:
    """金额无效 for amounts not above zero; 超过单笔限额 above the per-row limit."""
    if row.amount_fen <= 0:
        return INVALID_AMOUNT
    return AMOUNT_OVER_LIMIT if row.amount_fen > amount_fen_max else None


def duplicates(rows: Sequence[BatchRow]) -> dict[int, int]:
    """For every repeated row: its index -> the index of its first occurrence.

    Rows with the same account, amount, memo and (normalised) name are duplicates; the
    sequence number is ignored. Names are normalised only when the rest already collides.
    """
    first_of: dict[tuple[str, int, str], int] = {}
    other_names: dict[tuple[str, int, str], list[int]] = {}
    repeated: dict[int, int] = {}
    for index, row in enumerate(rows):
        key = (row.account, row.amount_fen, row.memo)
        first = first_of.setdefault(key, index)
        if first == index:
            continue
        for candidate in (first, *other_names.get(key, ())):
            if names_match(rows[candidate].name, row.name):
                repeated[index] = candidate
                break
        else:
            other_names.setdefault(key, []).append(index)
    return repeated


def pre_check_rows(
    batch: BatchFile, amount_fen_max: int = AMOUNT_FEN_MAX_PER_ROW
) -> list[RowResult | None]:
    """Per-row pure checks in file order: a failed :class:`RowResult`, or ``None`` when the
    row goes on to the account checks. Amount first, then duplicates (later occurrences fail)."""
    with gc_paused():
        repeated = duplicates(batch.rows)
        results: list[RowResult | None] = []
        for index, row in enumerate(batch.rows):
            amount_fen = row.amount_fen
            if 0 < amount_fen <= amount_fen_max and index not in repeated:
                results.append(None)
                continue
            reason = check_amount(row, amount_fen_max) or DUPLICATE
            results.append(row_failure(row, reason))
    return results


def check_account(
    row: BatchRow,
    account: DepositAccount | None,
    *,
    mandate_required: bool = False,
    has_mandate: bool = False,
) -> Reason | None:
    """The per-row rules that need the row's deposit account, once the caller has looked it up:
    账户不存在 (AC01), 账户已销户 (AC04), 账户冻结 (AC06), 户名不符 (BE01) and, for collections,
    无授权 (MD01) when no debit mandate exists for this biller and account. ``None``: the row
    may be posted (funds are checked when posting)."""
    if account is None:
        return ACCOUNT_NOT_FOUND
    if account.status == DepositStatus.CLOSED:
        return ACCOUNT_CLOSED
    if account.status == DepositStatus.FROZEN:
        return ACCOUNT_FROZEN
    if not names_match(row.name, account.holder_name):
        return NAME_MISMATCH
    if mandate_required and not has_mandate:
        return NO_MANDATE
    return None
