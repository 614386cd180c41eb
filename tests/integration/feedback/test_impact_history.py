"""Rule impact over the recorded history: facts made from the cycle's stored statements.

Two O1 cards (DOMAIN.md) through the nightly cycle to 2024-05-05: card 0 pays nothing
(interest 18.50 = 1,000.00 x 0.05 % x 37 days, late fee 10.00, DPD 12 on 05-05: M1),
card 1 pays its minimum 100.00 on the due date (interest 17.85, no fee, M0); their first
statements (04-05) carry no charge. Card 2 takes a 1,000.00 cash advance on 03-30 and pays
nothing: cash bears interest from its transaction date whatever was paid, 3.50 on 04-05
(7 days) and 15.00 on 05-05 (30 days), late fee 10.00 (5 % of 103.50 is under the floor).
Candidates: the daily rate lowered to 0.04 % (18.50 -> 14.80, 17.85 -> 14.28, 3.50 -> 2.80,
15.00 -> 12.00) and the late-fee floor raised to RMB 20.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from cardbatch.cli.app import app
from cardbatch.feedback import impact
from cardbatch.feedback.history import facts_from_statements
from cardbatch.rules.load import parse_rules
from cardbatch.rules.model import RuleSet
from cardbatch.store import Store
from cardbatch.store.tables_cycle import statements
from tests.e2e.cycle.bank import EXAMPLE, cycle_through, load_rules, open_cards, post

VALID = Path(__file__).parents[2] / "data" / "valid"
LOWER_RATE = VALID / "rules_standard_lower_rate.toml"
FLOOR_20 = VALID / "feedback" / "rules_standard_late_fee_floor_20.toml"


def _rules(path: Path) -> RuleSet:
    return parse_rules(path.read_text(encoding="utf-8"), source=str(path))


def test_impact_from_stored_statements(store: Store, db_url: str) -> None:
    load_rules(store, EXAMPLE.read_text(encoding="utf-8"), date(2024, 1, 1))
    unpaid, paid, cash = open_cards(store, statement_day=5, opened_on=date(2024, 3, 20), count=3)
    post(store, "p0", unpaid, "purchase", 100_000, date(2024, 3, 30))
    post(store, "c2", cash, "cash_advance", 100_000, date(2024, 3, 30))
    post(store, "p1", paid, "purchase", 100_000, date(2024, 3, 30))
    post(store, "pay1", paid, "payment", 10_000, date(2024, 4, 23))
    cycle_through(store, date(2024, 5, 5))

    with store.read() as conn:
        facts = facts_from_statements(conn)
        may = facts_from_statements(conn, date(2024, 5, 1), date(2024, 5, 5))
        charged = conn.execute(
            select(func.sum(statements.c.interest_fen), func.sum(statements.c.late_fee_fen))
        ).one()
    assert len(facts) == 6 and [f.account_id for f in may] == [unpaid, paid, cash]
    assert [(f.segment, f.balance_fen, f.days, f.unpaid_fen, f.minimum_unpaid_fen,
             f.new_cash_fen_days) for f in may] == [
        ("M1", 100_000 * 37, 1, 100_000, 10_000, 0),
        ("M0", 100_000 * 24 + 90_000 * 13, 1, 90_000, 0, 0),
        ("M1", 100_000 * 30, 1, 100_350, 10_350, 0),
    ]  # fmt: skip
    first_cash = next(f for f in facts if f.account_id == cash and f.period_end.month == 4)
    assert (first_cash.unpaid_fen, first_cash.new_cash_fen_days) == (0, 100_000 * 7)

    standard = _rules(EXAMPLE)
    rate = impact.compare(facts, standard, _rules(LOWER_RATE))
    total = rate[-1]
    # Under the rules it was billed with, the history gives back what the cycle charged.
    interest_a = 1850 + 1785 + 350 + 1500
    assert (total.interest_a_fen, total.late_fee_a_fen) == tuple(charged) == (interest_a, 2000)
    assert (total.interest_b_fen, total.interest_diff_fen) == (4388, 4388 - interest_a)
    assert (total.late_fee_diff_fen, total.customers_affected, total.periods) == (0, 3, 6)
    by_segment = {(r.segment, r.product_code): r for r in rate[:-1]}
    assert sorted(by_segment) == [("M0", "STD"), ("M1", "STD")]
    assert by_segment["M1", "STD"].interest_diff_fen == (1480 - 1850) + (1200 - 1500)
    assert by_segment["M0", "STD"].periods == 4

    floor = impact.compare(facts, standard, _rules(FLOOR_20))[-1]
    assert (floor.interest_diff_fen, floor.late_fee_a_fen, floor.late_fee_b_fen) == (0, 2000, 4000)
    assert floor.customers_affected == 2

    runner = CliRunner()
    args = ["--db", db_url, "report", "rule-impact", "--rules-a", str(EXAMPLE),
            "--rules-b", str(LOWER_RATE), "--json"]  # fmt: skip
    done = runner.invoke(app, [*args, "--from", "2024-05-01"])
    assert done.exit_code == 0, done.stderr
    assert json.loads(done.stdout)[-1]["interest_diff_fen"] == (1480 + 1428 + 1200) - (
        1850 + 1785 + 1500
    )
    none = runner.invoke(app, [*args, "--from", "2024-06-01"])
    assert none.exit_code == 2
    assert "no stored statements from 2024-06-01 to the last" in none.stderr
    both = runner.invoke(app, [*args, "--to", "2024-05-05", "--facts", str(EXAMPLE)])
    assert both.exit_code == 2 and "either a facts file" in both.stderr
