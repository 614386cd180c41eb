"""Payment allocation (冲账顺序): spreading a payment over balance items.

A card balance is a list of items (:class:`Item`), each of one component
(the ledger's card components: ``purchase``, ``cash``, ``interest``, ``fee``,
``late_fee``, ``instalment``) with
its posting date. A payment pays the components in the product's order and,
within a component, the oldest posting first; older items are out of their
interest-free period before newer ones, so "oldest first" also pays items out
of the interest-free period before items still inside it. The order is
``allocation_order_current`` below ``delinquent_from_dpd`` days past due and
``allocation_order_delinquent`` from there on (DOMAIN.md). A refund or other
credit lowers purchases only (:data:`CREDIT_ORDER`), oldest first. What is left
after every item is paid is an overpayment (溢缴款), held as a credit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from cardbatch.domain.product import COMPONENTS, PURCHASE, ProductTerms

CREDIT_ORDER: tuple[str, ...] = (PURCHASE,)


def order_for(kind: str, dpd: int, terms: ProductTerms) -> tuple[str, ...]:
    """The order for a ``payment`` (by DPD) or a ``credit`` (refund: purchases only)."""
    return CREDIT_ORDER if kind == "credit" else terms.allocation_order(dpd)


@dataclass(frozen=True, slots=True)
class Item:
    """One balance item: ``remaining_fen`` of ``component`` posted on ``post_date``."""

    component: str
    post_date: date
    seq: int
    remaining_fen: int


@dataclass(frozen=True, slots=True)
class Allocation:
    """How one payment was spread: ``paid_fen[i]`` went to ``items[i]``; the rest is overpaid."""

    paid_fen: tuple[int, ...]
    overpaid_fen: int

    def by_component(self, items: Sequence[Item]) -> dict[str, int]:
        """Amount paid per component."""
        totals = dict.fromkeys(COMPONENTS, 0)
        for item, paid_fen in zip(items, self.paid_fen, strict=True):
            totals[item.component] += paid_fen
        return totals


def payment_order(items: Sequence[Item], order: Sequence[str]) -> list[int]:
    """Indexes of ``items`` in the order a payment pays them (components not in ``order``
    are not paid: a refund, for instance, pays purchases only)."""
    rank = {component: position for position, component in enumerate(order)}
    return sorted(
        (i for i in range(len(items)) if items[i].component in rank),
        key=lambda i: (rank[items[i].component], items[i].post_date, items[i].seq),
    )


def allocate(amount_fen: int, items: Sequence[Item], order: Sequence[str]) -> Allocation:
    """Spread ``amount_fen`` (>= 0) over ``items`` in ``order``, oldest first within a component."""
    if amount_fen < 0:
        raise ValueError(f"a payment must not be negative: {amount_fen} fen")
    paid_fen = [0] * len(items)
    left_fen = amount_fen
    for index in payment_order(items, order):
        if left_fen == 0:
            break
        take_fen = min(left_fen, items[index].remaining_fen)
        paid_fen[index] = take_fen
        left_fen -= take_fen
    return Allocation(paid_fen=tuple(paid_fen), overpaid_fen=left_fen)
