"""ISO 20022 pain.001 / pain.008 in: the official XSDs from sepaxml, a safe parser (no XXE,
no DTDs, no network), amounts in fen, and generated fixtures that validate."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from cardbatch.payfiles import FileError, iso20022, parse_batch_file
from cardbatch.payfiles.model import BatchFile, BatchRow
from tests.unit.payfiles import samples

VALID_XML = ["pain001_payroll_20240415.xml", "pain008_collection_20240415.xml"]


def test_schemas_are_the_ones_shipped_in_sepaxml() -> None:
    import sepaxml

    schemas_dir = Path(sepaxml.__file__).parent / "schemas"
    for fmt, name in iso20022.MESSAGE_NAMES.items():
        assert (schemas_dir / f"{name}.xsd").is_file()
        assert iso20022.schema(fmt) is iso20022.schema(fmt)  # loaded once


@pytest.mark.parametrize("name", VALID_XML)
def test_fixtures_validate_against_the_xsd(name: str) -> None:
    fmt = "pain.001" if name.startswith("pain001") else "pain.008"
    tree = etree.parse(str(samples.VALID / name), iso20022.safe_parser())
    schema = iso20022.schema(fmt)
    assert schema.validate(tree), schema.error_log


def test_pain001_fields() -> None:
    batch = parse_batch_file(samples.VALID / "pain001_payroll_20240415.xml", "payroll")
    assert (batch.format, batch.message_id) == ("pain.001", "PAYROLL-20240415-0001")
    assert batch.batch_date == date(2024, 4, 15)
    assert (batch.party_account, batch.party_name) == ("1000999900001", "华南精密制造有限公司")
    assert (batch.declared_count, batch.declared_total_fen) == (5, 4360149)
    first = batch.rows[0]
    assert (first.end_to_end_id, first.name, first.account, first.amount_fen) == (
        "PAY-20240415-0001",
        "张三",
        "6222020000000101",
        850000,
    )
    assert [r.group_id for r in batch.rows] == ["PMT-A"] * 3 + ["PMT-B"] * 2
    assert first.line_no > 1


def test_pain008_mandates() -> None:
    batch = parse_batch_file(samples.VALID / "pain008_collection_20240415.xml", "collection")
    assert batch.format == "pain.008"
    assert batch.party_account == "1000888800001"
    assert [(r.mandate_id, r.mandate_signed_on) for r in batch.rows[:2]] == [
        ("MNDT-0001", date(2023, 1, 10)),
        ("MNDT-0002", date(2023, 1, 11)),
    ]


def test_message_must_fit_the_kind() -> None:
    with pytest.raises(FileError) as caught:
        parse_batch_file(samples.VALID / "pain008_collection_20240415.xml", "payroll")
    assert caught.value.code == "wrong_message"


def test_xxe_is_refused_and_nothing_is_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE", encoding="utf-8")
    data = (samples.INVALID / "pain001_xxe_external_entity.xml").read_bytes()
    path = tmp_path / "xxe.xml"
    path.write_bytes(data.replace(b"file:///etc/hostname", secret.as_uri().encode()))
    with pytest.raises(FileError) as caught:
        parse_batch_file(path, "payroll", fmt="pain.001")
    assert caught.value.code == "unsafe_xml"
    assert "TOP-SECRET" not in str(caught.value)


def test_parser_never_resolves_entities_even_without_the_doctype_guard(tmp_path: Path) -> None:
    """Second guard: the lxml parser itself leaves external entities unresolved."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE", encoding="utf-8")
    doc = f'<!DOCTYPE r [<!ENTITY x SYSTEM "{secret.as_uri()}">]><r>&x;</r>'.encode()
    tree = etree.parse(io.BytesIO(doc), iso20022.safe_parser())
    assert b"TOP-SECRET" not in etree.tostring(tree)


def test_entity_expansion_is_refused() -> None:
    with pytest.raises(FileError) as caught:
        parse_batch_file(samples.INVALID / "pain008_billion_laughs.xml", "collection")
    assert caught.value.code == "unsafe_xml"


