"""The statement's labels, Chinese first and English second, and its rows as display text.

Shared by the HTML and PDF renderers so both show the same words and figures;
amounts go through :func:`cardbatch.money.format_fen`.
"""

from __future__ import annotations

from cardbatch.money import format_fen
from cardbatch.statements.read import CustomerStatement, StatementLine

# (中文, English, field): the summary block, in the order a statement reads.
SUMMARY: tuple[tuple[str, str, str], ...] = (
    ("上期账单金额", "Opening balance", "opening_balance_fen"),
    ("本期消费", "Purchases", "purchases_fen"),
    ("本期取现", "Cash advances", "cash_fen"),
    ("本期分期应还", "Instalments billed", "instalment_fen"),
    ("本期还款", "Payments", "payments_fen"),
    ("退款及其他贷记", "Refunds and other credits", "credits_fen"),
    ("利息", "Interest", "interest_fen"),
    ("费用", "Fees", "fees_fen"),
    ("违约金", "Late fee", "late_fee_fen"),
    ("本期应还金额", "Closing balance", "closing_balance_fen"),
    ("最低还款额", "Minimum payment", "minimum_payment_fen"),
    ("未出账分期本金", "Unbilled instalments", "unbilled_instalment_fen"),
)
HEADINGS: dict[str, tuple[str, str]] = {
    "title": ("信用卡对账单", "Credit card statement"),
    "holder": ("持卡人", "Cardholder"),
    "card": ("卡号", "Card number"),
    "account": ("账户", "Account"),
    "statement_date": ("账单日", "Statement date"),
    "period": ("账单周期", "Statement period"),
    "due_date": ("到期还款日", "Payment due date"),
    "summary": ("本期账务摘要", "Summary"),
    "lines": ("本期交易明细", "Transactions of the period"),
    "date": ("记账日", "Date"),
    "kind": ("类型", "Type"),
    "description": ("摘要", "Description"),
    "amount": ("金额 (元)", "Amount (yuan)"),
    "no_lines": ("本期无交易", "No transactions in this period"),
    "sign_note": (
        "金额为正表示应还款项，为负表示还款或贷记",
        "Positive amounts are charges; negative amounts are payments and credits",
    ),
}
KIND_LABELS: dict[str, tuple[str, str]] = {
    "purchase": ("消费", "Purchase"),
    "cash_advance": ("取现", "Cash advance"),
    "refund": ("退款", "Refund"),
    "payment": ("还款", "Payment"),
    "autopay": ("自动还款", "Auto-repayment"),
    "sweep": ("存贷合一还款", "Deposit sweep"),
    "interest": ("利息", "Interest"),
    "fee": ("费用", "Fee"),
    "late_fee": ("违约金", "Late fee"),
    "instalment": ("分期", "Instalment"),
    "reversal": ("冲正", "Reversal"),
    "waiver": ("减免", "Waiver"),
}


def kind_label(kind: str) -> tuple[str, str]:
    """The Chinese and English names of a ledger entry kind (the kind itself if unknown)."""
    return KIND_LABELS.get(kind, (kind, kind))


def summary_rows(statement: CustomerStatement) -> list[tuple[str, str, str]]:
    """(中文, English, formatted yuan) for every summary field."""
    return [(zh, en, format_fen(statement.amounts[field])) for zh, en, field in SUMMARY]


def line_rows(statement: CustomerStatement) -> list[tuple[str, str, str, str, str]]:
    """(date, kind 中文, kind English, description, formatted yuan) per line."""
    return [_line_row(line) for line in statement.lines]


def _line_row(line: StatementLine) -> tuple[str, str, str, str, str]:
    zh, en = kind_label(line.kind)
    return (line.entry_date.isoformat(), zh, en, line.description, format_fen(line.amount_fen))
