"""A demo bank with one console user per role, shared by the console's tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from cardbatch.domain.roles import Role
from cardbatch.engine.job import params_hash
from cardbatch.engine.repo import RunIdentity
from cardbatch.rules import versions
from cardbatch.segments.service import define_segment
from cardbatch.services import users
from cardbatch.services.demo import DemoConfig, run_demo
from cardbatch.store import Store, open_store
from cardbatch.store.migrate import upgrade
from cardbatch.store.tables import card_accounts

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
    return ConsoleDemo(db_url, tokens, report.sample_account_id, card)


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
