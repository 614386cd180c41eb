"""Tables of the nightly card cycle: per-account cycle state, statements, delinquency, autopay.

- ``cycle_accounts``: one row per card account, the state its last statement left
  (the kernels' accounts frame, ``cardbatch.jobs.cycle_kernels.ACCOUNT_SCHEMA``)
  plus the delinquency state (DPD, bucket, class) as of ``state_date``;
- ``cycle_lots``: the items of the last statement still waiting for the
  interest-free period (the kernels' lots frame);
- ``statements``: one row per account and statement date, with every field of
  issue 6, the rule version used and the kernels' input for ``cycle explain``;
  the lines of the period are the ledger's entries of the account from
  ``period_start`` to ``statement_date``;
- ``delinquency_history``: one row per account and date whose bucket or class changed;
- ``autopay_attempts``: every auto-repayment attempt, debited or declined with a reason code;
- ``instalment_plans`` and ``instalment_lines``: amounts converted into monthly instalments
  (账单分期) and the principal and fee billed on each statement date;
- ``status_actions``: card status changes made by bucket (block, freeze, charge-off), with why.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from cardbatch.store.tables import BigId, metadata

CARD_COMPONENT_NAMES: tuple[str, ...] = (
    "purchase",
    "cash",
    "interest",
    "fee",
    "late_fee",
    "instalment",
)

cycle_accounts = Table(
    "cycle_accounts",
    metadata,
    Column("account_id", String(40), primary_key=True),
    Column("product_code", String(32), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("last_statement_date", Date),
    Column("due_date", Date),
    Column("statement_balance_fen", BigInteger, nullable=False),
    Column("minimum_fen", BigInteger, nullable=False),
    Column("arrears_fen", BigInteger, nullable=False),
    Column("arrears_since", Date),
    Column("overpaid_fen", BigInteger, nullable=False),
    *(Column(f"balance_{c}_fen", BigInteger, nullable=False) for c in CARD_COMPONENT_NAMES),
    Column("retro_fen_days", BigInteger, nullable=False),
    Column("unbilled_instalment_fen", BigInteger, nullable=False),
    Column("instalment_principal_fen", BigInteger, nullable=False),
    Column("instalment_fee_fen", BigInteger, nullable=False),
    Column("dpd", Integer, nullable=False),
    Column("bucket", String(4), nullable=False),
    Column("five_category", String(16), nullable=False),
    Column("state_date", Date, nullable=False),
)

cycle_lots = Table(
    "cycle_lots",
    metadata,
    Column("account_id", String(40), primary_key=True),
    Column("component", String(16), primary_key=True),
    Column("post_date", Date, primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    Column("remaining_fen", BigInteger, nullable=False),
)

STATEMENT_AMOUNTS: tuple[str, ...] = (
    "opening_balance_fen",
    "purchases_fen",
    "cash_fen",
    "instalment_fen",
    "payments_fen",
    "credits_fen",
    "interest_fen",
    "fees_fen",
    "late_fee_fen",
    "closing_balance_fen",
    "minimum_payment_fen",
    "unbilled_instalment_fen",
)

statements = Table(
    "statements",
    metadata,
    Column("account_id", String(40), primary_key=True),
    Column("statement_date", Date, primary_key=True),
    Column("period_start", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    *(Column(name, BigInteger, nullable=False) for name in STATEMENT_AMOUNTS),
    Column("dpd", Integer, nullable=False),
    Column("bucket", String(4), nullable=False),
    Column("five_category", String(16), nullable=False),
    Column("rule_version", String(48), nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("inputs_json", Text, nullable=False),
)

delinquency_history = Table(
    "delinquency_history",
    metadata,
    Column("account_id", String(40), primary_key=True),
    Column("business_date", Date, primary_key=True),
    Column("dpd", Integer, nullable=False),
    Column("bucket", String(4), nullable=False),
    Column("five_category", String(16), nullable=False),
    Column("previous_bucket", String(4), nullable=False),
    Column("previous_category", String(16), nullable=False),
    Column("run_id", String(64), nullable=False),
)

autopay_attempts = Table(
    "autopay_attempts",
    metadata,
    Column("attempt_id", BigId, primary_key=True, autoincrement=True),
    Column("account_id", String(40), nullable=False),
    Column("attempt_date", Date, nullable=False),
    Column("statement_date", Date, nullable=False),
    Column("deposit_account_id", String(40)),
    Column("choice", String(16), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("basis", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason_code", String(8)),
    Column("entry_key", String(200)),
    Column("run_id", String(64), nullable=False),
    UniqueConstraint("account_id", "attempt_date"),
    Index("ix_autopay_attempts_attempt_date", "attempt_date"),
)

instalment_plans = Table(
    "instalment_plans",
    metadata,
    Column("plan_id", String(64), primary_key=True),
    Column("account_id", String(40), nullable=False),
    Column("converted_on", Date, nullable=False),
    Column("principal_fen", BigInteger, nullable=False),
    Column("instalments", Integer, nullable=False),
    Column("monthly_fee_percent", String(16), nullable=False),
    Column("fee_fen", BigInteger, nullable=False),
    Column("entry_key", String(200), nullable=False),
    # early payoff (migration 0010): the date, and the unbilled fees waived then
    Column("paid_off_on", Date),
    Column("payoff_waived_fee_fen", BigInteger),
)

instalment_lines = Table(
    "instalment_lines",
    metadata,
    Column("plan_id", String(64), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("account_id", String(40), nullable=False),
    Column("bill_date", Date, nullable=False),
    Column("principal_fen", BigInteger, nullable=False),
    Column("fee_fen", BigInteger, nullable=False),
    Index("ix_instalment_lines_account_id_bill_date", "account_id", "bill_date"),
)

status_actions = Table(
    "status_actions",
    metadata,
    Column("account_id", String(40), primary_key=True),
    Column("business_date", Date, primary_key=True),
    Column("from_status", String(16), nullable=False),
    Column("to_status", String(16), nullable=False),
    Column("reason", String(200), nullable=False),
    Column("run_id", String(64), nullable=False),
)