def test_xsd_violation_names_the_line() -> None:
    with pytest.raises(FileError) as caught:
        parse_batch_file(samples.INVALID / "pain001_xsd_invalid_pmtmtd_chk.xml", "payroll")
    assert caught.value.code == "xsd_invalid"
    assert caught.value.line == 15
    assert "PmtMtd" in caught.value.reason


# ---------------------------------------------------------------- generated fixtures

_names = st.text(alphabet="张王李赵钱孙周吴郑陈 ABCxyz", min_size=1, max_size=12).map(str.strip)
_amounts = st.integers(min_value=1, max_value=10**11)


@st.composite
def iso_batches(draw: st.DrawFn, fmt: str) -> BatchFile:
    count = draw(st.integers(min_value=1, max_value=12))
    groups = draw(st.integers(min_value=1, max_value=3))
    rows = tuple(
        BatchRow(
            line_no=0,
            seq=f"I{index}" if draw(st.booleans()) else "",
            name=draw(_names.filter(bool)),
            account=draw(st.from_regex(r"62\d{14,17}", fullmatch=True)),
            amount_fen=draw(_amounts),
            memo=draw(st.sampled_from(["", "工资", 'fee <&> "x"'])),
            end_to_end_id=f"E2E-{index:05d}",
            mandate_id="" if fmt == "pain.001" else f"M{index}",
            mandate_signed_on=None if fmt == "pain.001" else date(2023, 5, 1),
            group_id=f"G{index % groups}",
        )
        for index in range(count)
    )
    return BatchFile(
        kind="payroll" if fmt == "pain.001" else "collection",
        format="pain.001" if fmt == "pain.001" else "pain.008",
        encoding="utf-8",
        source_name="gen.xml",
        content_sha256="",
        batch_date=draw(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))),
        unit_no=None,
        message_id=draw(st.from_regex(r"[A-Z0-9-]{1,35}", fullmatch=True)),
        declared_count=None,
        declared_total_fen=None,
        rows=rows,
        party_account="1000999900001",
        party_name="某某有限公司",
        created_at="2024-04-14T18:30:00",
    )


@pytest.mark.parametrize("fmt", ["pain.001", "pain.008"])
def test_generated_documents_validate_and_round_trip(fmt: str, tmp_path: Path) -> None:
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(iso_batches(fmt))
    def check(batch: BatchFile) -> None:
        data = iso20022.render(batch)
        tree = etree.parse(io.BytesIO(data), iso20022.safe_parser())
        schema = iso20022.schema(fmt)
        assert schema.validate(tree), schema.error_log
        path = tmp_path / "gen.xml"
        path.write_bytes(data)
        parsed = parse_batch_file(path, batch.kind)
        assert parsed.message_id == batch.message_id
        assert parsed.batch_date == batch.batch_date
        assert (parsed.declared_count, parsed.declared_total_fen) == (
            len(batch.rows),
            batch.total_fen,
        )
        strip = [
            (r.seq, r.name, r.account, r.amount_fen, r.memo, r.end_to_end_id) for r in batch.rows
        ]
        got = [
            (r.seq, r.name, r.account, r.amount_fen, r.memo, r.end_to_end_id) for r in parsed.rows
        ]
        # rows come back grouped by PmtInf, in the order the groups first appear
        assert sorted(got) == sorted(strip)
        assert sorted(r.mandate_id for r in parsed.rows) == sorted(r.mandate_id for r in batch.rows)

    check()


def test_dates_with_a_time_zone_are_read(tmp_path: Path) -> None:
    data = (samples.VALID / "pain008_collection_20240415.xml").read_bytes()
    data = data.replace(b"<ReqdColltnDt>2024-04-15<", b"<ReqdColltnDt>2024-04-15+08:00<")
    data = data.replace(b"<DtOfSgntr>2023-01-10<", b"<DtOfSgntr>2023-01-10Z<")
    path = tmp_path / "zoned.xml"
    path.write_bytes(data)
    batch = parse_batch_file(path, "collection")
    assert batch.batch_date == date(2024, 4, 15)
    assert batch.rows[0].mandate_signed_on == date(2023, 1, 10)
