"""Row validation: raw cells of a chunk to typed accepted rows, rejects and warnings.

Two passes keep imports fast and messages exact. A vectorised Polars pass
cleans every column and accepts the rows whose values are already in their
canonical form (``2024-03-05``, ``13812345678``, a resident ID whose check
digit, birth date and region are right, ...). Only the remaining rows go
through the scalar rules of :mod:`cardbatch.ingest.clean`, which either accept
them too (``2024/3/5``, ``+86 138-1234-5678``) or say why not. The fast pass is
a strict subset of the scalar rules and yields the same values; a property
test checks both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import polars as pl
from stdnum.cn import ric as stdnum_ric

from cardbatch.domain.identity import ric_check_char
from cardbatch.ingest.clean import (
    DAY_MAX,
    DAY_MIN,
    SCORE_MAX,
    YEAR_MAX,
    YEAR_MIN,
    CleanError,
    Value,
    clean_value,
    name_expr,
    text_expr,
    text_needs,
)
from cardbatch.ingest.columns import Column, ColumnSet, FieldType, HeaderMap
from cardbatch.ingest.errors import FieldIssue, RowReject, RowWarning
from cardbatch.ingest.formats.base import Chunk
from cardbatch.money import AMOUNT_FEN_MAX

LINE = "_line"
INDEX = "_i"
_RIC_CHECK = "10X98765432"
CARD_WIDTH = 19
# Region code + birth year -> valid (stdnum's table of counties and when they existed).
_REGION_YEAR_VALID: dict[str, bool] = {}

_DTYPES: dict[FieldType, type[pl.DataType]] = {
    FieldType.DATE: pl.Date,
    FieldType.AMOUNT: pl.Int64,
    FieldType.POSITIVE_AMOUNT: pl.Int64,
    FieldType.DAY: pl.Int64,
    FieldType.SCORE: pl.Int64,
}


def dtype_of(column: Column) -> type[pl.DataType]:
    return _DTYPES.get(column.type, pl.String)


@dataclass
class ChunkResult:
    """Accepted rows (typed, with ``_line`` and ``_i``), rejects by row index, warnings."""

    accepted: pl.DataFrame
    rejects: list[tuple[int, RowReject]] = field(default_factory=list)
    warnings: list[RowWarning] = field(default_factory=list)
    fast_rows: int = 0


def raw_frame(chunk: Chunk, columns: ColumnSet, header: HeaderMap) -> pl.DataFrame:
    """The chunk's cells by canonical column name (missing columns null), with line and index."""
    schema = {LINE: pl.Int64, INDEX: pl.Int64, **{c.name: pl.String for c in columns.columns}}
    base = pl.DataFrame({LINE: chunk.lines, INDEX: range(len(chunk))},
                        schema={LINE: pl.Int64, INDEX: pl.Int64})  # fmt: skip
    if chunk.cells is not None:
        cells = chunk.cells
        picked = {
            column.name: cells.list.get(header.positions[column.name], null_on_oob=True)
            if column.name in header.positions
            else pl.Series([None] * len(chunk), dtype=pl.String)
            for column in columns.columns
        }
        return base.with_columns(**picked).select(list(schema))
    data: dict[str, list[str] | list[None]] = {}
    for column in columns.columns:
        position = header.positions.get(column.name)
        if position is None:
            data[column.name] = [None] * len(chunk)
        else:
            data[column.name] = [row[position] for row in chunk.rows]
    strings = {column.name: pl.String for column in columns.columns}
    return base.with_columns(pl.DataFrame(data, schema=strings))


def validate_chunk(chunk: Chunk, columns: ColumnSet, header: HeaderMap) -> ChunkResult:
    """Validate one chunk: every row ends in ``accepted`` or in ``rejects``."""
    raw = raw_frame(chunk, columns, header)
    if chunk.issues:
        raw = raw.filter(~pl.col(INDEX).is_in(list(chunk.issues)))
    cleaned = raw.with_columns(_text_exprs(columns, raw))
    checked = cleaned.with_columns(_fast_exprs(columns, cleaned))
    ok = pl.all_horizontal([pl.col(f"ok:{c.name}") for c in columns.columns])
    value_cols = [LINE, INDEX, *(pl.col(f"v:{c.name}").alias(c.name) for c in columns.columns)]
    fast = checked.filter(ok).select(value_cols)
    slow = checked.filter(~ok)
    result = ChunkResult(accepted=fast, fast_rows=fast.height)
    for index, issue in sorted(chunk.issues.items()):
        result.rejects.append((index, RowReject(chunk.lines[index], (issue,))))
    slow_rows = _slow_path(chunk, columns, header, slow, result)
    if slow_rows:
        schema: dict[str, type[pl.DataType]] = {LINE: pl.Int64, INDEX: pl.Int64}
        schema.update({c.name: dtype_of(c) for c in columns.columns})
        extra = pl.DataFrame(slow_rows, schema=schema, orient="row")
        result.accepted = pl.concat([fast, extra]).sort(INDEX)
    return result


