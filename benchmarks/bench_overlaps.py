"""Cost of ``tensorviews.overlaps(x, y)`` as a ratio to reading the two tensors' metadata.

    python benchmarks/bench_overlaps.py [--repeat N]

The guard asks ``overlaps`` inside a user's statement at run time, so it must cost about what
reading the two layouts costs. Baseline, measured in the same run: each operand's own
metadata (shape, stride, storage offset, dtype, device and storage of a tensor; shape,
strides, address and dtype of an array). Cases: a parameter holding a ``.grad`` against a row
of itself, interleaved columns of one matrix (decided by the exact search), and
a numpy array against the tensor made from it. Goal: at most 5x the baseline.
Results go to benchmarks/results/overlaps.json.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tensorviews import overlaps

RESULTS = Path(__file__).resolve().parent / "results" / "overlaps.json"
LOOPS = 2_000


def per_call_us(calls: list[Callable[[], Any]], repeat: int) -> list[float]:
    """The fastest of ``repeat`` runs of each call, in microseconds per call. The calls take
    turns within each run, so a slow phase of a shared machine hits all of them; the fastest
    run is the one least disturbed."""
    best = [math.inf] * len(calls)
    for _ in range(repeat):
        for i, call in enumerate(calls):
            start = time.perf_counter()
            for _ in range(LOOPS):
                call()
            best[i] = min(best[i], (time.perf_counter() - start) / LOOPS * 1e6)
    return best


def read_metadata(x: Any, y: Any) -> Callable[[], Any]:
    """Each operand's own layout read: a tensor's shape, stride, offset, dtype, device and
    storage; an array's shape, strides, address and dtype."""

    def read() -> Any:
        return [
            (t.shape, t.strides, t.__array_interface__["data"][0], t.dtype)
            if isinstance(t, np.ndarray)
            else (t.shape, t.stride(), t.storage_offset(), t.dtype, t.device, t.untyped_storage())
            for t in (x, y)
        ]

    return read


def cases() -> dict[str, tuple[Any, Any, bool]]:
    p = torch.nn.Parameter(torch.rand(64, 64))
    p.grad = torch.rand(64, 64)
    x = torch.rand(64, 64)
    a = np.random.rand(64, 64)
    return {
        "parameter_with_grad": (p, p[3], True),
        "interleaved_columns": (x[:, 0::2], x[:, 1::2], False),
        "numpy_and_from_numpy": (a[:, 1], torch.from_numpy(a)[2], True),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    rows: dict[str, dict[str, float]] = {}
    print(f"overlaps(x, y) against reading both tensors' metadata ({LOOPS} calls x {args.repeat})")
    for name, (x, y, expected) in cases().items():
        assert overlaps(x, y) is expected, name
        baseline, cost = per_call_us(
            [read_metadata(x, y), lambda x=x, y=y: overlaps(x, y)], args.repeat
        )
        rows[name] = {"overlaps_us": cost, "metadata_us": baseline, "ratio": cost / baseline}
        print(
            f"  {name:<22} overlaps {cost:7.2f} us, metadata {baseline:6.2f} us: "
            f"{cost / baseline:4.1f}x (goal <= 5x: {'met' if cost / baseline <= 5 else 'NOT met'})"
        )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"torch": torch.__version__, "rows": rows}, indent=2))
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
