"""Property: the Polars path and the plain Python evaluator agree on random expressions.

Expressions are generated well-typed by construction over a small field table,
rendered to text (fully parenthesised), parsed and checked like user input,
then evaluated both ways over random rows with nulls. The three-valued results
(true, false, null) must be identical row by row.
"""

from __future__ import annotations

from datetime import date

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cardbatch.segments.compile import to_polars
from cardbatch.segments.evaluate import evaluate
from cardbatch.segments.fields import POLARS_TYPES, FieldType
from cardbatch.segments.typecheck import compile_check

FIELD_TYPES: dict[str, FieldType] = {
    "i1": "int",
    "i2": "int",
    "f1": "float",
    "s1": "str",
    "s2": "str",
    "d1": "date",
    "d2": "date",
    "b1": "bool",
}
BUSINESS_DATE = date(2024, 6, 30)
_TEXT = st.text(alphabet="ab上海北", max_size=3)
_DATES = st.dates(min_value=date(2000, 1, 1), max_value=date(2050, 12, 31))
_VALUES = {
    "int": st.integers(min_value=-10_000, max_value=10_000),
    "float": st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False),
    "str": _TEXT,
    "date": _DATES,
    "bool": st.booleans(),
}


def _fields_of(kind: FieldType) -> list[str]:
    return [name for name, field_type in FIELD_TYPES.items() if field_type == kind]


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _int_literal(value: int) -> str:
    return str(value) if value >= 0 else f"-{-value}"


def _literal(kind: FieldType) -> st.SearchStrategy[str]:
    if kind == "int":
        return st.integers(min_value=-1000, max_value=1000).map(_int_literal)
    if kind == "float":
        return st.decimals(min_value=-1000, max_value=1000, places=2).map(
            lambda d: f"{d:.2f}" if d >= 0 else f"-{-d:.2f}"
        )
    if kind == "str":
        return _TEXT.map(_quote)
    if kind == "date":
        return _DATES.map(lambda d: f'date("{d.isoformat()}")')
    return st.sampled_from(["true", "false"])


def _leaf(kind: FieldType) -> st.SearchStrategy[str]:
    options = [_literal(kind), st.sampled_from(_fields_of(kind))]
    if kind == "date":
        options.append(st.just("today"))
    return st.one_of(*options)


def _value(kind: FieldType, depth: int) -> st.SearchStrategy[str]:
    if depth <= 0 or kind in ("str", "bool"):
        return _leaf(kind)
    sub = depth - 1
    if kind == "int":
        compound = st.one_of(
            st.tuples(_value("int", sub), st.sampled_from("+-"), _value("int", sub)).map(
                lambda t: f"({t[0]}) {t[1]} ({t[2]})"
            ),
            st.tuples(_value("date", sub), _value("date", sub)).map(
                lambda t: f"({t[0]}) - ({t[1]})"
            ),
            _value("int", sub).map(lambda v: f"-({v})"),
        )
    elif kind == "float":
        compound = st.tuples(_value("float", sub), st.sampled_from("+-"), _number(sub)).map(
            lambda t: f"({t[0]}) {t[1]} ({t[2]})"
        )
    else:
        compound = st.tuples(_value("date", sub), st.sampled_from("+-"), _value("int", sub)).map(
            lambda t: f"({t[0]}) {t[1]} ({t[2]})"
        )
    return st.one_of(_leaf(kind), compound)


def _number(depth: int) -> st.SearchStrategy[str]:
    return st.one_of(_value("int", depth), _value("float", depth))


def _ordered(depth: int) -> st.SearchStrategy[tuple[str, str]]:
    numbers = st.tuples(_number(depth), _number(depth))
    dates = st.tuples(_value("date", depth), _value("date", depth))
    return st.one_of(numbers, dates)


def _predicate(depth: int) -> st.SearchStrategy[str]:
    compare = st.tuples(_ordered(depth), st.sampled_from(["=", "!=", "<", "<=", ">", ">="])).map(
        lambda t: f"({t[0][0]}) {t[1]} ({t[0][1]})"
    )
    equality = st.tuples(
        st.sampled_from(["str", "bool"]).flatmap(lambda k: st.tuples(_leaf(k), _leaf(k))),
        st.sampled_from(["=", "!="]),
    ).map(lambda t: f"{t[0][0]} {t[1]} {t[0][1]}")
    in_list = st.tuples(
        st.sampled_from(["int", "float", "str", "date"]).flatmap(
            lambda k: st.tuples(_value(k, depth), st.lists(_literal(k), min_size=1, max_size=4))
        ),
        st.booleans(),
    ).map(lambda t: f"({t[0][0]}) {'not ' if t[1] else ''}in ({', '.join(t[0][1])})")
    between = st.tuples(
        st.one_of(
            st.tuples(_number(depth), _number(depth), _number(depth)),
            st.tuples(_value("date", depth), _value("date", depth), _value("date", depth)),
        ),
        st.booleans(),
    ).map(lambda t: f"({t[0][0]}) {'not ' if t[1] else ''}between ({t[0][1]}) and ({t[0][2]})")
    starts = st.tuples(_leaf("str"), _leaf("str")).map(lambda t: f"{t[0]} startswith {t[1]}")
    is_null = st.tuples(st.sampled_from(list(FIELD_TYPES)), st.booleans()).map(
        lambda t: f"{t[0]} is {'not ' if t[1] else ''}null"
    )
    return st.one_of(compare, equality, in_list, between, starts, is_null, _leaf("bool"))


def _condition(depth: int) -> st.SearchStrategy[str]:
    if depth <= 0:
        return _predicate(1)
    sub = _condition(depth - 1)
    return st.one_of(
        _predicate(2),
        sub.map(lambda c: f"not ({c})"),
        st.tuples(sub, st.sampled_from(["and", "or"]), sub).map(
            lambda t: f"({t[0]}) {t[1]} ({t[2]})"
        ),
    )


def _row() -> st.SearchStrategy[dict[str, object]]:
    return st.fixed_dictionaries(
        {name: st.none() | _VALUES[kind] for name, kind in FIELD_TYPES.items()}
    )


CONDITIONS = _condition(3)
ROWS = st.lists(_row(), min_size=1, max_size=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=CONDITIONS, rows=ROWS)
def test_polars_and_python_evaluator_agree(text: str, rows: list[dict[str, object]]) -> None:
    checked = compile_check(text, FIELD_TYPES)
    schema = {name: POLARS_TYPES[kind] for name, kind in FIELD_TYPES.items()}
    frame = pl.DataFrame(rows, schema=schema)
    polars_values = frame.with_columns(to_polars(checked, BUSINESS_DATE).alias("v"))["v"].to_list()
    python_values = [evaluate(checked, row, BUSINESS_DATE) for row in rows]
    assert polars_values == python_values, text
