"""A demo bank with one console user per role, shared by the console's tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from cardbatch.domain.records import DepositStatus, EnterpriseKind
from cardbatch.domain.roles import Role
from cardbatch.engine.job import params_hash
from cardbatch.engine.repo import RunIdentity
from cardbatch.money import format_fen
from cardbatch.paybatch import SubmitRequest, submit
from cardbatch.rules import versions
from cardbatch.segments.service import define_segment
from cardbatch.services import users
from cardbatch.services.demo import DemoConfig, run_demo
from cardbatch.store import Store, open_store
from cardbatch.store.migrate import upgrade
from cardbatch.store.tables import card_accounts, deposit_accounts, enterprises

DEMO_CUSTOMERS = 30
DEMO_DAYS = 4
PASSWORD = "correct horse battery"
REPO = Path(__file__).resolve().parents[1]
SEGMENT = "everyone"
SCREEN_DATE = "2026-01-04"
# The card cycle's run of the demo's first night (job, date, hash of no parameters, first run).
DEMO_RUN_ID = RunIdentity("card-cycle", date(2026, 1, 1), params_hash({})).run_id(0)


@dataclass(frozen=True)
class ConsoleDemo:
    db_url: str
    tokens: dict[Role, str]  # one user per role, named after it
    card_account_id: str
    deposit_account_id: str
    batch_id: int  # a validated payroll batch the operator submitted


def build_console_demo(db_url: str, workdir: Path) -> ConsoleDemo:
    """Migrate, run the demo, add users ``operator``, ``approver``, ``auditor``, ``admin``."""
    store = open_store(db_url, require_schema=False)
    try:
        upgrade(store)
        config = DemoConfig(customers=DEMO_CUSTOMERS, days=DEMO_DAYS)
        report = run_demo(store, config, "demo", workdir=workdir)
        tokens = {
            role: users.add_user(store, role.value, role.value, "demo", password=PASSWORD).token
            for role in Role
        }
        card = accounts_pair(store, report.sample_account_id)
        load_rule_versions(store)
        with store.write() as conn:
            define_segment(conn, SEGMENT, "credit_score >= 0", ["statement_day"], "operator")
    finally:
        store.dispose()
    batch_id = submit_payroll(db_url, workdir / "payroll", "operator", amount_fen=400_000)
    return ConsoleDemo(db_url, tokens, report.sample_account_id, card, batch_id)


RULE_FILES = (REPO / "examples" / "rules" / "standard.toml",
              REPO / "tests" / "data" / "valid" / "rules_standard_lower_rate.toml")  # fmt: skip


def load_rule_versions(store: Store) -> None:
    """STD@1 and STD@2, pending, loaded by the operator (so the approver may approve them)."""
    for n, path in enumerate(RULE_FILES):
        with store.write() as conn:
            text = path.read_text(encoding="utf-8")
            effective = date(2026, 1, 1) + timedelta(days=n)
            versions.load_version(conn, text, effective, "operator", path.name)


def accounts_pair(store: Store, card_account_id: str) -> str:
    """The deposit account that repays ``card_account_id``."""
    with store.read() as conn:
        found = conn.execute(
            select(card_accounts.c.repayment_account_id).where(
                card_accounts.c.account_id == card_account_id
            )
        ).scalar_one()
    return str(found)


PAY_DAY = date(2026, 1, 5)
PAYROLL_ROWS = 6
PAYROLL_WRONG_NAME_ROW = 2  # 户名不符: a name that is not the holder's


def submit_payroll(db_url: str, folder: Path, actor: str, amount_fen: int) -> int:
    """Submit a payroll file (``amount_fen`` per row) as ``actor``, as the CLI does; its id."""
    path, employer = payroll_file(db_url, folder, amount_fen)
    store = open_store(db_url)
    try:
        outcome = submit(store, SubmitRequest(path, "payroll", employer, PAY_DAY), actor)
    finally:
        store.dispose()
    assert outcome.rejection is None, outcome.rejection
    return outcome.batch_id


def payroll_file(db_url: str, folder: Path, amount_fen: int = 500_000) -> tuple[Path, str]:
    """A pipe-format payroll file of the demo's first employer: (path, employer account).

    Files with different ``amount_fen`` differ, so each can be submitted once."""
    e, d = enterprises.c, deposit_accounts.c
    store = open_store(db_url)
    try:
        with store.read() as conn:
            employer, unit_no = conn.execute(
                select(e.settlement_account_id, e.unit_no)
                .where(e.kind == EnterpriseKind.EMPLOYER)
                .order_by(e.enterprise_id)
            ).first() or (None, None)
            people = conn.execute(
                select(d.account_id, d.holder_name)
                .where(d.customer_id.is_not(None), d.status == DepositStatus.ACTIVE)
                .order_by(d.account_id)
                .limit(PAYROLL_ROWS)
            ).all()
    finally:
        store.dispose()
    assert employer is not None and len(people) == PAYROLL_ROWS
    total = format_fen(amount_fen * PAYROLL_ROWS, grouping=False)
    lines = [f"1|1|{PAY_DAY:%Y%m%d}|{unit_no}|1|1|{PAYROLL_ROWS}|{total}|"]
    for n, (account, name) in enumerate(people, 1):
        shown = "王小明" if n == PAYROLL_WRONG_NAME_ROW else name
        amount = format_fen(amount_fen, grouping=False)
        lines.append(f"{n:02d}|{shown}|{amount}|{account}|{unit_no}|1|1|01|")
    path = folder / f"payroll_{PAY_DAY:%Y%m%d}_{amount_fen}.txt"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    return path, str(employer)
