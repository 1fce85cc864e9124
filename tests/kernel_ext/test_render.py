"""DOT and SVG really produced by graphviz: nodes, clusters, and user names kept as text."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import torch

from tensorviews import snapshot
from tensorviews.render.dot import GraphvizMissing, render_svg

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = ['<img src=x onerror=alert(1)>', 'a";b', "back\\Nslash", "]]><script>x</script>"]

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz 'dot' not installed")


def parse_svg(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def groups(root: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == cls]


def texts(element: ET.Element) -> list[str]:
    return [t.text or "" for t in element.iter(f"{SVG}text")]


@needs_dot
def test_svg_has_device_clusters_storages_and_view_nodes() -> None:
    a = torch.rand(2, 2)
    graph = snapshot(
        {"a": a, "row": a[1], "m": torch.empty(2, device="meta"), "n": np.zeros(3)}
    )
    root = parse_svg(graph.to_svg())
    cluster_titles = sorted(" ".join(texts(c)[:1]) for c in groups(root, "cluster"))
    assert cluster_titles == ["cpu", "meta"]
    node_titles = {g.find(f"{SVG}title").text for g in groups(root, "node")}  # type: ignore[union-attr]
    assert {t.id for t in graph.tensors} | {s.id for s in graph.storages} == node_titles
    row_id = graph.by_name("row").id  # type: ignore[union-attr]
    row = next(g for g in groups(root, "node") if g.find(f"{SVG}title").text == row_id)  # type: ignore[union-attr]
    assert "stride (1,) · offset 2" in texts(row)
    storage_text = " ".join(" ".join(texts(g)) for g in groups(root, "node"))
    assert "16 B · torch" in storage_text


@needs_dot
def test_overlaps_between_sibling_views_are_drawn_as_red_links() -> None:
    x = torch.arange(12.0).reshape(3, 4)
    graph = snapshot({"x": x, "col": x[:, 1], "row": x[1], "other_row": x[2]})
    root = parse_svg(graph.to_svg())
    edge_labels = [" ".join(texts(g)) for g in groups(root, "edge")]
    # col crosses row and other_row; views lying inside x need no red link
    assert edge_labels.count("overlap") == 2
    assert len(graph.overlaps) == 5


@needs_dot
@pytest.mark.parametrize("key", HOSTILE)
def test_hostile_names_render_as_text(key: str) -> None:
    graph = snapshot({"d": {key: torch.rand(1)}})
    dot = graph.to_dot()
    svg = graph.to_svg()
    root = parse_svg(svg)  # still well-formed XML: nothing injected
    assert not list(root.iter(f"{SVG}script")) and not list(root.iter(f"{SVG}img"))
    node_text = [" ".join(texts(g)) for g in groups(root, "node")]
    assert f"d[{key!r}]" in " ".join(node_text)
    assert "<img" not in svg.replace("&lt;img", "")
    assert dot.count("digraph") == 1


def test_missing_dot_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(GraphvizMissing) as info:
        render_svg("digraph { a }")
    assert "\n" not in str(info.value) and "graphviz" in str(info.value)


@needs_dot
def test_broken_dot_input_is_one_line_error() -> None:
    with pytest.raises(GraphvizMissing) as info:
        render_svg("digraph { a -> }")
    assert "\n" not in str(info.value)


def test_text_table_lists_storages_views_and_overlaps() -> None:
    x = torch.arange(6.0).reshape(2, 3)
    text = snapshot({"x": x, "col": x[:, 0], "row": x[0]}).to_text()
    assert text.splitlines()[0] == "Storage graph: 1 storage, 3 tensors/arrays, 3 overlaps"
    assert "col <-> row" in text
    assert any(line.strip().startswith("row") and "offset 0" in line for line in text.splitlines())
