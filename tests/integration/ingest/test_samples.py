"""The sample files: valid ones load the same bank as the examples; invalid ones give exactly
the expected rejects; whole-file errors write nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from cardbatch.ingest.errors import WholeFileError
from cardbatch.ingest.rejects import rejects_path
from cardbatch.store import Store
from tests.integration.ingest.conftest import (
    DATA,
    ORDER,
    PREREQUISITES,
    copy_to,
    import_count,
    load_examples,
    reference_snapshot,
    run,
    snapshot,
)

KINDS = tuple(PREREQUISITES)


def samples(folder: Path) -> list[Path]:
    """The import samples in a folder (other areas keep their own samples there too)."""
    return sorted(
        path for path in folder.iterdir()
        if path.is_file() and path.name.split("_")[0] in KINDS and ".expected" not in path.name
    )  # fmt: skip


VALID = samples(DATA / "valid")
INVALID = samples(DATA / "invalid")
WHOLE = {
    "customers_missing_id_number.csv": "missing_column",
    "customers_latin1.csv": "encoding",
    "customers_empty.csv": "empty",
    "customers_header_only.csv": "empty",
    "customers_utf16.csv": "encoding",
    "customers_no_header.csv": "no_header",
    "customers_duplicate_column.csv": "duplicate_column",
}


def kind_of(path: Path) -> str:
    return path.name.split("_")[0]


@pytest.mark.parametrize("sample", VALID, ids=lambda p: p.name)
def test_valid_samples_load_the_same_bank_as_the_examples(
    store: Store, tmp_path: Path, sample: Path
) -> None:
    kind = kind_of(sample)
    load_examples(store, tmp_path, ORDER[: ORDER.index(kind)])
    result = run(store, kind, copy_to(tmp_path, sample))
    assert result.rows_rejected == 0 and result.rows_warned == 0, result.rejects
    assert result.rows_total == result.rows_accepted == result.rows_inserted
    assert result.rejects_file is None
    expected = reference_snapshot(tmp_path / "reference", ORDER[: ORDER.index(kind) + 1])
    assert snapshot(store) == expected


@pytest.mark.parametrize("sample", INVALID, ids=lambda p: p.name)
def test_invalid_samples_give_exactly_the_expected_rejects(
    store: Store, tmp_path: Path, sample: Path
) -> None:
    kind = kind_of(sample)
    load_examples(store, tmp_path, PREREQUISITES[kind])
    expected = json.loads(sample.with_name(sample.stem + ".expected.json").read_text("utf-8"))
    result = run(store, kind, copy_to(tmp_path, sample))
    got = {key: getattr(result, key) for key in expected if key != "rejects_rows"}
    assert got == {key: value for key, value in expected.items() if key != "rejects_rows"}
    assert result.rows_total == result.rows_accepted + result.rows_rejected
    produced = rejects_path(tmp_path / sample.name)
    assert result.rejects_file == str(produced)
    if sample.suffix == ".xlsx":
        rows = [[c if c is not None else "" for c in row]
                for row in load_workbook(produced).active.iter_rows(values_only=True)]  # fmt: skip
        assert rows == expected["rejects_rows"]
    else:
        wanted = sample.with_name(sample.stem + ".expected-rejects" + sample.suffix)
        assert produced.read_bytes() == wanted.read_bytes()


@pytest.mark.parametrize("name", sorted(WHOLE))
def test_whole_file_errors_write_nothing(store: Store, tmp_path: Path, name: str) -> None:
    load_examples(store, tmp_path, ("customers",))
    before, imports_before = snapshot(store), import_count(store)
    path = copy_to(tmp_path, DATA / "invalid" / "whole_file" / name)
    with pytest.raises(WholeFileError) as info:
        run(store, "customers", path)
    assert info.value.code == WHOLE[name]
    assert name in info.value.message
    assert snapshot(store) == before and import_count(store) == imports_before
    assert not rejects_path(path).exists()
    assert not list(tmp_path.glob(".*.part"))
