"""Readers: encodings, delimiter sniffing, line numbers, field counts, xlsx cells, fixed width."""

from __future__ import annotations

import codecs
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from cardbatch.ingest.columns import CUSTOMERS, TRANSACTIONS
from cardbatch.ingest.errors import WholeFileError
from cardbatch.ingest.formats import Chunk, open_reader
from cardbatch.ingest.formats.delimited import DelimitedReader
from cardbatch.ingest.formats.encoding import detect_encoding
from cardbatch.ingest.formats.xlsx import cell_text
from cardbatch.ingest.settings import IngestSettings

HEADER = "customer_id,name,id_number"
ROW = "C1,张三,11010519491231002X"


def rows_of(chunk: Chunk) -> list[list[str]]:
    return [chunk.row(index) for index in range(len(chunk))]


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("data", "codec"),
    [
        (f"{HEADER}\n{ROW}\n".encode(), "utf-8"),
        (codecs.BOM_UTF8 + f"{HEADER}\n{ROW}\n".encode(), "utf-8-sig"),
        (f"{HEADER}\n{ROW}\n".encode("gbk"), "gb18030"),
        (f"{HEADER}\n{ROW}\n".encode("gb18030"), "gb18030"),
    ],
)
def test_encoding_detected(tmp_path: Path, data: bytes, codec: str) -> None:
    assert detect_encoding(write(tmp_path, "f.csv", data)) == codec


def test_encoding_failure_deep_in_a_large_file_is_found(tmp_path: Path) -> None:
    data = (f"{HEADER}\n" + f"{ROW}\n" * 200_000).encode() + b"C9,\xff\xfe,x\n"
    with pytest.raises(WholeFileError) as info:
        detect_encoding(write(tmp_path, "f.csv", data))
    assert info.value.code == "encoding"
    assert "near line 200002" in info.value.message


def test_requested_encoding_is_checked(tmp_path: Path) -> None:
    path = write(tmp_path, "f.csv", f"{HEADER}\n{ROW}\n".encode("gbk"))
    with pytest.raises(WholeFileError):
        detect_encoding(path, "utf-8")
    assert detect_encoding(path, "gb18030") == "gb18030"


@pytest.mark.parametrize(("sep", "fmt"), [(",", "csv"), ("\t", "tsv"), ("|", "pipe")])
def test_delimiter_sniffed_from_the_header(tmp_path: Path, sep: str, fmt: str) -> None:
    text = f"{HEADER}\n{ROW}\n".replace(",", sep)
    reader, header = open_reader(write(tmp_path, "f.txt", text.encode()), CUSTOMERS)
    assert reader.format == fmt
    assert header.positions == {"customer_id": 0, "name": 1, "id_number": 2}


def test_line_numbers_count_blank_lines_and_quoted_line_breaks(tmp_path: Path) -> None:
    text = f'{HEADER}\n\n{ROW}\nC2,"王\n五",x\nC3,李四,y\n'
    reader, _ = open_reader(write(tmp_path, "f.csv", text.encode()), CUSTOMERS)
    lines = [line for chunk in reader.chunks(2) for line in chunk.lines]
    assert lines == [3, 4, 6]


def test_chunks_bound_the_rows_held(tmp_path: Path) -> None:
    text = HEADER + "\n" + "".join(f"C{i},n,x\n" for i in range(10))
    reader, _ = open_reader(write(tmp_path, "f.csv", text.encode()), CUSTOMERS)
    sizes = [len(chunk) for chunk in reader.chunks(4)]
    assert sizes == [4, 4, 2]


def test_wrong_field_count_is_a_row_issue(tmp_path: Path) -> None:
    text = f"{HEADER}\n{ROW}\nC2,x\n{ROW},extra\n"
    reader, _ = open_reader(write(tmp_path, "f.csv", text.encode()), CUSTOMERS)
    (chunk,) = list(reader.chunks(100))
    assert {i: issue.code for i, issue in chunk.issues.items()} == {
        1: "field_count",
        2: "field_count",
    }


def test_trailing_pipe_is_recognised(tmp_path: Path) -> None:
    text = f"{HEADER}|\n{ROW}|\n".replace(",", "|")
    reader, _ = open_reader(write(tmp_path, "f.txt", text.encode()), CUSTOMERS)
    assert isinstance(reader, DelimitedReader) and reader.trailing_delimiter
    (chunk,) = list(reader.chunks(10))
    assert rows_of(chunk) == [["C1", "张三", "11010519491231002X"]]
    assert chunk.issues == {}


