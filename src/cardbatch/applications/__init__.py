"""Batch application intake (批量进件): files of applications, decision policy and decisions.

- :mod:`.reader`: CSV/XLSX files with Chinese or English headers into raw rows.
- :mod:`.intake`: cleaning and validation into :class:`~.intake.Application` records or row errors.
- :mod:`.policy`: the decision table (TOML) as typed objects.
- :mod:`.decision`: the pure decision function (hard rules, scorecard, limit).
- :mod:`.service`: submit, policy versions, decide, review (store transactions).
"""
