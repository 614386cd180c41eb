"""``cardbatch import KIND FILE ...``: load the bank's export files, clean them, report every row.

Exit codes: 0 every row accepted; 1 some rows rejected (see the rejects file);
2 a whole-file error (missing column, undecodable, empty, too large, already
imported without ``--force``): one line on stderr, nothing written for that file.
Files are imported in the order given, each in its own transaction; the first
whole-file error stops the command.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from cardbatch.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FOUND_WRONG,
    AsOpt,
    DbOpt,
    JsonOpt,
    actor_for,
    emit_json,
    err,
    opened_store,
    out,
    state,
)
from cardbatch.ingest.columns import Kind
from cardbatch.ingest.errors import WholeFileError
from cardbatch.ingest.formats.base import FORMATS
from cardbatch.ingest.formats.encoding import ENCODINGS

if TYPE_CHECKING:
    from cardbatch.ingest.service import ImportResult

REJECTS_SHOWN_MAX = 10


def register(root: typer.Typer) -> None:
    root.command("import")(import_cmd)


def import_cmd(
    ctx: typer.Context,
    kind: Annotated[Kind, typer.Argument(help="What the files hold.")],
    files: Annotated[list[Path], typer.Argument(help="Files to import, in order.")],
    file_format: Annotated[
        str, typer.Option("--format", help=f"File format: {', '.join(FORMATS)}.")
    ] = "auto",
    encoding: Annotated[
        str, typer.Option("--encoding", help=f"Text encoding: {', '.join(ENCODINGS)}.")
    ] = "auto",
    business_date: Annotated[
        str | None, typer.Option("--date", help="Business date YYYY-MM-DD (default: today).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Import content that was imported before.")
    ] = False,
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Import customers, card accounts, deposit accounts or the day's transactions."""
    from cardbatch.ingest.service import import_file  # Polars loads only for this command
    from cardbatch.ingest.settings import settings_from_env

    st = state(ctx, db, json_, as_)
    day = _parse_date(business_date)
    try:
        settings = settings_from_env()
    except ValueError as exc:
        _stop(str(exc))
    actor = actor_for(st)
    results: list[ImportResult] = []
    code = 0
    with opened_store(st) as store:
        for path in files:
            try:
                result = import_file(store, kind.value, path, file_format=file_format,
                                     encoding=encoding, business_date=day, force=force,
                                     actor=actor, settings=settings)  # fmt: skip
            except WholeFileError as exc:
                _emit(results, st.json)
                _stop(exc.message)
            results.append(result)
            if result.refused:
                code = EXIT_BAD_INPUT
                break
            if result.rows_rejected:
                code = max(code, EXIT_FOUND_WRONG)
    _emit(results, st.json)
    if code == EXIT_BAD_INPUT:
        refused = results[-1]
        err.print(f"error: {refused.file}: already imported as import {refused.duplicate_of}; "
                  "use --force to import it again", markup=False)  # fmt: skip
    raise typer.Exit(code)


def _parse_date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        _stop(f"--date must be YYYY-MM-DD, got {text!r}")


def _stop(message: str) -> NoReturn:
    err.print(f"error: {message}", markup=False)
    raise typer.Exit(EXIT_BAD_INPUT)


def _emit(results: list[ImportResult], as_json: bool) -> None:
    if not results:
        return
    if as_json:
        summaries = [result.summary() for result in results]
        emit_json(summaries[0] if len(summaries) == 1 else summaries)
        return
    for r in results:
        name = Path(r.file).name
        if r.refused:
            out.print(f"{name}: refused, the same content is import {r.duplicate_of}",
                      markup=False)  # fmt: skip
            continue
        out.print(
            f"{name}: {r.kind} import {r.import_id}, {r.rows_total} rows: {r.rows_accepted} "
            f"accepted ({r.rows_inserted} new, {r.rows_updated} updated, {r.rows_unchanged} "
            f"unchanged), {r.rows_rejected} rejected, {r.rows_warned} warnings",
            markup=False,
        )
        if r.rejects_file:
            out.print(f"  rejects written to {r.rejects_file}", markup=False)
        for item in (r.rejects + r.warnings)[:REJECTS_SHOWN_MAX]:
            out.print(f"  line {item['line']} {item['field']} [{item['reason']}] "
                      f"{item['message']}", markup=False)  # fmt: skip
