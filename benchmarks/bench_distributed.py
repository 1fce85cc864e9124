"""Cost of reading a sharded model, as a ratio to the same model unsharded.

    python benchmarks/bench_distributed.py [--repeat N]

One process, a gloo process group of world size 1 on an in-memory store (no ports): a 12-layer
``nn.TransformerEncoder`` (d_model 64) plain, and the same model with every layer under FSDP2
``fully_shard`` (each parameter a DTensor). ``tensorviews.snapshot`` of each is timed (median of
``--repeat`` runs, a fresh snapshot each time, as on the first cell). The ratio is what reading
DTensors (local tensor, placements, mesh, global offset) costs over plain parameters.
Results go to benchmarks/results/distributed.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import fully_shard

import tensorviews

RESULTS = Path(__file__).resolve().parent / "results" / "distributed.json"


def model() -> torch.nn.Module:
    layer = torch.nn.TransformerEncoderLayer(64, 4, 128, batch_first=True)
    return torch.nn.TransformerEncoder(layer, 12, enable_nested_tensor=False)


def snapshot_ms(namespace: dict[str, Any], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        tensorviews.snapshot(namespace)
        samples.append((time.perf_counter() - start) * 1e3)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    try:
        mesh = init_device_mesh("cpu", (1,))
        plain, sharded = model(), model()
        for layer in sharded.layers:
            fully_shard(layer, mesh=mesh)
        fully_shard(sharded, mesh=mesh)
        params = sum(1 for _ in plain.parameters())
        plain_ms = snapshot_ms({"model": plain}, args.repeat)
        sharded_ms = snapshot_ms({"model": sharded}, args.repeat)
    finally:
        dist.destroy_process_group()
    result = {
        "parameters": params, "plain_ms": round(plain_ms, 2),
        "fsdp2_ms": round(sharded_ms, 2), "ratio": round(sharded_ms / plain_ms, 2),
    }
    print(f"{params} parameters: plain {plain_ms:.1f} ms, FSDP2 DTensors {sharded_ms:.1f} ms, "
          f"ratio {result['ratio']:.2f}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
