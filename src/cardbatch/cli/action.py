"""``cardbatch action``: limit changes and notices for a list of accounts (later, a segment)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cardbatch.actions import limit_service
from cardbatch.actions.limit_service import LimitBatch
from cardbatch.actions.notice_service import notify
from cardbatch.actions.notices import find_template, load_template
from cardbatch.actions.targets import Target, read_targets_file, targets_from_segment
from cardbatch.cli.applications import DateOpt, DryRunOpt, business_date, opened
from cardbatch.cli.common import AsOpt, DbOpt, JsonOpt, actor_for, emit_json, fail, out, state
from cardbatch.money import format_fen
from cardbatch.store import Store

app = typer.Typer(help="Batch actions on accounts: limit changes, notices.", no_args_is_help=True)

AccountsOpt = Annotated[
    Path | None, typer.Option("--accounts", help="File of account ids (or CSV with account_id).")
]
AccountOpt = Annotated[list[str] | None, typer.Option("--account", help="An account id.")]
SegmentOpt = Annotated[str | None, typer.Option("--segment", help="A named segment.")]


def _targets(
    store: Store, accounts: Path | None, account: list[str] | None, segment: str | None, on: date
) -> list[Target]:
    found = read_targets_file(accounts) if accounts is not None else []
    found += [Target(a) for a in account or []]
    if segment is not None:
        try:
            with store.read() as conn:
                found += targets_from_segment(conn, segment, on)
        except ValueError as exc:  # unknown segment, or an expression that no longer checks
            fail(str(exc))
    if not found:
        fail("give the target accounts with --segment NAME, --accounts FILE or --account ID")
    return found


def _print_batch(batch: LimitBatch, rows_max: int = 20) -> None:
    out.print(
        f"limit batch {batch.batch_id} [{batch.status}] rule {batch.rule!r}: "
        f"{batch.by_status}, total change {format_fen(batch.increase_fen)}"
    )
    table = Table()
    for column in ("account", "before", "after", "status", "reason"):
        table.add_column(column)
    for i in batch.items[:rows_max]:
        table.add_row(
            i.account_id, format_fen(i.before_fen), format_fen(i.after_fen), i.status, i.reason
        )
    out.print(table)


@app.command("limit-change")
def limit_change_cmd(
    ctx: typer.Context,
    rule: Annotated[str, typer.Option(help='e.g. "+20% cap 50000".')],
    accounts: AccountsOpt = None,
    account: AccountOpt = None,
    segment: SegmentOpt = None,
    dry_run: DryRunOpt = False,
    date_: DateOpt = None,
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Propose new limits for the accounts, as one batch waiting for approval."""
    st = state(ctx, db, json_, as_)
    on = business_date(date_)
    with opened(st) as store:
        ids = [t.account_id for t in _targets(store, accounts, account, segment, on)]
        batch = limit_service.propose(store, ids, rule, on, actor_for(st), dry_run=dry_run)
    emit_json(batch) if st.json else _print_batch(batch)


def _limit_step(name: str, doc: str) -> None:
    def command(
        ctx: typer.Context, batch: str, db: DbOpt = None, json_: JsonOpt = False, as_: AsOpt = None
    ) -> None:
        st = state(ctx, db, json_, as_)
        with opened(st) as store:
            step = getattr(limit_service, name)
            result = (
                step(store, batch, actor_for(st)) if name != "get_batch" else step(store, batch)
            )
        emit_json(result) if st.json else _print_batch(result)

    command.__doc__ = doc
    app.command(f"limit-{name.replace('get_batch', 'show')}")(command)


_limit_step("approve", "Approve a proposed limit batch (approver role, not the proposer).")
_limit_step("reject", "Reject a proposed limit batch (approver role, not the proposer).")
_limit_step("apply", "Apply an approved limit batch; each change recorded before/after.")
_limit_step("revert", "Put every applied change of the batch back (approver role).")
_limit_step("get_batch", "Show a limit batch and its items.")


@app.command("notify")
def notify_cmd(
    ctx: typer.Context,
    template: Annotated[str, typer.Option(help="Template name, e.g. due_reminder.")],
    templates: Annotated[Path, typer.Option(help="Folder of template files.")] = Path(
        "examples/templates"
    ),
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the file.")] = Path(
        "out/notices"
    ),
    due_days: Annotated[
        int | None,
        typer.Option(help="Due date = statement + N days (default: the product's rules, else 18)."),
    ] = None,
    accounts: AccountsOpt = None,
    account: AccountOpt = None,
    segment: SegmentOpt = None,
    dry_run: DryRunOpt = False,
    date_: DateOpt = None,
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Write a notice file (SMS or letter lines, masked) for the selected accounts."""
    st = state(ctx, db, json_, as_)
    on = business_date(date_)
    with opened(st) as store:
        targets = _targets(store, accounts, account, segment, on)
        chosen = load_template(find_template(templates, template))
        report = notify(
            store,
            chosen,
            targets,
            on,
            actor_for(st),
            out_dir,
            dry_run=dry_run,
            due_days=due_days,
        )
    if st.json:
        emit_json(report)
        return
    verb = "would send" if dry_run else "wrote"
    out.print(
        f"{template} ({report.channel}): {verb} {report.notices} notices, skipped "
        f"{report.skipped_by_reason}"
    )
    if report.notice_file:
        out.print(f"notice file: {report.notice_file}")
