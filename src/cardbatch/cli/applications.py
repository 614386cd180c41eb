"""``cardbatch applications``: submit files, decision policy versions, decide, review."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cardbatch.actions.limits import RuleError
from cardbatch.actions.notices import TemplateError
from cardbatch.actions.targets import TargetsError
from cardbatch.applications.deciding import CHUNK_ITEMS_DEFAULT, POLICY_CODE_DEFAULT, decide_batch
from cardbatch.applications.policies import approve_policy, list_policies, load_policy
from cardbatch.applications.policy import PolicyError, parse_policy
from cardbatch.applications.reader import ApplicationFileError
from cardbatch.applications.review import review, review_queue
from cardbatch.applications.roles import NotAllowed
from cardbatch.applications.service import CHANNEL_DEFAULT, batch_summary, block, submit
from cardbatch.cli.common import (
    AsOpt,
    DbOpt,
    JsonOpt,
    State,
    actor_for,
    emit_json,
    fail,
    fail_on,
    opened_store,
    out,
    state,
)
from cardbatch.domain.identity import IdentityError
from cardbatch.money import MoneyError, format_fen, parse_yuan
from cardbatch.store import Store

app = typer.Typer(
    help="Batch application intake (批量进件): submit, decide, review.", no_args_is_help=True
)
policy_app = typer.Typer(help="Decision policy versions (maker-checker).", no_args_is_help=True)
app.add_typer(policy_app, name="policy")

DateOpt = Annotated[
    str | None, typer.Option("--date", help="Business date YYYY-MM-DD (default: today).")
]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Compute and report; write nothing.")]
OPERATOR_ERRORS = (
    ApplicationFileError,
    PolicyError,
    NotAllowed,
    RuleError,
    TemplateError,
    TargetsError,
    IdentityError,
    MoneyError,
)


def business_date(text: str | None) -> date:
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"--date must be YYYY-MM-DD, got {text!r}")


@contextmanager
def opened(st: State) -> Iterator[Store]:
    """The store for a command; operator errors become one line on stderr and exit 2."""
    with opened_store(st) as store, fail_on(*OPERATOR_ERRORS):
        yield store


@app.command("submit")
def submit_cmd(
    ctx: typer.Context,
    file: Path,
    channel: Annotated[str, typer.Option(help="Intake channel.")] = CHANNEL_DEFAULT,
    date_: DateOpt = None,
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Read, clean and store an application file; refused rows go to a rejects file."""
    st = state(ctx, db, json_, as_)
    with opened(st) as store:
        result = submit(store, file, business_date(date_), actor_for(st), channel)
    if st.json:
        emit_json(result)
        return
    out.print(
        f"batch {result.batch_id}: {result.rows_total} rows, {result.rows_accepted} "
        f"accepted, {result.rows_rejected} rejected"
    )
    for r in result.rejects:
        out.print(f"  {r.code:<18} {r.field:<15} {r.message}")
    if result.rejects_file:
        out.print(f"rejects file: {result.rejects_file}")


