"""What the kernel does after the snapshot: the live writer's cost per cell, against drawing anew.

    python benchmarks/bench_live_writer.py [--repeat N]

A real IPython shell (in-process) with ``%load_ext tensorviews`` runs a cell, takes the
snapshot (``state.update()``) and hands it to the live snapshot file's writer
(``state.notify(graph)``: the view, its DOT and JSON, the file). Both are timed as CPU time of
the kernel's thread (the machine is shared; wall time counts waits for a core). The baseline,
measured on the same graph in the same run, is the same document made from nothing: the view
and ``json.dumps(view_document(...))`` with every remembered label and every drawing kept on the
graph's index forgotten. Namespaces:

- "one name changes": ``x = torch.rand(3)`` beside a list of 10,000 tensors and 1,000 views of
  the first 1,000 (a thousand shared storages: the drawing is capped at 300 tensors);
- "rows of one matrix, another name changes" / "... the matrix written in place": 10,000 rows
  of one matrix (``x.unbind(0)``) while ``z = torch.rand(3)`` or ``x.add_(1)`` runs;
- "mixed": the soak's cell (a new base and views of it, a list that grows and shrinks) beside
  the 11,000 tensors above: the drawing changes every cell;
- "10,000 top-level names": half of them views of one base, while ``x = torch.rand(3)`` runs
  (the file's name summary lists every name).

Results go to benchmarks/results/live_writer.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from IPython.core.interactiveshell import InteractiveShell

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_kernel_hook import MIXED_CELL  # the soak's cell, written once

RESULTS = Path(__file__).resolve().parent / "results" / "live_writer.json"

LIST_SETUP = (
    "import torch\nts = [torch.rand(3) for _ in range(10_000)]\n"
    "rows = [t[1:] for t in ts[:1_000]]\nkept = []"
)
MATRIX_SETUP = "import torch\nx = torch.rand(10_000, 3)\nrows = list(x.unbind(0))"
NAMES_SETUP = (  # as bench_kernel_hook.py's row of 10,000 top-level names
    "import torch\nbase = torch.rand(5_000, 3)\n"
    "globals().update({f't{i}': torch.rand(3) for i in range(5_000)})\n"
    "globals().update({f'v{i}': base[i] for i in range(5_000)})"
)
CASES = {
    "one name changes": (LIST_SETUP, "x = torch.rand(3)"),
    "rows of one matrix, another name changes": (MATRIX_SETUP, "z = torch.rand(3)"),
    "rows of one matrix, the matrix written in place": (MATRIX_SETUP, "x.add_(1)"),
    "mixed": (LIST_SETUP, MIXED_CELL),
    "10,000 top-level names, one more changes": (NAMES_SETUP, "x = torch.rand(3)"),
}


def cpu_ms(start: float) -> float:
    return (time.thread_time() - start) * 1e3


def measure(setup: str, cell: str, repeat: int) -> dict[str, float]:
    from tensorviews.render.dot import forget_drawn_labels
    from tensorviews.view import view_document

    shell = InteractiveShell.instance()
    shell.run_cell(setup, store_history=False)
    shell.run_cell("%load_ext tensorviews", store_history=False)
    shell.run_cell("pass", store_history=False)  # first scan
    state = shell._tensorviews_state
    namespace = shell.user_ns
    code = compile(cell, "<cell>", "exec")
    update: list[float] = []
    notify: list[float] = []
    anew: list[float] = []
    for n in range(repeat + 3):  # the first cells settle (first sharing, first labels)
        exec(code, namespace)
        start = time.thread_time()
        graph = state.update()
        update_ms = cpu_ms(start)
        start = time.thread_time()
        state.notify(graph)
        notify_ms = cpu_ms(start)
        forget_drawn_labels()
        graph.index().forget_drawings()
        start = time.thread_time()
        json.dumps(view_document(state.display_graph(graph)))
        anew_ms = cpu_ms(start)
        if n >= 3:
            update.append(update_ms)
            notify.append(notify_ms)
            anew.append(anew_ms)
    shell.run_cell("%unload_ext tensorviews", store_history=False)
    shell.run_cell("%reset -f", store_history=False)
    median = statistics.median
    return {
        "update_ms": median(update),
        "notify_ms": median(notify),
        "drawn_anew_ms": median(anew),
        "notify_over_drawn_anew": median(notify) / median(anew),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    # Live files go to a folder of this run, never into the user's runtime directory.
    runtime = tempfile.TemporaryDirectory(prefix="tensorviews-bench-")
    os.environ["JUPYTER_RUNTIME_DIR"] = runtime.name
    results: dict[str, Any] = {}
    print(f"After each cell ({args.repeat} cells, CPU time of the kernel's thread, medians):")
    for name, (setup, cell) in CASES.items():
        row = measure(setup, cell, args.repeat)
        results[name] = row
        print(
            f"{name:>48}: snapshot {row['update_ms']:.2f} ms, live writer "
            f"{row['notify_ms']:.2f} ms = {row['notify_over_drawn_anew']:.2f}x the document "
            f"drawn anew ({row['drawn_anew_ms']:.2f} ms)"
        )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(f"written {RESULTS}")
    runtime.cleanup()


if __name__ == "__main__":
    main()
