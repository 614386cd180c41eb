"""Batch payment files through the real ``cardbatch`` command: maker-checker, a run killed
with SIGKILL after its first chunk and resumed (the engine's fault point), return files,
mandates."""

from __future__ import annotations

import re
import signal
from dataclasses import replace
from pathlib import Path

from sqlalchemy import func, select

from cardbatch.engine.faults import FAULT_ENV
from cardbatch.store import open_store
from cardbatch.store.tables import journal_entries
from cardbatch.store.tables_paybatch import paybatch_results
from tests.e2e.cli import cli_json, run_cli
from tests.integration.paybatch.worlds import (
    DAY,
    EMPLOYER,
    WORLDS,
    Holder,
    World,
    available_fen,
    build_world,
    numbered_success_fen,
    numbered_world,
    write_numbered_payroll,
)
from tests.unit.payfiles.samples import DATA, EXPECTED, VALID

ROWS_N = 57
CHUNK_ROWS = 10


def prepare(db_url: str) -> None:
    cli_json("db", "upgrade", "--db", db_url)
    store = open_store(db_url)
    try:
        build_world(store, numbered_world(ROWS_N))
    finally:
        store.dispose()


def test_crash_after_first_chunk_then_resume_posts_each_row_once(
    db_url: str, tmp_path: Path
) -> None:
    prepare(db_url)
    path = tmp_path / "payroll_20240415.txt"
    write_numbered_payroll(path, ROWS_N)
    db = ("--db", db_url)
    batch = cli_json(*db, "payroll", "submit", str(path), "--employer", EMPLOYER,
                     "--date", DAY.isoformat(), env={"CARDBATCH_USER": "maker"})  # fmt: skip
    batch_id = str(batch["batch_id"])
    cli_json(*db, "batch", "approve", batch_id, "--as", "checker")

    # The engine's fault point kills the run once its first chunk has committed.
    killed = run_cli(*db, "batch", "run", batch_id, "--chunk-rows", str(CHUNK_ROWS),
                     env={FAULT_ENV: "pay:0:after_commit"})  # fmt: skip
    assert killed.returncode == -signal.SIGKILL
    store = open_store(db_url)
    try:
        with store.read() as conn:
            done = conn.execute(select(func.count()).select_from(paybatch_results)).scalar_one()
        assert done == CHUNK_ROWS  # exactly the first chunk committed
        assert cli_json(*db, "batch", "show", batch_id)["status"] == "running"

        resumed = cli_json(*db, "batch", "run", batch_id, "--chunk-rows", str(CHUNK_ROWS))
        assert resumed["rows_skipped"] == CHUNK_ROWS
        assert resumed["rows_run"] == ROWS_N - CHUNK_ROWS
        assert resumed["success_total_fen"] == numbered_success_fen(ROWS_N)

        with store.read() as conn:
            keys = list(conn.execute(select(journal_entries.c.idempotency_key)).scalars())
        row_keys = [k for k in keys if k.startswith(f"paybatch:{batch_id}:")]
        assert len(row_keys) == len(set(row_keys)) == resumed["success_count"]
        spent = 100_000_000 - available_fen(store, EMPLOYER)
        assert spent == numbered_success_fen(ROWS_N)
    finally:
        store.dispose()
    assert cli_json(*db, "ledger", "check")["balanced"] is True
    shown = cli_json(*db, "batch", "show", batch_id)
    assert shown["status"] == "completed"
    assert shown["by_reason"]["name_mismatch"]["rows"] == sum(
        1 for n in range(1, ROWS_N + 1) if n % 7 == 0
    )


def test_cli_maker_checker_and_unapproved_run(sqlite_url: str, tmp_path: Path) -> None:
    prepare(sqlite_url)
    path = tmp_path / "payroll.txt"
    write_numbered_payroll(path, ROWS_N)
    db = ("--db", sqlite_url)
    batch = cli_json(*db, "payroll", "submit", str(path), "--employer", EMPLOYER,
                     "--date", DAY.isoformat(), "--as", "alice")  # fmt: skip
    batch_id = str(batch["batch_id"])
    early = run_cli(*db, "batch", "run", batch_id, "--as", "bob")
    assert early.returncode == 2 and "not approved" in early.stderr
    own = run_cli(*db, "batch", "approve", batch_id, "--as", "alice")
    assert own.returncode == 2 and "maker-checker" in own.stderr
    ok = run_cli(*db, "batch", "approve", batch_id, env={"CARDBATCH_USER": "bob"})
    assert ok.returncode == 0, ok.stderr
    again = run_cli(*db, "payroll", "submit", str(path), "--employer", EMPLOYER,
                    "--date", DAY.isoformat())  # fmt: skip
    assert again.returncode == 1 and "duplicate_file" in again.stdout


def _mask_dates(data: bytes) -> bytes:
    return re.sub(rb"<CreDtTm>[^<]*</CreDtTm>", b"<CreDtTm>*</CreDtTm>", data)


