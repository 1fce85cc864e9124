"""Draw the pictures in docs/images/ from real graphs: graphviz ``dot`` makes the SVG (as for
``%tensorgraph``), ``rsvg-convert`` (Debian ``librsvg2-bin``) turns it into PNG.

    PYTHONPATH=. .venv/bin/python scripts/make_images.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import torch
from torch import nn

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # examples/ beside the package, when run as a script

from examples.models import Llama  # noqa: E402
from tensorviews import snapshot  # noqa: E402
from tensorviews.view import ViewOptions, view  # noqa: E402

IMAGES = REPO / "docs" / "images"


def encoder_with_adamw() -> dict[str, Any]:
    """A 12-layer ``nn.TransformerEncoder`` after one AdamW step."""
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(d_model=512, nhead=8, dim_feedforward=2048)
    model = nn.TransformerEncoder(layer, num_layers=12, enable_nested_tensor=False)
    opt = torch.optim.AdamW(model.parameters())
    model(torch.rand(4, 2, 512)).sum().backward()
    opt.step()
    return {"model": model, "opt": opt}


def llama_on_meta() -> dict[str, Any]:
    with torch.device("meta"):
        return {"model": Llama()}


def pinned_h() -> dict[str, Any]:
    acts = torch.zeros(2048, 8192)
    h = acts[:, -1]  # one column: 8 KiB of a 64 MiB storage
    del acts
    x = torch.arange(12.0).reshape(3, 4)
    return {"h": h, "x": x, "row": x[1], "col": x[:, 2]}


def draw(name: str, ns: dict[str, Any], show_all: bool) -> None:
    svg = view(snapshot(ns), None, ViewOptions(show_all=show_all)).to_svg()
    svg_path = IMAGES / f"{name}.svg"
    svg_path.write_text(svg, encoding="utf-8")
    subprocess.run(
        ["rsvg-convert", "--zoom", "1.5", "--background-color", "white", str(svg_path),
         "-o", str(IMAGES / f"{name}.png")],
        check=True,
    )
    svg_path.unlink()
    print(f"docs/images/{name}.png")


def main() -> None:
    if shutil.which("rsvg-convert") is None:
        sys.exit("rsvg-convert not found: apt-get install librsvg2-bin")
    IMAGES.mkdir(exist_ok=True)
    draw("encoder-12-layers-all", encoder_with_adamw(), show_all=True)
    draw("encoder-12-layers", encoder_with_adamw(), show_all=False)
    draw("llama-7b-on-meta-all", llama_on_meta(), show_all=True)
    draw("pinned-h", pinned_h(), show_all=False)


if __name__ == "__main__":
    main()
