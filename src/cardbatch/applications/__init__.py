"""Batch application intake (批量进件): files of applications, decision policy and decisions.

- :mod:`.reader`: CSV/XLSX files with Chinese or English headers into raw rows.
- :mod:`.intake`: cleaning and validation into :class:`~.intake.Application` records or row errors.
- :mod:`.rejects`: the rejects file, in the input's format and encoding.
- :mod:`.policy`: the decision table (TOML) as typed objects.
- :mod:`.decision`: the pure decision function (hard rules, scorecard, limit).
- :mod:`.service`: submit a file, the block list, batch summaries.
- :mod:`.policies`: decision policy versions (maker-checker), the version in force.
- :mod:`.deciding`: deciding a batch in chunks (``--dry-run``).
- :mod:`.review`: the manual review queue.
- :mod:`.roles`: the approver role and maker-checker.
- :mod:`.demo`: this area's part of ``cardbatch demo``.
"""
