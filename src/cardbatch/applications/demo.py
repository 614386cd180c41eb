"""The demo's application batch, card issuance, limit raise and due-reminder run.

Runs on the synthetic bank that ``cardbatch demo`` builds: an employer's staff apply in one
file (with a few dirty rows and existing customers), the example decision table is loaded by
the acting user and approved by ``demo-checker``, the batch is decided, one referral is reviewed,
cards are issued, the screened segment ``good_credit`` gets a limit raise (maker-checker), and
``owing_active`` is screened for the three-day due reminder. Reads the example policy
and templates from the repository's ``examples/`` folder.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from cardbatch.actions import limit_service
from cardbatch.actions.notice_service import notify
from cardbatch.actions.notices import find_template, load_template
from cardbatch.actions.targets import Target, targets_from_expression
from cardbatch.applications.deciding import decide_batch
from cardbatch.applications.policies import approve_policy, load_policy
from cardbatch.applications.review import review, review_queue
from cardbatch.applications.roles import granted
from cardbatch.applications.service import submit
from cardbatch.issuance.service import issue_batch
from cardbatch.services.synthetic import resident_id
from cardbatch.store import Store
from cardbatch.store.tables import customers, enterprises

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
CHECKER = "demo-checker"  # the second user of maker-checker; the acting user is the maker
APPLICANTS_N = 40
GOOD_CREDIT_SCORE_MIN = 780


@dataclass
class AppsDemoReport:
    business_date: date
    batch_id: str = ""
    rows_total: int = 0
    rows_rejected: int = 0
    by_outcome: dict[str, int] = field(default_factory=dict)
    by_reason: dict[str, int] = field(default_factory=dict)
    reviewed: str = ""
    cards_issued: int = 0
    result_file: str = ""
    limit_batch: str = ""
    limits_raised: int = 0
    reminders: int = 0
    reminder_file: str = ""


def run_apps_demo(store: Store, workdir: Path, business_date: date, actor: str) -> AppsDemoReport:
    checker = CHECKER if actor != CHECKER else CHECKER + "2"
    report = AppsDemoReport(business_date)
    folder = workdir / "applications"
    folder.mkdir(parents=True, exist_ok=True)
    policy_text = (EXAMPLES / "decision" / "standard_policy.toml").read_text(encoding="utf-8")
    with granted(checker):
        version = load_policy(
            store, policy_text, "standard_policy.toml", business_date - timedelta(days=30), actor
        )
        approve_policy(store, version.policy_id, checker)
        path = _write_batch(store, folder / f"staff_{business_date:%Y%m%d}.csv", business_date)
        submitted = submit(store, path, business_date, actor, channel="employer")
        decided = decide_batch(store, submitted.batch_id, business_date, actor)
        queue = review_queue(store, rows_max=1)
        if queue:
            review(store, queue[0].application_id, checker, approve=True, limit_fen=500_000)
            report.reviewed = queue[0].application_id
        issued = issue_batch(store, submitted.batch_id, business_date, actor, workdir / "cards")
        _raise_good_limits(store, business_date, actor, checker, report)
    report.batch_id, report.rows_total = submitted.batch_id, submitted.rows_total
    report.rows_rejected = submitted.rows_rejected
    report.by_outcome, report.by_reason = decided.by_outcome, decided.by_reason
    report.cards_issued, report.result_file = issued.cards_issued, issued.result_file or ""
    _remind(store, workdir, business_date, actor, report)
    return report


def _write_batch(store: Store, path: Path, business_date: date) -> Path:
    from faker import Faker  # imported here: it takes ~0.5 s and only synthetic data needs it

    rng, fake = random.Random(11), Faker("zh_CN")
    fake.seed_instance(11)
    with store.read() as conn:
        employer = conn.execute(
            select(enterprises.c.name).where(enterprises.c.kind == "employer").limit(1)
        ).scalar_one()
        existing = conn.execute(  # regions valid for every birth year (see stdnum)
            select(customers.c.name, customers.c.id_number, customers.c.phone)
            .where(customers.c.id_number.like("110105%"))
            .order_by(customers.c.customer_id)
            .limit(2)
        ).all()
    rows = []
    for i in range(APPLICANTS_N):
        birth = business_date - timedelta(days=rng.randrange(20 * 365, 60 * 365))
        income = rng.choice(("2500", "3500", "6000", "8800", "12000", "25000"))
        works_at = rng.choice((employer, employer, "", "个体经营"))
        rows.append(
            [
                fake.name(),
                resident_id(rng, "110105", birth, 900 + i),
                f"186{rng.randrange(10**8):08d}",
                works_at,
                income,
                "standard",
                fake.address(),
            ]
        )
    young = business_date.replace(year=business_date.year - 18) + timedelta(days=1)
    rows += [
        [
            fake.name(),
            resident_id(rng, "110105", young, 990),
            "18600000001",
            employer,
            "6000",
            "standard",
            "深圳市南山区",
        ],
        [
            fake.name(),
            rows[0][1][:-1] + ("0" if rows[0][1][-1] != "0" else "1"),
            "18600000002",
            employer,
            "6000",
            "standard",
            "深圳市福田区",
        ],
        rows[1],
        [
            fake.name(),
            resident_id(rng, "110105", date(1990, 1, 1), 991),
            "1860000",
            employer,
            "6000",
            "standard",
            "深圳市罗湖区",
        ],
    ]
    rows += [
        [n, i, p or "18600000003", employer, "15000", "standard", "深圳市"] for n, i, p in existing
    ]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["申请人姓名", "身份证号码", "手机号码", "单位名称", "月收入", "申请产品", "通讯地址"]
        )
        writer.writerows(rows)
    return path


GOOD_CREDIT = ("good_credit", f'credit_score >= {GOOD_CREDIT_SCORE_MIN} and status = "active"')
OWING = ("owing_active", 'status = "active" and balance_fen > 0')


def _segment_targets(
    store: Store, segment: tuple[str, str], business_date: date, actor: str
) -> list[Target]:
    """Screen the demo's segment expression on the business date (not stored as a segment)."""
    _, expression = segment
    with store.read() as conn:
        return targets_from_expression(conn, expression, business_date, actor)


