"""Pure domain records and rules: no I/O, no SQL, no clock.

Modules: ``identity`` (resident IDs, card numbers, phones), ``masking``
(personal data shown to operators), ``records`` (customers, accounts,
enterprises), ``ledger`` (journal entries and postings that always balance).
"""
