"""Issuing cards for the approved applications of a batch, chunk by chunk.

Each chunk is one transaction: serials are reserved from the BIN's counter, the
customer (when new), the card account (status ``inactive``), the issued-card
register row and the application's new status commit together. A crash loses
the whole chunk and its serials with it, so a re-run issues exactly the
applications left, with no duplicate and no gap. Keys are deterministic: the
customer id and card account id come from the application's sequence number.
The files are written afterwards from the store (see :mod:`.files`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import Connection, RowMapping, func, insert, select, update

from cardbatch.applications.policies import policy_by_id
from cardbatch.applications.policy import Policy, Product
from cardbatch.applications.service import ApplicationsError
from cardbatch.domain.identity import ric_birth_date
from cardbatch.domain.records import CardAccount, CardStatus, Customer
from cardbatch.issuance import files
from cardbatch.issuance.numbers import (
    card_number,
    counter_name,
    expiry_month,
    serial_max,
    serial_of,
    statement_day_for,
)
from cardbatch.issuance.serials import allocate, peek
from cardbatch.services import audit
from cardbatch.services.actor import utc_now
from cardbatch.store import Store
from cardbatch.store.parties_repo import insert_card_accounts, insert_customers
from cardbatch.store.tables import card_accounts, customers
from cardbatch.store.tables_apps import application_batches, applications, issued_cards

CHUNK_ITEMS_DEFAULT = 200
CHUNK_ITEMS_MAX = 10_000


@dataclass
class IssueReport:
    batch_id: str
    business_date: date
    dry_run: bool
    cards_issued: int = 0
    cards_issued_before: int = 0
    by_product: dict[str, int] = field(default_factory=dict)
    embossing_file: str | None = None
    result_file: str | None = None


def customer_id_for(seq: int) -> str:
    return f"CN{seq:010d}"


def card_account_id_for(seq: int) -> str:
    return f"CC{seq:010d}"


def issue_batch(
    store: Store,
    batch_id: str,
    business_date: date,
    actor: str,
    out_dir: Path,
    *,
    dry_run: bool = False,
    chunk_items: int = CHUNK_ITEMS_DEFAULT,
) -> IssueReport:
    """Open card accounts for every approved application of the batch, then write the files."""
    if not 1 <= chunk_items <= CHUNK_ITEMS_MAX:
        raise ApplicationsError(f"chunk size must be 1..{CHUNK_ITEMS_MAX}")
    report = IssueReport(batch_id, business_date, dry_run)
    with store.read() as conn:
        _require_batch(conn, batch_id)
        report.cards_issued_before = _issued_count(conn, batch_id)
        if dry_run:
            counts = conn.execute(
                select(applications.c.product_code, func.count())
                .where(applications.c.batch_id == batch_id, applications.c.status == "approved")
                .group_by(applications.c.product_code)
            ).all()
            report.by_product = {str(code): int(n) for code, n in sorted(counts)}
            report.cards_issued = sum(report.by_product.values())
            return report
    while True:
        with store.write() as conn:
            rows = _approved(conn, batch_id, chunk_items)
            if not rows:
                break
            issued = _issue_chunk(conn, rows, business_date, actor)
        for code, n in issued.items():
            report.by_product[code] = report.by_product.get(code, 0) + n
        report.cards_issued += sum(issued.values())
    with store.write() as conn:
        audit.record(conn, actor, "cards.issue", batch_id, issued=report.cards_issued)
    emboss, result = files.write_batch_files(store, batch_id, business_date, out_dir)
    report.embossing_file, report.result_file = str(emboss), str(result)
    return report


def _require_batch(conn: Connection, batch_id: str) -> None:
    found = conn.execute(
        select(application_batches.c.batch_id).where(application_batches.c.batch_id == batch_id)
    ).first()
    if found is None:
        raise ApplicationsError(f"no application batch {batch_id}")


def _issued_count(conn: Connection, batch_id: str) -> int:
    query = select(func.count()).where(issued_cards.c.batch_id == batch_id)
    return int(conn.execute(query).scalar_one())


def _approved(conn: Connection, batch_id: str, limit: int) -> list[RowMapping]:
    query = (
        select(applications)
        .where(applications.c.batch_id == batch_id, applications.c.status == "approved")
        .order_by(applications.c.seq)
        .limit(limit)
    )
    return [r._mapping for r in conn.execute(query)]


def _issue_chunk(
    conn: Connection, rows: Sequence[RowMapping], business_date: date, actor: str
) -> dict[str, int]:
    policies: dict[int, Policy] = {}
    by_product: dict[str, list[RowMapping]] = {}
    products: dict[str, Product] = {}
    for row in rows:
        policy_id = int(row["policy_id"])
        if policy_id not in policies:
            policies[policy_id] = policy_by_id(conn, policy_id)
        product = policies[policy_id].product(row["product_code"])
        if product is None:
            raise ApplicationsError(
                f"application {row['application_id']}: product "
                f"{row['product_code']} has no issuance settings"
            )
        products[row["product_code"]] = product
        by_product.setdefault(row["product_code"], []).append(row)
    for code, group in by_product.items():
        _issue_group(conn, products[code], group, business_date, actor)
    return {code: len(group) for code, group in by_product.items()}


def _issue_group(
    conn: Connection,
    product: Product,
    rows: Sequence[RowMapping],
    business_date: date,
    actor: str,
) -> None:
    name = counter_name(product.bin, product.card_length)
    first = allocate(conn, name, len(rows), lambda: first_free_serial(conn, product))
    if first + len(rows) - 1 > serial_max(product.bin, product.card_length):
        raise ApplicationsError(f"BIN {product.bin} has no serials left for {len(rows)} cards")
    now = utc_now()
    known = _known_customers(conn, [r["id_number"] for r in rows])
    new_customers: list[Customer] = []
    cards: list[CardAccount] = []
    register: list[dict[str, object]] = []
    for offset, row in enumerate(rows):
        seq = int(row["seq"])
        customer_id = known.get(row["id_number"]) or customer_id_for(seq)
        if row["id_number"] not in known:
            known[row["id_number"]] = customer_id
            new_customers.append(
                Customer(
                    customer_id,
                    row["name"],
                    row["id_number"],
                    row["phone"],
                    None,
                    ric_birth_date(row["id_number"]),
                )
            )
        card = _new_card(product, row, customer_id, first + offset, business_date)
        cards.append(card)
        register.append(
            {"card_number": card.card_number, "bin": product.bin, "serial": first + offset,
             "account_id": card.account_id, "application_id": row["application_id"],
             "batch_id": row["batch_id"],
             "expiry_month": expiry_month(business_date, product.validity_years),
             "issued_on": business_date, "created_at": now, "created_by": actor}
        )  # fmt: skip
        _mark_issued(conn, row["application_id"], customer_id, card.account_id)
    insert_customers(conn, new_customers, actor, now)
    insert_card_accounts(conn, cards, actor, now)
    conn.execute(insert(issued_cards), register)


def _new_card(
    product: Product, row: RowMapping, customer_id: str, serial: int, business_date: date
) -> CardAccount:
    """The card account for an application: inactive, limit as decided, no autopay yet."""
    seq = int(row["seq"])
    return CardAccount(
        account_id=card_account_id_for(seq), customer_id=customer_id, product_code=product.code,
        card_number=card_number(product.bin, product.card_length, serial),
        credit_limit_fen=int(row["credit_limit_fen"]),
        statement_day=statement_day_for(seq, product.statement_days),
        status=CardStatus.INACTIVE, opened_on=business_date,
    )  # fmt: skip


def _mark_issued(conn: Connection, application_id: str, customer_id: str, account_id: str) -> None:
    done = conn.execute(
        update(applications)
        .where(applications.c.application_id == application_id, applications.c.status == "approved")
        .values(status="issued", customer_id=customer_id, card_account_id=account_id)
    )
    if done.rowcount != 1:  # another run issued it meanwhile: roll the chunk back
        raise ApplicationsError(
            f"application {application_id} was issued by another run; run again"
        )


def _known_customers(conn: Connection, id_numbers: list[str]) -> dict[str, str]:
    query = select(customers.c.id_number, customers.c.customer_id).where(
        customers.c.id_number.in_(id_numbers)
    )
    return {r.id_number: r.customer_id for r in conn.execute(query)}


def first_free_serial(conn: Connection, product: Product) -> int:
    """Where a new BIN counter starts: above every number of that BIN and length on file."""
    pattern = f"{product.bin}%"
    highest = 0
    for table in (card_accounts, issued_cards):
        numbers = conn.execute(
            select(table.c.card_number).where(
                table.c.card_number.like(pattern),
                func.length(table.c.card_number) == product.card_length,
            )
        ).scalars()
        highest = max([highest, *(serial_of(n, product.bin) for n in numbers)])
    return highest + 1


def next_serial(store: Store, product: Product) -> int | None:
    with store.read() as conn:
        return peek(conn, counter_name(product.bin, product.card_length))