def _slow_path(
    chunk: Chunk, columns: ColumnSet, header: HeaderMap, slow: pl.DataFrame, result: ChunkResult
) -> list[tuple[Value, ...]]:
    """The scalar rules for rows the fast pass did not accept; returns the rows they accept.

    Fields that passed the fast checks keep their fast value (the same the scalar
    rules give); only the others go through the scalar rules.
    """
    accepted: list[tuple[Value, ...]] = []
    for checked in slow.iter_rows(named=True):
        index = checked[INDEX]
        known = {name: checked[f"v:{name}"] for name in columns.names if checked[f"ok:{name}"]}
        values, issues, warnings = validate_row(chunk.row(index), columns, header, known)
        line = chunk.lines[index]
        if issues:
            result.rejects.append((index, RowReject(line, tuple(issues))))
            continue
        result.warnings.extend(RowWarning(line, warning) for warning in warnings)
        accepted.append((line, index, *values))
    return accepted


def validate_row(
    row: list[str],
    columns: ColumnSet,
    header: HeaderMap,
    known: dict[str, Value] | None = None,
) -> tuple[list[Value], list[FieldIssue], list[FieldIssue]]:
    """The scalar rules for one row: typed values, issues (reject) and warnings.

    ``known`` holds values already checked (by the fast pass) for some columns.
    """
    values: list[Value] = []
    issues: list[FieldIssue] = []
    warnings: list[FieldIssue] = []
    for column in columns.columns:
        if known is not None and column.name in known:
            values.append(known[column.name])
            continue
        position = header.positions.get(column.name)
        raw = None if position is None else row[position]
        try:
            value, warning = clean_value(column, raw)
        except CleanError as exc:
            issues.append(FieldIssue(column.name, exc.code, exc.message))
            values.append(None)
            continue
        if warning is not None:
            warnings.append(FieldIssue(column.name, warning.code, warning.message))
        values.append(value)
    for group in columns.one_of:
        if all(values[columns.names.index(name)] is None for name in group):
            issues.append(FieldIssue(group[0], "required", f"give {' or '.join(group)}"))
    return values, issues, warnings


def _text_exprs(columns: ColumnSet, raw: pl.DataFrame) -> list[pl.Expr]:
    needs = text_needs(raw, list(columns.names))
    return [
        text_expr(name, half_width=needs[name][0], unquote=needs[name][1]) for name in columns.names
    ]


def _fast_exprs(columns: ColumnSet, cleaned: pl.DataFrame) -> list[pl.Expr]:
    """Per column ``ok:<name>`` (already canonical and valid) and ``v:<name>`` (typed value)."""
    exprs: list[pl.Expr] = []
    for column in columns.columns:
        text = pl.col(column.name)
        ok, value = _FAST[column.type](column, text, cleaned)
        present_ok = text.str.len_chars() <= column.chars_max
        missing_ok = pl.lit(not column.required)
        default = pl.lit(column.default, dtype=pl.String)
        if dtype_of(column) is not pl.String:
            default = pl.lit(None, dtype=dtype_of(column))
        exprs.append(
            pl.when(text.is_null()).then(missing_ok).otherwise(present_ok & ok.fill_null(False))
            .alias(f"ok:{column.name}")
        )  # fmt: skip
        exprs.append(
            pl.when(text.is_null()).then(default).otherwise(value).alias(f"v:{column.name}")
        )
    # one-of groups: at least one of the columns has a value
    for group in columns.one_of:
        any_present = pl.any_horizontal([pl.col(name).is_not_null() for name in group])
        first = group[0]
        exprs = [
            e if e.meta.output_name() != f"ok:{first}" else (e & any_present).alias(f"ok:{first}")
            for e in exprs
        ]
    return exprs


Fast = tuple[pl.Expr, pl.Expr]
FastCheck = Callable[[Column, pl.Expr, pl.DataFrame], Fast]


def _fast_code(column: Column, text: pl.Expr, frame: pl.DataFrame) -> Fast:
    return text.str.contains(r"^[0-9A-Za-z_\-]+$"), text


def _fast_text(column: Column, text: pl.Expr, frame: pl.DataFrame) -> Fast:
    return pl.lit(True), text


def _fast_name(column: Column, text: pl.Expr, frame: pl.DataFrame) -> Fast:
    spaced = frame.get_column(column.name).str.contains(r"[ \t\r\n]").any()
    return pl.lit(True), name_expr(column.name) if spaced else text


def _fast_phone(column: Column, text: pl.Expr, frame: pl.DataFrame) -> Fast:
    return text.str.contains(r"^1[3-9][0-9]{9}$"), text


