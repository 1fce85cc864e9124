"""Run a scenario on N real ranks: spawned processes in a torch.distributed process group.

The parent holds a ``TCPStore`` on 127.0.0.1 with a port the kernel picks (port 0), so no two
tests race for a port; the ranks join it as clients. Every process group has a timeout, and
the parent waits for the ranks with a deadline and kills them past it: a broken scenario fails,
it never hangs CI. Each rank writes what it saw (its graph JSON and what PyTorch reports) to
``<folder>/rank<r>.json``; the test reads those and compares.

``TENSORVIEWS_TEST_BACKEND`` picks the backend (``gloo`` on CPU by default; ``nccl`` puts rank
r on ``cuda:r`` and needs a GPU per rank).
"""

from __future__ import annotations

import datetime
import faulthandler
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

GROUP_TIMEOUT = datetime.timedelta(seconds=120)
JOIN_TIMEOUT_S = 300.0  # generous: 4 ranks importing torch on 2 busy cores
OUT_FOLDER = "TENSORVIEWS_TEST_FOLDER"

def backend() -> str:
    return os.environ.get("TENSORVIEWS_TEST_BACKEND", "gloo")


def device_type() -> str:
    return "cuda" if backend() == "nccl" else "cpu"


def _rank_main(
    rank: int, world: int, port: int, names: list[str], folder: str, backend_name: str
) -> None:
    from tests.distributed import scenarios

    # A rank still running near the deadline prints where it is stuck before it is killed.
    faulthandler.dump_traceback_later(JOIN_TIMEOUT_S - 15, exit=False)
    os.environ[OUT_FOLDER] = folder  # where scenarios write their rank snapshot files
    store = dist.TCPStore("127.0.0.1", port, world + 1, is_master=False, timeout=GROUP_TIMEOUT)
    if backend_name == "nccl":
        torch.cuda.set_device(rank)
    dist.init_process_group(
        backend_name, store=store, rank=rank, world_size=world, timeout=GROUP_TIMEOUT
    )
    try:
        result = {}
        for name in names:
            result[name] = getattr(scenarios, name)(rank, world, device_type())
            dist.barrier()  # the ranks meet between scenarios: none sees another's objects
        Path(folder, f"rank{rank}.json").write_text(json.dumps(result))
    finally:
        dist.destroy_process_group()


def run_ranks(names: list[str], world: int, folder: Path) -> list[dict[str, Any]]:
    """Run ``scenarios.<name>`` for each name, in one process group of ``world`` ranks (one
    spawn: starting ranks costs more than the scenarios); each rank's results by name.
    Skips the test when nccl is asked for and fewer GPUs than ranks are there (nccl needs a
    GPU per rank)."""
    if backend() == "nccl" and (
        not torch.cuda.is_available() or torch.cuda.device_count() < world
    ):
        pytest.skip(f"nccl on {world} ranks needs {world} GPUs")
    store = dist.TCPStore(
        "127.0.0.1", 0, world + 1, is_master=True, timeout=GROUP_TIMEOUT,
        wait_for_workers=False,
    )
    context = mp.start_processes(
        _rank_main, args=(world, store.port, names, str(folder), backend()), nprocs=world,
        join=False, start_method="spawn",
    )
    deadline = time.monotonic() + JOIN_TIMEOUT_S
    try:
        while not context.join(timeout=1.0):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{names} on {world} ranks ran past {JOIN_TIMEOUT_S:.0f} s")
    finally:
        for process in context.processes:
            if process.is_alive():
                process.kill()
    del store
    return [json.loads(Path(folder, f"rank{r}.json").read_text()) for r in range(world)]
