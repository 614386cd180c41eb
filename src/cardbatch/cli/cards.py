"""``cardbatch cards``: batch card opening (批量开卡) for approved applications."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cardbatch.cli.applications import DateOpt, DryRunOpt, business_date, opened
from cardbatch.cli.common import AsOpt, DbOpt, JsonOpt, actor_for, emit_json, out, state
from cardbatch.issuance.activation import activate
from cardbatch.issuance.service import CHUNK_ITEMS_DEFAULT, issue_batch

app = typer.Typer(help="Batch card opening (批量开卡).", no_args_is_help=True)


@app.command("issue")
def issue_cmd(
    ctx: typer.Context,
    batch: str,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the files.")] = Path(
        "out/cards"
    ),
    chunk: Annotated[int, typer.Option(help="Cards per transaction.")] = CHUNK_ITEMS_DEFAULT,
    dry_run: DryRunOpt = False,
    date_: DateOpt = None,
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Open inactive card accounts for the batch's approved applications; write the files."""
    st = state(ctx, db, json_, as_)
    with opened(st) as store:
        report = issue_batch(
            store,
            batch,
            business_date(date_),
            actor_for(st),
            out_dir,
            dry_run=dry_run,
            chunk_items=chunk,
        )
    if st.json:
        emit_json(report)
        return
    verb = "would issue" if dry_run else "issued"
    out.print(
        f"batch {batch}: {verb} {report.cards_issued} cards {report.by_product} "
        f"({report.cards_issued_before} issued earlier)"
    )
    if report.embossing_file:
        out.print(f"embossing file (mode 0600): {report.embossing_file}")
        out.print(f"result file: {report.result_file}")


@app.command("activate")
def activate_cmd(
    ctx: typer.Context, account_id: str, db: DbOpt = None, json_: JsonOpt = False, as_: AsOpt = None
) -> None:
    """Activate a newly issued card account (inactive -> active)."""
    st = state(ctx, db, json_, as_)
    with opened(st) as store:
        status = activate(store, account_id, actor_for(st))
    if st.json:
        emit_json({"account_id": account_id, "status": status})
    else:
        out.print(f"card account {account_id}: {status}")
