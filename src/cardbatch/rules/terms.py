"""From a validated :class:`RuleSet` to the cycle's flat product terms.

The nightly cycle works with one frozen record of product terms (see
``docs/rules.md``, section "Terms for the cycle"). :func:`product_terms_fields`
gives those terms as a dict keyed by the record's field names, with lists turned
into tuples so the record stays hashable and immutable; ``ProductTerms(**fields)``
builds the record. Keep the field names in step with the record's definition.
"""

from __future__ import annotations

from typing import Any

from cardbatch.rules.model import RuleSet


def product_terms_fields(rules: RuleSet) -> dict[str, Any]:
    """The cycle parameters of ``rules``, keyed by product-terms field name."""
    return {
        "product_code": rules.product.code,
        "due_days": rules.cycle.due_days,
        "grace_days": rules.cycle.grace_days,
        "daily_rate": rules.interest.daily_rate,
        "interest_mode": rules.interest.mode,
        "cash_from_transaction_date": rules.interest.cash_from_transaction_date,
        "waiver_threshold_fen": rules.interest.waiver_threshold_fen,
        "charge_interest_on_fees": rules.interest.charge_interest_on_fees,
        "min_payment_percent": rules.minimum_payment.percent,
        "min_payment_floor_fen": rules.minimum_payment.floor_fen,
        "min_payment_full_components": tuple(rules.minimum_payment.full_components),
        "late_fee_percent": rules.late_fee.percent,
        "late_fee_floor_fen": rules.late_fee.floor_fen,
        "late_fee_cap_fen": rules.late_fee.cap_fen,
        "allocation_order_current": tuple(rules.allocation.order_current),
        "allocation_order_delinquent": tuple(rules.allocation.order_delinquent),
        "delinquent_from_dpd": rules.allocation.delinquent_from_dpd,
        "autopay_attempt_offset_days": rules.autopay.attempt_offset_days,
        "autopay_retry_days": rules.autopay.retry_days,
        "autopay_fallback_to_minimum": rules.autopay.fallback_to_minimum,
        "autopay_allow_partial": rules.autopay.allow_partial,
        "bucket_edges": tuple(rules.delinquency.bucket_edges),
        "five_category_edges": tuple(rules.delinquency.five_category_edges),
    }
