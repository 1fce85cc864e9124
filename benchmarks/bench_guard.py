"""Cost of the kernel guard: instrumented swaps at run time, and the pre-run check of a cell.

    python benchmarks/bench_guard.py [--repeat N]

A real IPython shell (in-process) with ``%load_ext tensorviews`` defines the same functions
twice, once with ``%tensorviews guard off`` (unguarded) and once in ``warn`` mode (the swap has
an unannotated parameter, so it is a "possible" finding and gets instrumented). Each function
runs 100,000 list swaps in a loop: a bubble-sort-like neighbour swap with computed indices,
and the tightest loop possible (constant indices, nothing else in the body). The tensor row
swap (checked path) is timed too, for scale. The pre-run check is the transform + parse + AST
hook of a generated 200-line cell (with 49 possible swaps, and with none), with and without
the guard. Results go to
benchmarks/results/guard.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from IPython.core.interactiveshell import InteractiveShell

RESULTS = Path(__file__).resolve().parent / "results" / "guard.json"
N = 100_000

FUNCTIONS = """
def neighbour_swaps(items, n):
    m = len(items) - 1
    for k in range(n):
        i = k % m
        items[i], items[i + 1] = items[i + 1], items[i]
    return items

def tight_swaps(items, n):
    for _ in range(n):
        items[0], items[1] = items[1], items[0]
    return items
"""


def best_of(fn: Any, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return min(samples) * 1e3


def define(shell: Any, mode: str) -> dict[str, Any]:
    shell.run_cell(f"%tensorviews guard {mode}", store_history=True)
    shell.run_cell(FUNCTIONS, store_history=True)
    return {name: shell.user_ns[name] for name in ("neighbour_swaps", "tight_swaps")}


def two_hundred_line_cell(swaps: bool) -> str:
    """200 lines of array code; with ``swaps``, 49 functions each holding a possible swap
    (the worst case: every one is instrumented), else the same code with no swap at all."""
    lines = ["import numpy as np", "import torch", "x = np.zeros((8, 8))", "t = torch.zeros(8, 8)"]
    for k in range(49):
        lines += [
            f"def step_{k}(a, i, j):",
            "    a[i], a[j] = a[j], a[i]" if swaps else "    a[i] = a[j] + a[i]",
            f"v{k} = x[{k % 8}] * 2 + {k}",
            f"t[{k % 8}] += float(v{k}.sum())",
        ]
    return "\n".join(lines[:200]) + "\n"


def pre_run_ms(shell: Any, source: str, repeat: int) -> float:
    from kernel_ext.guard import Guard

    guard = next((getattr(t, "__self__", None) for t in shell.input_transformers_post
                  if isinstance(getattr(t, "__self__", None), Guard)), None)
    samples = []
    for _ in range(repeat):
        if isinstance(guard, Guard):
            guard._analysed = None  # a fresh cell each time, as in real use
        start = time.perf_counter()
        text = shell.transform_cell(source)
        tree = shell.compile.ast_parse(text)
        shell.transform_ast(tree)
        samples.append((time.perf_counter() - start) * 1e3)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    repeat = parser.parse_args().repeat

    shell = InteractiveShell.instance()
    shell.run_cell("%load_ext tensorviews", store_history=True)
    bare = define(shell, "off")
    guarded = define(shell, "warn")
    rows = []
    for name in ("neighbour_swaps", "tight_swaps"):
        data = list(range(100))
        off = best_of(lambda f=bare[name], d=data: f(d, N), repeat)
        on = best_of(lambda f=guarded[name], d=data: f(d, N), repeat)
        rows.append({"loop": name, "swaps": N, "unguarded_ms": off, "guarded_ms": on,
                     "ratio": on / off})

    shell.run_cell("import torch\nrows = torch.zeros(100, 4)", store_history=True)
    tensor_rows = shell.user_ns["rows"]
    off_t = best_of(lambda: bare["neighbour_swaps"](tensor_rows, 10_000), 3)
    on_t = best_of(lambda: guarded["neighbour_swaps"](tensor_rows, 10_000), 3)

    checks = {}
    for swaps in (False, True):
        cell = two_hundred_line_cell(swaps)
        shell.run_cell("%tensorviews guard off", store_history=True)
        off_ms = pre_run_ms(shell, cell, repeat)
        shell.run_cell("%tensorviews guard warn", store_history=True)
        checks["49 swaps" if swaps else "no swap"] = (off_ms, pre_run_ms(shell, cell, repeat))

    print(f"{'loop':<18}{'swaps':>9}{'unguarded ms':>14}{'guarded ms':>12}{'ratio':>8}")
    for row in rows:
        print(f"{row['loop']:<18}{row['swaps']:>9}{row['unguarded_ms']:>14.2f}"
              f"{row['guarded_ms']:>12.2f}{row['ratio']:>8.2f}")
    print(f"{'tensor rows':<18}{10_000:>9}{off_t:>14.2f}{on_t:>12.2f}{on_t / off_t:>8.2f}"
          "  (checked path; reports once, then skips the check)")
    for label, (off_ms, on_ms) in checks.items():
        print(f"pre-run of a 200-line cell ({label}): {off_ms:.2f} ms without guard, "
              f"{on_ms:.2f} ms with guard (+{on_ms - off_ms:.2f} ms)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "list_swaps": rows,
        "tensor_row_swaps": {"swaps": 10_000, "unguarded_ms": off_t, "guarded_ms": on_t},
        "pre_run_200_lines": {label: {"without_guard_ms": off_ms, "with_guard_ms": on_ms}
                              for label, (off_ms, on_ms) in checks.items()},
    }, indent=2) + "\n")


if __name__ == "__main__":
    main()
