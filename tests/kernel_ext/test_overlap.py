"""Exact overlap: the solver against a brute-force oracle and against numpy.shares_memory."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import as_strided

from tensorviews import overlaps
from tensorviews.graph.overlap import Layout, has_internal_overlap, layouts_overlap
from tensorviews.graph.table import ranges_meet


def element_starts(layout: Layout) -> list[int]:
    if layout.is_empty:
        return []
    return [
        layout.offset + sum(i * s for i, s in zip(idx, layout.strides, strict=True))
        for idx in itertools.product(*(range(n) for n in layout.shape))
    ]


def bytes_of(layout: Layout) -> set[int]:
    return {a + p for a in element_starts(layout) for p in range(layout.itemsize)}


def oracle_internal(layout: Layout) -> bool:
    seen: set[int] = set()
    for a in element_starts(layout):
        span = set(range(a, a + layout.itemsize))
        if span & seen:
            return True
        seen |= span
    return False


layouts = st.integers(0, 4).flatmap(
    lambda nd: st.builds(
        Layout,
        offset=st.integers(0, 64),
        shape=st.tuples(*[st.integers(0, 5)] * nd),
        strides=st.tuples(*[st.integers(-24, 24)] * nd),
        itemsize=st.sampled_from([1, 2, 4, 8]),
    )
)


@settings(max_examples=3000, deadline=None)
@given(layouts, layouts)
def test_pair_overlap_matches_brute_force(a: Layout, b: Layout) -> None:
    result = layouts_overlap(a, b)
    assert result.exact
    assert result.may_overlap == bool(bytes_of(a) & bytes_of(b))


@st.composite
def dense_layouts(draw: st.DrawFn) -> Layout:
    """Contiguous layouts in any dimension order, some dimensions flipped."""
    shape = draw(st.lists(st.integers(1, 4), min_size=0, max_size=3))
    itemsize = draw(st.sampled_from([1, 2, 4, 8]))
    order = draw(st.permutations(range(len(shape))))
    strides = [0] * len(shape)
    span = itemsize
    for d in order:
        strides[d] = span
        span *= shape[d]
    offset = draw(st.integers(0, 64))
    for d in range(len(shape)):
        if draw(st.booleans()):  # flipped: the element at index 0 sits at the far end
            offset += strides[d] * (shape[d] - 1)
            strides[d] = -strides[d]
    return Layout(offset, tuple(shape), tuple(strides), itemsize)


@settings(max_examples=2000, deadline=None)
@given(dense_layouts(), layouts, st.booleans())
def test_dense_layout_shortcut_matches_brute_force(a: Layout, b: Layout, swap: bool) -> None:
    assert a.is_dense and len(bytes_of(a)) == len(element_starts(a)) * a.itemsize
    first, second = (b, a) if swap else (a, b)
    result = layouts_overlap(first, second)
    assert result.exact
    assert result.may_overlap == bool(bytes_of(a) & bytes_of(b))


@settings(max_examples=2000, deadline=None)
@given(layouts)
def test_dense_means_every_byte_of_the_extent_once(a: Layout) -> None:
    lo, hi = a.extent()
    starts = element_starts(a)
    exactly_covered = (
        not a.is_empty
        and len(bytes_of(a)) == len(starts) * a.itemsize
        and bytes_of(a) == set(range(lo, hi))
    )
    assert a.is_dense == exactly_covered


@settings(max_examples=3000, deadline=None)
@given(layouts)
def test_internal_overlap_matches_brute_force(a: Layout) -> None:
    result = has_internal_overlap(a)
    assert result.exact
    assert result.may_overlap == oracle_internal(a)


def _random_view(data: st.DataObject, base: np.ndarray) -> np.ndarray:
    """A basic-indexing view of ``base`` with random starts, stops and (negative) steps."""
    index = []
    for n in base.shape:
        start = data.draw(st.integers(0, n))
        stop = data.draw(st.integers(0, n))
        step = data.draw(st.sampled_from([1, 2, 3, -1, -2]))
        if step < 0:
            start, stop = max(start, stop), min(start, stop) - 1
            stop = None if stop < 0 else stop
        index.append(slice(start, stop, step))
    view = base[tuple(index)]
    if data.draw(st.booleans()) and view.ndim > 1:
        view = view.T
    return view


@settings(max_examples=1500, deadline=None)
@given(st.data())
def test_numpy_views_match_shares_memory(data: st.DataObject) -> None:
    shape = data.draw(st.tuples(st.integers(1, 6), st.integers(1, 6)))
    base = np.zeros(shape, dtype=data.draw(st.sampled_from(["float64", "int16", "uint8"])))
    a = _random_view(data, base)
    b = _random_view(data, base)
    if data.draw(st.booleans()) and b.size and b.flags.c_contiguous and b.nbytes % 4 == 0:
        b = b.view(np.uint8)  # dtype-reinterpreting view
    assert overlaps(a, b) == bool(np.shares_memory(a, b, max_work=None))


@settings(max_examples=500, deadline=None)
@given(st.data())
def test_zero_stride_and_empty_numpy_views(data: st.DataObject) -> None:
    base = np.arange(24, dtype=np.float32)
    shape = data.draw(st.tuples(st.integers(0, 4), st.integers(0, 4)))
    strides = data.draw(st.tuples(st.sampled_from([0, 4, 8, 12]), st.sampled_from([0, 4, 16])))
    reach = sum((n - 1) * s for n, s in zip(shape, strides, strict=True) if n) + 4
    if reach > base.nbytes:
        return
    offset = data.draw(st.integers(0, (base.nbytes - reach) // 4))
    a = as_strided(base[offset:], shape=shape, strides=strides)
    b = base[data.draw(st.integers(0, 23)) :: data.draw(st.integers(1, 5))]
    assert overlaps(a, b) == bool(np.shares_memory(a, b, max_work=None))


@settings(max_examples=800, deadline=None)
@given(st.data())
def test_torch_views_and_their_arrays_match_shares_memory(data: st.DataObject) -> None:
    """Tensors, arrays and one of each, over one buffer: the answer numpy gives for the arrays."""
    base = torch.zeros(48, dtype=torch.float32)
    buffer = base.numpy()

    def view() -> tuple[torch.Tensor, np.ndarray]:
        shape = data.draw(st.tuples(st.integers(0, 4), st.integers(0, 4)))
        strides = data.draw(st.tuples(st.integers(0, 9), st.integers(0, 9)))
        reach = sum((n - 1) * s for n, s in zip(shape, strides, strict=True) if n) + 1
        offset = data.draw(st.integers(0, max(0, 48 - reach)))
        if reach > 48:
            shape, strides = (1, 1), (1, 1)
        tensor = base.as_strided(shape, strides, offset)
        array = as_strided(buffer[offset:], shape=shape, strides=[s * 4 for s in strides])
        return tensor, array

    (ta, aa), (tb, ab) = view(), view()
    expected = bool(np.shares_memory(aa, ab, max_work=None))
    assert overlaps(ta, tb) is expected
    assert overlaps(ta, ab) is expected
    assert overlaps(aa, tb) is expected


def test_tensors_on_different_devices_never_overlap() -> None:
    x = torch.rand(4)
    assert overlaps(x, x.to("meta")) is False
    assert overlaps(x.numpy(), torch.empty(4, device="meta")) is False


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda x: (x[0], x[1]), False),
        (lambda x: (x[:, ::2], x[:, 1::2]), False),
        (lambda x: (x[:, 0], x[1]), True),
        (lambda x: (x[0], x[0]), True),
        (lambda x: (x[1:, 1:], x[:2, :2]), True),
        (lambda x: (x.view(torch.uint8)[0, 1:4], x[0, 0]), True),
        (lambda x: (x.view(torch.uint8)[0, 4:8], x[0, 0]), False),
        (lambda x: (x[0].expand(3, 4), x[1]), False),
        (lambda x: (x[0:0], x), False),
    ],
)
def test_torch_views(make, expected: bool) -> None:  # type: ignore[no-untyped-def]
    x = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    a, b = make(x)
    assert overlaps(a, b) is expected


def test_expanded_view_overlaps_itself() -> None:
    x = torch.rand(4)
    assert has_internal_overlap(
        Layout(0, tuple(x.expand(3, 4).shape), (0, 4), 4)
    ).may_overlap
    assert not has_internal_overlap(Layout(0, (3, 4), (16, 4), 4)).may_overlap


def test_meta_tensors_decided_without_memory() -> None:
    m = torch.empty(4, 4, device="meta")
    assert overlaps(m[0], m[:, 0])
    assert not overlaps(m[0], m[1])


def test_numpy_and_torch_sharing_memory() -> None:
    arr = np.arange(8.0)
    t = torch.from_numpy(arr)
    assert overlaps(arr[::-1][:2], t[6:])
    assert not overlaps(arr[:4], t[4:])
    back = t.numpy()
    assert overlaps(back[3:5], arr[4:5])


def test_overlaps_rejects_non_arrays() -> None:
    with pytest.raises(TypeError):
        overlaps([1, 2], "x")


def _ranges_meet_brute_force(los: list[int], his: list[int]) -> bool:
    pairs = [(lo, hi) for lo, hi in zip(los, his, strict=True) if hi > lo]
    return any(
        a_lo < b_hi and b_lo < a_hi
        for i, (a_lo, a_hi) in enumerate(pairs)
        for b_lo, b_hi in pairs[i + 1 :]
    )


# Addresses as int64 columns: exact up to 2**63, far beyond any address.
_range_bases = st.sampled_from([0, 2**40, 2**53 - 8, 2**60])


@given(_range_bases, st.lists(st.tuples(st.integers(0, 64), st.integers(0, 16)), max_size=12))
def test_storage_range_check_matches_brute_force(base: int, spans: list[tuple[int, int]]) -> None:
    los = [base + start for start, _ in spans]
    his = [base + start + size for start, size in spans]
    assert ranges_meet(np.array(los, np.int64), np.array(his, np.int64)) == (
        _ranges_meet_brute_force(los, his)
    )


def test_storage_range_check_beyond_exact_floats() -> None:
    # As floats both ranges would collapse onto 2**60 and look disjoint; as ints they overlap.
    a = np.array([2**60, 2**60 + 5], np.int64)
    assert ranges_meet(a, np.array([2**60 + 10, 2**60 + 20], np.int64))
    b = np.array([2**60, 2**60 + 10], np.int64)
    assert not ranges_meet(b, np.array([2**60 + 10, 2**60 + 20], np.int64))
