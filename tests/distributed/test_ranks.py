"""DTensor, FSDP1 and FSDP2 on real process groups (gloo on 127.0.0.1 by default): each rank's
graph is checked against what PyTorch reports on that rank."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.distributed.graph_json import storage, tensor
from tests.distributed.ranks import run_ranks

pytestmark = pytest.mark.slow

TWO = [
    "dtensor_1d", "fsdp2_meta", "fsdp2_step", "fsdp1_orig_params", "fsdp1_flat_params",
    "write_snapshots", "fsdp2_unsharded",
]
FOUR = ["dtensor_1d", "dtensor_2d", "fsdp2_meta"]


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return run_ranks(TWO, 2, tmp_path_factory.mktemp("two"))


@pytest.fixture(scope="module")
def four_ranks(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return run_ranks(FOUR, 4, tmp_path_factory.mktemp("four"))


@pytest.fixture(params=[2, 4], ids=["2-ranks", "4-ranks"])
def ranks(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    fixture = "two_ranks" if request.param == 2 else "four_ranks"
    result: list[dict[str, Any]] = request.getfixturevalue(fixture)
    return result




def check_dtensor(node: dict[str, Any], facts: dict[str, Any]) -> None:
    """The node is the local tensor, and says where it sits in the global one."""
    assert node["type"] == "DTensor"
    assert node["shape"] == facts["local_shape"] == facts["computed_local_shape"]
    assert node["stride"] == facts["local_stride"]
    assert node["offset"] == facts["local_offset"]
    info = node["dtensor"]
    assert info["global_shape"] == facts["global_shape"]
    assert info["global_offset"] == facts["global_offset"]
    assert info["coordinate"] == facts["coordinate"]


def test_dtensor_placements_match_pytorch(ranks: list[dict[str, Any]]) -> None:
    world = len(ranks)
    for rank, result in enumerate(ranks):
        out = result["dtensor_1d"]
        graph = out["graph"]
        assert (graph["rank"], graph["world_size"]) == (rank, world)
        assert graph["problems"] == []
        for name, facts in out["facts"].items():
            check_dtensor(tensor(graph, name), facts)
        rows = tensor(graph, "rows")["dtensor"]
        assert rows["placements"] == ["Shard(0)"]
        assert rows["mesh"] == {"shape": [world], "dim_names": ["dp"]}
        assert tensor(graph, "cols")["dtensor"]["placements"] == ["Shard(1)"]
        assert tensor(graph, "repl")["dtensor"]["placements"] == ["Replicate()"]
        assert tensor(graph, "partial")["dtensor"]["placements"] == ["Partial(sum)"]
        start = out["facts"]["rows"]["global_offset"][0]
        end = start + out["facts"]["rows"]["local_shape"][0] - 1
        assert f"this rank: rows {start}-{end}" in out["dot"]
        assert f"on rank {rank}:" in out["text"] and f"this rank: rows {start}-{end}" in out["text"]
        assert "[Shard(0)] on mesh (" in out["dot"]
        assert "pending reduction" in out["dot"]


def test_replicate_shares_the_source_and_views_share_the_shard(
    ranks: list[dict[str, Any]],
) -> None:
    for result in ranks:
        out = result["dtensor_1d"]
        graph = out["graph"]
        assert out["repl_shares_src"]
        assert tensor(graph, "repl")["storage"] == tensor(graph, "src")["storage"]
        assert tensor(graph, "first_row")["storage"] == tensor(graph, "rows")["storage"]
        pairs = {frozenset((e["a"], e["b"])) for e in graph["overlaps"]}
        assert frozenset((tensor(graph, "src")["id"], tensor(graph, "repl")["id"])) in pairs


def test_uneven_shards_say_their_padding(two_ranks: list[dict[str, Any]]) -> None:
    # 7 rows over 2 ranks: rank 0 holds 4, rank 1 holds 3, one short of an even split.
    first, last = (r["dtensor_1d"] for r in two_ranks)
    assert tensor(first["graph"], "rows")["dtensor"]["uneven_padding"] == 0
    assert tensor(last["graph"], "rows")["dtensor"]["uneven_padding"] == 1
    assert "uneven shard: 1 short of an even split" in last["dot"]
    assert "uneven shard" not in first["dot"].split("rows</B>")[1].split("</TABLE>")[0]


def test_two_dimensional_mesh(four_ranks: list[dict[str, Any]]) -> None:
    coordinates = []
    for result in four_ranks:
        out = result["dtensor_2d"]
        for name, facts in out["facts"].items():
            node = tensor(out["graph"], name)
            check_dtensor(node, facts)
            assert node["dtensor"]["mesh"] == {"shape": [2, 2], "dim_names": ["dp", "tp"]}
        coordinates.append(tuple(out["facts"]["both"]["coordinate"]))
        both = tensor(out["graph"], "both")
        assert both["dtensor"]["placements"] == ["Shard(0)", "Shard(1)"]
        assert both["shape"] == [4, 3]
    assert sorted(coordinates) == [(0, 0), (0, 1), (1, 0), (1, 1)]


def test_fsdp2_meta_init_draws_local_padded_shards(ranks: list[dict[str, Any]]) -> None:
    for result in ranks:
        out = result["fsdp2_meta"]
        graph = out["graph"]
        assert graph["problems"] == []
        for name, facts in out["facts"].items():
            node = tensor(graph, f"model.{name}")
            check_dtensor(node, facts)
            assert node["is_parameter"]
            s = storage(graph, node["storage"])
            assert (s["device"], s["allocated"]) == ("meta", False)
            assert s["nbytes"] == facts["storage_nbytes"]  # the padded buffer, not global
            local = node["logical_nbytes"]
            assert node["dtensor"]["buffer_padding_bytes"] == s["nbytes"] - local


def test_fsdp2_after_an_optimizer_step(two_ranks: list[dict[str, Any]]) -> None:
    for result in two_ranks:
        out = result["fsdp2_step"]
        graph = out["graph"]
        assert graph["problems"] == []
        names = [n for t in graph["tensors"] for n in t["names"]]
        assert len(names) == len(set(names))
        for name, facts in out["facts"].items():
            node = tensor(graph, f"model.{name}")
            check_dtensor(node, facts)
            assert storage(graph, node["storage"])["allocated"]
            check_dtensor(tensor(graph, f"opt.state[model.{name}]['exp_avg']"),
                          out["state_facts"][name])


def test_fsdp2_unsharded_parameter_says_so_with_both_sizes(
    two_ranks: list[dict[str, Any]],
) -> None:
    for result in two_ranks:
        out = result["fsdp2_unsharded"]
        for name, facts in out["facts"].items():
            assert facts["state"] == "UNSHARDED"
            node = tensor(out["graph"], f"model.{name}")
            assert node["dtensor"] is None and node["is_parameter"]
            assert node["unsharded"] == {
                "nbytes": facts["full_nbytes"], "shard_nbytes": facts["shard_nbytes"],
                "placements": ["Shard(0)"],
            }
            assert (
                f"FSDP2 unsharded (all-gathered) parameter · {facts['full_nbytes']} B here"
                in out["dot"]
            )
            resharded = tensor(out["resharded"], f"model.{name}")
            assert resharded["unsharded"] is None and resharded["type"] == "DTensor"


def check_flat_param(node: dict[str, Any], flat: dict[str, Any]) -> None:
    segments = node["flat_param"]["segments"]
    assert [s["name"] for s in segments] == flat["fqns"]
    assert [s["shape"] for s in segments] == flat["shapes"]
    for segment, info in zip(segments, flat["infos"], strict=True):
        assert segment["in_shard"] == info["in_shard"]
        assert segment["shard_start"] == info["offset_in_shard"]
        assert segment["shard_numel"] == (info["numel_in_shard"] or 0)
    assert node["flat_param"]["padding"] == flat["padded"]


def test_fsdp1_flat_parameter_found_with_orig_params(two_ranks: list[dict[str, Any]]) -> None:
    for result in two_ranks:
        out = result["fsdp1_orig_params"]
        graph = out["graph"]
        node = tensor(graph, "model._flat_param")
        check_flat_param(node, out["flat"])
        assert storage(graph, node["storage"])["nbytes"] == out["flat"]["nbytes"]
        shards = dict(zip(out["flat"]["fqns"], out["flat"]["infos"], strict=True))
        for name, facts in out["params"].items():
            param = tensor(graph, f"model.{name}")
            fqn = name.removeprefix("_fsdp_wrapped_module.")
            info = shards[fqn]
            assert param["flat_param"]["original"]
            [segment] = param["flat_param"]["segments"]
            assert (segment["name"], segment["in_shard"]) == (fqn, info["in_shard"])
            if info["in_shard"]:
                assert facts["on_flat"] and param["storage"] == node["storage"]
                assert param["shape"] == [info["numel_in_shard"]]
            else:  # held by the other rank: no "view of a 0 B storage"
                assert facts["numel"] == 0
                assert (param["storage"], param["layout"]) == (None, "not in this rank's shard")
                assert f"{fqn} " in out["dot"] and "not in this rank&#x27;s shard" in out["dot"]
        assert all(s["nbytes"] > 0 for s in graph["storages"])


def test_fsdp1_flat_parameter_without_orig_params(two_ranks: list[dict[str, Any]]) -> None:
    for result in two_ranks:
        out = result["fsdp1_flat_params"]
        node = tensor(out["graph"], "model._fsdp_wrapped_module._flat_param")
        check_flat_param(node, out["flat"])
        assert "FSDP flat parameter · 4 original parameters" in out["dot"]


def merge_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tensorviews", "merge", *args], capture_output=True, text=True,
        timeout=120, check=False,
    )


def test_merge_lines_the_ranks_up(two_ranks: list[dict[str, Any]]) -> None:
    outs = [r["write_snapshots"] for r in two_ranks]
    paths = [o["path"] for o in outs]
    assert [Path(p).name for p in paths] == ["rank0.json", "rank1.json"]
    done = merge_cli("--format", "json", *paths)
    assert done.returncode == 0, done.stderr
    merged = json.loads(done.stdout)
    assert merged["ranks"] == [0, 1] and merged["world_size"] == 2
    rows = {row["name"]: row for row in merged["tensors"]}
    for name in ("model.weight", "table"):
        row = rows[name]
        assert row["placements"] == ["Shard(0)"]
        for rank, out in enumerate(outs):
            facts = out["facts"][name]
            piece = row["ranks"][str(rank)]
            assert row["global_shape"] == facts["global_shape"]
            assert piece["shape"] == facts["local_shape"]
            assert piece["global_offset"] == facts["global_offset"]
    # model.weight (7, 5) on meta: 4 rows and 3 rows, each in an 80 B buffer.
    assert rows["model.weight"]["ranks"]["1"]["padding_bytes"] == 20
    for rank, out in enumerate(outs):
        assert merged["totals"][str(rank)] == {"cpu": out["allocated_bytes"]}
        assert merged["unallocated"][str(rank)] == out["meta_bytes"]

    text = merge_cli(*paths)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].split() == ["tensor", "global", "placements", "rank", "0", "rank", "1"]
    weight = next(line for line in lines if line.startswith("model.weight "))
    assert "rows 0-3 · 80 B" in weight and "rows 4-6 · 60 B +20 B pad" in weight
    assert lines[-1].startswith("memory (storages)")


def test_merge_reports_bad_and_missing_files(
    two_ranks: list[dict[str, Any]], tmp_path: Path
) -> None:
    rank0 = two_ranks[0]["write_snapshots"]["path"]
    broken = tmp_path / "rank9.json"
    broken.write_text("{not json")
    done = merge_cli(rank0, str(broken), str(tmp_path / "absent.json"))
    assert done.returncode == 1
    errors = done.stderr.splitlines()
    assert len(errors) == 2 and all(e.startswith("tensorviews merge: ") for e in errors)
    assert "note: no snapshot of rank 1" in done.stdout
    nothing = merge_cli(str(broken))
    assert nothing.returncode == 2 and "no rank snapshot could be read" in nothing.stderr


def test_merge_fsdp1_original_parameters(two_ranks: list[dict[str, Any]], tmp_path: Path) -> None:
    paths = []
    for rank, result in enumerate(two_ranks):
        graph = result["fsdp1_orig_params"]["graph"]
        path = tmp_path / f"rank{rank}.json"
        path.write_text(json.dumps({
            "schema": "tensorviews.rank-snapshot/1", "rank": rank, "world_size": 2,
            "graph": graph,
        }))
        paths.append(str(path))
    done = merge_cli("--format", "json", *paths)
    assert done.returncode == 0, done.stderr
    rows = {row["name"]: row for row in json.loads(done.stdout)["tensors"]}
    for rank, result in enumerate(two_ranks):
        out = result["fsdp1_orig_params"]
        shards = dict(zip(out["flat"]["fqns"], out["flat"]["infos"], strict=True))
        for fqn, info in shards.items():
            piece = rows[f"model._fsdp_wrapped_module.{fqn}"]["ranks"][str(rank)]
            if info["in_shard"]:
                assert piece["extent"].startswith("elements ")
                assert piece["shape"] == [info["numel_in_shard"]]
            else:
                assert piece["extent"] == "not in this rank's shard"
