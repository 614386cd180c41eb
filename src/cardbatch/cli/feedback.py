"""``cardbatch feedback``: record, list, show, investigate, resolve, approve, correct, explain."""

from __future__ import annotations

import contextlib
from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from cardbatch.cli.common import (
    EXIT_FOUND_WRONG,
    AsOpt,
    DbOpt,
    JsonOpt,
    State,
    actor_for,
    emit_json,
    err,
    fail,
    fail_on,
    opened_store,
    out,
    state,
)
from cardbatch.cli.run import engine_errors, parse_day, print_progress, settings_for, show_report
from cardbatch.engine.calendar import current_business_date
from cardbatch.engine.runner import AlreadyCompleted
from cardbatch.feedback import explain as explain_mod
from cardbatch.feedback import service
from cardbatch.feedback.job import run_corrections
from cardbatch.feedback.model import (
    Category,
    Channel,
    CorrectionKind,
    FeedbackError,
    Status,
    parse_choice,
)
from cardbatch.money import format_fen

app = typer.Typer(help="Customer feedback, disputes and their corrections.", no_args_is_help=True)

DateOpt = Annotated[
    str | None, typer.Option("--date", help="Business date YYYY-MM-DD (default: the current).")
]


def feedback_errors() -> contextlib.AbstractContextManager[None]:
    return fail_on(FeedbackError)


def _day(st: State, text: str | None) -> date:
    if text is not None:
        return parse_day(text)
    with opened_store(st) as store, store.read() as conn:
        day = current_business_date(conn)
    if day is None:
        fail("--date is needed: no business date is set (cardbatch date set)")
    return day


