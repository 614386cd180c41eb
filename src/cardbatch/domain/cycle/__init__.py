"""The pure computations of the nightly card cycle (no I/O).

``dates`` statement, due and grace dates; ``delinquency`` DPD, buckets and the
five-category class; ``allocation`` how a payment is spread over balance
components; ``interest`` exact interest of a statement period; ``minimum`` and
``late_fee`` the product formulas; ``statement`` the statement record and its
identity; ``instalments`` instalment plans; ``autopay`` one auto-repayment
attempt; ``explain`` the line-by-line explanation. The columnar versions for a
whole partition of accounts live in :mod:`cardbatch.jobs.cycle_kernels`.
"""
