"""The demo's path: a synthetic bank written as export files (with dirty rows) and imported."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from cardbatch.ingest.demo_files import load_bank_files, write_bank_files
from cardbatch.services import ledger
from cardbatch.services.synthetic import build_bank, day_transactions
from cardbatch.store import Store

START = date(2026, 1, 1)


def test_synthetic_bank_files_load_and_report_their_dirty_rows(
    store: Store, tmp_path: Path
) -> None:
    bank = build_bank(30, 7, START - timedelta(days=1))
    days = {START + timedelta(days=i): day_transactions(bank, START + timedelta(days=i), 7)
            for i in range(2)}  # fmt: skip
    files = write_bank_files(bank, tmp_path / "files", days)
    results = load_bank_files(store, files, "demo", START - timedelta(days=1))
    everything = [r for rs in results.values() for r in rs]
    assert all(r.rows_total == r.rows_accepted + r.rows_rejected for r in everything)
    reasons = {(r.kind, item["reason"]) for r in everything for item in r.rejects}
    assert {("customers", "ric_checksum"), ("customers", "duplicate_in_file"),
            ("customers", "phone_format"), ("accounts", "unknown_customer"),
            ("transactions", "unknown_account"),
            ("transactions", "duplicate_in_file")} <= reasons  # fmt: skip
    assert all(r.rejects_file and Path(r.rejects_file).exists() for r in everything
               if r.rows_rejected)  # fmt: skip
    assert results["transactions"][0].rows_inserted > 0
    assert ledger.check(store).balanced
