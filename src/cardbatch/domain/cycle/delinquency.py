"""Delinquency: days past due (DPD), bucket M0..M7 and the five-category class.

DPD counts from the oldest missed due date whose minimum payment is still not
covered ("full cure": an account is current again only when every past-due
minimum is paid). During grace the DPD already counts (DOMAIN.md O4: 04-24 is
DPD 1 for a 04-23 due date); grace only decides late fee and interest. An
unpaid statement balance at or under the waiver threshold is not delinquent.

Buckets: M0 current, then M1..M7 from the product's ``bucket_edges`` (standard
1, 31, 61, 91, 121, 151, 181). Five categories from ``five_category_edges``
(standard 1, 91, 121, 181): normal, special mention, substandard, doubtful, loss.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date

from cardbatch.domain.product import ProductTerms

FIVE_CATEGORIES: tuple[str, ...] = (
    "normal",
    "special_mention",
    "substandard",
    "doubtful",
    "loss",
)
FIVE_CATEGORY_LABELS_ZH: dict[str, str] = {
    "normal": "正常",
    "special_mention": "关注",
    "substandard": "次级",
    "doubtful": "可疑",
    "loss": "损失",
}


def bucket_index(dpd: int, edges: tuple[int, ...]) -> int:
    """0 for current, k for Mk: the number of bucket edges at or below ``dpd``."""
    return bisect_right(edges, dpd)


def bucket(dpd: int, edges: tuple[int, ...]) -> str:
    """Bucket name ``M0``..``M7`` for ``dpd``."""
    return f"M{bucket_index(dpd, edges)}"


def five_category(dpd: int, edges: tuple[int, ...]) -> str:
    """Five-category class (``normal`` .. ``loss``) for ``dpd``."""
    return FIVE_CATEGORIES[bisect_right(edges, dpd)]


@dataclass(frozen=True, slots=True)
class Arrears:
    """Past-due state carried from earlier cycles into a statement period.

    ``amount_fen`` is the minimum still unpaid from cycles before the current due
    date (it is part of the current minimum); ``since`` is the oldest missed due
    date, ``None`` when the account is current.
    """

    amount_fen: int = 0
    since: date | None = None


@dataclass(frozen=True, slots=True)
class DueState:
    """What the last statement left due: its due date, minimum, balance and older arrears."""

    due: date
    minimum_fen: int
    statement_balance_fen: int
    arrears: Arrears = Arrears()


def dpd_on(day: date, state: DueState, paid_fen: int, terms: ProductTerms) -> int:
    """DPD on ``day`` within the period that follows the statement of ``state``.

    ``paid_fen`` is the payments and credits received since that statement up to
    the moment looked at.
    """
    if state.statement_balance_fen - paid_fen <= terms.waiver_threshold_fen:
        return 0
    since = state.arrears.since
    if since is not None and paid_fen < state.arrears.amount_fen:
        return max(0, (day - since).days)
    if day > state.due and paid_fen < state.minimum_fen:
        return (day - state.due).days
    return 0


def arrears_after(
    statement_date: date, state: DueState, paid_fen: int, terms: ProductTerms
) -> Arrears:
    """The arrears carried past the next statement, dated ``statement_date``."""
    if dpd_on(statement_date, state, paid_fen, terms) == 0:
        return Arrears()
    old = state.arrears
    old_unpaid = old.since is not None and paid_fen < old.amount_fen
    since = old.since if old_unpaid else state.due
    return Arrears(amount_fen=max(0, state.minimum_fen - paid_fen), since=since)
