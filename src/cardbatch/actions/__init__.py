"""Batch actions on screened accounts: limit changes and notices.

- :mod:`.targets`: target accounts from a segment, an expression, a list or a file.
- :mod:`.limits`: limit-change rules (percent or amount, capped) as pure functions.
- :mod:`.limit_service`: propose, approve (maker-checker), apply and revert limit changes.
- :mod:`.notices`: notice templates and rendering (pure).
- :mod:`.notice_service`: choosing the accounts due for a notice and writing the notice file.
"""
