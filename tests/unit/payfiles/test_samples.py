"""The committed samples are what the generator makes, and their return files match byte for
byte the expected files under tests/data/expected/payfiles (DOMAIN.md, "Batch payment files")."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cardbatch.payfiles import check_file, render_returns, write_returns
from cardbatch.payfiles.checks import CheckContext
from tests.unit.payfiles import samples


def test_valid_samples_are_generated() -> None:
    generated = samples.valid_samples() | samples.valid_loan_samples()
    assert sorted(p.name for p in samples.VALID.iterdir()) == sorted(generated)
    for name, data in generated.items():
        assert (samples.VALID / name).read_bytes() == data, name


def test_invalid_samples_are_generated() -> None:
    generated = samples.invalid_samples() | samples.invalid_loan_samples()
    assert sorted(p.name for p in samples.INVALID.iterdir()) == sorted(generated)
    for name, data in generated.items():
        assert (samples.INVALID / name).read_bytes() == data, name


def test_every_valid_sample_has_outcomes_and_expected_files() -> None:
    outcomes = samples.outcomes()
    assert sorted(k for k in outcomes if k != "created_at") == sorted(samples.valid_samples())
    expected = {p.name for p in samples.EXPECTED.iterdir()} - {"outcomes.toml"}
    produced = {out for name in samples.valid_samples() for out in samples.expected_returns(name)}
    assert produced == expected


@pytest.mark.parametrize("name", sorted(samples.valid_samples()))
def test_valid_sample_passes_whole_file_checks(name: str) -> None:
    batch = samples.parse_valid(name)
    spec = samples.outcomes()[name]
    ctx = CheckContext(business_date=date.fromisoformat(spec["business_date"]))
    assert check_file(batch, ctx) == []


@pytest.mark.parametrize("name", sorted(samples.valid_samples()))
def test_return_files_match_expected_byte_for_byte(name: str, tmp_path: Path) -> None:
    batch = samples.parse_valid(name)
    results = samples.fixed_results(batch, samples.outcomes()[name]["failures"])
    paths = write_returns(batch, results, tmp_path, created_at=samples.created_at())
    assert paths, name
    for path in paths:
        assert path.read_bytes() == (samples.EXPECTED / path.name).read_bytes(), path.name
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)


def test_return_files_are_reproducible() -> None:
    name = "xlsx_zh_headers_control_line_payroll.xlsx"
    batch = samples.parse_valid(name)
    results = samples.fixed_results(batch, samples.outcomes()[name]["failures"])
    first = render_returns(batch, results, samples.created_at())
    assert render_returns(batch, results, samples.created_at()) == first
