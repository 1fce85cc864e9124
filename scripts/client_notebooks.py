"""Write the showcase notebooks, run by a real kernel (nbclient), with their outputs saved.

    PYTHONPATH=. .venv/bin/python scripts/client_notebooks.py OUT_DIR [--small]

Each notebook loads the extension, builds one model and runs ``%tensorgraph``; the saved
output is the real mime bundle (graph JSON with the cores' DOT) that JupyterLab and VS Code
draw with the Tensor Views renderer:

- ``encoder.ipynb``: a 12-layer ``nn.TransformerEncoder`` after one AdamW step,
  ``%tensorgraph --all`` (its parameters, gradients and optimizer state fold into groups);
- ``llama.ipynb``: the Llama-7B-shaped model of examples/models.py built on meta,
  ``%tensorgraph --all`` (25 GiB that are not allocated);
- ``pinned.ipynb``: a 32 KiB column ``h`` keeping 64 MiB of activations alive, ``%tensorgraph``.

``--small`` builds the encoder with d_model 16 (quick, for the tests; same structure and
groups). The pictures in docs/images use the full sizes (scripts/make_client_images.sh).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
GRAPH_MIME = "application/vnd.tensorviews.graph+json"


def encoder_cells(d_model: int, ff: int, heads: int) -> list[str]:
    return [
        "import torch\nfrom torch import nn\n\ntorch.manual_seed(0)\n"
        f"layer = nn.TransformerEncoderLayer(d_model={d_model}, nhead={heads}, "
        f"dim_feedforward={ff})\n"
        "model = nn.TransformerEncoder(layer, num_layers=12, enable_nested_tensor=False)\n"
        "opt = torch.optim.AdamW(model.parameters())\n"
        f"model(torch.rand(4, 2, {d_model})).sum().backward()\nopt.step()",
        "%tensorgraph --all model opt",
    ]


LLAMA_CELLS = [
    "import torch\nfrom examples.models import Llama\n\n"
    "with torch.device('meta'):\n    model = Llama()",
    "%tensorgraph --all model",
]

PINNED_CELLS = [
    "import torch\n\nacts = torch.zeros(2048, 8192)\n"
    "h = acts[:, -1]  # one column: 8 KiB of a 64 MiB storage\ndel acts\n"
    "x = torch.arange(12.0).reshape(3, 4)\nrow, col = x[1], x[:, 2]",
    "%tensorgraph",
]


def write(path: Path, cells: list[str]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3", "display_name": "Python 3", "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [nbformat.v4.new_code_cell(src) for src in ["%load_ext tensorviews", *cells]]
    resources = {"metadata": {"path": str(path.parent)}}
    NotebookClient(nb, timeout=300, kernel_name="python3", resources=resources).execute()
    if not any(GRAPH_MIME in o.get("data", {}) for o in nb.cells[-1].outputs):
        raise SystemExit(f"{path.name}: %tensorgraph gave no {GRAPH_MIME} output")
    nbformat.write(nb, path)
    print(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--small", action="store_true", help="a small encoder (tests)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    # The kernels import tensorviews and examples/ from this checkout.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in [str(REPO), os.environ.get("PYTHONPATH", "")] if p
    )
    sizes = (16, 32, 2) if args.small else (512, 2048, 8)
    write(args.out / "encoder.ipynb", encoder_cells(*sizes))
    if not args.small:
        write(args.out / "llama.ipynb", LLAMA_CELLS)
        write(args.out / "pinned.ipynb", PINNED_CELLS)


if __name__ == "__main__":
    main()