def _raise_good_limits(
    store: Store, business_date: date, actor: str, checker: str, report: AppsDemoReport
) -> None:
    good = [t.account_id for t in _segment_targets(store, GOOD_CREDIT, business_date, actor)]
    batch = limit_service.propose(store, good, "+20% cap 50000", business_date, actor)
    limit_service.approve(store, batch.batch_id, checker)
    applied = limit_service.apply(store, batch.batch_id, actor)
    report.limit_batch, report.limits_raised = batch.batch_id, applied.by_status.get("applied", 0)


def _remind(
    store: Store, workdir: Path, business_date: date, actor: str, report: AppsDemoReport
) -> None:
    targets = _segment_targets(store, OWING, business_date, actor)
    template = load_template(find_template(EXAMPLES / "templates", "due_reminder"))
    done = notify(store, template, targets, business_date, actor, workdir / "notices")
    report.reminders, report.reminder_file = done.notices, done.notice_file or ""


def summary_lines(report: AppsDemoReport) -> list[str]:
    """What the demo prints about this part."""
    return [
        f"application batch {report.batch_id}: {report.rows_total} rows, "
        f"{report.rows_rejected} rejected at intake; decisions {report.by_outcome}; "
        f"reasons {report.by_reason}",
        f"manual review approved {report.reviewed or '(none referred)'}; cards issued "
        f"{report.cards_issued} (inactive); result file {report.result_file}",
        f"limit raise {report.limit_batch}: {report.limits_raised} accounts of segment "
        f"{GOOD_CREDIT[0]} +20% (cap 50,000), approved by a second user",
        f"due reminders (3 days ahead) for segment {OWING[0]}: {report.reminders} in "
        f"{report.reminder_file}",
    ]
