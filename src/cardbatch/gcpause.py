"""Holding Python's cyclic garbage collector while bulk work makes many acyclic objects.

Parsing a payment file, reading a chunk from the store or inserting one make hundreds of
thousands of rows, tuples and small records at once. Every 700 new objects start a
collection, and every so often a full one walks every object alive, those rows included:
about a tenth of a night's CPU before the store's bulk moves held it. Such objects hold no
reference cycles, so holding the collector loses nothing; it runs again afterwards.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hold the cyclic collector for the ``with`` block; give it back after, also on error.

    Process-wide: a thread (or an inner block) that finds the collector already held leaves
    it alone, so only the outermost block gives it back.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
