"""Debit mandates on a real store: add, import (all or nothing), list."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cardbatch.paybatch.mandates import MandateError, add_mandate, import_mandates, list_mandates
from cardbatch.store import Store

DATA = Path(__file__).resolve().parents[2] / "data"
BILLER = "2088000000001"


def test_a_second_mandate_for_the_same_pair_is_refused_masked(store: Store) -> None:
    add_mandate(store, BILLER, "6222020000000001", "ops", "MNDT-0001", date(2023, 1, 10))
    with pytest.raises(MandateError) as caught:
        add_mandate(store, BILLER, "6222020000000001", "ops")
    assert "622202******0001" in str(caught.value)
    assert "6222020000000001" not in str(caught.value)


def test_an_import_is_all_or_nothing(store: Store) -> None:
    add_mandate(store, BILLER, "6222020000000004", "ops")
    with pytest.raises(MandateError):
        import_mandates(store, DATA / "valid/paybatch/mandates_biller_2088000000001.csv", "ops")
    assert [m.payer_account for m in list_mandates(store, BILLER)] == ["6222020000000004"]


def test_import_then_list(store: Store) -> None:
    records = import_mandates(
        store, DATA / "valid/paybatch/mandates_biller_2088000000001.csv", "ops"
    )
    assert len(records) == 3
    listed = list_mandates(store, BILLER)
    assert [(m.payer_account, m.mandate_ref, m.signed_on) for m in listed] == [
        ("6222020000000001", "MNDT-0001", date(2023, 1, 10)),
        ("6222020000000003", "MNDT-0003", date(2023, 1, 12)),
        ("6222020000000004", "MNDT-0004", None),
    ]
    assert all(m.status == "active" for m in listed)
