"""The rule files build the nightly cycle's ProductTerms record (once that record exists).

``cardbatch.domain.product`` arrives with the nightly cycle; until then this
module is skipped. Once it is there, both example files must build terms, and
the standard file must give the CMB-like terms of DOMAIN.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cardbatch.rules.load import parse_rules

product = pytest.importorskip(
    "cardbatch.domain.product", reason="ProductTerms comes with the nightly cycle"
)
EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "rules"


@pytest.mark.parametrize("name", ["standard.toml", "ccb_like.toml"])
def test_examples_build_product_terms(name: str) -> None:
    rules = parse_rules((EXAMPLES / name).read_text(encoding="utf-8"))
    terms = product.ProductTerms(**rules.terms_fields())
    assert terms.due_days == rules.cycle.due_days
    assert terms.daily_rate == rules.interest.daily_rate
    assert terms.allocation_order(91) == tuple(rules.allocation.order_delinquent)


def test_standard_file_gives_the_cmb_like_terms() -> None:
    rules = parse_rules((EXAMPLES / "standard.toml").read_text(encoding="utf-8"))
    fields = rules.terms_fields()
    expected = product.cmb_like()
    for name, value in fields.items():
        if "order" in name or "components" in name:
            continue  # component names: see docs/rules.md, "Terms for the cycle"
        assert getattr(expected, name) == value, name
