"""A real IPython kernel for the VS Code end-to-end test, driven over stdin/stdout.

    python tests/vscode/kernel_session.py --runtime-dir R --notebook W/demo.ipynb

1. Runs a notebook through nbclient (a real kernel: `%load_ext tensorviews`, the seed's
   tensors, a small view pinning a big storage, `%tensorgraph`) and saves it with its outputs
   to --notebook, so VS Code opens it with a real `application/vnd.tensorviews.graph+json`
   output (a view document: notes, marks and the cores' DOT).
2. Starts a second kernel that stays alive, with JUPYTER_RUNTIME_DIR=R and JPY_SESSION_NAME set
   to the notebook, loads the extension (its live channel writes the snapshot file the
   language server watches) and runs the seed's tensors and the pinning view.
3. Prints one JSON line `{"ready": true, ...}`, then runs each stdin line as a cell and answers
   `{"ok": bool}`; exits (shutting the kernel down) at end of input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

SETUP = "%load_ext tensorviews"
SEED = """import torch
kernel_a = torch.rand(2, 2)
kernel_b = torch.rand(2, 2)
row_a = kernel_a[0]
"""
# The last column of 64 MiB of activations: a 4 KiB view that keeps all of them alive, which
# the view notes ("last_col (4.0 KiB) keeps its storage (64.0 MiB) alive") and marks.
PINNED = """acts = torch.zeros(1024, 16384)
last_col = acts[:, -1]
del acts
"""
GRAPH_MIME = "application/vnd.tensorviews.graph+json"


def write_notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3", "display_name": "Python 3", "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell(SETUP),
        nbformat.v4.new_code_cell(SEED.replace("kernel_", "nb_") + PINNED),
        nbformat.v4.new_code_cell("%tensorgraph"),
    ]
    resources = {"metadata": {"path": str(path.parent)}}
    NotebookClient(nb, timeout=120, kernel_name="python3", resources=resources).execute()
    mimes = [set(o.get("data", {})) for o in nb.cells[2].outputs]
    if not any(GRAPH_MIME in m for m in mimes):
        raise SystemExit(f"%tensorgraph gave no {GRAPH_MIME} output: {nb.cells[2].outputs}")
    graph = next(
        o["data"][GRAPH_MIME] for o in nb.cells[2].outputs if GRAPH_MIME in o.get("data", {})
    )
    if "dot" not in graph or not any("keeps its storage" in n for n in graph.get("notes", [])):
        raise SystemExit(f"%tensorgraph gave no view document with the pinned-memory note: {graph}")
    nbformat.write(nb, path)


def run(kc: object, code: str) -> bool:
    reply = kc.execute_interactive(code, timeout=60, output_hook=lambda msg: None)  # type: ignore[attr-defined]
    return bool(reply["content"]["status"] == "ok")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runtime-dir", required=True)
    parser.add_argument("--notebook", required=True, type=Path)
    args = parser.parse_args()
    write_notebook(args.notebook)

    os.environ["JUPYTER_RUNTIME_DIR"] = args.runtime_dir
    km = KernelManager(kernel_name="python3")
    km.start_kernel(env={**os.environ, "JPY_SESSION_NAME": str(args.notebook)})
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        ok = run(kc, SETUP) and run(kc, SEED + PINNED)
        ready = {"ready": ok, "kernelId": km.kernel_id, "notebook": str(args.notebook)}
        print(json.dumps(ready), flush=True)
        for line in sys.stdin:
            if line.strip():
                print(json.dumps({"ok": run(kc, json.loads(line))}), flush=True)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
