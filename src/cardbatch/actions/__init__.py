"""Batch actions on a list of accounts (later: a screened segment).

- :mod:`.targets`: the accounts an action applies to, from a list, a file or a segment's result.
- :mod:`.limits`: limit-change rules (percent or amount, capped) as pure functions.
- :mod:`.limit_service`: propose, approve (maker-checker), apply and revert limit changes.
- :mod:`.notices`: notice templates and rendering (pure).
- :mod:`.notice_service`: choosing the accounts due for a notice and writing the notice file.
"""
