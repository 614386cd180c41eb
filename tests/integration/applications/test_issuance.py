"""Card issuance: Luhn and BIN, unique across batches, files, and a crash in the middle."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cardbatch.applications.deciding import decide_batch
from cardbatch.applications.policy import parse_policy
from cardbatch.applications.service import ApplicationsError, batch_summary, submit
from cardbatch.domain.identity import luhn_valid
from cardbatch.issuance.activation import activate
from cardbatch.issuance.numbers import counter_name, serial_of
from cardbatch.issuance.serials import peek
from cardbatch.issuance.service import issue_batch
from cardbatch.store import Store, open_store
from cardbatch.store.tables import card_accounts
from cardbatch.store.tables_apps import applications, issued_cards
from tests.integration.applications.conftest import BUSINESS_DATE, MAKER, POLICY_FILE
from tests.integration.applications.factory import write_approvable

ISSUE_DATE = date(2026, 3, 16)
STANDARD = parse_policy(POLICY_FILE.read_text(encoding="utf-8")).product("standard")
assert STANDARD is not None
CRASH_APPLICATIONS = 400
CRASH_CHUNK = 2
KILLS = 3


def _approved_batch(store: Store, tmp_path: Path, name: str, count: int, first: int) -> str:
    path = write_approvable(tmp_path / f"{name}.csv", count, first)
    batch_id = submit(store, path, BUSINESS_DATE, MAKER).batch_id
    report = decide_batch(store, batch_id, BUSINESS_DATE, "operator")
    assert report.by_outcome == {"approve": count}
    return batch_id


def _numbers(store: Store) -> list[str]:
    with store.read() as conn:
        return list(conn.execute(select(issued_cards.c.card_number)).scalars())


def test_card_numbers_pass_luhn_carry_the_bin_and_stay_unique_across_batches(
    bank: Store, tmp_path: Path
) -> None:
    first = _approved_batch(bank, tmp_path, "first", 30, 0)
    second = _approved_batch(bank, tmp_path, "second", 25, 1000)
    issue_batch(bank, first, ISSUE_DATE, "operator", tmp_path / "out", chunk_items=7)
    issue_batch(bank, second, ISSUE_DATE, "operator", tmp_path / "out", chunk_items=7)
    numbers = _numbers(bank)
    assert len(numbers) == 55 == len(set(numbers))
    assert all(luhn_valid(n) and n.startswith(STANDARD.bin) and len(n) == 16 for n in numbers)
    serials = sorted(serial_of(n, STANDARD.bin) for n in numbers)
    # the seed bank already holds 6225880000000017 (serial 1): new serials start above it
    assert serials == list(range(2, 2 + 55))
    with bank.read() as conn:
        assert peek(conn, counter_name(STANDARD.bin, 16)) == 57
        cards = conn.execute(
            select(card_accounts.c.status, card_accounts.c.statement_day).where(
                card_accounts.c.account_id.like("CC%")
            )
        ).all()
    assert {c.status for c in cards} == {"inactive"}
    assert {c.statement_day for c in cards} == set(STANDARD.statement_days)


def test_rerun_issues_nothing_more_and_rewrites_the_same_files(bank: Store, tmp_path: Path) -> None:
    batch_id = _approved_batch(bank, tmp_path, "b", 12, 0)
    out = tmp_path / "out"
    first = issue_batch(bank, batch_id, ISSUE_DATE, "operator", out)
    emboss = Path(first.embossing_file or "")
    content = emboss.read_bytes()
    again = issue_batch(bank, batch_id, ISSUE_DATE, "operator", out)
    assert (first.cards_issued, again.cards_issued, again.cards_issued_before) == (12, 0, 12)
    assert emboss.read_bytes() == content
    assert emboss.stat().st_mode & 0o777 == 0o600
    lines = content.decode().splitlines()
    assert lines[0].startswith(f"H|{batch_id}|20260316|12") and lines[-1] == "T|12"
    assert all(luhn_valid(line.split("|")[1]) for line in lines[1:-1])
    result = Path(first.result_file or "").read_text(encoding="utf-8")
    assert not any(line.split("|")[1] in result for line in lines[1:-1])  # masked


def test_dry_run_issues_nothing(bank: Store, tmp_path: Path) -> None:
    batch_id = _approved_batch(bank, tmp_path, "b", 5, 0)
    report = issue_batch(bank, batch_id, ISSUE_DATE, "operator", tmp_path / "out", dry_run=True)
    assert report.by_product == {"standard": 5}
    assert _numbers(bank) == []
    assert not (tmp_path / "out").exists()


def _issued(url: str, batch_id: str) -> int:
    store = open_store(url)
    try:
        with store.read() as conn:
            query = select(func.count()).where(issued_cards.c.batch_id == batch_id)
            return int(conn.execute(query).scalar_one())
    finally:
        store.dispose()


def _start_issue(url: str, batch_id: str, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cardbatch",
            "--db",
            url,
            "cards",
            "issue",
            batch_id,
            "--date",
            ISSUE_DATE.isoformat(),
            "--chunk",
            str(CRASH_CHUNK),
            "--out",
            str(out),
        ],
        env={**os.environ, "CARDBATCH_USER": "operator"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _kill_after(process: subprocess.Popen[bytes], url: str, batch_id: str, cards_min: int) -> int:
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if _issued(url, batch_id) >= cards_min:
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.01)
    return process.wait(timeout=60)


def test_sigkill_during_issuance_then_rerun_leaves_no_duplicate_and_no_gap(
    bank: Store, db_url: str, tmp_path: Path
) -> None:
    batch_id = _approved_batch(bank, tmp_path, "crash", CRASH_APPLICATIONS, 0)
    out = tmp_path / "out"
    rng = random.Random(8)
    points = sorted(rng.sample(range(5, CRASH_APPLICATIONS // 2), KILLS))
    killed = 0
    for cards_min in points:
        process = _start_issue(db_url, batch_id, out)
        code = _kill_after(process, db_url, batch_id, cards_min)
        killed += code == -signal.SIGKILL
        assert code in (0, -signal.SIGKILL)
    assert killed >= 1, "no run was killed in the middle"
    assert _issued(db_url, batch_id) < CRASH_APPLICATIONS
    final = _start_issue(db_url, batch_id, out)
    assert final.wait(timeout=300) == 0, final.stderr.read() if final.stderr else ""
    numbers = _numbers(bank)
    serials = sorted(serial_of(n, STANDARD.bin) for n in numbers)
    assert len(numbers) == len(set(numbers)) == CRASH_APPLICATIONS
    assert serials == list(range(2, 2 + CRASH_APPLICATIONS))  # no gap, none reused
    assert all(luhn_valid(n) for n in numbers)
    with bank.read() as conn:
        statuses = set(
            conn.execute(
                select(applications.c.status).where(applications.c.batch_id == batch_id)
            ).scalars()
        )
        accounts = conn.execute(
            select(func.count()).where(card_accounts.c.account_id.like("CC%"))
        ).scalar_one()
        assert peek(conn, counter_name(STANDARD.bin, 16)) == 2 + CRASH_APPLICATIONS
    assert statuses == {"issued"} and accounts == CRASH_APPLICATIONS
    emboss = (out / f"emboss_{batch_id}.txt").read_text(encoding="utf-8").splitlines()
    assert len(emboss) == CRASH_APPLICATIONS + 2


def test_two_runs_issuing_the_same_batch_at_once_never_issue_twice(
    bank: Store, db_url: str, tmp_path: Path
) -> None:
    batch_id = _approved_batch(bank, tmp_path, "twice", 150, 0)
    runs = [_start_issue(db_url, batch_id, tmp_path / f"out{i}") for i in range(2)]
    codes = [run.wait(timeout=300) for run in runs]
    assert set(codes) <= {0, 2}
    for run, code in zip(runs, codes, strict=True):
        if code == 2:
            assert run.stderr is not None and b"another run" in run.stderr.read()
    final = _start_issue(db_url, batch_id, tmp_path / "out")
    assert final.wait(timeout=300) == 0
    numbers = _numbers(bank)
    assert len(numbers) == len(set(numbers)) == 150
    assert sorted(serial_of(n, STANDARD.bin) for n in numbers) == list(range(2, 152))


def test_issued_card_is_inactive_until_activated_once(bank: Store, tmp_path: Path) -> None:
    batch_id = _approved_batch(bank, tmp_path, "act", 2, 0)
    issue_batch(bank, batch_id, ISSUE_DATE, "operator", tmp_path / "out")
    assert activate(bank, "CC0000000002", "agent") == "active"
    with pytest.raises(ApplicationsError, match="is active, not inactive"):
        activate(bank, "CC0000000002", "agent")
    with pytest.raises(ApplicationsError, match="no card account"):
        activate(bank, "CC404", "agent")
    summary = batch_summary(bank, batch_id)
    assert (summary.rows_total, summary.by_status) == (2, {"issued": 2})
