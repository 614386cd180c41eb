"""Notices: due reminders three days ahead and overdue notices by bucket, masked, recorded once."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import func, select

from cardbatch.actions.notice_service import notify
from cardbatch.actions.notices import find_template, load_template
from cardbatch.actions.targets import Target, targets_from
from cardbatch.domain.ledger import GL, Component, EntryKind, transfer
from cardbatch.domain.records import CardAccount, Customer
from cardbatch.rules.versions import approve_version, load_version
from cardbatch.services import ledger
from cardbatch.services.actor import utc_now
from cardbatch.store import Store
from cardbatch.store.parties_repo import insert_card_accounts, insert_customers
from cardbatch.store.tables_apps import notices

TEMPLATES = Path(__file__).resolve().parents[3] / "examples" / "templates"
DAY = date(2026, 3, 20)  # statement day 5 + 18 days = due 2026-03-23, three days ahead


@pytest.fixture
def cards(store: Store) -> Store:
    now = utc_now()
    with store.write() as conn:
        insert_customers(
            conn,
            [
                Customer("K1", "张三丰", "11010519491231002X", "13812345678", None, None),
                Customer("K2", "李四", "360426199101010071", "13987654321", None, None),
            ],
            "seed",
            now,
        )
        insert_card_accounts(
            conn,
            [
                CardAccount("N1", "K1", "standard", "6222021234567894", 1_000_000, 5),
                CardAccount("N2", "K2", "standard", "6222021234567811", 1_000_000, 12),
                CardAccount("N3", "K2", "gold", "6222021234567829", 1_000_000, 5),
            ],
            "seed",
            now,
        )
    purchase = transfer(
        "seed:N1",
        date(2026, 3, 1),
        EntryKind.OPENING,
        debit=("N1", Component.PURCHASE),
        credit=(GL.CARD_SETTLEMENT, Component.BALANCE),
        amount_fen=123_456,
        description="purchase",
    )
    ledger.post(store, [purchase], "seed")
    return store


def test_due_reminder_goes_to_accounts_due_in_three_days_with_something_due(
    cards: Store, tmp_path: Path
) -> None:
    template = load_template(find_template(TEMPLATES, "due_reminder"))
    targets = [Target("N1"), Target("N2"), Target("N3"), Target("GONE")]
    report = notify(cards, template, targets, DAY, "operator", tmp_path)
    assert report.notices == 1
    assert report.skipped_by_reason == {"not_due_in_window": 1, "not_found": 1, "nothing_due": 1}
    text = Path(report.notice_file or "").read_text(encoding="utf-8")
    assert text == (
        "N1|138****5678|【卡批银行】尊敬的张**，您尾号7894的信用卡本期应还1,234.56元，"
        "到期还款日2026年3月23日，请于到期日前存入足额款项。如已还款，请忽略本短信。\n"
    )


def test_overdue_notices_by_bucket_from_a_segment_frame(cards: Store, tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "account_id": ["N1", "N2", "N3"],
            "dpd": [12, 45, 75],
            "amount_due_fen": [50_000, 60_000, 70_000],
        }
    )
    m1 = load_template(find_template(TEMPLATES, "overdue_m1"))
    letters = load_template(find_template(TEMPLATES, "overdue_m2_m3"))
    sms = notify(cards, m1, targets_from(frame), DAY, "operator", tmp_path)
    mail = notify(cards, letters, targets_from(frame), DAY, "operator", tmp_path)
    assert (sms.notices, sms.skipped_by_reason) == (1, {"other_bucket": 2})
    assert (mail.notices, mail.skipped_by_reason) == (2, {"other_bucket": 1})
    body = Path(mail.notice_file or "").read_text(encoding="utf-8")
    assert "=== N2 ===" in body and "已逾期45天（M2）" in body and "已逾期75天（M3）" in body
    assert "622202******7811" in body and "6222021234567811" not in body
    again = notify(cards, letters, targets_from(frame), DAY, "operator", tmp_path)
    assert again.newly_recorded == 0
    assert Path(again.notice_file or "").read_text(encoding="utf-8") == body
    with cards.read() as conn:
        assert conn.execute(select(func.count()).select_from(notices)).scalar_one() == 3


def test_dry_run_writes_no_file_and_records_nothing(cards: Store, tmp_path: Path) -> None:
    template = load_template(find_template(TEMPLATES, "due_reminder"))
    out = tmp_path / "notices"
    report = notify(cards, template, [Target("N1")], DAY, "operator", out, dry_run=True)
    assert report.notices == 1 and report.notice_file is None and len(report.sample) == 1
    assert not out.exists()
    with cards.read() as conn:
        assert conn.execute(select(func.count()).select_from(notices)).scalar_one() == 0


def test_due_days_come_from_the_products_rules_in_force(cards: Store, tmp_path: Path) -> None:
    rules_text = (TEMPLATES.parent / "rules" / "ccb_like.toml").read_text(encoding="utf-8")
    with cards.write() as conn:
        version, _ = load_version(conn, rules_text, date(2026, 1, 1), "maker", "ccb_like.toml")
        approve_version(conn, version.product_code, version.version_no, "checker")
        insert_card_accounts(conn, [
            CardAccount("N9", "K1", "CCB_LIKE", "6222021234567837", 1_000_000, 5),
        ], "seed", utc_now())  # fmt: skip
    purchase = transfer("seed:N9", date(2026, 3, 1), EntryKind.OPENING,
                        debit=("N9", Component.PURCHASE),
                        credit=(GL.CARD_SETTLEMENT, Component.BALANCE), amount_fen=10_000,
                        description="purchase")  # fmt: skip
    ledger.post(cards, [purchase], "seed")
    template = load_template(find_template(TEMPLATES, "due_reminder"))
    on_22nd = notify(cards, template, [Target("N1"), Target("N9")], date(2026, 3, 22),
                     "operator", tmp_path, dry_run=True)  # fmt: skip
    assert on_22nd.notices == 1 and "2026年3月25日" in on_22nd.sample[0]  # 5th + 20 days
    by_rules = notify(cards, template, [Target("N9")], DAY, "operator", tmp_path, dry_run=True)
    forced = notify(cards, template, [Target("N9")], DAY, "operator", tmp_path, dry_run=True,
                    due_days=18)  # fmt: skip
    assert (by_rules.notices, forced.notices) == (0, 1)  # on the 20th: due 25th vs 23rd
