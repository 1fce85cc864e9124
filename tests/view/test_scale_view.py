"""Readable at any scale: memory totals checked against an independent count, folded repeated
structure, memory strips, storages named after their owner, honest diffs; drawn by graphviz."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import xml.etree.ElementTree as ET
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from examples.models import Llama
from tensorviews import Snapshotter, snapshot, view_json
from tensorviews.insight import diff_graphs
from tensorviews.view import ViewOptions, view, view_document
from tests.kernel_ext.notebook_runner import display_bundles, run_cells, stream_text

SVG = "{http://www.w3.org/2000/svg}"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz 'dot' not installed")
ALL = ViewOptions(show_all=True)


def encoder(layers: int, width: int = 64) -> tuple[nn.Module, torch.optim.Optimizer]:
    """A transformer encoder after one AdamW step: parameters, gradients, optimizer state."""
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(d_model=width, nhead=4, dim_feedforward=2 * width)
    model = nn.TransformerEncoder(layer, num_layers=layers, enable_nested_tensor=False)
    opt = torch.optim.AdamW(model.parameters())
    model(torch.rand(3, 2, width)).sum().backward()
    opt.step()
    return model, opt


def independent_count(groups: dict[str, list[torch.Tensor]]) -> dict[str, int]:
    """Bytes per category, each storage once (by its data pointer), the first category that
    lists it winning: the order given is parameters, buffers, gradients, optimizer state,
    other, as documented for owners."""
    seen: set[int] = set()
    out: dict[str, int] = {}
    for category, tensors in groups.items():
        for t in tensors:
            storage = t.untyped_storage()
            if storage.data_ptr() in seen:
                continue
            seen.add(storage.data_ptr())
            out[category] = out.get(category, 0) + storage.nbytes()
    return {c: n for c, n in out.items() if n}


def totals_of(document: dict[str, Any], device: str = "cpu") -> dict[str, int]:
    return {t["category"]: t["nbytes"] for t in document["totals"] if t["device"] == device}


def test_totals_match_an_independent_count_with_shared_memory_counted_once() -> None:
    model, opt = encoder(layers=3)
    bn = nn.BatchNorm1d(8)
    w = model.layers[0].linear1.weight
    acts = torch.rand(16, 32)
    ns = {
        "model": model, "opt": opt, "bn": bn, "w_t": w.T, "w_again": w,
        "acts": acts, "row": acts[3], "arr": np.zeros((4, 5)),
    }
    doc = view_document(view(snapshot(ns)))
    params = [*model.parameters(), *bn.parameters()]
    expected = independent_count({
        "parameters": params,
        "buffers": list(bn.buffers()),
        "gradients": [p.grad for p in params if p.grad is not None],
        "optimizer state": [
            v for state in opt.state.values() for v in state.values() if torch.is_tensor(v)
        ],
        "other": [w.T, acts, acts[3]],
    })
    expected["other"] += 4 * 5 * 8  # the numpy array
    assert totals_of(doc) == expected
    by_category = {t["category"]: t for t in doc["totals"]}
    # w.T and w_again share w's storage: counted once, as a parameter, with both tensors
    assert by_category["parameters"]["tensors"] == by_category["parameters"]["storages"] + 1
    assert by_category["other"]["tensors"] == 3 and by_category["other"]["storages"] == 2
    assert doc["not_allocated"] == []
    categories = {t["names"][0]: t["category"] for t in doc["tensors"]}
    assert categories["model.layers.0.linear1.weight"] == "parameters"
    assert categories["row"] == "other"


def test_a_model_on_meta_is_not_allocated_and_never_counted() -> None:
    with torch.device("meta"):
        model = Llama()
    params = list(model.parameters())
    shown = view(snapshot({"model": model, "small": torch.zeros(3)}))
    doc = view_document(shown)
    assert totals_of(doc) == {"other": 12}
    ((meta,),) = [[t for t in doc["not_allocated"] if t["device"] == "meta"]]
    assert meta["nbytes"] == sum(p.numel() * p.element_size() for p in params)
    assert meta["tensors"] == len(params) == 291
    assert all(not s["allocated"] for s in doc["storages"] if s["device"] == "meta")
    assert "memory not allocated (meta): 25.1 GiB in 291 tensors" in shown.to_text()
    assert "25.1 GiB" in " ".join(svg_texts(ET.fromstring(shown.to_svg())))


def svg_texts(element: ET.Element) -> list[str]:
    return [t.text or "" for t in element.iter(f"{SVG}text")]


def svg_height(svg: str) -> float:
    match = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    assert match is not None
    return float(match.group(2))


def nodes(root: ET.Element) -> dict[str, ET.Element]:
    return {
        g.find(f"{SVG}title").text or "": g  # type: ignore[union-attr]
        for g in root.iter(f"{SVG}g") if g.get("class") == "node"
    }


@needs_dot
def test_all_of_a_twelve_layer_encoder_folds_into_groups_that_fit_two_screens() -> None:
    model, opt = encoder(layers=12)
    graph = snapshot({"model": model, "opt": opt})
    shown = view(graph, None, ALL)
    doc = view_document(shown)
    groups = {(g["category"], g["label"]): g for g in doc["groups"]}
    assert set(groups) == {
        ("parameters", "model.layers.0..11.*"),
        ("gradients", "model.layers.0..11.*"),
        ("optimizer state", "opt.state[model.layers.0..11.*][*]"),
    }
    assert sum(g["count"] for g in doc["groups"]) + len(doc["tensors"]) == len(graph.tensors)
    state = groups[("optimizer state", "opt.state[model.layers.0..11.*][*]")]
    every = {n for t in graph.tensors for n in t.names}
    assert set(state["members"]) <= every and len(state["members"]) == state["count"] == 432
    assert "opt.state[model.layers.*.linear1.weight]['exp_avg']" in {
        p["label"] for p in state["parts"]
    }
    for g in doc["groups"]:  # labels are whole paths: brackets balanced
        assert g["label"].count("[") == g["label"].count("]")
    svg = shown.to_svg()
    assert svg_height(svg) <= 2500
    texts = " ".join(svg_texts(ET.fromstring(svg)))
    assert "opt.state[model.layers.0..11.*][*]" in texts and "x12" in texts


@needs_dot
def test_all_of_many_lone_tensors_is_laid_out_in_rows_not_one_column() -> None:
    ns = {f"w{i}": torch.zeros(i + 1) for i in range(110)}
    svg = view(snapshot(ns), None, ALL).to_svg()
    assert len(nodes(ET.fromstring(svg))) == 220
    assert svg_height(svg) <= 2500


def strip_fills(node: ET.Element) -> list[tuple[str, float]]:
    """(fill, width) of the strip cells drawn in a storage's box, left to right."""
    cells = []
    for polygon in node.iter(f"{SVG}polygon"):
        fill = polygon.get("fill", "")
        points = [tuple(map(float, p.split(","))) for p in polygon.get("points", "").split()]
        xs = [x for x, _ in points]
        ys = [y for _, y in points]
        if fill.startswith("#") and max(ys) - min(ys) < 12 and points:
            cells.append((min(xs), fill, max(xs) - min(xs)))
    return [(fill, width) for _, fill, width in sorted(cells)]


