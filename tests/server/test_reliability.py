"""The jupyter-server extension under attack and under load, against a real server and real
kernels: hostile snapshot files, fifty concurrent requests, a busy kernel with the page open."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.blocking.client import BlockingKernelClient

from tensorviews.live.files import MAX_SNAPSHOT_BYTES, SNAPSHOT_SCHEMA, snapshot_path
from tests.server.jupyter import (
    COUNTERS,
    GatedCell,
    JupyterServer,
    Response,
    evaluate,
    run,
    wait_for_state,
)

OTHER_UID = 12345
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown to another uid needs root")

def graph_path(kernel_id: str, fmt: str = "json") -> str:
    return f"/tensorviews/api/kernels/{kernel_id}/graph?format={fmt}"


def live_entry(server: JupyterServer, kernel_id: str) -> Any:
    answer = server.request("GET", "/tensorviews/api/kernels", timeout=10)
    assert answer.status == 200
    return next(k for k in answer.json()["kernels"] if k["id"] == kernel_id)["live"]


def status_answers(server: JupyterServer) -> bool:
    return server.request("GET", "/api/status", timeout=10).status == 200


@contextmanager
def kernel(server: JupyterServer, name: str) -> Iterator[tuple[str, BlockingKernelClient]]:
    kernel_id = server.start_session(name)
    client = server.kernel_client(kernel_id)
    try:
        yield kernel_id, client
    finally:
        client.stop_channels()
        server.request("DELETE", f"/api/kernels/{kernel_id}")


def snapshot_text(kernel_id: str, pid: int, name: str) -> str:
    return json.dumps({
        "schema": SNAPSHOT_SCHEMA, "kernelId": kernel_id, "pid": pid, "notebookPath": None,
        "time": 0.0, "seq": 99, "names": {name: {"kind": "list", "type": "list"}},
        "graph": {"schema": "tensorviews.graph/1", "storages": [], "tensors": [],
                  "dot": f'digraph {{ "{name}" }}'},
    })


def concurrently(server: JupyterServer, paths: list[str]) -> list[Response]:
    """All requests at once (a barrier), each on its own connection."""
    barrier = threading.Barrier(len(paths))

    def one(path: str) -> Response:
        barrier.wait()
        return server.request("GET", path, timeout=60)

    with ThreadPoolExecutor(len(paths)) as pool:
        return list(pool.map(one, paths))


@pytest.mark.slow  # waits out two request timeouts
@needs_root
def test_hostile_files_at_a_live_kernels_path_never_block_or_fool_the_server(
    jupyter_server: JupyterServer, tmp_path: Path
) -> None:
    folder = jupyter_server.runtime_dir / "tensorviews"
    folder.mkdir(mode=0o700, exist_ok=True)
    with kernel(jupyter_server, "hostile.ipynb") as (kernel_id, client):
        pid = evaluate(client, "__import__('os').getpid()")
        path = snapshot_path(folder, kernel_id)
        run(client, "import numpy as np\nreal = np.zeros(3)")

        # A FIFO: the listing and a graph request on the busy kernel (which reads the live
        # file) must not wait on it, and the server keeps answering meanwhile.
        os.mkfifo(path)
        assert live_entry(jupyter_server, kernel_id) is None
        cell = GatedCell(client, tmp_path / "gate")
        wait_for_state(jupyter_server, kernel_id, "busy")
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(jupyter_server.get, graph_path(kernel_id))
            assert status_answers(jupyter_server)
            assert live_entry(jupyter_server, kernel_id) is None
            assert pending.result().status == 503  # no live file to answer from
        cell.open()
        path.unlink()

        # A symlink to a valid snapshot elsewhere, another user's file, an 18 MB file.
        elsewhere = tmp_path / "elsewhere.json"
        elsewhere.write_text(snapshot_text(kernel_id, pid, "planted"))
        path.symlink_to(elsewhere)
        assert live_entry(jupyter_server, kernel_id) is None
        path.unlink()
        path.write_text(snapshot_text(kernel_id, pid, "planted"))
        os.chown(path, OTHER_UID, OTHER_UID)
        assert live_entry(jupyter_server, kernel_id) is None
        path.unlink()
        text = snapshot_text(kernel_id, pid, "planted")
        path.write_text(text[:-1] + ', "pad": "' + "x" * (18 * 2**20) + '"}')
        assert path.stat().st_size > MAX_SNAPSHOT_BYTES
        assert live_entry(jupyter_server, kernel_id) is None
        assert status_answers(jupyter_server)
        path.unlink()

        # Another user's folder holding a valid file for this kernel: not believed, even when
        # the kernel is busy and the file is all there is to answer from.
        path.write_text(snapshot_text(kernel_id, pid, "planted"))
        assert live_entry(jupyter_server, kernel_id)["seq"] == 99  # as a control: believed
        os.chown(folder, OTHER_UID, OTHER_UID)
        try:
            assert live_entry(jupyter_server, kernel_id) is None
            cell = GatedCell(client, tmp_path / "gate2")
            wait_for_state(jupyter_server, kernel_id, "busy")
            answer = jupyter_server.get(graph_path(kernel_id))
            assert answer.status == 503 and b"planted" not in answer.body
            cell.open()
        finally:
            os.chown(folder, os.geteuid(), os.getegid())
            path.unlink()


def test_fifty_concurrent_requests_all_answer_and_share_one_evaluation(
    jupyter_server: JupyterServer,
) -> None:
    with kernel(jupyter_server, "fifty.ipynb") as (kernel_id, client):
        run(client, "import torch\na = torch.zeros(4, 4)\nrow = a[1]")
        run(client, COUNTERS.format(slow=1.0))
        wait_for_state(jupyter_server, kernel_id, "idle")

        answers = concurrently(jupyter_server, [graph_path(kernel_id)] * 50)
        assert [a.status for a in answers] == [200] * 50
        documents = [a.json() for a in answers]
        assert all(d["source"] == "kernel" for d in documents)
        assert all(d == documents[0] for d in documents)
        assert {n for t in documents[0]["tensors"] for n in t["names"]} == {"a", "row"}
        calls = evaluate(client, "tv_calls")
        # Requests that arrive while one is in flight share it: a handful, never fifty.
        assert 1 <= calls["snapshot"] < 10, calls

        # Graphviz runs in the server: a kernel that cannot find `dot` still gets SVG answers.
        run(client, "import os\nos.environ['PATH'] = ''")
        wait_for_state(jupyter_server, kernel_id, "idle")
        mixed = concurrently(
            jupyter_server,
            [graph_path(kernel_id, fmt) for fmt in ("json", "svg", "dot", "json&all=1")] * 12,
        )
        assert [a.status for a in mixed] == [200] * 48
        svgs = {a.body for a in mixed[1::4]}
        assert len(svgs) == 1 and b"<svg" in svgs.pop()


def test_a_busy_kernel_with_the_page_open_is_answered_from_its_live_file(
    jupyter_server: JupyterServer, tmp_path: Path
) -> None:
    with kernel(jupyter_server, "busy-live.ipynb") as (kernel_id, client):
        run(client, "%load_ext tensorviews")
        run(client, "import torch\nbig = torch.zeros(8, 8)\nrow = big[2]")
        run(client, COUNTERS.format(slow=0))
        cell = GatedCell(client, tmp_path / "gate")
        wait_for_state(jupyter_server, kernel_id, "busy")
        for _ in range(5):  # what the page does every two seconds, and then some
            assert live_entry(jupyter_server, kernel_id) is not None
            for fmt in ("json", "svg", "dot"):
                answer = jupyter_server.get(graph_path(kernel_id, fmt))
                assert answer.status == 200
                assert answer.headers["X-Tensorviews-Source"] == "live-file"
            document = jupyter_server.get(graph_path(kernel_id)).json()
            assert document["source"] == "live-file"
            assert {n for t in document["tensors"] for n in t["names"]} == {"big", "row"}
        cell.open()
        run(client, "after = 1")
        # Nothing was queued in the kernel while its cell ran.
        assert evaluate(client, "tv_calls") == {"view_json": 0, "snapshot": 0}


@pytest.mark.slow  # waits out two request timeouts
def test_a_request_its_client_gave_up_on_does_not_run_later_in_the_kernel(
    jupyter_server: JupyterServer, tmp_path: Path
) -> None:
    with kernel(jupyter_server, "busy-no-live.ipynb") as (kernel_id, client):
        run(client, "import torch\nx = torch.zeros(3)")
        run(client, COUNTERS.format(slow=0))
        cell = GatedCell(client, tmp_path / "gate")
        wait_for_state(jupyter_server, kernel_id, "busy")
        # No live file (the extension is not loaded): the requests time out.
        for _ in range(2):
            assert jupyter_server.get(graph_path(kernel_id)).status == 503
        cell.open()
        run(client, "after = 1")
        calls = evaluate(client, "tv_calls")
        # One request reached the kernel (the second shared the first), found its deadline
        # passed and did no work.
        assert calls == {"view_json": 1, "snapshot": 0}
        wait_for_state(jupyter_server, kernel_id, "idle")
        answer = jupyter_server.get(graph_path(kernel_id))
        assert answer.status == 200 and answer.json()["source"] == "kernel"
        assert evaluate(client, "tv_calls") == {"view_json": 2, "snapshot": 1}
