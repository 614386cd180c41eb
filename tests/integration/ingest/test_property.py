"""Property: for generated files with random corruptions, every row is accounted for, no
accepted row is stored twice, and running the same import again changes nothing."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from cardbatch.domain.identity import ric_check_char
from cardbatch.store import Store
from cardbatch.store.tables import customers
from tests.integration.ingest.conftest import import_count, run, snapshot

_serial = itertools.count(1)
CORRUPTIONS = (
    "none", "none", "full_width", "spaces", "bad_checksum", "no_name", "bad_phone",
    "dup_id", "dup_ric", "extra_cell", "short_row", "formula_name", "bad_score",
)  # fmt: skip


def resident_id(serial: int) -> str:
    birth = date(1960, 1, 1) + timedelta(days=serial % 20_000)
    body = f"110105{birth:%Y%m%d}{serial % 1000:03d}"
    return body + ric_check_char(body)


def base_row(serial: int) -> list[str]:
    return [f"P{serial:07d}", f"客户{serial % 97}", resident_id(serial),
            f"138{serial % 10**8:08d}", "北京", str(serial % 1001)]  # fmt: skip


def corrupt(row: list[str], kind: str, earlier: list[list[str]]) -> list[str]:
    row = list(row)
    if kind == "full_width":
        row[2] = "".join(chr(ord(c) + 0xFEE0) for c in row[2])
    elif kind == "spaces":
        row = [f"  {cell}\u3000" for cell in row]
    elif kind == "bad_checksum":
        row[2] = row[2][:17] + ("0" if row[2][17] != "0" else "1")
    elif kind == "no_name":
        row[1] = ""
    elif kind == "bad_phone":
        row[3] = "12345"
    elif kind == "dup_id" and earlier:
        row[0] = earlier[-1][0]
    elif kind == "dup_ric" and earlier:
        row[2] = earlier[-1][2]
    elif kind == "extra_cell":
        row.append("extra")
    elif kind == "short_row":
        row = row[:4]
    elif kind == "formula_name":
        row[1] = "=1+2"
    elif kind == "bad_score":
        row[5] = "5000"
    return row


@st.composite
def dirty_files(draw: st.DrawFn) -> tuple[str, str, list[list[str]]]:
    kinds = draw(st.lists(st.sampled_from(CORRUPTIONS), min_size=1, max_size=25))
    rows: list[list[str]] = []
    for kind in kinds:
        rows.append(corrupt(base_row(next(_serial)), kind, rows))
    delimiter = draw(st.sampled_from([",", "|", "\t"]))
    encoding = draw(st.sampled_from(["utf-8", "gb18030", "utf-8-sig"]))
    return delimiter, encoding, rows


def write_file(folder: Path, delimiter: str, encoding: str, rows: list[list[str]]) -> Path:
    path = folder / f"gen{next(_serial)}.txt"
    header = ["customer_id", "name", "id_number", "phone", "city", "credit_score"]
    lines = [delimiter.join(header)] + [delimiter.join(row) for row in rows]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(dirty_files())
def test_every_row_is_accounted_for_and_reimport_changes_nothing(
    store: Store, tmp_path: Path, generated: tuple[str, str, list[list[str]]]
) -> None:
    delimiter, encoding, rows = generated
    path = write_file(tmp_path, delimiter, encoding, rows)
    with store.read() as conn:
        stored_before = conn.execute(select(func.count()).select_from(customers)).scalar_one()
    first = run(store, "customers", path)
    assert first.rows_total == len(rows) == first.rows_accepted + first.rows_rejected
    with store.read() as conn:
        stored = conn.execute(select(func.count()).select_from(customers)).scalar_one()
        distinct = conn.execute(
            select(func.count(func.distinct(customers.c.id_number)))
        ).scalar_one()
    assert stored == distinct == stored_before + first.rows_inserted
    before, imports_before = snapshot(store), import_count(store)
    refused = run(store, "customers", path)
    assert refused.refused and snapshot(store) == before and import_count(store) == imports_before
    again = run(store, "customers", path, force=True)
    assert (again.rows_inserted, again.rows_updated) == (0, 0)
    assert (again.rows_unchanged, again.rows_rejected) == (first.rows_accepted, first.rows_rejected)
    assert again.rows_total == again.rows_accepted + again.rows_rejected
    assert snapshot(store) == before
