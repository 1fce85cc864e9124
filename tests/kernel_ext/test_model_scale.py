"""Model-scale features: pinned waste, diffs between cells, readable views, bounds, freeing."""

from __future__ import annotations

import dataclasses
import gc
import weakref
from typing import Any

import numpy as np
import torch

from kernel_ext.extension import parse_config
from tensorviews import Snapshotter, snapshot
from tensorviews.insight import annotate, diff_graphs, find_pinned_waste
from tensorviews.view import capped_view, interesting_view
from tests.kernel_ext.notebook_runner import display_bundles, run_cells, stream_text


def test_small_view_pinning_a_big_storage_is_flagged_with_sizes_and_fix() -> None:
    logits = torch.zeros(64, 8192)
    last = logits[:, -1]
    del logits
    graph = snapshot({"last": last, "ok": torch.zeros(1024, 1024)[:512]})
    (waste,) = find_pinned_waste(graph)
    assert graph.tensor(waste.views[0]).names == ("last",)
    assert (waste.used_bytes, waste.storage_bytes) == (64 * 4, 64 * 8192 * 4)
    annotated, _ = annotate(graph, None)
    (note,) = annotated.notes
    assert note.startswith("last (256 B) keeps its storage") and "`last = last.clone()`" in note
    assert "torch.save" in note and "2.0 MiB" in note
    assert ("s0", "pinned by small views") in annotated.marks or any(
        why == "pinned by small views" for _, why in annotated.marks
    )


def test_numpy_waste_suggests_copy() -> None:
    big = np.zeros((1000, 1000))
    graph = snapshot({"corner": big[:2, :2]})
    del big
    annotated, waste = annotate(graph, None)
    assert waste and "`corner = corner.copy()`" in annotated.notes[0]
    assert "torch.save" not in annotated.notes[0]


def test_expanded_view_reports_logical_over_physical() -> None:
    one_row = torch.zeros(1, 256)
    graph = snapshot({"one_row": one_row, "wide": one_row.expand(4096, 256)})
    text = graph.to_text()
    assert "1.0 KiB (4.0 MiB logical)" in text
    assert "4.0 MiB logical" in graph.to_dot()


def test_diff_between_cells_names_new_and_ended_sharing() -> None:
    snap = Snapshotter()
    ns: dict[str, Any] = {"x": torch.zeros(4, 4), "y": torch.zeros(2)}
    before = snap.snapshot(ns)
    ns["row"] = ns["x"][1]
    ns["y2"] = ns["y"]  # same object, second name: not new sharing between tensors
    del ns["y"]
    after = snap.snapshot(ns)
    changes = diff_graphs(before, after)
    assert [after.tensor(t).label for pair in changes.new_sharing for t in pair] == ["row", "x"]
    assert changes.new_storage_count == 0 and changes.released == []
    ns["row"] = ns["row"].clone()
    third = snap.snapshot(ns)
    later = diff_graphs(after, third)
    assert later.new_storage_count == 1 and later.text[0].startswith("+ 1 new storage: row")
    del ns["x"]
    gone = diff_graphs(third, snap.snapshot(ns))
    assert gone.released == ["x"]


def test_interesting_view_hides_lone_tensors_and_says_so() -> None:
    x = torch.zeros(3, 3)
    graph = snapshot({"x": x, "col": x[:, 0], **{f"w{i}": torch.zeros(2) for i in range(50)}})
    view = interesting_view(graph, None, [])
    assert {n for t in view.tensors for n in t.names} == {"x", "col"}
    assert view.notes == (
        "50 tensors/arrays alone on their storages not drawn (%tensorgraph --all draws them)",
    )


def test_capped_view_folds_module_parameters_into_groups() -> None:
    model = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32), num_layers=6
    )
    graph = snapshot({"model": model})
    capped = capped_view(graph, max_nodes=10)
    assert len(capped.tensors) == 10
    assert sum(g.count for g in capped.groups) == len(graph.tensors) - 10
    assert all(g.label.startswith("model.layers") and g.label.endswith("*") for g in capped.groups)
    dot = capped.to_dot()
    assert "shape=folder" in dot and "more" in dot


