"""A small bank in a real store for screening tests: customers, card accounts, transactions."""

from __future__ import annotations

from datetime import UTC, date, datetime

from cardbatch.domain.identity import luhn_check_digit
from cardbatch.domain.records import CardAccount, Customer
from cardbatch.domain.transactions import TxnKind
from cardbatch.services.posting import TxnLine, post_transactions
from cardbatch.store import Store
from cardbatch.store.parties_repo import insert_card_accounts, insert_customers

NOW = datetime(2024, 6, 30, 22, 0, tzinfo=UTC)
# (customer id, name, resident id, city, credit score, product, limit, statement day, opened)
PEOPLE = [
    ("C1", "张三", "11010519491231002X", "北京", 700, "STD", 5_000_000, 5, date(2020, 1, 10)),
    ("C2", "李四", "360426199101010071", "上海", 640, "STD", 2_000_000, 15, date(2023, 3, 1)),
    ("C3", "王五", "110105198001010017", "上海", 660, "CCB_LIKE", 3_000_000, 25, date(2019, 7, 7)),
    ("C4", "=cmd", "110105199001010015", None, None, "STD", 0, 10, date(2024, 6, 1)),
]
# (txn id, account, kind, amount fen, business date)
TRANSACTIONS = [
    ("t1", "A1", TxnKind.PURCHASE, 1_000_000, date(2024, 5, 2)),
    ("t2", "A1", TxnKind.PAYMENT, 200_000, date(2024, 6, 20)),
    ("t3", "A2", TxnKind.PURCHASE, 1_900_000, date(2024, 5, 3)),
    ("t4", "A2", TxnKind.PAYMENT, 100_000, date(2024, 4, 1)),
    ("t5", "A3", TxnKind.CASH_ADVANCE, 600_000, date(2024, 6, 1)),
]


def card_number(index: int) -> str:
    body = f"622202{index:012d}"
    return body + luhn_check_digit(body)


def seed_bank(store: Store) -> None:
    customers = [Customer(c, n, ric, None, city, None, score)
                 for c, n, ric, city, score, *_ in PEOPLE]  # fmt: skip
    accounts = [
        CardAccount(f"A{i}", c, product, card_number(i), limit, day, opened_on=opened)
        for i, (c, _, _, _, _, product, limit, day, opened) in enumerate(PEOPLE, start=1)
    ]
    with store.write() as conn:
        insert_customers(conn, customers, "seed", NOW)
        insert_card_accounts(conn, accounts, "seed", NOW)
    for day in sorted({t[4] for t in TRANSACTIONS}):
        lines = [TxnLine(t, a, k, fen, d) for t, a, k, fen, d in TRANSACTIONS if d == day]
        post_transactions(store, lines, day, "seed", f"seed:{day}")
