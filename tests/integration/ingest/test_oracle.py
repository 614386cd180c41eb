"""The fast customer import agrees with the row-by-row oracle (``reference.py`` here).

Same rows accepted, same rows rejected with the same fields, reasons and
messages, same counts of inserts, updates and unchanged rows, and the same
customers table, whatever the chunk size: on the sample files and on generated
files with random corruptions, into an empty table (the bulk path that builds
the ID number index at the end) and into one that already holds customers.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cardbatch.ingest.service import ImportResult
from cardbatch.ingest.settings import IngestSettings
from cardbatch.services.actor import utc_now
from cardbatch.store import Store
from cardbatch.store.tables import customers
from tests.integration.ingest.conftest import DATA, EXAMPLES, copy_to, load_examples, run
from tests.integration.ingest.reference import (
    ReferenceResult,
    customers_rows,
    reference_import_customers,
)
from tests.integration.ingest.test_property import CORRUPTIONS, base_row, corrupt, write_file

SAMPLES = [
    EXAMPLES / "customers.csv",
    *sorted((DATA / "valid").glob("customers_*")),
    *sorted(p for p in (DATA / "invalid").glob("customers_*") if ".expected" not in p.name),
]
# Rows about the example bank's customers: an update, an ID number change, another
# customer's ID number, and the same row again.
KNOWN = {
    "known_update": ["C001", "张三", "11010519491231002X", "13800138999", "上海", "700"],
    "known_ric_changed": ["C002", "李四", "11010519491231002X", "", "", ""],
    "known_ric_taken": ["CX01", "某人", "360426199101010071", "", "", ""],
    "known_same": ["C003", "王芳", "310101198503150029", "13700001111", "上海", ""],
}
_serial = itertools.count(500_000)


def oracle(store: Store, path: Path) -> tuple[ReferenceResult, list[tuple[object, ...]]]:
    """The reference import's result and table, rolled back afterwards."""
    with store.writer.connect() as conn:
        transaction = conn.begin()
        try:
            expected = reference_import_customers(conn, path, "tester", utc_now())
            return expected, customers_rows(conn)
        finally:
            transaction.rollback()


def fast(store: Store, path: Path, chunk_rows: int) -> ImportResult:
    options = IngestSettings(chunk_rows=chunk_rows, errors_listed_max=10**9)
    return run(store, "customers", path, force=True, settings=options)


def assert_agree(store: Store, path: Path, chunk_rows: int) -> None:
    expected, expected_rows = oracle(store, path)
    result = fast(store, path, chunk_rows)
    got = [(r["line"], r["field"], r["reason"], r["message"]) for r in result.rejects]
    assert got == expected.rejects
    assert (result.rows_inserted, result.rows_updated, result.rows_unchanged) == (
        expected.inserted, expected.updated, expected.unchanged,
    )  # fmt: skip
    with store.read() as conn:
        assert customers_rows(conn) == expected_rows


@pytest.mark.parametrize("chunk_rows", [2, 50_000])
@pytest.mark.parametrize("preloaded", [False, True], ids=["empty", "preloaded"])
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_sample_files_agree_with_the_oracle(
    store: Store, tmp_path: Path, sample: Path, preloaded: bool, chunk_rows: int
) -> None:
    if preloaded:
        (tmp_path / "examples").mkdir()
        load_examples(store, tmp_path / "examples", ("customers",))
    assert_agree(store, copy_to(tmp_path, sample), chunk_rows)


@st.composite
def dirty_rows(draw: st.DrawFn) -> tuple[str, str, list[list[str]], int]:
    kinds = draw(st.lists(st.sampled_from(CORRUPTIONS + tuple(KNOWN)), min_size=1, max_size=25))
    rows: list[list[str]] = []
    for kind in kinds:
        rows.append(list(KNOWN[kind]) if kind in KNOWN else corrupt(base_row(next(_serial)),
                                                                     kind, rows))  # fmt: skip
    delimiter = draw(st.sampled_from([",", "|", "\t"]))
    encoding = draw(st.sampled_from(["utf-8", "gb18030"]))
    return delimiter, encoding, rows, draw(st.sampled_from([1, 3, 7, 50_000]))


SLOW_OK = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


@settings(max_examples=25, deadline=None, suppress_health_check=SLOW_OK)
@given(generated=dirty_rows(), preload=st.booleans())
def test_generated_files_agree_with_the_oracle(
    store: Store,
    tmp_path: Path,
    generated: tuple[str, str, list[list[str]], int],
    preload: bool,
) -> None:
    delimiter, encoding, rows, chunk_rows = generated
    with store.write() as conn:  # each example starts empty or with the example bank
        conn.execute(customers.delete())
    if preload:
        folder = tmp_path / f"examples{next(_serial)}"
        folder.mkdir()
        load_examples(store, folder, ("customers",))
    assert_agree(store, write_file(tmp_path, delimiter, encoding, rows), chunk_rows)