def test_deleting_a_big_model_frees_its_storages() -> None:
    snap = Snapshotter()
    model = torch.nn.Sequential(*[torch.nn.Linear(256, 256) for _ in range(8)])
    opt = torch.optim.SGD(model.parameters(), momentum=0.9)
    model(torch.rand(4, 256)).sum().backward()
    opt.step()
    ns: dict[str, Any] = {"model": model, "opt": opt}
    graph = snap.snapshot(ns)
    assert len(graph.tensors) >= 16 * 3
    refs = [weakref.ref(p) for p in model.parameters()]
    del model, opt
    ns.clear()
    gc.collect()
    assert all(r() is None for r in refs)
    assert snap.snapshot(ns).tensors == ()


def test_settings_parse_with_one_line_errors() -> None:
    assert parse_config("max_depth=2 max_nodes=40") == {"max_depth": 2, "max_nodes": 40}
    for bad in ("depth=2", "max_depth=two", "max_depth"):
        try:
            parse_config(bad)
        except ValueError as exc:
            assert "\n" not in str(exc)
        else:
            raise AssertionError(f"{bad!r} accepted")


def test_magics_are_ipython_magics_with_help_and_settings() -> None:
    nb = run_cells(
        [
            "%load_ext tensorviews",
            "%tensorgraph --help",
            "%tensorviews",
            "import torch\nmodel = {'encoder': torch.zeros(4, 4)}\nrow = model['encoder'][1]",
            "%tensorgraph model --all --max-nodes=50 --format text",
            "%tensorgraph --max-nodes 0",
            "%unload_ext tensorviews",
            "%tensorgraph",
        ],
        allow_errors=True,
    )
    help_text = stream_text(nb.cells[1])
    assert "--max-nodes" in help_text and "--format" in help_text and "--all" in help_text
    settings = stream_text(nb.cells[2]).splitlines()
    assert [line.split(":")[0] for line in settings] == [
        "tensorviews auto", "tensorviews live", "tensorviews guard", "tensorviews config",
    ]
    assert "max_depth=" in settings[-1] and "max_nodes=300" in settings[-1]
    assert "model['encoder']" in display_bundles(nb.cells[4])[0]["text/plain"]
    assert stream_text(nb.cells[5], "stderr").startswith("UsageError: argument --max-nodes")
    assert "UsageError: Line magic function `%tensorgraph` not found" in stream_text(
        nb.cells[7], "stderr"
    )


def test_auto_and_config_in_a_real_kernel() -> None:
    nb = run_cells(
        [
            "%load_ext tensorviews",
            "%tensorviews auto",
            "%tensorviews auto on",
            "import torch\nx = torch.zeros(4, 4)",
            "row = x[2]",
            "y = torch.zeros(3)",
            "%tensorviews config max_depth=1 max_nodes=20",
            "nested = {'deep': {'t': torch.zeros(1)}}\n%tensorgraph nested --format text",
            "%tensorviews auto off\nz = x[3]",
        ],
        allow_errors=True,
    )
    assert stream_text(nb.cells[1]).strip() == "tensorviews auto: scan"
    assert stream_text(nb.cells[2]).strip() == "tensorviews auto: on"
    assert display_bundles(nb.cells[3]) == []  # a lone new tensor: nothing to draw
    (drawn,) = display_bundles(nb.cells[4])
    assert "row now shares memory with x" in drawn["text/plain"] or (
        "x now shares memory with row" in drawn["text/plain"]
    )
    assert display_bundles(nb.cells[5]) == []
    assert "max_depth=1" in stream_text(nb.cells[6]) and "max_nodes=20" in stream_text(nb.cells[6])
    assert "no tensor or array named nested" in stream_text(nb.cells[7], "stderr")
    assert display_bundles(nb.cells[8]) == []


