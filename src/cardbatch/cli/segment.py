"""``cardbatch segment``: define, list, show and export named customer segments (客群)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cardbatch.cli.common import (
    EXIT_FOUND_WRONG,
    AsOpt,
    DbOpt,
    JsonOpt,
    actor_for,
    emit_json,
    err,
    fail,
    fail_on,
    opened_store,
    out,
    state,
)
from cardbatch.money import format_fen

if TYPE_CHECKING:  # the segments package pulls in Polars: imported where a command needs it
    from cardbatch.segments.service import Screening, Segment

app = typer.Typer(help="Customer screening: named segments and classification.",
                  no_args_is_help=True)  # fmt: skip

NameArg = Annotated[str, typer.Argument(help="Segment name.")]
DateOpt = Annotated[str, typer.Option("--date", help="Business date YYYY-MM-DD.")]


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"--date must be a date YYYY-MM-DD, got {text!r}")


def _segment_json(segment: Segment) -> dict[str, object]:
    return {"name": segment.name, "version_no": segment.version_no,
            "expression": segment.expression, "classify_by": list(segment.classify_by),
            "description": segment.description, "created_by": segment.created_by,
            "created_at": segment.created_at}  # fmt: skip


@app.command("define")
def define_cmd(
    ctx: typer.Context,
    name: NameArg,
    where: Annotated[str, typer.Option("--where", help="Screening expression.")],
    classify_by: Annotated[
        list[str] | None,
        typer.Option("--classify-by", help="FIELD or FIELD:EDGE,EDGE,... (repeatable)."),
    ] = None,
    description: Annotated[str, typer.Option(help="What the segment is for.")] = "",
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Check and store a segment; errors point at their column. Exit 1 when invalid."""
    from cardbatch.segments.classify import ClassifyError
    from cardbatch.segments.service import SegmentError, define_segment
    from cardbatch.segments.typecheck import ExprErrors

    st = state(ctx, db, json_, as_)
    actor = actor_for(st)
    try:
        with opened_store(st) as store, store.write() as conn:
            segment = define_segment(conn, name, where, classify_by or [], actor, description)
    except ExprErrors as exc:
        if st.json:
            emit_json({"defined": False, "errors": [
                {"column": e.column, "message": e.message} for e in exc.errors]})  # fmt: skip
        else:
            for error in exc.errors:
                err.print(escape(error.pointer(where)), markup=True)
        raise typer.Exit(EXIT_FOUND_WRONG) from None
    except (ClassifyError, SegmentError) as exc:
        fail(str(exc), EXIT_FOUND_WRONG)
    if st.json:
        emit_json({"defined": True, **_segment_json(segment)})
    else:
        out.print(f"segment {segment.name} version {segment.version_no} defined", markup=False)


@app.command("list")
def list_cmd(ctx: typer.Context, db: DbOpt = None, json_: JsonOpt = False) -> None:
    """The segments (latest version of each)."""
    from cardbatch.segments.service import list_segments

    st = state(ctx, db, json_)
    with opened_store(st) as store, store.read() as conn:
        found = list_segments(conn)
    if st.json:
        emit_json({"segments": [_segment_json(s) for s in found]})
        return
    table = Table(title="segments")
    for column in ("name", "version", "where", "classify by", "by"):
        table.add_column(column)
    for s in found:
        table.add_row(s.name, str(s.version_no), escape(s.expression),
                      escape(" ".join(s.classify_by)), s.created_by)  # fmt: skip
    out.print(table)


def _run(ctx: typer.Context, name: str, on_text: str, db: DbOpt, json_: bool) -> Screening:
    from cardbatch.segments.service import SegmentError, get_segment, screen

    st = state(ctx, db, json_)
    on = _parse_date(on_text)
    with opened_store(st) as store, fail_on(SegmentError), store.read() as conn:
        return screen(conn, get_segment(conn, name), on)


@app.command("show")
def show_cmd(
    ctx: typer.Context, name: NameArg, on: DateOpt, db: DbOpt = None, json_: JsonOpt = False
) -> None:
    """Screen a segment on a date: accounts, total balance, and a table by class."""
    st = state(ctx, db, json_)
    result = _run(ctx, name, on, db, st.json)
    if st.json:
        emit_json({"segment": result.segment.name, "version_no": result.segment.version_no,
                   "date": result.business_date, "accounts": result.count,
                   "balance_fen": result.balance_fen,
                   "by_class": result.by_class.to_dicts()})  # fmt: skip
        return
    out.print(f"segment {result.segment.name} on {result.business_date}: {result.count} "
              f"accounts, balance {format_fen(result.balance_fen)}", markup=False)  # fmt: skip
    table = Table(title=escape(result.segment.expression))
    for column in result.by_class.columns:
        table.add_column(
            column, justify="right" if column in ("accounts", "balance_fen") else "left"
        )
    for row in result.by_class.iter_rows(named=True):
        cells = [format_fen(v) if k == "balance_fen" else str(v) for k, v in row.items()]
        table.add_row(*(escape(c) for c in cells))
    out.print(table)


@app.command("export")
def export_cmd(
    ctx: typer.Context,
    name: NameArg,
    file: Annotated[Path, typer.Argument(help="CSV file to write.")],
    on: DateOpt,
    unmasked: Annotated[
        bool, typer.Option("--unmasked", help="Write names, IDs, phones and cards in clear.")
    ] = False,
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Write a segment's accounts to a CSV file (personal data masked by default; audited)."""
    from cardbatch.segments.service import record_export, write_export

    st = state(ctx, db, json_, as_)
    actor = actor_for(st)
    result = _run(ctx, name, on, db, st.json)
    try:
        rows = write_export(result, file, masked=not unmasked)
    except OSError as exc:
        fail(f"cannot write {file}: {exc}")
    with opened_store(st) as store, store.write() as conn:
        record_export(conn, result, file, rows, not unmasked, actor)
    if st.json:
        emit_json({"segment": result.segment.name, "file": str(file), "rows": rows,
                   "masked": not unmasked})  # fmt: skip
    else:
        out.print(f"wrote {rows} accounts to {file}" + ("" if unmasked else " (masked)"),
                  markup=False)  # fmt: skip
