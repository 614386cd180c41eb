"""Holding the cyclic garbage collector: held inside, given back after, left alone if held."""

from __future__ import annotations

import gc

import pytest

from cardbatch.gcpause import gc_paused


def test_held_inside_and_given_back_after_also_on_error() -> None:
    seen: list[bool] = []
    with gc_paused():
        seen.append(gc.isenabled())
    seen.append(gc.isenabled())
    with pytest.raises(RuntimeError), gc_paused():
        seen.append(gc.isenabled())
        raise RuntimeError("a failed insert")
    seen.append(gc.isenabled())
    assert seen == [False, True, False, True]


def test_an_inner_block_or_another_holder_is_not_undone() -> None:
    with gc_paused():
        with gc_paused():
            pass
        assert not gc.isenabled()  # the inner block did not give it back early
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # held by someone else before: still held
    finally:
        gc.enable()
