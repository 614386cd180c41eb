"""Failure and feedback rates per job and per category over time, from the engine and feedback.

- per job and business date: items read and failed by the job's runs, the
  failure share, the feedback records linked to items those runs posted, and
  feedback per 10,000 items;
- per category and business date: how many feedback records arrived, and how
  many are still open;
- per rule-set version and category: feedback on card accounts, by the version
  of the card product's rules in force on the feedback's business date
  (``none`` before any approved version).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection, and_, distinct, func, select
from sqlalchemy import Integer as Integer_

from cardbatch.feedback.model import Status
from cardbatch.rules.versions import version_in_force
from cardbatch.store import Store
from cardbatch.store.tables import card_accounts
from cardbatch.store.tables_engine import job_runs
from cardbatch.store.tables_feedback import feedback, feedback_links

JOB_RATE_COLUMNS = (
    "business_date", "job", "runs", "items", "failed", "failure_pct", "feedback",
    "feedback_per_10k_items",
)  # fmt: skip
CATEGORY_COLUMNS = ("business_date", "category", "feedback", "open")
RULE_VERSION_COLUMNS = ("rule_version", "category", "feedback")


@dataclass(frozen=True)
class JobRate:
    business_date: date
    job: str
    runs: int
    items: int
    failed: int
    feedback: int

    @property
    def failure_pct(self) -> str:
        return f"{100 * self.failed / self.items:.2f}" if self.items else "0.00"

    @property
    def feedback_per_10k_items(self) -> str:
        return f"{10_000 * self.feedback / self.items:.1f}" if self.items else "0.0"

    def as_row(self) -> list[object]:
        return [self.business_date.isoformat(), self.job, self.runs, self.items, self.failed,
                self.failure_pct, self.feedback, self.feedback_per_10k_items]  # fmt: skip


@dataclass(frozen=True)
class CategoryCount:
    business_date: date
    category: str
    feedback: int
    open: int

    def as_row(self) -> list[object]:
        return [self.business_date.isoformat(), self.category, self.feedback, self.open]


@dataclass(frozen=True)
class RuleVersionCount:
    rule_version: str
    category: str
    feedback: int

    def as_row(self) -> list[object]:
        return [self.rule_version, self.category, self.feedback]


@dataclass(frozen=True)
class RatesReport:
    jobs: list[JobRate]
    categories: list[CategoryCount]
    rule_versions: list[RuleVersionCount] = field(default_factory=list)


def rates(store: Store, date_from: date, date_to: date) -> RatesReport:
    with store.read() as conn:
        return RatesReport(_job_rates(conn, date_from, date_to),
                           _categories(conn, date_from, date_to),
                           _rule_versions(conn, date_from, date_to))  # fmt: skip


def _job_rates(conn: Connection, date_from: date, date_to: date) -> list[JobRate]:
    r = job_runs.c
    linked = dict(
        (((day, job), n) for day, job, n in conn.execute(
            select(r.business_date, r.job_name, func.count(distinct(feedback_links.c.feedback_id)))
            .join_from(feedback_links, job_runs, feedback_links.c.run_id == r.run_id)
            .where(r.business_date.between(date_from, date_to))
            .group_by(r.business_date, r.job_name)
        ))
    )  # fmt: skip
    rows = conn.execute(
        select(r.business_date, r.job_name, func.count(), func.sum(r.items_read),
               func.sum(r.items_failed))
        .where(r.business_date.between(date_from, date_to))
        .group_by(r.business_date, r.job_name)
        .order_by(r.business_date, r.job_name)
    )  # fmt: skip
    return [
        JobRate(day, job, int(runs), int(items or 0), int(failed or 0), linked.get((day, job), 0))
        for day, job, runs, items, failed in rows
    ]


def _categories(conn: Connection, date_from: date, date_to: date) -> list[CategoryCount]:
    f = feedback.c
    still_open = func.sum(
        func.cast(f.status.in_([Status.OPEN.value, Status.INVESTIGATING.value]), Integer_)
    )
    rows = conn.execute(
        select(f.business_date, f.category, func.count(), still_open)
        .where(and_(f.business_date >= date_from, f.business_date <= date_to))
        .group_by(f.business_date, f.category)
        .order_by(f.business_date, f.category)
    )
    return [CategoryCount(day, cat, int(n), int(o or 0)) for day, cat, n, o in rows]


def _rule_versions(conn: Connection, date_from: date, date_to: date) -> list[RuleVersionCount]:
    f, ca = feedback.c, card_accounts.c
    rows = conn.execute(
        select(ca.product_code, f.business_date, f.category, func.count())
        .join_from(feedback, card_accounts, ca.account_id == f.account_id)
        .where(f.business_date.between(date_from, date_to))
        .group_by(ca.product_code, f.business_date, f.category)
    )
    counts: Counter[tuple[str, str]] = Counter()
    labels: dict[tuple[str, date], str] = {}
    for product, day, category, n in rows:
        if (product, day) not in labels:
            version = version_in_force(conn, product, day)
            labels[(product, day)] = version.label if version is not None else f"{product}@none"
        counts[(labels[(product, day)], category)] += int(n)
    return [RuleVersionCount(v, c, n) for (v, c), n in sorted(counts.items())]