@app.command("add")
def add(
    ctx: typer.Context,
    account: Annotated[str, typer.Option("--account", help="Card or deposit account id.")],
    channel: Annotated[str, typer.Option("--channel", help="call_centre|online|app|branch")],
    category: Annotated[str, typer.Option("--category", help="See docs/feedback.md.")],
    text: Annotated[str, typer.Option("--text", help="What the customer said.")],
    entry: Annotated[
        list[str] | None, typer.Option("--entry", help="Journal entry key it concerns.")
    ] = None,
    day: DateOpt = None,
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Record feedback; without --entry, the entries it concerns are found by category."""
    st = state(ctx, db, json_, as_)
    business_date = _day(st, day)
    with opened_store(st) as store, feedback_errors():
        record = service.add_feedback(
            store, account_id=account, channel=parse_choice(Channel, channel, "channel"),
            category=parse_choice(Category, category, "category"), text=text,
            business_date=business_date, actor=actor_for(st), entry_keys=entry or (),
        )  # fmt: skip
    _show(record, st.json)


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option("--status", help="open|investigating|...")] = None,
    account: Annotated[str | None, typer.Option("--account")] = None,
    db: DbOpt = None,
    json_: JsonOpt = False,
) -> None:
    """List feedback records."""
    st = state(ctx, db, json_)
    with feedback_errors():
        wanted = parse_choice(Status, status, "status").value if status else None
    with opened_store(st) as store:
        records = service.list_feedback(store, status=wanted, account_id=account)
    if st.json:
        emit_json(records)
        return
    table = Table("id", "date", "account", "channel", "category", "status", "links", "text")
    for r in records:
        table.add_row(str(r.feedback_id), r.business_date.isoformat(), r.account_id, r.channel,
                      r.category, r.status, str(len(r.links)), r.text[:40])  # fmt: skip
    out.print(table)


@app.command("show")
def show(ctx: typer.Context, feedback_id: int, db: DbOpt = None, json_: JsonOpt = False) -> None:
    """One feedback record with its linked entries and corrections."""
    st = state(ctx, db, json_)
    with opened_store(st) as store, feedback_errors():
        record = service.get_feedback(store, feedback_id)
    _show(record, st.json)


@app.command("investigate")
def investigate(
    ctx: typer.Context, feedback_id: int, db: DbOpt = None, json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:  # fmt: skip
    """Mark feedback as being investigated."""
    st = state(ctx, db, json_, as_)
    with opened_store(st) as store, feedback_errors():
        record = service.investigate(store, feedback_id, actor_for(st))
    _show(record, st.json)


@app.command("resolve")
def resolve(
    ctx: typer.Context,
    feedback_id: int,
    resolution: Annotated[str, typer.Option("--resolution", help="The answer given.")],
    reverse: Annotated[
        list[str] | None, typer.Option("--reverse", help="Entry key to reverse.")
    ] = None,
    waive: Annotated[
        list[str] | None, typer.Option("--waive", help="Interest or fee entry key to waive.")
    ] = None,
    reject: Annotated[bool, typer.Option("--reject", help="Not upheld.")] = False,
    day: DateOpt = None,
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Resolve (uphold, proposing corrections) or reject feedback."""
    st = state(ctx, db, json_, as_)
    wanted = [(CorrectionKind.REVERSAL, k) for k in reverse or []]
    wanted += [(CorrectionKind.WAIVER, k) for k in waive or []]
    if reject and wanted:
        fail("--reject takes no --reverse or --waive")
    business_date = _day(st, day) if wanted else date.min
    with opened_store(st) as store, feedback_errors():
        if reject:
            record = service.reject(store, feedback_id, resolution, actor_for(st))
        else:
            record = service.resolve(store, feedback_id, resolution, actor_for(st),
                                     corrections_wanted=wanted,
                                     business_date=business_date)  # fmt: skip
    _show(record, st.json)


@app.command("approve")
def approve(
    ctx: typer.Context, correction_id: int, db: DbOpt = None, json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:  # fmt: skip
    """Approve a proposed correction (a different user from the one who proposed it)."""
    st = state(ctx, db, json_, as_)
    with opened_store(st) as store, feedback_errors():
        correction = service.approve_correction(store, correction_id, actor_for(st))
    if st.json:
        emit_json(correction)
    else:
        out.print(f"correction {correction.correction_id} approved by {correction.approved_by}")


@app.command("corrections")
def corrections(
    ctx: typer.Context, day: DateOpt = None, db: DbOpt = None, json_: JsonOpt = False
) -> None:
    """List corrections (all, or those of one business date)."""
    st = state(ctx, db, json_)
    business_date = parse_day(day) if day else None
    with opened_store(st) as store:
        rows = service.list_corrections(store, business_date)
    if st.json:
        emit_json(rows)
        return
    table = Table("id", "feedback", "kind", "target", "amount", "date", "status", "by", "approved")
    for c in rows:
        table.add_row(str(c.correction_id), str(c.feedback_id), c.kind, c.target_key,
                      format_fen(c.amount_fen), c.business_date.isoformat(), c.status,
                      c.requested_by, c.approved_by or "")  # fmt: skip
    out.print(table)


@app.command("run-corrections")
def run_corrections_cmd(
    ctx: typer.Context,
    day: DateOpt = None,
    chunk_size: Annotated[int | None, typer.Option("--chunk-size")] = None,
    progress: Annotated[bool, typer.Option("--progress")] = False,
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Post the approved corrections of a business date, as the ``corrections`` job."""
    st = state(ctx, db, json_, as_)
    business_date = _day(st, day)
    settings = settings_for(chunk_size=chunk_size)
    with opened_store(st) as store, engine_errors(), feedback_errors():
        try:
            report = run_corrections(store, business_date, actor_for(st), settings,
                                     print_progress if progress else None)  # fmt: skip
        except AlreadyCompleted as exc:
            if st.json:
                emit_json({"status": "already_completed", "message": str(exc)})
            else:
                err.print(str(exc), markup=False)
            return
    show_report(report, st.json)
    if report.status != "completed":
        raise typer.Exit(EXIT_FOUND_WRONG)


@app.command("explain")
def explain(ctx: typer.Context, feedback_id: int, db: DbOpt = None, json_: JsonOpt = False) -> None:
    """What happened to the entries a feedback record concerns: run, item, postings, rules."""
    st = state(ctx, db, json_)
    with opened_store(st) as store, feedback_errors():
        story = explain_mod.explain(store, feedback_id)
    if st.json:
        emit_json(story)
        return
    _show(story.feedback, False)
    for e in story.entries:
        run = e.run or {}
        item = e.item or {}
        out.print(f"\n[bold]{e.entry_key}[/bold] {e.business_date} {e.kind} {e.description}")
        out.print(f"  run {run.get('run_id', '-')} job {run.get('job', '-')} "
                  f"status {run.get('status', '-')}; rules {e.rule_version or '-'}")  # fmt: skip
        if item:
            out.print(f"  item {item['step']}/{item['item_key']} {item['status']} "
                      f"{item['reason_code'] or ''} {format_fen(item['amount_fen'])}")  # fmt: skip
        for p in e.postings:
            out.print(f"  {p['account_id']:<20} {p['component']:<10} "
                      f"{format_fen(p['amount_fen']):>14}")  # fmt: skip
        for c in e.corrected_by:
            out.print(f"  corrected by {c['entry_key']} ({c['kind']}, {c['business_date']}, "
                      f"run {c['run_id']})")  # fmt: skip


def _show(record: service.FeedbackRecord, as_json: bool) -> None:
    if as_json:
        emit_json(record)
        return
    out.print(f"feedback {record.feedback_id}: {record.category} via {record.channel} on "
              f"{record.account_id}, {record.status} ({record.business_date})")  # fmt: skip
    out.print(f"  text: {record.text}")
    if record.resolution:
        out.print(f"  resolution by {record.resolved_by}: {record.resolution}")
    for link in record.links:
        out.print(f"  concerns {link.entry_key} (entry {link.entry_id}, run {link.run_id or '-'}"
                  f", item {link.item_key or '-'})")  # fmt: skip
    for c in record.corrections:
        out.print(f"  correction {c.correction_id}: {c.kind} of {c.target_key} "
                  f"{format_fen(c.amount_fen)} on {c.business_date}, {c.status}")  # fmt: skip
