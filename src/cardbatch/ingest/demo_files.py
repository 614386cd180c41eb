"""Files for the demo: write a synthetic bank as export files, then load them with the importers.

So that ``make demo`` exercises the real import path: ``write_bank_files``
writes customers (UTF-8 CSV, Chinese headers), deposit accounts (GBK pipe file
with a trailing delimiter), card accounts (CSV, English headers) and one
transaction file per business date, each with a few deliberately dirty rows
(a bad check digit, an ID number repeated in the file, a bad phone, an unknown
customer or account, a repeated transaction id). ``load_bank_files`` imports
them in order and returns the results, whose rejects the demo reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from cardbatch.domain.identity import IdentityError, normalize_ric
from cardbatch.ingest.service import ImportResult, import_file
from cardbatch.money import format_fen
from cardbatch.services.synthetic import Bank, Txn
from cardbatch.store import Store


@dataclass(frozen=True)
class BankFiles:
    customers: Path
    deposits: Path
    accounts: Path
    transactions: dict[date, Path]


def write_bank_files(
    bank: Bank, folder: Path, transactions: dict[date, Sequence[Txn]], *, dirty: bool = True
) -> BankFiles:
    """Write the bank's export files into ``folder`` (created if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = BankFiles(folder / "customers.csv", folder / "deposits.txt", folder / "accounts.csv",
                      {})  # fmt: skip
    customer_lines = ["客户号,姓名,证件号码,手机号,城市,信用评分"] + [
        f"{c.customer_id},{c.name},{c.id_number},{c.phone or ''},{c.city or ''},"
        f"{'' if c.credit_score is None else c.credit_score}"
        for c in bank.customers
    ]
    deposit_lines = ["账号|户名|客户号|余额|状态|开户日期|"] + [
        f"{d.account_id}|{d.holder_name}|{d.customer_id or ''}|"
        f"{format_fen(bank.opening_deposit_fen.get(d.account_id, 0), grouping=False)}|"
        f"{d.status}|{d.opened_on or ''}|"
        for d in bank.deposits
    ]
    account_lines = [
        "account_id,customer_id,card_number,product_code,credit_limit,statement_day,"
        "repayment_account_id,autopay_mode,status,opened_on"
    ] + [
        f"{a.account_id},{a.customer_id},{a.card_number},{a.product_code},"
        f"{format_fen(a.credit_limit_fen, grouping=False)},{a.statement_day},"
        f"{a.repayment_account_id or ''},{a.autopay_mode},{a.status},{a.opened_on or ''}"
        for a in bank.cards
    ]
    if dirty and bank.customers:
        customer_lines += _dirty_customers(bank)
        account_lines.append("CA9999999999,C99999999,6225889999999999,standard,1000.00,5,,none,"
                             "active,")  # fmt: skip
    _write(files.customers, customer_lines, "utf-8")
    _write(files.deposits, deposit_lines, "gb18030")
    _write(files.accounts, account_lines, "utf-8")
    for business_date, txns in sorted(transactions.items()):
        path = folder / f"transactions_{business_date:%Y%m%d}.csv"
        lines = ["txn_id,account_id,txn_type,amount,txn_date,post_date,description"] + [
            f"{t.txn_id},{t.account_id},{t.kind},{format_fen(t.amount_fen, grouping=False)},"
            f"{t.business_date},{t.business_date},{t.merchant}"
            for t in txns
        ]
        if dirty and txns:
            lines.append(f"X{business_date:%Y%m%d}1,NOSUCHCARD,purchase,10.00,{business_date},"
                         f"{business_date},unknown card account")  # fmt: skip
            lines.append(lines[1])  # the same transaction twice in one file
        _write(path, lines, "utf-8")
        files.transactions[business_date] = path
    return files


def _dirty_customers(bank: Bank) -> list[str]:
    first = next((c for c in bank.customers if _valid_ric(c.id_number)), bank.customers[0])
    bad_check = first.id_number[:17] + ("0" if first.id_number[17] != "0" else "1")
    return [
        f"C99999991,错号,{bad_check},13800000000,北京,",
        f"C99999992,重复,{first.id_number},13800000001,北京,",
        "C99999993,电话,11010519491231002X,1380000,北京,",
    ]


def _valid_ric(number: str) -> bool:
    try:
        normalize_ric(number)
    except IdentityError:
        return False
    return True


def _write(path: Path, lines: list[str], encoding: str) -> None:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))


def load_bank_files(
    store: Store, files: BankFiles, actor: str, opened_on: date
) -> dict[str, list[ImportResult]]:
    """Import the files in order (customers, deposits, accounts, then each day's transactions)."""
    results: dict[str, list[ImportResult]] = {}
    for kind, path in (("customers", files.customers), ("deposits", files.deposits),
                       ("accounts", files.accounts)):  # fmt: skip
        results[kind] = [import_file(store, kind, path, business_date=opened_on, actor=actor)]
    results["transactions"] = [
        import_file(store, "transactions", path, business_date=day, actor=actor)
        for day, path in sorted(files.transactions.items())
    ]
    return results
