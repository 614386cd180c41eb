"""The documented column set of each import kind, with English and Chinese header aliases.

Headers are matched after cleaning (trim, full-width to half-width), case-
insensitively, with spaces and dashes read as underscores; column order does
not matter. Columns not listed here are ignored by the import and kept in the
rejects file. Columns named ``reject_*`` (written by a rejects file) are
ignored, so a fixed rejects file can be imported as is.

Fixed-width files have no header: their columns are the kind's columns in the
order below, each ``width`` bytes wide in the file's encoding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from cardbatch.ingest.errors import WholeFileError

REJECT_PREFIX = "reject_"
REJECT_COLUMNS = ("reject_line", "reject_field", "reject_reason", "reject_message")


class Kind(StrEnum):
    CUSTOMERS = "customers"
    ACCOUNTS = "accounts"
    DEPOSITS = "deposits"
    TRANSACTIONS = "transactions"


class FieldType(StrEnum):
    """How a cell is cleaned and validated (see ``clean`` and ``validate``)."""

    CODE = "code"  # an identifier: letters, digits, _ and -
    TEXT = "text"
    NAME = "name"  # a person's or holder's name: inner whitespace collapsed
    RIC = "ric"  # resident ID number (GB 11643-1999)
    PHONE = "phone"  # mainland mobile number
    CARD = "card"  # bank card number
    DATE = "date"
    AMOUNT = "amount"  # yuan with up to two decimals, stored as fen, not negative
    POSITIVE_AMOUNT = "positive_amount"  # as AMOUNT, and more than zero
    DAY = "day"  # statement day 1..28
    SCORE = "score"  # an integer 0..1000
    CHOICE = "choice"  # one of a fixed set of values (with Chinese aliases)


@dataclass(frozen=True)
class Column:
    """One documented column: canonical name, type, aliases, fixed-width size."""

    name: str
    type: FieldType
    required: bool
    aliases: tuple[str, ...] = ()
    width: int = 20
    chars_max: int = 40
    choices: Mapping[str, str] = field(default_factory=dict)
    default: str | None = None


@dataclass(frozen=True)
class ColumnSet:
    """The columns of one kind; ``key`` identifies a row for duplicate detection."""

    kind: Kind
    columns: tuple[Column, ...]
    key: str
    # Groups of columns of which a file must carry at least one (e.g. account or card).
    one_of: tuple[tuple[str, ...], ...] = ()

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def record_width(self) -> int:
        return sum(column.width for column in self.columns)


def header_token(cell: str) -> str:
    """A header cell as compared with aliases: trimmed, lower case, ``_`` for spaces and dashes."""
    from cardbatch.ingest.clean import clean_text

    text = clean_text(cell) or ""
    return "_".join(text.lower().replace("-", " ").split())


@dataclass(frozen=True)
class HeaderMap:
    """Where each known column sits in the file: canonical name -> cell index."""

    positions: dict[str, int]
    ignored: tuple[str, ...]


def map_header(columns: ColumnSet, header: Sequence[str], source: str) -> HeaderMap:
    """Match a header row to the column set; missing required columns stop the import."""
    lookup = _alias_lookup(columns)
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for index, cell in enumerate(header):
        token = header_token(cell)
        if token.startswith(REJECT_PREFIX):
            continue
        name = lookup.get(token)
        if name is None:
            if token:
                ignored.append(cell.strip())
            continue
        if name in positions:
            raise WholeFileError(
                "duplicate_column", f"{source}: column {name!r} appears twice in the header"
            )
        positions[name] = index
    missing = [c.name for c in columns.columns if c.required and c.name not in positions]
    for group in columns.one_of:
        if not any(name in positions for name in group):
            missing.append(" or ".join(group))
    if missing:
        raise WholeFileError(
            "missing_column",
            f"{source}: missing required column(s) for {columns.kind}: {', '.join(missing)}",
        )
    return HeaderMap(positions, tuple(ignored))


def known_header_count(columns: ColumnSet, header: Sequence[str]) -> int:
    """How many cells of ``header`` name a column of the set (used to sniff delimiters)."""
    lookup = _alias_lookup(columns)
    return sum(1 for cell in header if header_token(cell) in lookup)


def _alias_lookup(columns: ColumnSet) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for column in columns.columns:
        for alias in (column.name, *column.aliases):
            lookup[header_token(alias)] = column.name
    return lookup


_CARD_STATUS = {
    "active": "active", "正常": "active", "激活": "active",
    "inactive": "inactive", "未激活": "inactive",
    "blocked": "blocked", "止付": "blocked",
    "frozen": "frozen", "冻结": "frozen",
    "charged_off": "charged_off", "核销": "charged_off",
    "closed": "closed", "销户": "closed", "注销": "closed",
}  # fmt: skip
_DEPOSIT_STATUS = {
    "active": "active", "正常": "active",
    "frozen": "frozen", "冻结": "frozen",
    "closed": "closed", "销户": "closed", "注销": "closed",
}  # fmt: skip
_AUTOPAY_MODE = {
    "none": "none", "不开通": "none", "无": "none",
    "full": "full", "全额": "full", "全额还款": "full",
    "minimum": "minimum", "min": "minimum", "最低": "minimum", "最低还款": "minimum",
}  # fmt: skip
_TXN_TYPE = {
    "purchase": "purchase", "消费": "purchase",
    "cash_advance": "cash_advance", "cash": "cash_advance", "取现": "cash_advance",
    "预借现金": "cash_advance",
    "refund": "refund", "退货": "refund", "退款": "refund",
    "payment": "payment", "还款": "payment", "柜面还款": "payment",
}  # fmt: skip

# fmt: off
CUSTOMERS = ColumnSet(
    Kind.CUSTOMERS,
    (
        Column("customer_id", FieldType.CODE, True, ("客户号", "客户编号", "cust_id"), 20, 32),
        Column("name", FieldType.NAME, True, ("姓名", "户名", "客户姓名", "客户名称"), 40, 100),
        Column("id_number", FieldType.RIC, True,
               ("证件号码", "身份证号", "身份证号码", "ric"), 18, 18),
        Column("phone", FieldType.PHONE, False, ("手机号", "手机号码", "手机", "mobile"), 20, 20),
        Column("city", FieldType.TEXT, False, ("城市", "所在城市"), 20, 50),
        Column("credit_score", FieldType.SCORE, False, ("信用评分", "评分"), 4, 4),
    ),
    key="customer_id",
)

ACCOUNTS = ColumnSet(
    Kind.ACCOUNTS,
    (
        Column("account_id", FieldType.CODE, True, ("账号", "卡账户号", "账户号"), 20, 40),
        Column("customer_id", FieldType.CODE, True, ("客户号", "客户编号"), 20, 32),
        Column("card_number", FieldType.CARD, True, ("卡号", "card_no"), 19, 19),
        Column("product_code", FieldType.CODE, False, ("产品", "产品代码", "product"), 10, 32,
               default="standard"),
        Column("credit_limit", FieldType.AMOUNT, True, ("信用额度", "额度", "limit"), 16, 20),
        Column("statement_day", FieldType.DAY, True, ("账单日",), 2, 2),
        Column("repayment_account_id", FieldType.CODE, False,
               ("自动还款账号", "还款账号", "autopay_account"), 20, 40),
        Column("autopay_mode", FieldType.CHOICE, False, ("还款方式", "自动还款方式"), 8, 16,
               _AUTOPAY_MODE, default="none"),
        Column("status", FieldType.CHOICE, False, ("状态", "账户状态"), 12, 16,
               _CARD_STATUS, default="active"),
        Column("opened_on", FieldType.DATE, False, ("开户日期", "开卡日期", "open_date"), 10, 20),
    ),
    key="account_id",
)

DEPOSITS = ColumnSet(
    Kind.DEPOSITS,
    (
        Column("account_id", FieldType.CODE, True, ("账号", "存款账号", "账户号"), 20, 40),
        Column("holder_name", FieldType.NAME, True, ("户名", "姓名", "name"), 40, 200),
        Column("customer_id", FieldType.CODE, False, ("客户号", "客户编号"), 20, 32),
        Column("balance", FieldType.AMOUNT, True, ("余额", "账户余额", "金额"), 16, 20),
        Column("status", FieldType.CHOICE, False, ("状态", "账户状态"), 8, 16,
               _DEPOSIT_STATUS, default="active"),
        Column("opened_on", FieldType.DATE, False, ("开户日期", "open_date"), 10, 20),
    ),
    key="account_id",
)

TRANSACTIONS = ColumnSet(
    Kind.TRANSACTIONS,
    (
        Column("txn_id", FieldType.CODE, True, ("交易流水号", "流水号", "交易编号"), 24, 64),
        Column("account_id", FieldType.CODE, False, ("账号", "卡账户号"), 20, 40),
        Column("card_number", FieldType.CARD, False, ("卡号", "card_no"), 19, 19),
        Column("txn_type", FieldType.CHOICE, True, ("交易类型", "类型", "type"), 12, 16,
               _TXN_TYPE),
        Column("amount", FieldType.POSITIVE_AMOUNT, True, ("金额", "交易金额"), 16, 20),
        Column("txn_date", FieldType.DATE, True, ("交易日期",), 10, 20),
        Column("post_date", FieldType.DATE, True, ("入账日期", "记账日期", "posting_date"), 10, 20),
        Column("description", FieldType.TEXT, False, ("摘要", "商户名称", "商户", "用途"), 40, 200),
    ),
    key="txn_id",
    one_of=(("account_id", "card_number"),),
)

# fmt: on

COLUMN_SETS: dict[Kind, ColumnSet] = {
    Kind.CUSTOMERS: CUSTOMERS,
    Kind.ACCOUNTS: ACCOUNTS,
    Kind.DEPOSITS: DEPOSITS,
    Kind.TRANSACTIONS: TRANSACTIONS,
}
