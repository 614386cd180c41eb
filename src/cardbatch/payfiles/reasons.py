"""Row and file result reasons: Chinese text, ISO 20022 status reason code, NACHA return codes.

One table, :data:`REASONS`, is the only place where 户名不符 meets ``BE01`` and ``R01`` meets
``AM04``. Only insufficient funds (``AM04`` / NACHA ``R01``) is retryable (DOMAIN.md).
"""

from __future__ import annotations

from typing import NamedTuple


class Reason(NamedTuple):
    """Why a row ended as it did.

    ``key`` is the stable name used in code and the store; ``reason_cn`` is written to return
    files; ``iso_code`` is the ISO 20022 ExternalStatusReason1Code (empty for success);
    ``nacha_codes`` are the NACHA return codes that mean the same; ``retryable`` says whether
    a later attempt may succeed (a setting of the loan product decides whether to retry).
    """

    key: str
    reason_cn: str
    iso_code: str
    nacha_codes: tuple[str, ...]
    retryable: bool
    text_en: str


SUCCESS = Reason("success", "成功", "", (), False, "processed")
NAME_MISMATCH = Reason("name_mismatch", "户名不符", "BE01", (), False, "name does not match")
INSUFFICIENT_FUNDS = Reason(
    "insufficient_funds", "余额不足", "AM04", ("R01",), True, "insufficient funds"
)
ACCOUNT_FROZEN = Reason("account_frozen", "账户冻结", "AC06", ("R16",), False, "blocked account")
ACCOUNT_CLOSED = Reason("account_closed", "账户已销户", "AC04", ("R02",), False, "closed account")
ACCOUNT_NOT_FOUND = Reason(
    "account_not_found", "账户不存在", "AC01", ("R03", "R04"), False, "incorrect account"
)
NO_MANDATE = Reason("no_mandate", "无授权", "MD01", (), False, "no mandate")
DUPLICATE = Reason("duplicate", "重复", "AM05", (), False, "duplicate")
INVALID_AMOUNT = Reason("invalid_amount", "金额无效", "AM12", (), False, "invalid amount")
AMOUNT_OVER_LIMIT = Reason(
    "amount_over_limit", "超过单笔限额", "AM02", (), False, "amount above the per-row limit"
)
DECEASED = Reason("deceased", "客户已身故", "MD07", (), False, "customer deceased")
INVALID_FILE = Reason("invalid_file", "文件格式错误", "FF01", (), False, "invalid file format")
OTHER = Reason("other", "其他", "NARR", (), False, "see narrative")

REASONS: tuple[Reason, ...] = (
    SUCCESS,
    NAME_MISMATCH,
    INSUFFICIENT_FUNDS,
    ACCOUNT_FROZEN,
    ACCOUNT_CLOSED,
    ACCOUNT_NOT_FOUND,
    NO_MANDATE,
    DUPLICATE,
    INVALID_AMOUNT,
    AMOUNT_OVER_LIMIT,
    DECEASED,
    INVALID_FILE,
    OTHER,
)

_BY_KEY = {reason.key: reason for reason in REASONS}
_BY_ISO = {reason.iso_code: reason for reason in REASONS if reason.iso_code}
_BY_NACHA = {code: reason for reason in REASONS for code in reason.nacha_codes}


def reason_by_key(key: str) -> Reason:
    """The reason named ``key``; ``KeyError`` for an unknown key (a programmer error)."""
    return _BY_KEY[key]


def reason_by_iso(iso_code: str) -> Reason:
    """The reason for an ISO 20022 status reason code; unknown codes map to :data:`OTHER`."""
    return _BY_ISO.get(iso_code, OTHER)


def reason_by_nacha(nacha_code: str) -> Reason:
    """The reason for a NACHA return code (``R01`` -> insufficient funds); unknown -> OTHER."""
    return _BY_NACHA.get(nacha_code.upper(), OTHER)
