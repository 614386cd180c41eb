"""A realistic synthetic bank, made deterministically from a seed.

Customers get Faker ``zh_CN`` names, valid resident IDs (GB 11643 check
character, real region codes), mobile numbers and cities; each has a deposit
account (Luhn-valid debit card number) and a credit-card account (Luhn-valid
UnionPay number on a ``622588`` BIN) with a statement day and an
auto-repayment choice. Employers and billers have settlement accounts.
Daily activity is purchases, cash advances, refunds and counter payments.
Nothing here touches the store.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from faker import Faker

from cardbatch.domain.identity import (
    IdentityError,
    luhn_check_digit,
    normalize_ric,
    ric_check_char,
)
from cardbatch.domain.records import (
    AutopayMode,
    CardAccount,
    Customer,
    DepositAccount,
    Enterprise,
    EnterpriseKind,
)

# Region codes that appear in the national list (Beijing, Shanghai, Shenzhen, Hangzhou,
# Chengdu, Jiangxi, Wuhan, Xi'an), paired with their city names.
REGIONS = (
    ("110105", "北京"), ("310104", "上海"), ("440305", "深圳"), ("330106", "杭州"),
    ("510107", "成都"), ("360426", "九江"), ("420106", "武汉"), ("610113", "西安"),
)  # fmt: skip
MOBILE_PREFIXES = ("138", "139", "150", "158", "186", "189", "177", "135")
CARD_BIN = "622588"
DEBIT_BIN = "621700"
PRODUCT_CODE = "standard"
EMPLOYERS_N = 5
BILLERS_N = 2


@dataclass(frozen=True)
class Bank:
    customers: list[Customer]
    deposits: list[DepositAccount]
    cards: list[CardAccount]
    enterprises: list[Enterprise]
    opening_deposit_fen: dict[str, int]


@dataclass(frozen=True)
class Txn:
    """One line of the card switch's daily transaction file."""

    txn_id: str
    account_id: str
    kind: str  # purchase | cash_advance | refund | payment
    amount_fen: int
    business_date: date
    merchant: str


def resident_id(rng: random.Random, region: str, birth: date, seq: int) -> str:
    body = f"{region}{birth:%Y%m%d}{seq % 1000:03d}"
    return body + ric_check_char(body)


def _valid_identity(rng: random.Random, seq: int) -> tuple[str, str, date]:
    """A region, birth date and resident ID that the national region list accepts.

    A county code is only valid for people born after the county existed, so
    draw again until the whole number validates (a few draws at most).
    """
    while True:
        region, city = rng.choice(REGIONS)
        birth = date(1960, 1, 1) + timedelta(days=rng.randrange(0, 365 * 42))
        ric = resident_id(rng, region, birth, seq)
        try:
            normalize_ric(ric)
        except IdentityError:
            continue
        return ric, city, birth


def luhn_number(prefix: str, serial: int, length: int) -> str:
    body = f"{prefix}{serial:0{length - len(prefix) - 1}d}"
    return body + luhn_check_digit(body)


def build_bank(customers_n: int, seed: int, opened_on: date) -> Bank:
    """Customers with a deposit account and a card account each, plus employers and billers."""
    from faker import Faker  # imported here: it takes ~0.5 s and only synthetic data needs it

    rng = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    customers, deposits, cards, opening = [], [], [], {}
    for i in range(1, customers_n + 1):
        customer, deposit, card = _one_customer(rng, fake, i, opened_on)
        customers.append(customer)
        deposits.append(deposit)
        cards.append(card)
        opening[deposit.account_id] = rng.choice((0, 50_00, 800_00, 3_000_00, 12_000_00, 60_000_00))
    enterprises = []
    for j in range(1, EMPLOYERS_N + BILLERS_N + 1):
        kind = EnterpriseKind.EMPLOYER if j <= EMPLOYERS_N else EnterpriseKind.BILLER
        settlement = luhn_number("100012", j, 13)
        name = fake.company()
        enterprises.append(Enterprise(f"E{j:04d}", name, kind, f"{1000 + j}", settlement))
        deposits.append(DepositAccount(settlement, name, enterprise_id=f"E{j:04d}",
                                       opened_on=opened_on))  # fmt: skip
        opening[settlement] = 5_000_000_00
    return Bank(customers, deposits, cards, enterprises, opening)


def _one_customer(
    rng: random.Random, fake: Faker, i: int, opened_on: date
) -> tuple[Customer, DepositAccount, CardAccount]:
    ric, city, birth = _valid_identity(rng, i)
    phone = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
    name = fake.name()
    customer = Customer(f"C{i:08d}", name, ric, phone, city, birth, rng.randrange(520, 820))
    deposit = DepositAccount(luhn_number(DEBIT_BIN, i, 19), name, customer_id=customer.customer_id,
                             opened_on=opened_on)  # fmt: skip
    mode = rng.choices(list(AutopayMode), weights=(60, 30, 10))[0]
    card = CardAccount(
        account_id=f"CA{i:010d}",
        customer_id=customer.customer_id,
        product_code=PRODUCT_CODE,
        card_number=luhn_number(CARD_BIN, i, 16),
        credit_limit_fen=rng.choice((5_000, 10_000, 20_000, 30_000, 50_000)) * 100,
        statement_day=rng.randrange(1, 29),
        repayment_account_id=deposit.account_id,
        autopay_mode=mode,
        opened_on=opened_on,
    )
    return customer, deposit, card


# Daily probabilities per card account, and amount ranges in yuan.
_ACTIVITY = (
    ("purchase", 0.25, 10, 3_000),
    ("cash_advance", 0.02, 500, 5_000),
    ("refund", 0.01, 10, 300),
    ("payment", 0.04, 100, 5_000),
)
_MERCHANTS = ("超市", "餐饮", "加油站", "网购", "航空", "酒店", "医院", "ATM")


def day_transactions(bank: Bank, business_date: date, seed: int) -> list[Txn]:
    """The card switch's transaction file for one business date (deterministic)."""
    rng = random.Random(f"{seed}:{business_date.isoformat()}")
    txns: list[Txn] = []
    for card in bank.cards:
        for kind, probability, low_yuan, high_yuan in _ACTIVITY:
            if rng.random() >= probability:
                continue
            amount_fen = rng.randrange(low_yuan * 100, high_yuan * 100 + 1)
            seq = len(txns) + 1
            txns.append(
                Txn(f"T{business_date:%Y%m%d}{seq:07d}", card.account_id, kind, amount_fen,
                    business_date, rng.choice(_MERCHANTS))
            )  # fmt: skip
    return txns