@needs_dot
def test_a_small_view_of_a_big_storage_is_visible_on_its_strip_with_the_rest_unused() -> None:
    acts = torch.zeros(2048, 8192)
    last = acts[-1]  # 32 KiB at the end of 64 MiB
    del acts
    shown = view(snapshot({"last": last}))
    root = ET.fromstring(shown.to_svg())
    storage = nodes(root)[shown.storages[0].id]
    assert "storage of last" in svg_texts(storage)
    fills = strip_fills(storage)
    assert [f for f, _ in fills] == ["#ffffff", "#64b5f6"]
    (unused, used) = (w for _, w in fills)
    assert used >= 2 and unused > 50 * used  # to scale, and still visible
    assert any("views reach 32.0 KiB of 64.0 MiB" in t for t in svg_texts(storage))
    assert "last (32.0 KiB) keeps its storage (64.0 MiB) alive" in shown.notes[0]


@needs_dot
def test_storages_are_named_after_their_owner_and_views_name_their_base() -> None:
    acts = torch.zeros(8, 8)
    shown = view(snapshot({"acts": acts, "row": acts[2], "col": acts[:, 1]}))
    root = ET.fromstring(shown.to_svg())
    drawn = nodes(root)
    (storage,) = shown.storages
    assert svg_texts(drawn[storage.id])[0] == "storage of acts"
    assert storage.owner == shown.by_name("acts").id  # type: ignore[union-attr]
    row = drawn[shown.by_name("row").id]  # type: ignore[union-attr]
    assert "view of acts" in svg_texts(row)
    # one strip for all views, one per view: the overlap of row and col is the dark part
    fills = [f for f, _ in strip_fills(drawn[storage.id])]
    assert "#0d47a1" in fills
    assert "storage of acts" in shown.to_text()
    assert view_document(shown)["storages"][0]["owner"] == storage.owner


