"""Customer screening (客群筛选): a small, safe expression language and named segments.

Flow: text -> :mod:`lexer` tokens -> :mod:`parser` AST (every node keeps its
column) -> :mod:`typecheck` against the declared :mod:`fields` -> :mod:`compile`
to Polars expressions, run over the accounts frame of :mod:`frame`.
:mod:`evaluate` is a plain Python evaluator with the same semantics, the oracle
for tests. Nothing is ever passed to ``eval`` or pasted into SQL.
"""
