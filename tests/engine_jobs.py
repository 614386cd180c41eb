"""A test-only job over thousands of synthetic items, registered when this module is imported.

``synthetic-items`` has two steps. ``charge`` posts one purchase per item to one
of ``accounts`` test ledger accounts; some items fail (``synthetic_decline``
every 53rd, ``synthetic_limit`` on every 250th, which is the last item of a
chunk at chunk sizes dividing 250) and some are skipped (``zero_amount`` every
71st). ``settle`` runs after ``charge`` and moves each account's purchase
balance, as it stands after ``charge``, to the ``cash`` component: its
amounts depend on the state the first step left.

Test hooks (environment): ``CARDBATCH_TEST_EXPLODE_ITEM=<item key>`` raises
inside ``process`` on that item (a programmer error mid-chunk);
``CARDBATCH_TEST_SLOW_MS`` sleeps that long in every chunk;
``CARDBATCH_TEST_HOLD_FILE=<path>`` makes ``charge`` wait, holding the run lock
but no database lock, until that file is removed.

Subprocesses load it with ``CARDBATCH_JOB_MODULES=tests.engine_jobs``.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, select

from cardbatch.domain.ledger import GL, Component, transfer
from cardbatch.engine import (
    Item,
    ItemOutcome,
    Job,
    JobContext,
    OutputFile,
    Step,
    StepTotals,
    failed,
    register,
    skipped,
    succeeded,
)
from cardbatch.store.tables import balances
from cardbatch.store.tables_engine import item_results

JOB_NAME = "synthetic-items"
ACCOUNT_PREFIX = "TST:"
HOLD_S_MAX = 120


def _int_param(ctx: JobContext, name: str, default: int) -> int:
    return int(ctx.params.get(name, default))


def _hooks(chunk: Sequence[Item]) -> None:
    slow_ms = int(os.environ.get("CARDBATCH_TEST_SLOW_MS", "0"))
    if slow_ms:
        time.sleep(slow_ms / 1000)
    explode = os.environ.get("CARDBATCH_TEST_EXPLODE_ITEM")
    if explode and any(item.key == explode for item in chunk):
        raise RuntimeError(f"test hook: exploding on item {explode}")


def account_of(i: int, accounts: int) -> str:
    return f"{ACCOUNT_PREFIX}{i % accounts:04d}"


def _hold() -> None:
    """Wait while the file named by CARDBATCH_TEST_HOLD_FILE exists (at most HOLD_S_MAX)."""
    hold = os.environ.get("CARDBATCH_TEST_HOLD_FILE")
    deadline = time.monotonic() + HOLD_S_MAX
    while hold and os.path.exists(hold) and time.monotonic() < deadline:
        time.sleep(0.02)


def list_charges(_conn: Connection, ctx: JobContext) -> list[Item]:
    _hold()
    return [Item(f"i{i:06d}", i) for i in range(_int_param(ctx, "items", 3000))]


def process_charges(_conn: Connection, ctx: JobContext, chunk: Sequence[Item]) -> list[ItemOutcome]:
    _hooks(chunk)
    accounts = _int_param(ctx, "accounts", 40)
    seed = _int_param(ctx, "seed", 1)
    outcomes = []
    for item in chunk:
        i: int = item.payload
        amount_fen = random.Random(f"{seed}:{i}").randrange(1, 1_000_00)
        if i % 53 == 0:
            outcomes.append(failed(item, "synthetic_decline", f"item {i}", amount_fen))
        elif i % 250 == 249:
            outcomes.append(failed(item, "synthetic_limit", f"item {i}", amount_fen))
        elif i % 71 == 0:
            outcomes.append(skipped(item, "zero_amount", f"item {i}"))
        else:
            entry = transfer(
                ctx.entry_key(item.key), ctx.business_date, "purchase",
                (account_of(i, accounts), Component.PURCHASE),
                (GL.CARD_SETTLEMENT, Component.BALANCE), amount_fen, f"synthetic {i}", ctx.run_id,
            )  # fmt: skip
            outcomes.append(succeeded(item, entry, amount_fen, tally="purchase"))
    return outcomes


def list_accounts(_conn: Connection, ctx: JobContext) -> list[Item]:
    accounts = _int_param(ctx, "accounts", 40)
    return [Item(account_of(i, accounts), account_of(i, accounts)) for i in range(accounts)]


def process_settlements(
    conn: Connection, ctx: JobContext, chunk: Sequence[Item]
) -> list[ItemOutcome]:
    _hooks(chunk)
    b = balances.c
    query = select(b.account_id, b.balance_fen).where(
        b.account_id.in_([i.key for i in chunk]), b.component == Component.PURCHASE
    )
    held = dict(conn.execute(query).all())
    outcomes = []
    for item in chunk:
        amount_fen = held.get(item.key, 0)
        if amount_fen <= 0:
            outcomes.append(skipped(item, "nothing_to_settle"))
            continue
        entry = transfer(
            ctx.entry_key(f"settle:{item.key}"), ctx.business_date, "sweep",
            (item.key, Component.CASH), (item.key, Component.PURCHASE), amount_fen,
            "synthetic settlement", ctx.run_id,
        )  # fmt: skip
        outcomes.append(succeeded(item, entry, amount_fen, tally="settled"))
    return outcomes


def charges_add_up(
    _conn: Connection, _ctx: JobContext, totals: Mapping[str, StepTotals]
) -> list[str]:
    charge = totals["charge"]
    if charge.amount_fen != charge.debits_fen:
        return [f"charged {charge.amount_fen} fen but posted {charge.debits_fen} fen"]
    return []


def summary_file(conn: Connection, ctx: JobContext) -> list[OutputFile]:
    r = item_results.c
    query = select(r.status, r.reason_code).where(r.run_id == ctx.run_id).order_by(r.seq)
    rows = conn.execute(query).all()
    lines = [f"{status},{reason or ''}" for status, reason in rows]
    return [OutputFile("summary.csv", "status,reason\n" + "\n".join(lines) + "\n", len(lines))]


JOB = register(
    Job(
        name=JOB_NAME,
        description="Test-only: thousands of synthetic items in two dependent steps.",
        steps=(
            Step("charge", list_charges, process_charges),
            Step(
                "settle",
                list_accounts,
                process_settlements,
                after=("charge",),
                check_before=charges_add_up,
            ),
        ),
        outputs=summary_file,
    )
)