Box = tuple[float, float, float, float]


def boxes_overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def node_box(node: ET.Element) -> Box:
    xs, ys = [], []
    for shape in node.iter():
        for x, y in re.findall(r"([-\d.]+),([-\d.]+)", shape.get("points", "")):
            xs.append(float(x))
            ys.append(float(y))
        if shape.tag == f"{SVG}path":
            for x, y in re.findall(r"([-\d.]+),([-\d.]+)", shape.get("d", "")):
                xs.append(float(x))
                ys.append(float(y))
    return min(xs), min(ys), max(xs), max(ys)


@needs_dot
def test_labels_with_two_names_do_not_overlap_in_the_drawing() -> None:
    x = torch.zeros(4, 4)
    ns = {"x": x, "alias_of_x": x, "row": x[1], "same_row": x[1], "other": torch.zeros(3)}
    shown = view(snapshot(ns))
    root = ET.fromstring(shown.to_svg())
    drawn = nodes(root)
    boxes = {name: node_box(g) for name, g in drawn.items()}
    names = list(boxes)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not boxes_overlap(boxes[a], boxes[b]), (a, b)
    for g in drawn.values():  # lines of text in one box stand on different baselines
        ys = [float(t.get("y", "0")) for t in g.iter(f"{SVG}text") if t.get("font-size") != "8.00"]
        rows = sorted(set(ys))
        assert all(b - a >= 8 for a, b in itertools.pairwise(rows))
    texts = svg_texts(root)
    assert "x" in texts and "alias_of_x" in texts


def test_the_notes_since_the_last_cell_name_every_new_partner_and_the_owner() -> None:
    snap = Snapshotter()
    x = torch.zeros(4, 4)
    ns: dict[str, Any] = {"x": x}
    before = snap.snapshot(ns)
    ns.update(r0=x[0], r1=x[1], r2=x[2], r3=x[3])
    after = snap.snapshot(ns)
    changes = diff_graphs(before, after)
    shown = view(after, changes)
    notes = [n for n in shown.notes if n.startswith("since the last cell")]
    assert notes == [
        "since the last cell: + r0, r1, r2, r3 now share memory with x (storage of x)"
    ]
    marked = {after.tensor(node).label for node, why in shown.marks if why == "new sharing"}
    assert marked == {"x", "r0", "r1", "r2", "r3"}


