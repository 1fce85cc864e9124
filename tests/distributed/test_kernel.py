"""DTensors, FakeTensors and wrapper subclasses in a real kernel with the extension loaded:
nothing leaks into the user's cells (no warning, no traceback), and the drawing says what
each rank holds."""

from __future__ import annotations

import pytest

from tensorviews.graph.model import MIME_TYPE
from tests.kernel_ext.notebook_runner import display_bundles, run_cells, stream_text

pytestmark = pytest.mark.slow

SETUP = """
import datetime, warnings
import torch
import torch.distributed as dist
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.tensor import distribute_tensor, Shard, Replicate
warnings.simplefilter("always")  # any warning raised inside a cell would show
dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1,
                        timeout=datetime.timedelta(seconds=60))
mesh = init_device_mesh("cpu", (1,), mesh_dim_names=("dp",))
"""

CELL = """
from torch._subclasses.fake_tensor import FakeTensorMode
from torch.testing._internal.two_tensor import TwoTensor
src = torch.arange(12.0).reshape(4, 3)
rows = distribute_tensor(src, mesh, [Shard(0)])
repl = distribute_tensor(src, mesh, [Replicate()])
with FakeTensorMode():
    fake = torch.empty(1000, 1000)
    fake_model = torch.nn.Linear(8, 8)
pair = TwoTensor(torch.zeros(2), torch.ones(2))
"""


def test_distributed_and_subclass_tensors_in_a_kernel() -> None:
    nb = run_cells(
        ["%load_ext tensorviews", SETUP, CELL, "x = 1", "%tensorgraph --format json",
         "%tensorgraph --format text", "dist.destroy_process_group()"],
        timeout=240,
    )
    for cell in nb.cells[1:4]:
        assert stream_text(cell, "stderr") == "", stream_text(cell, "stderr")
        assert not [o for o in cell.outputs if o.output_type == "error"]
    (bundle,) = display_bundles(nb.cells[4])
    graph = bundle[MIME_TYPE]
    assert (graph["rank"], graph["world_size"]) == (0, 1)
    assert graph["problems"] == []
    by_name = {n: t for t in graph["tensors"] for n in t["names"]}
    assert by_name["rows"]["dtensor"]["placements"] == ["Shard(0)"]
    assert by_name["repl"]["storage"] == by_name["src"]["storage"]
    storages = {s["id"]: s for s in graph["storages"]}
    fake = by_name["fake"]
    assert (fake["type"], storages[fake["storage"]]["allocated"]) == ("FakeTensor", False)
    assert by_name["pair"]["layout"] == "wrapper" and "pair.a" in by_name
    assert by_name["fake_model.weight"]["type"] == "FakeTensor"
    text = stream_text(nb.cells[5]) + "".join(
        b.get("text/plain", "") for b in display_bundles(nb.cells[5])
    )
    assert "on rank 0:" in text
    assert "rows: DTensor · global (4, 3) · [Shard(0)] on mesh (1,) dp" in text
