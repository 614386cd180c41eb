"""Resident IDs, card numbers, phones (DOMAIN.md O6) and masking."""

import pytest

from cardbatch.domain.identity import (
    IdentityError,
    luhn_check_digit,
    luhn_valid,
    normalize_card_number,
    normalize_mobile,
    normalize_ric,
    ric_check_char,
)
from cardbatch.domain.masking import mask_card, mask_name, mask_phone, mask_ric


def test_o6_valid_resident_ids() -> None:
    assert normalize_ric("11010519491231002X") == "11010519491231002X"
    assert normalize_ric("11010519491231002x") == "11010519491231002X"
    assert normalize_ric(" ３６０４２６１９９１０１０１００７１ ") == "360426199101010071"
    assert ric_check_char("11010519491231002") == "X"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("110105194912310021", "ric_checksum"),
        ("1101051949123100", "ric_format"),
        ("11010519491331002X", "ric_birth_date"),
        ("990105194912310029", "ric_region"),
    ],
)
def test_bad_resident_ids(value: str, code: str) -> None:
    if code == "ric_region":
        value = value[:17] + ric_check_char(value[:17])
    with pytest.raises(IdentityError) as info:
        normalize_ric(value)
    assert info.value.code == code


def test_o6_luhn() -> None:
    assert luhn_check_digit("622202123456789") == "4"
    assert luhn_valid("6222021234567894")
    assert not luhn_valid("6222021234567895")
    assert normalize_card_number("6222 0212 3456 7894") == "6222021234567894"
    with pytest.raises(IdentityError, match="Luhn"):
        normalize_card_number("6222021234567895")
    assert normalize_card_number("6222021234567895", require_luhn=False) == "6222021234567895"
    with pytest.raises(IdentityError, match="16 to 19"):
        normalize_card_number("622202123")


@pytest.mark.parametrize(
    "text", ["13812345678", "+86 138-1234-5678", "8613812345678", "１３８１２３４５６７８"]
)
def test_mobile_normalised(text: str) -> None:
    assert normalize_mobile(text) == "13812345678"


def test_mobile_refused() -> None:
    with pytest.raises(IdentityError):
        normalize_mobile("12812345678")


def test_masks() -> None:
    assert mask_ric("11010519491231002X") == "110105********002X"
    assert mask_card("6222021234561234") == "622202******1234"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_card("123") == "***"