def test_a_rebuilt_list_of_rows_is_summed_up_past_the_first_newly_shared_storages() -> None:
    """A cell that makes a thousand rows of a thousand new tensors: eight storages get a
    line each, the rest one counted line; every pair is still marked, and the drawing keeps
    the newly shared storages whole."""
    snap = Snapshotter()
    ns: dict[str, Any] = {"ts": [torch.zeros(3) for _ in range(1_000)]}
    before = snap.snapshot(ns)
    ns["ts"] = [torch.zeros(3) for _ in range(1_000)]
    ns["rows"] = [t[1:] for t in ns["ts"]]
    after = snap.snapshot(ns)
    changes = diff_graphs(before, after)
    assert len(changes.new_sharing) == 1_000
    sharing = [line for line in changes.text if "shar" in line]
    assert sharing[:8] == [
        f"+ rows[{i}] now shares memory with ts[{i}] (storage of ts[{i}])" for i in range(8)
    ]
    assert sharing[8:] == [
        "+ 992 more storages newly shared by 992 more tensors: storages of ts[8], ts[9], "
        "ts[10] ..."
    ]
    shown = view(after, changes)
    drawn = {t.label for t in shown.tensors}
    assert len(drawn) == 300 and all(
        f"ts[{label[5:-1]}]" in drawn for label in drawn if label.startswith("rows[")
    )
    marked = {node for node, why in shown.marks if why == "new sharing"}
    assert {after.tensor(node).label for node in marked} == {
        *(f"ts[{i}]" for i in range(1_000)), *(f"rows[{i}]" for i in range(1_000))
    }


def test_with_nothing_shared_the_default_view_shows_totals_and_the_biggest_storages() -> None:
    ns = {f"w{i}": torch.zeros(100 + i) for i in range(60)}
    shown = view(snapshot(ns))
    assert [t.label for t in shown.tensors] == ["w55", "w56", "w57", "w58", "w59"]
    assert shown.notes[0] == "nothing shares memory: the 5 biggest storages are drawn"
    ((total,),) = [[t for t in shown.totals if t.category == "other"]]
    assert total.nbytes == sum(4 * (100 + i) for i in range(60)) and total.storages == 60


def test_with_many_storages_of_one_size_the_biggest_are_drawn_and_ties_go_to_the_first() -> None:
    ns: dict[str, Any] = {"ts": [torch.zeros(3) for _ in range(2_000)]}
    ns.update(big=torch.zeros(50), bigger=torch.zeros(80))
    shown = view(snapshot(ns))
    assert {t.label for t in shown.tensors} == {"bigger", "big", "ts[0]", "ts[1]", "ts[2]"}
    assert shown.notes[0] == "nothing shares memory: the 5 biggest storages are drawn"


@needs_dot
@pytest.mark.parametrize("key", ['<img src=x onerror=alert(1)>', 'a";b', "back\\Nslash", "&amp;"])
def test_hostile_names_in_groups_and_strips_stay_text(key: str) -> None:
    base = torch.zeros(8)
    ns = {"layers": [{key: torch.zeros(2)} for _ in range(130)], "v": {key: base[2:]}}
    ns["b"] = base
    shown = view(snapshot(ns), None, ALL)
    svg = shown.to_svg()
    root = ET.fromstring(svg)  # well-formed: nothing injected
    assert not list(root.iter(f"{SVG}script")) and "<img" not in svg
    texts = " ".join(svg_texts(root))
    assert f"[*][{key!r}]" in texts  # the group's part, as text
    assert f"v[{key!r}]" in texts  # a view's name on its storage's strip


def test_a_twelve_layer_encoder_in_a_real_kernel_small_outputs_and_matching_totals() -> None:
    """%tensorgraph --all in a real kernel: the bundle is small, its SVG fits two screens, its
    totals match a count made in the kernel from the tensors themselves."""
    nb = run_cells([
        "%load_ext tensorviews",
        "import torch, json\n"
        "layer = torch.nn.TransformerEncoderLayer(d_model=512, nhead=8, dim_feedforward=2048)\n"
        "model = torch.nn.TransformerEncoder(layer, num_layers=12, enable_nested_tensor=False)\n"
        "opt = torch.optim.AdamW(model.parameters())\n"
        "model(torch.rand(4, 2, 512)).sum().backward()\n"
        "opt.step()\n"
        "del layer  # the encoder holds copies of it",
        "%tensorgraph --all",
        "seen, count = set(), {}\n"
        "kinds = [('parameters', list(model.parameters())),\n"
        "         ('gradients', [p.grad for p in model.parameters()]),\n"
        "         ('optimizer state', [v for s in opt.state.values() for v in s.values()])]\n"
        "for kind, ts in kinds:\n"
        "    for t in ts:\n"
        "        s = t.untyped_storage()\n"
        "        if s.data_ptr() not in seen:\n"
        "            seen.add(s.data_ptr()); count[kind] = count.get(kind, 0) + s.nbytes()\n"
        "print(json.dumps(count))",
    ], timeout=300)
    (bundle,) = display_bundles(nb.cells[2])
    doc = bundle["application/vnd.tensorviews.graph+json"]
    assert totals_of(doc) == json.loads(stream_text(nb.cells[3]))
    assert svg_height(bundle["image/svg+xml"]) <= 2500
    size = sum(len(v if isinstance(v, str) else json.dumps(v)) for v in bundle.values())
    assert size < 100_000  # was 1 MB: SVG 659 KB, JSON 337 KB, text 35 KB
    assert "memory cpu: 577.2 MiB" in bundle["text/plain"]


