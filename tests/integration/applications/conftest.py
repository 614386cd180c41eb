"""A small bank for the application tests: known customers, an employer, a block list."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cardbatch.applications.policies import approve_policy, load_policy
from cardbatch.applications.service import block, submit
from cardbatch.domain.records import (
    CardAccount,
    Customer,
    DepositAccount,
    Enterprise,
    EnterpriseKind,
)
from cardbatch.services.actor import utc_now
from cardbatch.store import Store
from cardbatch.store.parties_repo import (
    insert_card_accounts,
    insert_customers,
    insert_deposit_accounts,
    insert_enterprises,
)

ROOT = Path(__file__).resolve().parents[3]
POLICY_FILE = ROOT / "examples" / "decision" / "standard_policy.toml"
VALID = ROOT / "tests" / "data" / "valid" / "applications"
INVALID = ROOT / "tests" / "data" / "invalid" / "applications"
BUSINESS_DATE = date(2026, 3, 15)
MAKER, CHECKER = "maker", "checker"

EXISTING_WITH_CARD = "110105198001010163"  # 王芳: a customer holding a standard card
EXISTING_WITH_DEPOSIT = "110105198510100175"  # 李强: a customer with a deposit account
BLOCKED = "110105199202020186"
OPEN_ELSEWHERE = "110105199506060195"  # has an earlier open application for standard


@pytest.fixture(autouse=True)
def approvers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARDBATCH_APPROVERS", f"{CHECKER},boss")


def seed_bank(store: Store, tmp_path: Path) -> None:
    """Customers, an employer, the block list, an approved policy and one earlier batch."""
    now = utc_now()
    with store.write() as conn:
        insert_customers(
            conn,
            [
                Customer("C1", "王芳", EXISTING_WITH_CARD, "13700000001", "北京", date(1980, 1, 1)),
                Customer(
                    "C2", "李强", EXISTING_WITH_DEPOSIT, "13700000002", "北京", date(1985, 10, 10)
                ),
            ],
            "seed",
            now,
        )
        insert_deposit_accounts(
            conn,
            [
                DepositAccount("6217000000000000011", "李强", customer_id="C2"),
                DepositAccount("1000120000000000001", "星河科技有限公司", enterprise_id="E1"),
            ],
            "seed",
            now,
        )
        insert_card_accounts(
            conn,
            [
                CardAccount("CA1", "C1", "standard", "6225880000000017", 1_000_000, 5),
            ],
            "seed",
            now,
        )
        insert_enterprises(
            conn,
            [
                Enterprise(
                    "E1", "星河科技有限公司", EnterpriseKind.EMPLOYER, "1001", "1000120000000000001"
                ),
            ],
            "seed",
            now,
        )
    block(store, "ric", BLOCKED, "fraud case 2025-17", MAKER)
    version = load_policy(
        store, POLICY_FILE.read_text(encoding="utf-8"), str(POLICY_FILE), date(2026, 1, 1), MAKER
    )
    approve_policy(store, version.policy_id, CHECKER)
    earlier = tmp_path / "earlier.csv"
    earlier.write_text(
        "name,id_number,phone,employer,monthly_income,product,address\n"
        f"郑已申,{OPEN_ELSEWHERE},13800138012,,25000,standard,北京市13号\n",
        encoding="utf-8",
    )
    submit(store, earlier, date(2026, 3, 1), MAKER)


@pytest.fixture
def bank(store: Store, tmp_path: Path) -> Store:
    seed_bank(store, tmp_path)
    return store
