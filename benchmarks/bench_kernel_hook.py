"""Per-cell cost of the Tensor Views hook, as ratios to the same cell without the extension.

    python benchmarks/bench_kernel_hook.py [--repeat N]

A real IPython shell (in-process) runs the same cell with and without ``%load_ext tensorviews``,
with 100 and 10,000 live tensors in the namespace, in two situations: unchanged (the cell
touches nothing) and all-new (the cell rebinds every tensor to a fresh one). The cold-scan
floor is a bare loop reading shape, stride, offset, dtype, device and storage of every tensor
once, measured in the same run. Results go to benchmarks/results/kernel_hook.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import torch
from IPython.core.interactiveshell import InteractiveShell

RESULTS = Path(__file__).resolve().parent / "results" / "kernel_hook.json"


def time_cell(shell: Any, source: str, repeat: int) -> float:
    """Median wall time of ``run_cell(source)`` in milliseconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        shell.run_cell(source, store_history=False, silent=False)
        samples.append((time.perf_counter() - start) * 1e3)
    return statistics.median(samples)


def cold_scan_floor(tensors: list[torch.Tensor], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        fresh = [t.clone() for t in tensors]  # storages not seen before, like a first scan
        start = time.perf_counter()
        for t in fresh:
            t.shape, t.stride(), t.storage_offset(), t.dtype, t.device, t.untyped_storage()
        samples.append((time.perf_counter() - start) * 1e3)
    return statistics.median(samples)


def measure(n: int, repeat: int) -> dict[str, float]:
    shell = InteractiveShell.instance()
    setup = f"import torch\nts = [torch.rand(3) for _ in range({n})]\nrows = [t[1:] for t in ts[:{n // 10}]]"
    renew = "ts = [t.clone() for t in ts]"
    shell.run_cell(setup, store_history=False)
    bare_unchanged = time_cell(shell, "pass", repeat)
    bare_new = time_cell(shell, renew, repeat)
    shell.run_cell("%load_ext tensorviews", store_history=False)
    shell.run_cell("pass", store_history=False)  # first scan: storages get their objects
    ext_unchanged = time_cell(shell, "pass", repeat)
    ext_new = time_cell(shell, renew, repeat)
    shell.run_cell("%unload_ext tensorviews", store_history=False)
    floor = cold_scan_floor(shell.user_ns["ts"], repeat)
    shell.run_cell("del ts, rows", store_history=False)
    return {
        "tensors": n + n // 10,
        "bare_unchanged_ms": bare_unchanged,
        "hook_unchanged_ms": ext_unchanged - bare_unchanged,
        "ratio_unchanged": ext_unchanged / bare_unchanged,
        "bare_all_new_ms": bare_new,
        "hook_all_new_ms": ext_new - bare_new,
        "ratio_all_new": ext_new / bare_new,
        "cold_scan_floor_ms": floor,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    rows = [measure(n, args.repeat) for n in (100, 10_000)]
    header = (
        f"{'tensors':>8} {'bare ms':>8} {'hook ms':>8} {'ratio':>7} | "
        f"{'all-new bare':>12} {'hook ms':>8} {'ratio':>6} | {'cold floor ms':>13}"
    )
    print("Per-cell cost of the hook (median of", args.repeat, "cells; this machine is noisy)")
    print(header)
    for r in rows:
        print(
            f"{r['tensors']:>8} {r['bare_unchanged_ms']:>8.2f} {r['hook_unchanged_ms']:>8.2f} "
            f"{r['ratio_unchanged']:>7.1f} | {r['bare_all_new_ms']:>12.2f} "
            f"{r['hook_all_new_ms']:>8.2f} {r['ratio_all_new']:>6.2f} | "
            f"{r['cold_scan_floor_ms']:>13.2f}"
        )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"torch": torch.__version__, "rows": rows}, indent=2))
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