def test_the_node_caps_groups_list_their_members_for_a_client_to_expand() -> None:
    x = torch.zeros(1000, 3)
    ns: dict[str, Any] = {"x": x, "rows": list(x.unbind(0))}
    for graph in (Snapshotter().snapshot(ns), snapshot(ns)):
        doc = view_document(view(graph, None, ALL))
        (group,) = doc["groups"]
        assert (group["label"], group["count"]) == ("rows[*]", 1001 - 300)
        drawn = {n for t in doc["tensors"] for n in t["names"]}
        assert len(group["members"]) == 500 and not drawn & set(group["members"])
        assert set(group["members"]) <= {f"rows[{i}]" for i in range(1000)}


def test_ten_thousand_top_level_names_fold_into_few_groups_and_the_pinned_view_is_drawn() -> None:
    namespace: dict[str, object] = {f"t{i}": torch.zeros(3) for i in range(10_000)}
    acts = torch.zeros(2048, 8192)
    namespace["h"] = acts[:, -1]
    del acts
    document = json.loads(view_json(namespace, show_all=True))
    assert len(document["tensors"]) == 300
    assert len(document["groups"]) <= 40
    assert sum(g["count"] for g in document["groups"]) == 10_001 - 300
    # What the note speaks of is drawn, whatever its place among the names.
    assert any(t["names"] == ["h"] for t in document["tensors"])
    assert any(n.startswith("h (8.0 KiB) keeps its storage (64.0 MiB)") for n in document["notes"])


def test_storages_created_and_released_beside_shared_memory_are_counted_exactly() -> None:
    """Beside a matrix and its rows (storages shared by many tensors), a cell that changes a
    few names: the storages it creates and releases, named, as a full count gives them."""
    snap = Snapshotter()
    m = torch.zeros(50, 3)
    ns: dict[str, Any] = {"m": m, "rows": list(m.unbind(0)), "x": torch.zeros(2)}
    previous = snap.snapshot(ns)

    def cell(what: str, created: int, released: int) -> list[str]:
        nonlocal previous
        graph = snap.snapshot(ns)
        changes = diff_graphs(previous, graph)
        assert (changes.new_storage_count, changes.released_count) == (created, released), what
        previous = graph
        return [*changes.new_storage_labels, "released", *changes.released]

    ns["x"] = torch.zeros(3)
    assert cell("x rebound", 1, 1) == ["x", "released", "x"]
    ns["v"] = m[7, 1:]  # a new view of the shared matrix: no storage is new
    assert cell("a view of the matrix", 0, 0) == ["released"]
    ns["y"] = torch.zeros(4)
    ns["yv"] = ns["y"][1:]  # a new storage with two tensors
    assert cell("a tensor and its view", 1, 0) == ["y, yv", "released"]
    del ns["y"]
    assert cell("one of two names of a storage dropped", 0, 0) == ["released"]
    del ns["yv"], ns["x"]
    ns["m"] = torch.ones(2)  # the matrix keeps living through its rows
    assert cell("names dropped and rebound", 1, 2) == ["m", "released", "x", "yv"]
