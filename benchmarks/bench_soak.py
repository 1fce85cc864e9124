"""Soak: many cells with a changing namespace, the extension loaded; memory must stay flat.

    python benchmarks/bench_soak.py [--cells 10000]

A real IPython shell (in-process) with ``%load_ext tensorviews`` (guard on ``warn``, the live
file written after each changed cell into a private temporary runtime directory) runs
``--cells`` cells that each change the namespace: new tensors, views of them, a list of
tensors that grows and shrinks, a swap the guard looks at, names deleted. The same cells run
first without the extension as the baseline. Reported: the process's resident memory (RSS,
from /proc) after each tenth of the run, with and without the extension, the growth over the
second half of the run (what a leak would show; the first half includes warm-up and the
allocator settling), the tensors the extension keeps alive (weak references only: 0 expected)
and the hook's median cost per cell. Results go to benchmarks/results/soak.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import tempfile
import time
import weakref
from pathlib import Path
from typing import Any

from IPython.core.interactiveshell import InteractiveShell

RESULTS = Path(__file__).resolve().parent / "results" / "soak.json"

SETUP = "import torch\nimport numpy as np\nkept = []\n"
# One cell: a new base and views of it, a numpy array over torch memory, a growing and then
# shrinking list, a swap of rows (the guard checks it), an old name deleted.
CELL = """
base_{i} = torch.zeros(64, 16)
row_{i} = base_{i}[{i} % 64]
cols_{i} = base_{i}[:, ::2]
arr_{i} = base_{i}.numpy()[1:3]
kept.append(torch.ones(8))
if len(kept) > 50:
    del kept[:25]
pair = torch.arange(6.0).reshape(3, 2)
pair[0], pair[1] = pair[1].clone(), pair[0].clone()
"""
DROP = "del base_{old}, row_{old}, cols_{old}, arr_{old}\n"


def rss_mib() -> float:
    with open(f"/proc/{os.getpid()}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc")


def run(shell: Any, cells: int, checkpoints: int) -> tuple[list[float], list[float]]:
    """RSS (MiB) at each checkpoint and per-cell wall times (ms)."""
    shell.run_cell(SETUP, store_history=False)
    memory, times = [], []
    every = max(1, cells // checkpoints)
    for i in range(cells):
        source = CELL.format(i=i) + (DROP.format(old=i - 5) if i >= 5 else "")
        start = time.perf_counter()
        result = shell.run_cell(source, store_history=False)
        times.append((time.perf_counter() - start) * 1e3)
        if not result.success:
            raise SystemExit(f"cell {i} failed: {result.error_in_exec or result.error_before_exec}")
        if (i + 1) % every == 0:
            gc.collect()
            memory.append(rss_mib())
    return memory, times


def tensors_kept_alive(shell: Any) -> int:
    """Tensors of the namespace still alive once the user dropped every name."""
    import torch

    refs = [weakref.ref(v) for v in shell.user_ns.values() if isinstance(v, torch.Tensor)]
    refs += [weakref.ref(t) for t in shell.user_ns.get("kept", [])]
    shell.run_cell("%reset -f", store_history=False)
    shell.run_cell("1", store_history=False)  # one more cell: the hook sees the empty namespace
    gc.collect()
    return sum(r() is not None for r in refs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=10_000)
    parser.add_argument("--checkpoints", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as runtime:
        os.environ["JUPYTER_RUNTIME_DIR"] = runtime
        shell = InteractiveShell.instance()
        bare_memory, bare_times = run(shell, args.cells, args.checkpoints)
        shell.run_cell("%reset -f", store_history=False)
        shell.run_cell("%load_ext tensorviews\n%tensorviews live on", store_history=False)
        memory, times = run(shell, args.cells, args.checkpoints)
        alive = tensors_kept_alive(shell)
    half = len(memory) // 2
    result = {
        "cells": args.cells,
        "rss_mib_bare": [round(m, 1) for m in bare_memory],
        "rss_mib_extension": [round(m, 1) for m in memory],
        "growth_second_half_mib_bare": round(bare_memory[-1] - bare_memory[half], 1),
        "growth_second_half_mib_extension": round(memory[-1] - memory[half], 1),
        "cell_ms_median_bare": round(statistics.median(bare_times), 3),
        "cell_ms_median_extension": round(statistics.median(times), 3),
        "cell_ratio": round(statistics.median(times) / statistics.median(bare_times), 2),
        "tensors_kept_alive": alive,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for key, value in result.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
