"""What each rank does in a distributed test: build real DTensors / FSDP modules, snapshot
them with tensorviews, and return the graph JSON next to what PyTorch itself reports, so the
test compares the two. Runs inside the spawned ranks (see ranks.py); plain data out only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.tensor import DTensor, Partial, Replicate, Shard, distribute_tensor
from torch.distributed.tensor._utils import compute_local_shape_and_global_offset

import tensorviews


def _facts(t: Any) -> dict[str, Any]:
    """What PyTorch says of a DTensor on this rank."""
    local = t._local_tensor
    shape, offset = compute_local_shape_and_global_offset(t.shape, t.device_mesh, t.placements)
    return {
        "local_shape": list(local.shape), "local_stride": list(local.stride()),
        "local_offset": local.storage_offset(), "global_shape": list(t.shape),
        "computed_local_shape": list(shape), "global_offset": list(offset),
        "coordinate": list(t.device_mesh.get_coordinate() or []),
        "storage_nbytes": local.untyped_storage().nbytes(),
    }


def _graph(namespace: dict[str, Any]) -> dict[str, Any]:
    graph = tensorviews.snapshot(namespace)
    return {"graph": graph.to_dict(), "dot": graph.to_dot(), "text": graph.to_text()}


def dtensor_1d(rank: int, world: int, device: str) -> dict[str, Any]:
    mesh = init_device_mesh(device, (world,), mesh_dim_names=("dp",))
    src = torch.arange(35.0, device=device).reshape(7, 5)
    rows = distribute_tensor(src, mesh, [Shard(0)])
    cols = distribute_tensor(src, mesh, [Shard(1)])
    repl = distribute_tensor(src, mesh, [Replicate()])
    partial = DTensor.from_local(torch.ones(2, 3, device=device), mesh, [Partial()])
    first_row = rows._local_tensor[0]  # a view of the local shard
    names = {"src": src, "rows": rows, "cols": cols, "repl": repl, "partial": partial,
             "first_row": first_row}
    out = _graph(names)
    out["facts"] = {n: _facts(t) for n, t in names.items() if isinstance(t, DTensor)}
    out["repl_shares_src"] = (
        repl._local_tensor.untyped_storage().data_ptr() == src.untyped_storage().data_ptr()
    )
    return out


def dtensor_2d(rank: int, world: int, device: str) -> dict[str, Any]:
    mesh = init_device_mesh(device, (2, world // 2), mesh_dim_names=("dp", "tp"))
    src = torch.arange(48.0, device=device).reshape(8, 6)
    both = distribute_tensor(src, mesh, [Shard(0), Shard(1)])
    mixed = distribute_tensor(src, mesh, [Replicate(), Shard(0)])
    out = _graph({"both": both, "mixed": mixed})
    out["facts"] = {"both": _facts(both), "mixed": _facts(mixed)}
    return out


def fsdp2_meta(rank: int, world: int, device: str) -> dict[str, Any]:
    from torch.distributed.fsdp import fully_shard

    mesh = init_device_mesh(device, (world,))
    with torch.device("meta"):
        model = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Linear(7, 3))
    for layer in model:
        fully_shard(layer, mesh=mesh)
    fully_shard(model, mesh=mesh)
    out = _graph({"model": model})
    out["facts"] = {n: _facts(p) for n, p in model.named_parameters()}
    return out


def fsdp2_step(rank: int, world: int, device: str) -> dict[str, Any]:
    from torch.distributed.fsdp import fully_shard

    torch.manual_seed(0)
    mesh = init_device_mesh(device, (world,))
    model = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 3))
    model.to(device)
    fully_shard(model[0], mesh=mesh)
    fully_shard(model[2], mesh=mesh)
    fully_shard(model, mesh=mesh)
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    model(torch.randn(4, 5, device=device)).sum().backward()
    opt.step()
    out = _graph({"model": model, "opt": opt})
    out["facts"] = {n: _facts(p) for n, p in model.named_parameters()}
    out["state_facts"] = {
        n: _facts(opt.state[p]["exp_avg"]) for n, p in model.named_parameters()
    }
    dist.barrier()
    return out


def fsdp2_unsharded(rank: int, world: int, device: str) -> dict[str, Any]:
    from torch.distributed.fsdp import fully_shard

    torch.manual_seed(0)
    mesh = init_device_mesh(device, (world,))
    model = torch.nn.Linear(5, 7).to(device)
    fully_shard(model, mesh=mesh, reshard_after_forward=False)
    model(torch.randn(2, 5, device=device))  # all-gathers; kept unsharded after forward
    state = model._get_fsdp_state()._fsdp_param_groups[0].fsdp_params
    facts = {
        p._module_info.param_name: {
            "state": p.sharded_state.name,
            "full_nbytes": p._unsharded_param.untyped_storage().nbytes(),
            "shard_nbytes": p.sharded_param._local_tensor.untyped_storage().nbytes(),
        }
        for p in state
    }
    out = _graph({"model": model})
    out["facts"] = facts
    model.reshard()
    out["resharded"] = tensorviews.snapshot({"model": model}).to_dict()
    return out


def _fsdp1(use_orig_params: bool, device: str) -> dict[str, Any]:
    from torch.distributed.fsdp import FullyShardedDataParallel as FSDP

    torch.manual_seed(0)
    inner = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Linear(7, 3))
    model = FSDP(inner, use_orig_params=use_orig_params, device_id=torch.device(device))
    flat = model._handle.flat_param
    out = _graph({"model": model})
    out["flat"] = {
        "fqns": list(flat._fqns), "shapes": [list(s) for s in flat._shapes],
        "infos": [
            {"in_shard": i.in_shard, "offset_in_shard": i.offset_in_shard,
             "numel_in_shard": i.numel_in_shard}
            for i in flat._shard_param_infos
        ],
        "padded": flat._shard_numel_padded, "numel": flat.numel(),
        "nbytes": flat.untyped_storage().nbytes(),
    }
    out["params"] = {
        n: {"numel": p.numel(),
            "on_flat": p.numel() > 0
            and p.untyped_storage().data_ptr() == flat.untyped_storage().data_ptr()}
        for n, p in model.named_parameters()
    }
    return out


def fsdp1_orig_params(rank: int, world: int, device: str) -> dict[str, Any]:
    return _fsdp1(True, device)


def fsdp1_flat_params(rank: int, world: int, device: str) -> dict[str, Any]:
    return _fsdp1(False, device)


def write_snapshots(rank: int, world: int, device: str) -> dict[str, Any]:
    """A rank of a job writes its snapshot file for ``python -m tensorviews merge``."""
    from torch.distributed.fsdp import fully_shard

    mesh = init_device_mesh(device, (world,))
    with torch.device("meta"):
        model = torch.nn.Linear(5, 7)
    fully_shard(model, mesh=mesh)
    table = distribute_tensor(torch.zeros(10, 4, device=device), mesh, [Shard(0)])
    path = tensorviews.write_snapshot(
        Path(os.environ["TENSORVIEWS_TEST_FOLDER"], "snapshots", "rank{rank}.json")
    )
    graph = tensorviews.snapshot({"model": model, "table": table}).to_dict()
    return {
        "path": str(path),
        "facts": {"model.weight": _facts(model.weight), "table": _facts(table)},
        "allocated_bytes": sum(s["nbytes"] for s in graph["storages"] if s["allocated"]),
        "meta_bytes": sum(s["nbytes"] for s in graph["storages"] if not s["allocated"]),
    }
