"""``cardbatch report``: improvement reports (rates, retry schedule, rule impact), as CSV too."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cardbatch.cli.common import (
    DbOpt,
    JsonOpt,
    State,
    emit_json,
    fail,
    opened_store,
    out,
    state,
)
from cardbatch.cli.run import parse_day
from cardbatch.feedback import impact, retry
from cardbatch.feedback.history import facts_from_statements
from cardbatch.feedback.model import FeedbackError
from cardbatch.feedback.reports import (
    CATEGORY_COLUMNS,
    JOB_RATE_COLUMNS,
    RULE_VERSION_COLUMNS,
    rates,
)
from cardbatch.rules.load import RuleSetInvalid, parse_rules
from cardbatch.rules.model import RuleSet

app = typer.Typer(help="Improvement reports, printed or exported as CSV.", no_args_is_help=True)

CsvOpt = Annotated[Path | None, typer.Option("--csv", help="Also write the rows to this file.")]
REPORT_DAYS_DEFAULT = 30


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{path}: cannot read as UTF-8 text: {exc}")


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def _print(header: Sequence[str], rows: Sequence[Sequence[object]], title: str) -> None:
    table = Table(*header, title=title)
    for row in rows:
        table.add_row(*(str(v) for v in row))
    out.print(table)


@app.command("rates")
def rates_cmd(
    ctx: typer.Context,
    date_from: Annotated[str | None, typer.Option("--from", help="First business date.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last business date.")] = None,
    csv_path: CsvOpt = None,
    db: DbOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Failure and feedback rates per job, and feedback per category, per business date."""
    st = state(ctx, db, json_)
    last = parse_day(date_to, "--to") if date_to else date.today()
    first = parse_day(date_from, "--from") if date_from else last - timedelta(REPORT_DAYS_DEFAULT)
    with opened_store(st) as store:
        report = rates(store, first, last)
    job_rows = [r.as_row() for r in report.jobs]
    category_rows = [c.as_row() for c in report.categories]
    version_rows = [v.as_row() for v in report.rule_versions]
    if csv_path is not None:
        _write_csv(csv_path, JOB_RATE_COLUMNS, job_rows)
        _write_csv(csv_path.with_name(csv_path.stem + "_categories.csv"), CATEGORY_COLUMNS,
                   category_rows)  # fmt: skip
        _write_csv(csv_path.with_name(csv_path.stem + "_rule_versions.csv"), RULE_VERSION_COLUMNS,
                   version_rows)  # fmt: skip
    if st.json:
        emit_json({"jobs": [dict(zip(JOB_RATE_COLUMNS, r, strict=True)) for r in job_rows],
                   "categories": [dict(zip(CATEGORY_COLUMNS, r, strict=True))
                                  for r in category_rows],
                   "rule_versions": [dict(zip(RULE_VERSION_COLUMNS, r, strict=True))
                                     for r in version_rows]})  # fmt: skip
        return
    _print(JOB_RATE_COLUMNS, job_rows, "Failure and feedback rates per job")
    _print(CATEGORY_COLUMNS, category_rows, "Feedback per category")
    _print(RULE_VERSION_COLUMNS, version_rows, "Feedback per rule-set version")


@app.command("retry-schedule")
def retry_schedule(
    ctx: typer.Context,
    attempts: Annotated[Path, typer.Option("--attempts", help="Debit attempts CSV.")],
    payroll: Annotated[Path, typer.Option("--payroll", help="Payroll credits CSV.")],
    retries_max: Annotated[int, typer.Option("--retries-max")] = 2,
    window_days: Annotated[int, typer.Option("--window-days")] = 5,
    hold_days: Annotated[int, typer.Option("--hold-days")] = 1,
    csv_path: CsvOpt = None,
    json_: JsonOpt = False,
) -> None:
    """The auto-repayment retry schedule that would have recovered most declined debits."""
    st = state(ctx, None, json_)
    try:
        result = retry.recommend_schedule(
            retry.parse_attempts(_read(attempts), str(attempts)),
            retry.parse_payroll(_read(payroll), str(payroll)),
            retries_max=retries_max, window_days=window_days, hold_days=hold_days,
        )  # fmt: skip
    except FeedbackError as exc:
        fail(str(exc))
    header = ("retry_days", "cases_recovered", "amount_fen_recovered")
    rows = [(" ".join(map(str, s.retry_days)), s.cases_recovered, s.amount_fen_recovered)
            for s in result.ranked]  # fmt: skip
    if csv_path is not None:
        _write_csv(csv_path, header, rows)
    if st.json:
        emit_json({"cases": result.cases, "amount_fen_declined": result.amount_fen_declined,
                   "best": result.best, "ranked": result.ranked[:20],
                   "by_due_offset": result.by_due_offset,
                   "by_payroll_offset": result.by_payroll_offset})  # fmt: skip
        return
    best = result.best
    out.print(f"declined first attempts: {result.cases}; best retry days after the due date: "
              f"{list(best.retry_days)} recover {best.cases_recovered} "
              f"({best.amount_fen_recovered} fen)")  # fmt: skip
    _print(("days_from_due", "attempts", "succeeded", "success_pct"),
           [(r.offset_days, r.attempts, r.succeeded, r.success_pct) for r in result.by_due_offset],
           "Attempts by day relative to the due date")  # fmt: skip
    _print(header, rows[:10], "Best schedules")


def _stored_facts(st: State, first: str | None, last: str | None) -> list[impact.PeriodFact]:
    since = parse_day(first, "--from") if first else None
    until = parse_day(last, "--to") if last else None
    with opened_store(st) as store, store.read() as conn:
        found = facts_from_statements(conn, since, until)
    if not found:
        period = f" from {since or 'the first'} to {until or 'the last'}"
        fail(f"no stored statements{period}: run `cardbatch cycle run`, or give --facts FILE")
    return found


def _rules(path: Path) -> RuleSet:
    try:
        return parse_rules(_read(path), source=str(path))
    except RuleSetInvalid as exc:
        fail(str(exc))


@app.command("rule-impact")
def rule_impact(
    ctx: typer.Context,
    rules_a: Annotated[Path, typer.Option("--rules-a", help="Rules in force (TOML).")],
    rules_b: Annotated[Path, typer.Option("--rules-b", help="Candidate rules (TOML).")],
    facts: Annotated[
        Path | None,
        typer.Option("--facts", help="Statement-period facts CSV (default: stored statements)."),
    ] = None,
    first: Annotated[
        str | None, typer.Option("--from", help="Stored statements from this date.")
    ] = None,
    last: Annotated[
        str | None, typer.Option("--to", help="Stored statements up to this date.")
    ] = None,
    csv_path: CsvOpt = None,
    db: DbOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Interest and late fees under two rule versions over the same history, per segment.

    The history is the cycle's stored statements (``--from``/``--to``), or a facts CSV.
    """
    st = state(ctx, db, json_)
    if facts is not None and (first or last):
        fail("--facts and --from/--to: give either a facts file or a period of stored statements")
    try:
        if facts is not None:
            history = impact.parse_facts(_read(facts), str(facts))
        else:
            history = _stored_facts(st, first, last)
    except FeedbackError as exc:
        fail(str(exc))
    rows = [r.as_dict() for r in impact.compare(history, _rules(rules_a), _rules(rules_b))]
    if csv_path is not None:
        _write_csv(csv_path, impact.IMPACT_COLUMNS, [list(r.values()) for r in rows])
    if st.json:
        emit_json(rows)
        return
    _print(impact.IMPACT_COLUMNS, [list(r.values()) for r in rows], "Rule-change impact (B - A)")
