"""The bank each payment-file sample runs against: the employer or biller, and the deposit
accounts, balances and mandates that give the outcomes in
tests/data/expected/payfiles/outcomes.toml (户名不符, 账户已销户, 余额不足, 无授权 ...).

Each sample has its own world (the samples reuse account numbers with different holders),
so every test builds exactly one world on a fresh database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from cardbatch.domain.ledger import GL, Component, EntryKind, transfer
from cardbatch.domain.records import DepositAccount, DepositStatus, Enterprise, EnterpriseKind
from cardbatch.money import format_fen
from cardbatch.paybatch.mandates import add_mandate
from cardbatch.services import ledger
from cardbatch.store import Store
from cardbatch.store.ledger_repo import account_balances
from cardbatch.store.parties_repo import insert_deposit_accounts, insert_enterprises

ACTIVE, FROZEN, CLOSED = DepositStatus.ACTIVE, DepositStatus.FROZEN, DepositStatus.CLOSED
OPENED = date(2009, 1, 1)
NOW = datetime(2024, 4, 15, 9, 0, tzinfo=UTC)
SETUP_USER = "setup"


@dataclass(frozen=True)
class Holder:
    """A deposit account: holder, status, funds (fen), whether the biller holds a mandate."""

    account: str
    holder: str
    status: DepositStatus = ACTIVE
    funds_fen: int = 0
    mandate: bool = False


@dataclass(frozen=True)
class World:
    kind: str  # payroll | collection
    unit_no: str
    party_account: str
    party_funds_fen: int
    holders: tuple[Holder, ...]


WORLDS: dict[str, World] = {
    "pipe_gbk_crlf_payroll_20090906.txt": World("payroll", "1046", "1046000000001", 2_000_000, (
        Holder("1000123800020", "客户01"),
        Holder("1000124600023", "客户二"),  # 户名不符
        Holder("1000125100017", "李四"),  # 李　四 in the file: full-width space
        Holder("1000125900019", "王五"),
        Holder("1000126700011", "赵六", CLOSED),
    )),
    "pipe_utf8_collection_20240415.txt": World("collection", "2088", "2088000000001", 0, (
        Holder("6222020000000001", "陈一", funds_fen=10_000, mandate=True),
        Holder("6222020000000002", "周二", funds_fen=10_000),  # 无授权
        Holder("6222020000000003", "吴三", funds_fen=5_000, mandate=True),  # 余额不足
        Holder("6222020000000004", "郑四", funds_fen=5_000, mandate=True),  # 0.00: 金额无效
    )),
    "csv_zh_headers_gbk_control_line_payroll.csv": World("payroll", "1046", "1046000000001",
                                                         5_000_000, (
        Holder("1000123800020", "客户01"),
        Holder("1000124600023", "客户02", FROZEN),
        Holder("1000125100017", "LI Lei"),  # ＬＩ　Ｌｅｉ in the file
    )),
    "csv_en_headers_utf8_declared_totals_collection.csv": World("collection", "2088",
                                                                "2088000000001", 0, (
        Holder("6222020000000001", "Chen Yi", funds_fen=1_000, mandate=True),  # 余额不足
        Holder("6222020000000002", "Zhou Er", funds_fen=4_550, mandate=True),
        Holder("6222020000000003", "Wu San", funds_fen=90_000, mandate=True),
        Holder("6222020000000004", "Zheng Si", funds_fen=90_000),  # 无授权
    )),
    "xlsx_zh_headers_control_line_payroll.xlsx": World("payroll", "1046", "1046000000001",
                                                       1_000_000, (
        Holder("1000123800020", "客户01"),
        Holder("1000125100017", '=HYPERLINK("x")'),  # 1000124600023 does not exist
    )),
    "pain001_payroll_20240415.xml": World("payroll", "3001", "1000999900001", 10_000_000, (
        Holder("6222020000000101", "张三"),
        Holder("6222020000000102", "李四", FROZEN),
        Holder("6222020000000103", "王五"),
        Holder("6222020000000104", "赵六"),  # 6222020000000105 does not exist
    )),
    "pain008_collection_20240415.xml": World("collection", "3002", "1000888800001", 0, (
        Holder("6222020000000101", "张三", funds_fen=5_800, mandate=True),
        Holder("6222020000000102", "李四", funds_fen=100, mandate=True),  # 余额不足
        Holder("6222020000000103", "王五", funds_fen=3_650, mandate=True),
        Holder("6222020000000104", "赵六", funds_fen=50_000),  # 无授权
    )),
}  # fmt: skip


def fund(store: Store, account: str, amount_fen: int, key: str) -> None:
    """Put money on a deposit account (a cash deposit at the counter)."""
    entry = transfer(f"test-fund:{key}", OPENED, EntryKind.DEPOSIT,
                     debit=(GL.COUNTER_CASH, Component.BALANCE),
                     credit=(account, Component.BALANCE), amount_fen=amount_fen)  # fmt: skip
    ledger.post(store, [entry], SETUP_USER)


def build_world(store: Store, world: World) -> None:
    """Create the enterprise, accounts, balances and mandates of ``world``."""
    party_kind = EnterpriseKind.EMPLOYER if world.kind == "payroll" else EnterpriseKind.BILLER
    accounts = [DepositAccount(world.party_account, "某某单位", ACTIVE, opened_on=OPENED)]
    accounts += [DepositAccount(h.account, h.holder, h.status, opened_on=OPENED)
                 for h in world.holders]  # fmt: skip
    with store.write() as conn:
        insert_deposit_accounts(conn, accounts, SETUP_USER, NOW)
        insert_enterprises(
            conn,
            [Enterprise(f"E{world.unit_no}", "某某单位", party_kind, world.unit_no,
                        world.party_account)],
            SETUP_USER, NOW,
        )  # fmt: skip
    if world.party_funds_fen:
        fund(store, world.party_account, world.party_funds_fen, world.party_account)
    for h in world.holders:
        if h.funds_fen:
            fund(store, h.account, h.funds_fen, h.account)
        if h.mandate:
            add_mandate(store, world.party_account, h.account, SETUP_USER)


def available_fen(store: Store, account: str) -> int:
    """What a deposit account holds (deposits are credit balances in the ledger)."""
    with store.read() as conn:
        return -sum(account_balances(conn, account).values())


# ----------------------------------------------------------------------------- numbered

UNIT = "5001"
EMPLOYER = "5001000000001"
DAY = date(2024, 4, 15)


def numbered_world(rows: int) -> World:
    """``rows`` employees; every 7th has another holder name, every 11th a closed account,
    every 13th a frozen one."""
    holders = []
    for n in range(1, rows + 1):
        name = f"员工{n:05d}" if n % 7 else f"别人{n:05d}"
        status = CLOSED if n % 11 == 0 else FROZEN if n % 13 == 0 else ACTIVE
        holders.append(Holder(f"62170000{n:08d}", name, status))
    return World("payroll", UNIT, EMPLOYER, 100_000_000, tuple(holders))


def numbered_amount_fen(n: int) -> int:
    return 100_000 + n * 137


def write_numbered_payroll(path: Path, rows: int) -> None:
    """The UTF-8 pipe payroll file that pays every employee of :func:`numbered_world`."""
    total_fen = sum(numbered_amount_fen(n) for n in range(1, rows + 1))
    lines = [f"1|1|{DAY:%Y%m%d}|{UNIT}|1|1|{rows}|{format_fen(total_fen, grouping=False)}|"]
    lines += [
        f"{n:05d}|员工{n:05d}|{format_fen(numbered_amount_fen(n), grouping=False)}|"
        f"62170000{n:08d}|{UNIT}|1|1|01|"
        for n in range(1, rows + 1)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def numbered_success_fen(rows: int) -> int:
    """What the employer pays out: every row but the wrong names, closed and frozen ones."""
    return sum(numbered_amount_fen(n) for n in range(1, rows + 1) if n % 7 and n % 11 and n % 13)
