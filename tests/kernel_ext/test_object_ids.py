"""Packed ids: the ids of many objects in one bytes object, equal exactly when the same
objects sit at the same places, whichever way this interpreter makes them."""

from __future__ import annotations

import ctypes
import gc
import sys
import weakref

import numpy as np
import pytest
import torch

from tensorviews.graph.object_ids import copy_gives_ids, id_column, packed_ids


def test_on_64_bit_cpython_the_ids_are_copied_in_one_piece() -> None:
    expected = sys.implementation.name == "cpython" and ctypes.sizeof(ctypes.c_void_p) == 8
    assert copy_gives_ids() == expected


@pytest.mark.parametrize("make", [list, tuple, iter, lambda xs: (x for x in xs)])
def test_packed_ids_are_the_ids_in_order(make: object) -> None:
    objects = [torch.rand(2), 3.5, "name", None, object(), torch.rand(3)[1:]] * 40
    packed = packed_ids(make(objects))  # type: ignore[operator]
    assert len(packed) == 8 * len(objects)
    assert id_column(packed).tolist() == [id(o) for o in objects]
    assert id_column(packed).dtype == np.int64


def test_no_items_pack_to_nothing() -> None:
    assert packed_ids([]) == b""
    assert id_column(packed_ids(())).tolist() == []


def test_equal_exactly_for_the_same_objects_at_the_same_places() -> None:
    ts = [torch.rand(3) for _ in range(1000)]
    before = packed_ids(ts)
    assert packed_ids(list(ts)) == before  # another list, the same objects
    assert packed_ids(tuple(ts)) == before
    ts[500] = torch.rand(3)
    assert packed_ids(ts) != before
    ts = [*ts[1:], ts[0]]
    assert packed_ids(ts) != packed_ids([*ts[-1:], *ts[:-1]])  # the same objects, reordered


def test_packing_keeps_nothing_alive() -> None:
    ts = [torch.rand(3) for _ in range(100)]
    ref = weakref.ref(ts[7])
    packed = packed_ids(ts)
    del ts
    gc.collect()
    assert ref() is None
    assert len(packed) == 800  # the ids outlive the objects as plain numbers


def test_a_list_that_grows_between_packings() -> None:
    ts = [torch.rand(1) for _ in range(10)]
    for _ in range(2000):  # reallocations of the list's array along the way
        ts.append(torch.rand(1))
        assert packed_ids(ts)[-8:] == id(ts[-1]).to_bytes(8, sys.byteorder, signed=True)
    assert id_column(packed_ids(ts)).tolist() == list(map(id, ts))