def test_xlsx_cells_become_text_as_typed(tmp_path: Path) -> None:
    assert cell_text(20000.0) == "20000"
    assert cell_text(12.5) == "12.5"
    assert cell_text(datetime(2024, 1, 10)) == "2024-01-10"
    assert cell_text(date(2024, 1, 10)) == "2024-01-10"
    assert cell_text(None) == ""
    book = Workbook()
    sheet = book.active
    sheet.append(["客户号", "姓名", "证件号码"])
    sheet.append(["C1", "张三", "11010519491231002X"])
    path = tmp_path / "f.xlsx"
    book.save(path)
    reader, _ = open_reader(path, CUSTOMERS)
    assert reader.format == "xlsx"
    (chunk,) = list(reader.chunks(10))
    assert rows_of(chunk) == [["C1", "张三", "11010519491231002X"]] and chunk.lines == [2]


def test_fixed_width_counts_bytes_and_finds_cut_characters(tmp_path: Path) -> None:
    head = "T1".ljust(24) + "A1".ljust(20) + " " * 19 + "消费".ljust(10) + "10.00".rjust(16)
    dates = "2024-03-302024-03-30"
    good = head + dates + "超市"
    cut = head + dates + "x" * 39 + "中"
    data = (good + "\r\n" + cut + "\r\n").encode("gbk")
    reader, _ = open_reader(write(tmp_path, "t.dat", data), TRANSACTIONS)
    assert reader.format == "fixed"
    (chunk,) = list(reader.chunks(10))
    assert chunk.row(0)[3].strip() == "消费" and chunk.row(0)[7].strip() == "超市"
    assert chunk.issues[1].code == "field_split" and chunk.issues[1].field == "description"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"customer_id,name\nC1,x\n", "missing_column"),
        (b"a,b,c\n1,2,3\n", "no_header"),
        (f"{HEADER}\n{ROW}\n".encode("utf-16"), "encoding"),
        (b"customer_id,name,id_number\nC1,Jos\xe9,x\n", "encoding"),
    ],
)
def test_whole_file_errors(tmp_path: Path, data: bytes, code: str) -> None:
    with pytest.raises(WholeFileError) as info:
        open_reader(write(tmp_path, "f.csv", data), CUSTOMERS)
    assert info.value.code == code
    assert "f.csv" in info.value.message


def test_size_limit_is_a_setting(tmp_path: Path) -> None:
    path = write(tmp_path, "f.csv", f"{HEADER}\n{ROW}\n".encode())
    with pytest.raises(WholeFileError) as info:
        open_reader(path, CUSTOMERS, settings=IngestSettings(file_bytes_max=10))
    assert info.value.code == "too_large"
    assert "file_bytes_max" in info.value.message


@pytest.mark.parametrize("sep", [",", "|", "\t"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_bulk_and_csv_module_readers_agree(tmp_path: Path, sep: str, newline: str) -> None:
    lines = [HEADER, "", ROW, "C2,  王五 ,x", " , ,", "C3,李四", "C4,a,b,c", "C5,张 三,y", ""]
    text = newline.join(lines).replace(",", sep)
    plain = write(tmp_path, "plain.txt", text.encode())
    reader, _ = open_reader(plain, CUSTOMERS)
    assert isinstance(reader, DelimitedReader) and reader.bulk
    # the same file with one quoted cell must be read by the csv module (CSV only)
    quoted = write(tmp_path, "quoted.csv", (text + newline + 'C9,"q",z').encode())
    other, _ = open_reader(quoted, CUSTOMERS, fmt="csv") if sep == "," else (reader, None)
    bulk_chunks = list(reader.chunks(3))
    csv_chunks = [c for c in other.chunks(3)]
    assert isinstance(other, DelimitedReader) and (other.bulk is (sep != ","))

    def flat(chunks: list[Chunk]) -> list[tuple[int, list[str], list[str], str | None]]:
        return [(c.lines[i], c.row(i), c.cells_as_read(i), c.issues[i].code if i in c.issues
                 else None) for c in chunks for i in range(len(c))]  # fmt: skip

    expected = flat(bulk_chunks)
    assert [line for line, *_ in expected] == [3, 4, 6, 7, 8]
    assert [code for *_, code in expected] == [None, None, "field_count", "field_count", None]
    assert flat(csv_chunks)[: len(expected)] == expected