def _fast_date(column: Column, text: pl.Expr, frame: pl.DataFrame) -> Fast:
    parsed = text.str.to_date("%Y-%m-%d", strict=False)
    shaped = text.str.contains(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
    in_range = parsed.dt.year().is_between(YEAR_MIN, YEAR_MAX)
    return shaped & parsed.is_not_null() & in_range, parsed


def _fast_amount(column: Column, text: pl.Expr, frame: pl.DataFrame) -> Fast:
    shaped = text.str.contains(r"^[0-9]{1,13}(\.[0-9]{1,2})?$")
    whole = text.str.extract(r"^([0-9]+)", 1).cast(pl.Int64, strict=False)
    frac = text.str.extract(r"\.([0-9]+)$", 1).fill_null("").str.pad_end(2, "0")
    amount_fen = whole * 100 + frac.cast(pl.Int64, strict=False)
    ok = shaped & (amount_fen <= AMOUNT_FEN_MAX)
    if column.type is FieldType.POSITIVE_AMOUNT:
        ok = ok & (amount_fen > 0)
    return ok, pl.when(shaped).then(amount_fen).otherwise(None)


def _fast_bounded(low: int, high: int, digits_max: int) -> FastCheck:
    def check(column: Column, text: pl.Expr, frame: pl.DataFrame) -> Fast:
        shaped = text.str.contains(f"^[0-9]{{1,{digits_max}}}$")
        value = pl.when(shaped).then(text.cast(pl.Int64, strict=False)).otherwise(None)
        return shaped & value.is_between(low, high), value

    return check


def _fast_choice(column: Column, text: pl.Expr, frame: pl.DataFrame) -> Fast:
    value = text.str.to_lowercase().replace_strict(
        dict(column.choices), default=None, return_dtype=pl.String
    )
    return value.is_not_null(), value


def _digit(text: pl.Expr, position: int) -> pl.Expr:
    return text.str.slice(position, 1).cast(pl.Int64, strict=False)


def _fast_card(column: Column, text: pl.Expr, frame: pl.DataFrame) -> Fast:
    shaped = text.str.contains(r"^[0-9]{16,19}$")
    padded = text.str.zfill(CARD_WIDTH)
    total = pl.lit(0, dtype=pl.Int64)
    for position in range(CARD_WIDTH):
        digit = _digit(padded, position)
        if (CARD_WIDTH - 1 - position) % 2 == 1:
            digit = pl.when(digit * 2 > 9).then(digit * 2 - 9).otherwise(digit * 2)
        total = total + digit
    return shaped & (total % 10 == 0), text


def _fast_ric(column: Column, text: pl.Expr, frame: pl.DataFrame) -> Fast:
    upper = text.str.to_uppercase()
    shaped = upper.str.contains(r"^[0-9]{17}[0-9X]$")
    # sum(digit * 2^(17-i)) mod 11, and 13 = 2 (mod 11): the body read in base 13 (as stdnum).
    body = pl.when(shaped).then(upper.str.slice(0, 17)).otherwise(None)
    total = 2 * body.str.to_integer(base=13, strict=False)
    check = (total % 11).replace_strict(
        {i: char for i, char in enumerate(_RIC_CHECK)}, default=None, return_dtype=pl.String
    )
    birth = upper.str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
    valid_prefixes = _valid_region_years(frame.get_column(column.name))
    ok = (
        shaped
        & (check == upper.str.slice(17, 1))
        & birth.is_not_null()
        & (birth.dt.year() >= YEAR_MIN)
        & upper.str.slice(0, 10).is_in(valid_prefixes)
    )
    return ok, upper


def _valid_region_years(values: pl.Series) -> list[str]:
    """The region+year prefixes among ``values`` that stdnum's county table knows."""
    prefixes = values.drop_nulls().str.to_uppercase().str.slice(0, 10).unique().to_list()
    valid = []
    for prefix in prefixes:
        known = _REGION_YEAR_VALID.get(prefix)
        if known is None:
            known = _region_year_valid(prefix)
            _REGION_YEAR_VALID[prefix] = known
        if known:
            valid.append(prefix)
    return valid


def _region_year_valid(prefix: str) -> bool:
    if len(prefix) != 10 or not prefix.isdigit():
        return False
    body = prefix + "0101000"
    try:
        stdnum_ric.get_birth_place(body + ric_check_char(body))
    except Exception:  # stdnum raises its own component errors
        return False
    return True


_FAST = {
    FieldType.CODE: _fast_code,
    FieldType.TEXT: _fast_text,
    FieldType.NAME: _fast_name,
    FieldType.RIC: _fast_ric,
    FieldType.PHONE: _fast_phone,
    FieldType.CARD: _fast_card,
    FieldType.DATE: _fast_date,
    FieldType.AMOUNT: _fast_amount,
    FieldType.POSITIVE_AMOUNT: _fast_amount,
    FieldType.DAY: _fast_bounded(DAY_MIN, DAY_MAX, 2),
    FieldType.SCORE: _fast_bounded(0, SCORE_MAX, 4),
    FieldType.CHOICE: _fast_choice,
}


def accepted_rows(result: ChunkResult) -> list[dict[str, object]]:
    """The accepted rows as dicts (for writers that take rows)."""
    return result.accepted.to_dicts()


__all__ = ["INDEX", "LINE", "ChunkResult", "date", "raw_frame", "validate_chunk", "validate_row"]
