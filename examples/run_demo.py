"""Run a notebook headless through a real kernel with Tensor Views loaded; write an HTML page.

    python examples/run_demo.py [NOTEBOOK] [--out DIR]

The notebook runs in a fresh ipykernel (nbclient), the executed copy is saved next to the
HTML page, and every output is rendered escaped: storage graphs as the SVG graphviz drew,
text as text.
"""

from __future__ import annotations

import argparse
import html
import sys
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

HERE = Path(__file__).resolve().parent
PAGE_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #263238; }
pre { background: #f5f7f8; padding: .6em .8em; border-radius: 4px; overflow-x: auto; }
pre.source { border-left: 3px solid #1565c0; }
pre.stderr { background: #fff3e0; }
.output svg { max-width: 100%; height: auto; }
.cell { margin-bottom: 1.4em; }
"""


def render_output(output: Any) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        css = "stderr" if output.get("name") == "stderr" else "stdout"
        return f'<pre class="{css}">{html.escape(output.get("text", ""))}</pre>'
    if kind == "error":
        return f'<pre class="stderr">{html.escape(output.get("ename", ""))}: ' \
            f'{html.escape(output.get("evalue", ""))}</pre>'
    data = output.get("data", {})
    if "image/svg+xml" in data:
        # graphviz wrote this SVG from escaped labels: it is safe to inline as it is.
        return f'<div class="output">{data["image/svg+xml"]}</div>'
    if "text/html" in data:
        # Only Tensor Views' own outputs carry HTML in this notebook (the guard's warning),
        # and it escapes every user string itself.
        return f'<div class="output">{data["text/html"]}</div>'
    if "text/plain" in data:
        return f"<pre>{html.escape(data['text/plain'])}</pre>"
    return ""


def markdown_to_html(text: str) -> str:
    """Headings and paragraphs of the demo's own Markdown cells (escaped, code spans kept)."""
    blocks = []
    for block in text.split("\n\n"):
        escaped = html.escape(block)
        parts = escaped.split("`")
        escaped = "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))
        level = len(block) - len(block.lstrip("#"))
        if level:
            title, _, rest = escaped.lstrip("#").strip().partition("\n")
            blocks.append(f"<h{level}>{title}</h{level}>" + (f"<p>{rest}</p>" if rest else ""))
        else:
            blocks.append(f"<p>{escaped}</p>")
    return "\n".join(blocks)


def render_page(nb: Any, title: str) -> str:
    body = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            body.append(f'<div class="cell">{markdown_to_html(cell.source)}</div>')
        elif cell.cell_type == "code":
            outputs = "".join(render_output(o) for o in cell.get("outputs", []))
            body.append(
                f'<div class="cell"><pre class="source">{html.escape(cell.source)}</pre>'
                f"{outputs}</div>"
            )
    return (
        f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{html.escape(title)}"
        f"</title><style>{PAGE_STYLE}</style></head><body>{''.join(body)}</body></html>\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", nargs="?", default=str(HERE / "seed_swap.ipynb"))
    parser.add_argument("--out", default="out")
    args = parser.parse_args(argv)
    source = Path(args.notebook)
    out = Path(args.out)
    try:
        nb = nbformat.read(source, as_version=4)
    except (OSError, ValueError) as exc:
        print(f"demo: cannot read {source}: {exc}", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    try:
        NotebookClient(nb, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(source.parent)}}).execute()
    except CellExecutionError as exc:
        print(f"demo: a cell failed: {exc.ename}: {exc.evalue}", file=sys.stderr)
        return 1
    executed = out / f"{source.stem}.executed.ipynb"
    page = out / f"{source.stem}.html"
    nbformat.write(nb, executed)
    page.write_text(render_page(nb, source.stem), encoding="utf-8")
    graphs = sum(
        1 for c in nb.cells for o in c.get("outputs", []) if "image/svg+xml" in o.get("data", {})
    )
    print(f"demo: executed {source} with Tensor Views loaded ({graphs} storage graphs drawn)")
    print(f"demo: notebook  {executed.resolve()}")
    print(f"demo: HTML page {page.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