def test_big_list_in_a_real_kernel_is_drawn_from_live_tensors() -> None:
    """Containers of plain tensors are read column-wise and their nodes built in the hook:
    new sharing with an item is drawn, and an explicit request lists every item."""
    nb = run_cells(
        [
            "%load_ext tensorviews\n%tensorviews auto on",
            "import torch\nts = [torch.zeros(3) for _ in range(100)]",
            "v = ts[5][1:]",
            "%tensorgraph ts --format json",
            "del ts[7]\nts.append(torch.zeros(2, 2))",
            "%tensorgraph ts --all --format text",
        ]
    )
    (drawn,) = display_bundles(nb.cells[2])
    assert "v now shares memory with ts[5]" in drawn["text/plain"]
    (shown,) = display_bundles(nb.cells[3])
    graph = shown["application/vnd.tensorviews.graph+json"]
    names = {n for t in graph["tensors"] for n in t["names"]}
    assert {f"ts[{i}]" for i in range(100)} | {"v"} == names
    v = next(t for t in graph["tensors"] if t["names"] == ["v"])
    assert (v["shape"], v["offset"], v["base"] is not None) == ([2], 1, True)
    assert stream_text(nb.cells[4], "stderr") == ""
    (text,) = display_bundles(nb.cells[5])
    assert "ts[99]  torch float32  (2, 2)" in text["text/plain"]
    # The explicit request re-reads every item but still knows which is which: nothing
    # changed since the hook's look after the previous cell.
    assert "since the last cell" not in text["text/plain"]


def test_capping_on_the_index_matches_capping_the_nodes() -> None:
    """Big snapshots are capped on their index (nodes built only for what is drawn): the same
    drawing as capping a graph whose nodes are all built."""
    x = torch.zeros(500, 3)
    ns: dict[str, Any] = {
        "x": x,
        "rows": [x[i] for i in range(500)],
        "model": torch.nn.Sequential(*[torch.nn.Linear(4, 4) for _ in range(30)]),
        "ts": [torch.zeros(2) for _ in range(100)],
        "cache": {f"k{i}": torch.zeros(i % 3 + 1) for i in range(40)},
        "meta": torch.zeros(2, 2, device="meta"),
        "mixed": [torch.zeros(2, device="meta" if i % 3 else "cpu") for i in range(60)],
    }
    graph = Snapshotter().snapshot(ns)
    plain = dataclasses.replace(
        graph, tensors=tuple(graph.tensors), storages=tuple(graph.storages), columns=None
    )
    for max_nodes in (10, 50, 400):
        assert capped_view(graph, max_nodes).to_dict() == capped_view(plain, max_nodes).to_dict()
        assert (
            interesting_view(graph, None, [], max_nodes).to_dict()
            == interesting_view(plain, None, [], max_nodes).to_dict()
        )
    view = capped_view(graph, 10)
    assert [t.label for t in view.tensors] == ["x", *(f"rows[{i}]" for i in range(9))]
    groups = {(g.label, g.device): (g.count, g.nbytes) for g in view.groups}
    assert groups[("rows[*]", "cpu")] == (491, 491 * 12)
    assert groups[("model.29.*", "cpu")] == (2, 80)
    assert groups[("ts[*]", "cpu")] == (100, 800)
    assert groups[("meta", "meta")] == (1, 16)
    assert groups[("mixed[*]", "cpu")] == (20, 160) and groups[("mixed[*]", "meta")] == (40, 320)
    assert sum(g.count for g in view.groups) + len(view.tensors) == len(graph.tensors)
    fresh = Snapshotter().snapshot(ns)
    interesting_view(fresh, None, [], 20)
    built = fresh.tensors._nodes  # type: ignore[attr-defined]
    assert len(built) <= 20  # ten thousand rows would cost twenty nodes, not ten thousand


def test_thousand_rows_of_one_matrix_are_capped_at_the_configured_node_count() -> None:
    """The interesting view of many views on one storage honours ``max_nodes``, and folds the
    rest into one group of rows."""
    nb = run_cells(
        [
            "%load_ext tensorviews",
            "import torch\nx = torch.zeros(1000, 3)\nrows = list(x.unbind(0))",
            "%tensorgraph --format json",
            "%tensorviews config max_nodes=500",
            "%tensorgraph --format json",
        ]
    )
    for cell, kept in ((nb.cells[2], 300), (nb.cells[4], 500)):
        (shown,) = display_bundles(cell)
        graph = shown["application/vnd.tensorviews.graph+json"]
        assert len(graph["tensors"]) == kept
        ((label, count),) = ((g["label"], g["count"]) for g in graph["groups"])
        assert (label, count) == ("rows[*]", 1001 - kept)
        assert len(graph["storages"]) == 1 and len(graph["overlaps"]) == kept - 1
