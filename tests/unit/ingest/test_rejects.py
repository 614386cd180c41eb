"""Rejects files: formula neutralisation, naming, and a round trip through the reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from cardbatch.ingest.clean import clean_text
from cardbatch.ingest.columns import CUSTOMERS
from cardbatch.ingest.errors import FieldIssue, RowReject
from cardbatch.ingest.formats import open_reader
from cardbatch.ingest.rejects import RejectsWriter, neutralise, rejects_path


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+2", "'=1+2"),
        ("+cmd", "'+cmd"),
        ("-cmd", "'-cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("-5.00", "-5.00"),
        ("+86", "+86"),
        ("张三", "张三"),
        ("", ""),
    ],
)
def test_formula_cells_are_neutralised(cell: str, written: str) -> None:
    assert neutralise(cell) == written
    assert clean_text(written) == clean_text(cell)


def test_rejects_file_sits_next_to_the_input() -> None:
    assert rejects_path(Path("/in/customers.csv")) == Path("/in/customers.rejects.csv")


@pytest.mark.parametrize(
    ("name", "sep", "encoding"),
    [("c.csv", ",", "utf-8"), ("c.txt", "|", "gbk"), ("c.tsv", "\t", "utf-8")],
)
def test_rejects_file_reads_back_as_the_same_cells(
    tmp_path: Path, name: str, sep: str, encoding: str
) -> None:
    rows = [["C1", "=HYPERLINK(x)", "11010519491231002X"], ["C2", "王 五", "bad"]]
    text = sep.join(["客户号", "姓名", "证件号码"]) + "\n"
    text += "".join(sep.join(row) + "\n" for row in rows)
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    reader, _ = open_reader(path, CUSTOMERS)
    writer = RejectsWriter(reader, CUSTOMERS)
    for line, row in enumerate(rows, start=2):
        writer.write(row, RowReject(line, (FieldIssue("id_number", "ric_format", f"bad{sep},x"),)))
    published = writer.commit()
    assert published == rejects_path(path)
    again, header = open_reader(published, CUSTOMERS)
    assert "reject_line" in again.header
    (chunk,) = list(again.chunks(10))
    cells = [[clean_text(row[header.positions[n]]) for n in ("customer_id", "name", "id_number")]
             for row in map(chunk.row, range(len(chunk)))]  # fmt: skip
    assert cells == [[clean_text(c) for c in row] for row in rows]
    assert chunk.issues == {}


def test_abort_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("customer_id,name,id_number\nC1,x,y\n")
    reader, _ = open_reader(path, CUSTOMERS)
    writer = RejectsWriter(reader, CUSTOMERS)
    writer.write(["C1", "x", "y"], RowReject(2, (FieldIssue("id_number", "ric_format", "m"),)))
    writer.abort()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.csv"]