def test_cli_return_files_match_the_expected_ones(sqlite_url: str, tmp_path: Path) -> None:
    cli_json("db", "upgrade", "--db", sqlite_url)
    db = ("--db", sqlite_url)
    for name in ("pipe_gbk_crlf_payroll_20090906.txt", "pain008_collection_20240415.xml"):
        world = WORLDS[name]
        # Mandates are added through the CLI below, so the world is built without them.
        store = open_store(sqlite_url)
        try:
            build_world(store, replace(world, holders=tuple(
                replace(h, mandate=False) for h in world.holders)))  # fmt: skip
        finally:
            store.dispose()
        for h in world.holders:
            if h.mandate:
                cli_json(*db, "collect", "mandate", "add", "--biller", world.party_account,
                         "--payer", h.account, "--as", "ops")  # fmt: skip
        command = "payroll" if world.kind == "payroll" else "collect"
        party = "--employer" if world.kind == "payroll" else "--biller"
        day = "2009-09-06" if name.startswith("pipe") else "2024-04-15"
        batch = cli_json(*db, command, "submit", str(VALID / name), party, world.party_account,
                         "--date", day, "--as", "maker")  # fmt: skip
        batch_id = str(batch["batch_id"])
        cli_json(*db, "batch", "approve", batch_id, "--as", "checker")
        cli_json(*db, "batch", "run", batch_id)
        out_dir = tmp_path / name
        written = cli_json(*db, "batch", "returns", batch_id, "--out", str(out_dir))
        for file_name in written["files"]:
            got = Path(file_name)
            assert _mask_dates(got.read_bytes()) == _mask_dates(
                (EXPECTED / got.name).read_bytes()
            ), got.name


def test_demo_has_a_payroll_and_a_collection_day(sqlite_url: str, tmp_path: Path) -> None:
    report = cli_json("--db", sqlite_url, "demo", "--customers", "120", "--days", "2",
                      "--workdir", str(tmp_path))  # fmt: skip
    payroll, collection = report["payment_files"]
    assert payroll["kind"] == "payroll" and payroll["status"] == "completed"
    assert payroll["by_reason"]["name_mismatch"] == 3
    assert payroll["by_reason"]["account_closed"] == 2
    assert collection["kind"] == "collection" and collection["status"] == "completed"
    assert collection["by_reason"]["insufficient_funds"] > 0
    assert collection["by_reason"]["no_mandate"] == 3
    for batch in (payroll, collection):
        assert len(batch["files"]) == 2 and all(Path(f).is_file() for f in batch["files"])
    assert report["report"]["ledger"]["mismatches"] == []
    assert cli_json("--db", sqlite_url, "ledger", "check")["balanced"] is True


def test_cli_mandate_import_then_collection(sqlite_url: str, tmp_path: Path) -> None:
    cli_json("db", "upgrade", "--db", sqlite_url)
    db = ("--db", sqlite_url)
    name = "pipe_utf8_collection_20240415.txt"
    world = WORLDS[name]
    store = open_store(sqlite_url)
    try:
        build_world(store, replace(world, holders=tuple(
            replace(h, mandate=False) for h in world.holders)))  # fmt: skip
    finally:
        store.dispose()
    bad = run_cli(*db, "collect", "mandate", "import",
                  str(DATA / "invalid/paybatch/mandates_bad_signed_on.csv"))  # fmt: skip
    assert bad.returncode == 2 and "mandates_bad_signed_on.csv:2: signed_on" in bad.stderr
    twice = run_cli(*db, "collect", "mandate", "import",
                    str(DATA / "invalid/paybatch/mandates_same_pair_twice.csv"))  # fmt: skip
    assert twice.returncode == 2 and ":3: the same biller and payer appear twice" in twice.stderr
    mandates = DATA / "valid/paybatch/mandates_biller_2088000000001.csv"
    assert cli_json(*db, "collect", "mandate", "import", str(mandates))["imported"] == 3
    assert len(cli_json(*db, "collect", "mandate", "list", "--biller", world.party_account)) == 3
    batch = cli_json(*db, "collect", "submit", str(VALID / name), "--biller",
                     world.party_account, "--date", "2024-04-15", "--as", "maker")  # fmt: skip
    cli_json(*db, "batch", "approve", str(batch["batch_id"]), "--as", "checker")
    done = cli_json(*db, "batch", "run", str(batch["batch_id"]))
    assert (done["success_count"], done["failure_count"]) == (1, 3)


def test_cli_loans_import_and_deduct(sqlite_url: str) -> None:
    cli_json("db", "upgrade", "--db", sqlite_url)
    db = ("--db", sqlite_url)
    store = open_store(sqlite_url)
    try:
        build_world(store, World("payroll", "7001", "7001000000001", 0, (
            Holder("6230000000000001", "借款人1", funds_fen=500_000),
        )))  # fmt: skip
    finally:
        store.dispose()
    bad = run_cli(
        *db, "loans", "import", str(DATA / "invalid/paybatch/loan_schedules_bad_rows.csv")
    )
    assert bad.returncode == 2 and "loan_schedules_bad_rows.csv:2: due_date" in bad.stderr
    imported = cli_json(*db, "loans", "import",
                        str(DATA / "valid/paybatch/loan_schedules_zh_headers_gbk.csv"))  # fmt: skip
    assert (imported["loans"], imported["instalments"]) == (1, 2)
    first = cli_json(*db, "loans", "deduct", "--date", "2024-04-15")
    assert (first["attempts"], first["paid"], first["debited_fen"]) == (1, 1, 12_050)
    again = cli_json(*db, "loans", "deduct", "--date", "2024-04-15")
    assert again["attempts"] == 0
    shown = cli_json(*db, "loans", "show", "Z001")
    assert [i["status"] for i in shown["instalments"]] == ["paid", "due"]
    assert cli_json(*db, "ledger", "check")["balanced"] is True
