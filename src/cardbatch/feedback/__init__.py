"""Feedback and improvement (step 6): customer feedback tied to batch items, corrections, reports.

- :mod:`.model`: channels, categories, statuses and their transitions (pure).
- :mod:`.corrections`: reversal and waiver journal entries built from an original (pure).
- :mod:`.retry`: the auto-repayment retry-schedule recommendation (pure).
- :mod:`.impact`: a rule change's effect on interest and late fees (pure).
- :mod:`.service`: recording, linking, resolving, approving, explaining (store).
- :mod:`.job`: the ``corrections`` engine job that posts approved corrections.
- :mod:`.reports`: failure and feedback rates from the engine's runs (store).

See docs/feedback.md.
"""
