"""Reading helpers: the fast amount path agrees with money.parse_yuan; encodings; atomic writes."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cardbatch.money import MoneyError, parse_yuan
from cardbatch.payfiles import FileError, textio


@given(st.one_of(st.text(alphabet="0123456789.,-+ ¥１２", max_size=18), st.text(max_size=8)))
def test_fast_amount_path_agrees_with_parse_yuan(text: str) -> None:
    fast = textio.plain_yuan_fen(text)
    if fast is None:
        return
    assert fast == parse_yuan(text)


@given(st.integers(min_value=0, max_value=10**15 - 1))
def test_fast_amount_path_takes_every_plain_amount(amount_fen: int) -> None:
    text = f"{amount_fen // 100}.{amount_fen % 100:02d}"
    assert textio.plain_yuan_fen(text) == amount_fen == parse_yuan(text)


@pytest.mark.parametrize("text", ["1.5", "１.００", "+1.00", "1_0.00", "", ".00", "1.000"])
def test_fast_amount_path_declines_unusual_forms(text: str) -> None:
    assert textio.plain_yuan_fen(text) is None


def test_parse_amount_records_a_problem() -> None:
    problems: list[textio.FileProblem] = []
    assert textio.parse_amount("abc", "f.txt", 7, problems) == 0
    assert [(p.line, p.field, p.code) for p in problems] == [(7, "amount", "bad_amount")]
    with pytest.raises(MoneyError):
        parse_yuan("abc")


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("客户".encode(), "utf-8"),
        ("\ufeff客户".encode(), "utf-8-sig"),
        ("客户".encode("gbk"), "gbk"),
        (b"plain", "utf-8"),
    ],
)
def test_decode_text(data: bytes, encoding: str) -> None:
    text, found = textio.decode_text(data, "f")
    assert found == encoding
    assert text.lstrip("\ufeff") in ("客户", "plain")


def test_undecodable_names_the_line() -> None:
    with pytest.raises(FileError) as caught:
        textio.decode_text(b"a\nb\n\xff\xff\n", "f.txt")
    assert (caught.value.line, caught.value.code) == (3, "undecodable")


def test_write_atomic_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "out" / "x.txt"
    textio.write_atomic(target, b"data")
    assert target.read_bytes() == b"data"
    assert [p.name for p in target.parent.iterdir()] == ["x.txt"]
