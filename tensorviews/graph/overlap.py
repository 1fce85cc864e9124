"""Exact overlap of strided memory layouts, decided from shape/stride/offset arithmetic alone.

No data is read, so the answer is the same for CPU, CUDA and meta tensors. Two layouts overlap
when some byte of one element of the first is a byte of some element of the second. That is a
bounded linear Diophantine problem (the one behind ``numpy.shares_memory``); it is solved here
by a depth-first search that only visits values inside the window that can still reach the
target, which keeps every realistic case (rows, columns, interleaved slices, reinterpreted
dtypes, expanded views) to a handful of steps. A work bound keeps pathological layouts from
stalling a cell: past it the answer is "may overlap" and ``OverlapResult.exact`` is False.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

DEFAULT_MAX_WORK = 20_000


@dataclass(slots=True)
class Layout:
    """A strided view of bytes: element ``index`` starts at ``offset + sum(index * strides)``.

    ``offset`` and ``strides`` are in bytes, relative to one shared origin (the storage start),
    and each element covers ``itemsize`` bytes.
    """

    offset: int
    shape: tuple[int, ...]
    strides: tuple[int, ...]
    itemsize: int

    @property
    def is_empty(self) -> bool:
        return self.itemsize <= 0 or min(self.shape, default=1) <= 0

    @property
    def is_dense(self) -> bool:
        """Every byte of the extent belongs to exactly one element (a contiguous tensor in
        any dimension order, flipped or not): no gaps, no repeats."""
        if self.is_empty:
            return False
        dims = sorted((abs(s), n) for n, s in zip(self.shape, self.strides, strict=True) if n != 1)
        span = self.itemsize
        for s, n in dims:
            if s != span:
                return False
            span *= n
        return True

    def extent(self) -> tuple[int, int]:
        """Half-open byte range ``[lo, hi)`` touched by the layout (empty layouts: ``(o, o)``)."""
        if self.is_empty:
            return (self.offset, self.offset)
        lo = hi = self.offset
        for n, s in zip(self.shape, self.strides, strict=True):
            if s > 0:
                hi += s * (n - 1)
            else:
                lo += s * (n - 1)
        return (lo, hi + self.itemsize)


class Overlap(Enum):
    NO = "no"
    YES = "yes"
    TOO_HARD = "too hard"  # work bound reached: treat as "may overlap"


@dataclass(frozen=True)
class OverlapResult:
    answer: Overlap

    @property
    def may_overlap(self) -> bool:
        return self.answer is not Overlap.NO

    @property
    def exact(self) -> bool:
        return self.answer is not Overlap.TOO_HARD


_NO = OverlapResult(Overlap.NO)
_YES = OverlapResult(Overlap.YES)


class _WorkExceeded(Exception):
    pass


def _solve(terms: list[tuple[int, int]], target: int, max_work: int) -> Overlap:
    """Is there ``0 <= z_k <= u_k`` with ``sum(c_k * z_k) == target``? ``terms`` are ``(c_k, u_k)``.

    Coefficients must be positive. Equal coefficients are merged (``c*z1 + c*z2`` reaches
    exactly ``c*[0, u1+u2]``), and terms are tried largest first so the feasible window for
    each variable is narrow.
    """
    merged: dict[int, int] = {}
    for c, u in terms:
        if c > 0 and u > 0:
            merged[c] = merged.get(c, 0) + u
    ordered = sorted(merged.items(), reverse=True)
    coeffs = [c for c, _ in ordered]
    bounds = [u for _, u in ordered]
    n = len(ordered)
    # reach[k]: largest sum the terms k.. can make; gcds[k]: gcd of the coefficients k..
    reach = [0] * (n + 1)
    gcds = [0] * (n + 1)
    for k in range(n - 1, -1, -1):
        reach[k] = reach[k + 1] + coeffs[k] * bounds[k]
        gcds[k] = math.gcd(gcds[k + 1], coeffs[k])
    work = 0

    def search(k: int, rest: int) -> bool:
        nonlocal work
        work += 1
        if work > max_work:
            raise _WorkExceeded
        if rest < 0 or rest > reach[k]:
            return False
        if k == n:
            return rest == 0
        if rest % gcds[k]:
            return False
        c, u = coeffs[k], bounds[k]
        if k == n - 1:
            return rest % c == 0 and rest // c <= u
        # Only values of z_k that leave a remainder the later terms can still reach.
        low = max(0, -((reach[k + 1] - rest) // c))
        high = min(u, rest // c)
        return any(search(k + 1, rest - c * z) for z in range(high, low - 1, -1))

    try:
        return Overlap.YES if search(0, target) else Overlap.NO
    except _WorkExceeded:
        return Overlap.TOO_HARD


def _normalise(
    signed_terms: list[tuple[int, int]], target: int
) -> tuple[list[tuple[int, int]], int]:
    """Turn ``sum(s_k * z_k) == target`` with signed ``s_k`` into positive coefficients.

    ``s*z`` with ``s < 0`` equals ``|s|*(u - z) - |s|*u``: substitute ``z' = u - z``.
    """
    terms: list[tuple[int, int]] = []
    for s, u in signed_terms:
        if s < 0:
            target += -s * u
            terms.append((-s, u))
        elif s > 0:
            terms.append((s, u))
    return terms, target


def holds_an_end(lo: int, hi: int, other_lo: int, other_hi: int) -> bool:
    """Does ``[lo, hi)`` hold the first or the last byte of a layout whose extent is
    ``[other_lo, other_hi)``? Any layout has an element at each end of its extent, so a dense
    layout (every byte of its extent) that does overlaps it: a row against its whole matrix
    is decided without a search."""
    return lo <= other_lo < hi or lo < other_hi <= hi


@dataclass(slots=True)
class _Span:
    """What the quick answers need of one non-empty layout, computed in one pass."""

    lo: int  # first byte
    hi: int  # one past the last byte
    dense: bool  # see Layout.is_dense
    step_gcd: int  # gcd of the strides of dimensions with more than one element (0: none)
    lines: int  # how many dimensions have more than one element


def _span(layout: Layout) -> _Span | None:
    """The layout's ``_Span``, or None when it is empty. (On the guard's run-time path:
    one plain loop, no helpers.)"""
    itemsize = layout.itemsize
    if itemsize <= 0:
        return None
    lo = hi = layout.offset
    g = lines = 0
    dims: list[tuple[int, int]] = []  # (|stride|, count) of dimensions with count > 1
    strides = layout.strides
    for k, n in enumerate(layout.shape):
        if n > 1:
            s = strides[k]
            lines += 1
            g = math.gcd(g, s)
            if s > 0:
                hi += s * (n - 1)
                dims.append((s, n))
            else:
                lo += s * (n - 1)
                dims.append((-s, n))
        elif n <= 0:
            return None
    dense = True
    if lines > 1:
        dims.sort()
    size = itemsize
    for s, n in dims:
        if s != size:
            dense = False
            break
        size *= n
    return _Span(lo, hi + itemsize, dense, g, lines)


def layouts_overlap(a: Layout, b: Layout, max_work: int = DEFAULT_MAX_WORK) -> OverlapResult:
    """Do ``a`` and ``b`` share at least one byte? Exact unless the work bound is reached.

    Quick exact answers first (disjoint extents, a dense layout holding an end of the other,
    strides that keep the two apart, a dense range against a line); only else the search.
    """
    sa, sb = _span(a), _span(b)
    if sa is None or sb is None:
        return _NO
    a_lo, a_hi, b_lo, b_hi = sa.lo, sa.hi, sb.lo, sb.hi
    if a_hi <= b_lo or b_hi <= a_lo:
        return _NO
    if sa.dense and holds_an_end(a_lo, a_hi, b_lo, b_hi):
        return _YES
    if sb.dense and holds_an_end(b_lo, b_hi, a_lo, a_hi):
        return _YES
    if _apart_modulo(a, b, math.gcd(sa.step_gcd, sb.step_gcd)):
        return _NO
    if sa.dense and sb.lines <= 1:
        return _YES if _range_meets_line(a_lo, a_hi, b) else _NO
    if sb.dense and sa.lines <= 1:
        return _YES if _range_meets_line(b_lo, b_hi, a) else _NO
    # Byte p of element x of a equals byte q of element y of b:
    #   a.offset + sum(a.s * x) + p == b.offset + sum(b.s * y) + q
    # The byte positions are one more dimension of stride 1 on each side.
    signed: list[tuple[int, int]] = []
    for n, s in zip(a.shape, a.strides, strict=True):
        signed.append((s, n - 1))
    signed.append((1, a.itemsize - 1))
    for n, s in zip(b.shape, b.strides, strict=True):
        signed.append((-s, n - 1))
    signed.append((-1, b.itemsize - 1))
    terms, target = _normalise(signed, b.offset - a.offset)
    return OverlapResult(_solve(terms, target, max_work))


def _apart_modulo(a: Layout, b: Layout, g: int) -> bool:
    """A quick exact "no": modulo ``g``, the gcd of every stride in use, each layout's bytes
    sit at its offset plus ``[0, itemsize)``; when those two windows miss each other (even and
    odd columns of one matrix, two fields of a record), no byte is shared."""
    if g == 0:
        return False
    d = (b.offset - a.offset) % g
    return a.itemsize <= d <= g - b.itemsize


def _range_meets_line(lo: int, hi: int, line: Layout) -> bool:
    """Does some element of ``line`` (at most one dimension with more than one element, not
    empty) share a byte with ``[lo, hi)``?
    Its elements start at ``first + k * step``, ``0 <= k < count``; one meets the range when
    its start lies in ``[lo - itemsize + 1, hi - 1]``."""
    first, step, count = line.offset, 0, 1
    for n, stride in zip(line.shape, line.strides, strict=True):
        if n > 1:
            step, count = stride, n
    if step < 0:  # walk it from its lowest element up
        first, step = first + step * (count - 1), -step
    low = lo - line.itemsize + 1
    # The first k with first + k * step >= low (a ceiling division).
    k = 0 if step == 0 or first >= low else -((first - low) // step)
    return k < count and first + k * step <= hi - 1


def has_internal_overlap(layout: Layout, max_work: int = DEFAULT_MAX_WORK) -> OverlapResult:
    """Do two different elements of ``layout`` share a byte (``expand``, tangled strides)?"""
    shape = layout.shape
    if len(shape) <= 1:  # the common case, decided at once: |stride| below the item size
        if not shape or shape[0] <= 1:
            return _NO
        return _YES if abs(layout.strides[0]) < layout.itemsize else _NO
    if layout.is_empty:
        return _NO
    dims = sorted(
        (abs(s), n - 1) for n, s in zip(layout.shape, layout.strides, strict=True) if n > 1
    )
    if any(s == 0 for s, _ in dims):
        return OverlapResult(Overlap.YES)
    # Fast sufficient test for "no": each stride clears everything the smaller ones span.
    span = layout.itemsize
    for s, u in dims:
        if s < span:
            break
        span += s * u
    else:
        return OverlapResult(Overlap.NO)
    # Exact: a nonzero difference vector d (|d_i| <= u_i) with |sum(s_i * d_i)| < itemsize.
    # By symmetry the last nonzero component k of d can be taken positive.
    budget = max_work
    for k, (sk, uk) in enumerate(dims):
        for t in range(-(layout.itemsize - 1), layout.itemsize):
            # sk * (1 + e) + sum_{i<k} s_i * d_i == t, with e in [0, uk-1], d_i in [-u_i, u_i]
            signed = [(sk, uk - 1)] + [(s, 2 * u) for s, u in dims[:k]]
            shift = sk - sum(s * u for s, u in dims[:k])
            terms, target = _normalise(signed, t - shift)
            answer = _solve(terms, target, budget)
            if answer is not Overlap.NO:
                return OverlapResult(answer)
    return OverlapResult(Overlap.NO)