@app.command("decide")
def decide_cmd(
    ctx: typer.Context,
    batch: str,
    dry_run: DryRunOpt = False,
    policy: Annotated[str, typer.Option(help="Policy code.")] = POLICY_CODE_DEFAULT,
    chunk: Annotated[int, typer.Option(help="Applications per transaction.")] = CHUNK_ITEMS_DEFAULT,
    date_: DateOpt = None,
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Decide the received applications of a batch with the policy in force."""
    st = state(ctx, db, json_, as_)
    with opened(st) as store:
        report = decide_batch(
            store,
            batch,
            business_date(date_),
            actor_for(st),
            dry_run=dry_run,
            policy_code=policy,
            chunk_items=chunk,
        )
    if st.json:
        emit_json(report)
        return
    verb = "would decide" if dry_run else "decided"
    out.print(
        f"batch {batch}: {verb} {len(report.items)} applications with policy "
        f"{report.policy_id}: {report.by_outcome}"
    )
    if report.by_reason:
        out.print(f"reasons: {report.by_reason}")


@app.command("review")
def review_cmd(
    ctx: typer.Context,
    application_id: str,
    approve: Annotated[bool, typer.Option("--approve", help="Approve.")] = False,
    limit: Annotated[str | None, typer.Option(help="Credit limit in yuan.")] = None,
    decline: Annotated[str | None, typer.Option(help="Decline with this reason.")] = None,
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Approve a referred application with a limit, or decline it (approver role)."""
    st = state(ctx, db, json_, as_)
    if approve == (decline is not None):
        fail("give either --approve --limit X or --decline REASON")
    with opened(st) as store:
        limit_fen = parse_yuan(limit) if limit is not None else None
        status = review(
            store,
            application_id,
            actor_for(st),
            approve=approve,
            limit_fen=limit_fen,
            reason=decline,
        )
    if st.json:
        emit_json({"application_id": application_id, "status": status})
    else:
        out.print(f"application {application_id}: {status}")


@app.command("queue")
def queue_cmd(
    ctx: typer.Context, db: DbOpt = None, json_: JsonOpt = False, as_: AsOpt = None
) -> None:
    """The referred applications waiting for manual review (masked)."""
    st = state(ctx, db, json_, as_)
    with opened(st) as store:
        items = review_queue(store)
    if st.json:
        emit_json(items)
        return
    table = Table(title="manual review queue")
    for column in ("application", "name", "resident ID", "product", "income", "score"):
        table.add_column(column)
    for i in items:
        table.add_row(
            i.application_id,
            i.name_masked,
            i.id_number_masked,
            i.product_code,
            format_fen(i.monthly_income_fen),
            str(i.score),
        )
    out.print(table)


@app.command("block")
def block_cmd(
    ctx: typer.Context,
    value: str,
    kind: Annotated[str, typer.Option(help="ric (resident ID) or phone.")] = "ric",
    reason: Annotated[str, typer.Option(help="Why.")] = "",
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Put a resident ID or phone on the block list."""
    st = state(ctx, db, json_, as_)
    if kind not in ("ric", "phone") or not reason:
        fail("--kind must be ric or phone, and --reason is required")
    with opened(st) as store:
        block(store, kind, value, reason, actor_for(st))
    if st.json:
        emit_json({"blocked": kind})
    else:
        out.print(f"{kind} added to the block list")


@policy_app.command("check")
def policy_check_cmd(file: Path) -> None:
    """Validate a decision table; exit 1 with every problem when it is invalid."""
    try:
        parse_policy(file.read_text(encoding="utf-8"), str(file))
    except PolicyError as exc:
        out.print(str(exc))
        raise typer.Exit(1) from None
    except OSError as exc:
        fail(f"{file}: {exc}")
    out.print(f"{file}: valid")


@policy_app.command("load")
def policy_load_cmd(
    ctx: typer.Context,
    file: Path,
    effective: Annotated[str, typer.Option(help="Effective date YYYY-MM-DD.")],
    db: DbOpt = None,
    json_: JsonOpt = False,
    as_: AsOpt = None,
) -> None:
    """Store a decision table as a new pending version."""
    st = state(ctx, db, json_, as_)
    if not file.is_file():
        fail(f"{file}: no such file")
    with opened(st) as store:
        version = load_policy(
            store,
            file.read_text(encoding="utf-8"),
            str(file),
            business_date(effective),
            actor_for(st),
        )
    if st.json:
        emit_json(version)
    else:
        out.print(
            f"policy {version.code} v{version.version} (id {version.policy_id}) loaded, "
            "pending approval"
        )


@policy_app.command("approve")
def policy_approve_cmd(
    ctx: typer.Context, policy_id: int, db: DbOpt = None, json_: JsonOpt = False, as_: AsOpt = None
) -> None:
    """Approve a pending version (a different user with the approver role)."""
    st = state(ctx, db, json_, as_)
    with opened(st) as store:
        version = approve_policy(store, policy_id, actor_for(st))
    if st.json:
        emit_json(version)
    else:
        out.print(f"policy {version.code} v{version.version} approved by {version.approved_by}")


@policy_app.command("list")
def policy_list_cmd(
    ctx: typer.Context, db: DbOpt = None, json_: JsonOpt = False, as_: AsOpt = None
) -> None:
    """Every version with its status."""
    st = state(ctx, db, json_, as_)
    with opened(st) as store:
        versions = list_policies(store)
    if st.json:
        emit_json(versions)
        return
    for v in versions:
        out.print(
            f"{v.policy_id:>4} {v.code} v{v.version} from {v.effective_from} {v.status} "
            f"(by {v.created_by}, approved by {v.approved_by or '-'})"
        )


@app.command("show")
def show_cmd(
    ctx: typer.Context, batch: str, db: DbOpt = None, json_: JsonOpt = False, as_: AsOpt = None
) -> None:
    """A batch: rows in its file and its applications by status."""
    st = state(ctx, db, json_, as_)
    with opened(st) as store:
        summary = batch_summary(store, batch)
    if st.json:
        emit_json(summary)
    else:
        out.print(
            f"batch {summary.batch_id} ({summary.file_name}, {summary.channel}, "
            f"{summary.business_date}, by {summary.created_by}): {summary.rows_total} rows, "
            f"{summary.rows_rejected} rejected; applications {summary.by_status}"
        )
