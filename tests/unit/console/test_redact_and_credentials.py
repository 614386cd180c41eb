"""Scrubbing personal numbers from text; tokens and passwords."""

from __future__ import annotations

from cardbatch.domain import credentials
from cardbatch.domain.redact import find_personal_numbers, redact_text


def test_redact_text_masks_each_kind_in_place() -> None:
    text = ("id 11010519491231002X card 6222021234567894 acct 6217000000000000210 "
            "phone 13812345678 amount 100000 account CA0000000001")  # fmt: skip
    assert redact_text(text) == (
        "id 110105********002X card 622202******7894 acct 621700*********0210 "
        "phone 138****5678 amount 100000 account CA0000000001"
    )
    assert find_personal_numbers(redact_text(text)) == []
    assert len(find_personal_numbers(text)) == 4


def test_digits_inside_longer_tokens_are_left_alone() -> None:
    assert redact_text("req 13812345678901234567890") == "req 13812345678901234567890"
    assert redact_text("hash ab13812345678cd") == "hash ab13812345678cd"
    assert redact_text("utilisation 0.060734666666666666") == "utilisation 0.060734666666666666"
    assert redact_text("end of sentence 13812345678.") == "end of sentence 138****5678."


def test_token_round_trip_and_constant_time_check() -> None:
    issued = credentials.issue_token()
    parts = credentials.split_token(issued.text)
    assert parts is not None and parts[0] == issued.token_id
    assert credentials.token_matches(parts[1], issued.salt, issued.secret_hash)
    assert not credentials.token_matches(parts[1] + "x", issued.salt, issued.secret_hash)
    assert credentials.split_token("cb_short_x") is None
    assert credentials.split_token("x" * 500) is None


def test_password_hash_is_salted_scrypt() -> None:
    first = credentials.hash_password("correct horse battery")
    second = credentials.hash_password("correct horse battery")
    assert first != second and first.startswith("scrypt$")
    assert credentials.password_matches("correct horse battery", first)
    assert not credentials.password_matches("correct horse batterY", first)
    assert not credentials.password_matches("x", "not-a-hash")
