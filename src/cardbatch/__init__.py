"""cardbatch: the batch side of a bank's credit-card business.

The package is layered, with dependencies pointing one way only:
``money`` and ``domain`` (pure) <- ``services`` <- ``store``, ``jobs`` and the
interfaces (``cli``, later ``api`` and ``web``). See ``docs/architecture.md``.
"""

__version__ = "0.1.0"
