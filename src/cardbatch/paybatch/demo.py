"""The demo's payment-file day: a payroll file and a fee-collection file for the synthetic
bank, through submit, approve (another user), run and return files.

The payroll pays up to 60 customers from the first employer; rows 5, 17 and 33 carry a name
that is not the holder's (户名不符) and the accounts of rows 8 and 41 were closed by their
holders before pay day (账户已销户). The collection takes 120.00 from up to 40 further
customers for the first biller; rows 2, 11 and 29 have no mandate (无授权) and those holding
less than 120.00 fail 余额不足.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import select, update

from cardbatch.domain.records import DepositStatus, EnterpriseKind
from cardbatch.money import format_fen
from cardbatch.paybatch.batches import approve, show
from cardbatch.paybatch.mandates import add_mandate
from cardbatch.paybatch.returns import write_batch_returns
from cardbatch.paybatch.run import run_batch
from cardbatch.paybatch.submit import SubmitRequest, submit
from cardbatch.store import Store
from cardbatch.store.tables import deposit_accounts, enterprises

PAYROLL_ROWS = 60
COLLECTION_ROWS = 40
COLLECTION_FEE_FEN = 12_000
WRONG_NAME_ROWS = (5, 17, 33)  # 1-based rows whose name is not the holder's
CLOSED_ROWS = (8, 41)  # rows whose account the holder closed
NO_MANDATE_ROWS = (2, 11, 29)
PEOPLE_MIN = 10  # smaller demo banks get no payment-file day
MAKER, CHECKER = "demo-maker", "demo-checker"


@dataclass(frozen=True)
class DemoBatch:
    kind: str
    batch_id: int
    source: str
    status: str
    success_count: int
    success_total_fen: int
    failure_count: int
    failure_total_fen: int
    by_reason: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)


def run_payment_files(store: Store, workdir: Path, business_date: date) -> list[DemoBatch]:
    """Make, submit, approve, run and return a payroll and a collection file."""
    folder = workdir / "paybatch"
    folder.mkdir(parents=True, exist_ok=True)
    employer, biller, people = _parties(store)
    if employer is None or biller is None or len(people) < PEOPLE_MIN:
        return []
    split = len(people) * PAYROLL_ROWS // (PAYROLL_ROWS + COLLECTION_ROWS)
    payroll_people, collection_people = people[:split], people[split:]
    _close_accounts(store, [payroll_people[n - 1][0] for n in CLOSED_ROWS if n <= split])
    payroll = _payroll_file(folder, business_date, employer[1], payroll_people)
    for n, (account, _name) in enumerate(collection_people, 1):
        if n not in NO_MANDATE_ROWS:
            add_mandate(store, biller[0], account, MAKER, f"DEMO-MNDT-{n:04d}", business_date)
    collection = _collection_file(folder, business_date, collection_people)
    return [
        _lifecycle(store, folder, "payroll", payroll, employer[0], business_date),
        _lifecycle(store, folder, "collection", collection, biller[0], business_date),
    ]


def _parties(
    store: Store,
) -> tuple[tuple[str, str] | None, tuple[str, str] | None, list[tuple[str, str]]]:
    e, d = enterprises.c, deposit_accounts.c
    with store.read() as conn:
        found = {
            kind: (account, unit)
            for kind, account, unit in reversed(
                conn.execute(
                    select(e.kind, e.settlement_account_id, e.unit_no).order_by(e.enterprise_id)
                ).all()
            )
        }
        people = conn.execute(
            select(d.account_id, d.holder_name)
            .where(d.customer_id.is_not(None), d.status == DepositStatus.ACTIVE)
            .order_by(d.account_id)
            .limit(PAYROLL_ROWS + COLLECTION_ROWS)
        ).all()
    return (
        found.get(EnterpriseKind.EMPLOYER),
        found.get(EnterpriseKind.BILLER),
        [(str(a), str(n)) for a, n in people],
    )


def _close_accounts(store: Store, accounts: list[str]) -> None:
    with store.write() as conn:
        conn.execute(
            update(deposit_accounts)
            .where(deposit_accounts.c.account_id.in_(accounts))
            .values(status=DepositStatus.CLOSED)
        )


def _payroll_file(folder: Path, day: date, unit_no: str, people: list[tuple[str, str]]) -> Path:
    amounts = [500_000 + (n * 7919) % 400_000 for n in range(1, len(people) + 1)]
    total = format_fen(sum(amounts), grouping=False)
    lines = [f"1|1|{day:%Y%m%d}|{unit_no}|1|1|{len(people)}|{total}|"]
    for n, ((account, name), amount_fen) in enumerate(zip(people, amounts, strict=True), 1):
        shown = "王小明" if n in WRONG_NAME_ROWS else name
        amount = format_fen(amount_fen, grouping=False)
        lines.append(f"{n:02d}|{shown}|{amount}|{account}|{unit_no}|1|1|01|")
    path = folder / f"payroll_{day:%Y%m%d}.txt"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk", errors="replace"))
    return path


def _collection_file(folder: Path, day: date, people: list[tuple[str, str]]) -> Path:
    fee = format_fen(COLLECTION_FEE_FEN, grouping=False)
    lines = ["账号,户名,金额,用途"]
    lines += [f"{account},{name},{fee},物业费" for account, name in people]
    total = format_fen(COLLECTION_FEE_FEN * len(people), grouping=False)
    lines.append(f"合计,{len(people)},{total},{day:%Y%m%d}")
    path = folder / f"collection_{day:%Y%m%d}.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _lifecycle(
    store: Store, folder: Path, kind: str, path: Path, party: str, day: date
) -> DemoBatch:
    outcome = submit(
        store,
        SubmitRequest(path, "payroll" if kind == "payroll" else "collection", party, day),
        MAKER,
    )
    if outcome.rejection is not None:
        return DemoBatch(kind, outcome.batch_id, path.name, outcome.status, 0, 0, 0, 0,
                         {outcome.rejection.code: 1})  # fmt: skip
    approve(store, outcome.batch_id, CHECKER)
    run_batch(store, outcome.batch_id, MAKER)
    files = write_batch_returns(store, outcome.batch_id, folder / "returns")
    summary = show(store, outcome.batch_id)
    s = files.summary
    return DemoBatch(
        kind, outcome.batch_id, path.name, summary.status, s.success_count, s.success_total_fen,
        s.failure_count, s.failure_total_fen,
        {key: int(info["rows"]) for key, info in summary.by_reason.items()},
        [str(p) for p in files.paths],
    )  # fmt: skip
