"""The jupyter-server extension's REST API against a real server and real kernels."""

from __future__ import annotations

import time
from typing import Any

from tests.server.jupyter import KERNEL_TIMEOUT_S, JupyterServer, run, wait_for_state


def graph_path(kernel_id: str, fmt: str | None = None) -> str:
    return f"/tensorviews/api/kernels/{kernel_id}/graph" + (f"?format={fmt}" if fmt else "")


def kernel_entry(server: JupyterServer, kernel_id: str) -> dict[str, Any]:
    answer = server.get("/tensorviews/api/kernels")
    assert answer.status == 200
    return next(k for k in answer.json()["kernels"] if k["id"] == kernel_id)


def test_without_a_token_everything_is_refused(jupyter_server: JupyterServer) -> None:
    for path in ("/tensorviews/api/kernels", graph_path("abc"), graph_path("abc", "svg")):
        assert jupyter_server.get(path, token=False).status == 403
    page = jupyter_server.get("/tensorviews/", token=False)
    assert page.status in (302, 403) or b"login" in page.body.lower()


def test_unknown_kernel_and_format(jupyter_server: JupyterServer) -> None:
    assert jupyter_server.get(graph_path("0000-no-such-kernel")).status == 404
    kernel_id = jupyter_server.start_session("bad-format.ipynb")
    assert jupyter_server.get(graph_path(kernel_id, "png")).status == 400
    assert jupyter_server.request("DELETE", f"/api/kernels/{kernel_id}").status == 204


def test_graph_in_three_formats_without_touching_history(jupyter_server: JupyterServer) -> None:
    kernel_id = jupyter_server.start_session("work/demo.ipynb")
    client = jupyter_server.kernel_client(kernel_id)
    try:
        entry = kernel_entry(jupyter_server, kernel_id)
        assert entry["notebookPath"] == "work/demo.ipynb" and entry["live"] is None
        first = run(client, "import torch\na = torch.zeros(2, 2)\nb = a.view(-1)[2:]")
        run(client, "%load_ext tensorviews")
        # The server learns of the cell's end from its own iopub stream, a moment later; until
        # then it answers from the live file (test_reliability.py covers that).
        wait_for_state(jupyter_server, kernel_id, "idle")

        answer = jupyter_server.get(graph_path(kernel_id))
        assert answer.status == 200
        assert answer.headers["Content-Type"] == "application/json"
        graph = answer.json()
        assert graph["schema"] == "tensorviews.graph/1" and graph["source"] == "kernel"
        assert answer.headers["X-Tensorviews-Source"] == "kernel"
        assert {n for t in graph["tensors"] for n in t["names"]} == {"a", "b"}
        assert len(graph["storages"]) == 1

        dot = jupyter_server.get(graph_path(kernel_id, "dot"))
        assert dot.status == 200 and dot.body.decode().lstrip().startswith("digraph")
        svg = jupyter_server.get(graph_path(kernel_id, "svg"))
        assert svg.status == 200 and svg.headers["Content-Type"] == "image/svg+xml"
        assert b"<svg" in svg.body

        # Silent requests: no execution count, no history entry.
        after = run(client, "n_history = len(In)")
        assert after["content"]["execution_count"] == first["content"]["execution_count"] + 2
        run(client, "assert n_history == 4, In")
        live = kernel_entry(jupyter_server, kernel_id)["live"]
        assert live is not None and live["tensors"] == 2 and live["seq"] >= 1
    finally:
        client.stop_channels()
        jupyter_server.request("DELETE", f"/api/kernels/{kernel_id}")


def test_busy_kernel_without_live_file_answers_503_then_recovers(
    jupyter_server: JupyterServer,
) -> None:
    kernel_id = jupyter_server.start_session("busy.ipynb")
    client = jupyter_server.kernel_client(kernel_id)
    try:
        run(client, "import numpy as np\nx = np.zeros(4)")
        client.execute("import time\ntime.sleep(30)")
        wait_for_state(jupyter_server, kernel_id, "busy")
        answer = jupyter_server.get(graph_path(kernel_id))
        assert answer.status == 503
        assert answer.headers["Retry-After"] == str(KERNEL_TIMEOUT_S)
        assert answer.json()["reason"] == "busy"
        assert jupyter_server.request("POST", f"/api/kernels/{kernel_id}/interrupt").status == 204
        deadline = time.monotonic() + 60
        while (answer := jupyter_server.get(graph_path(kernel_id))).status != 200:
            assert time.monotonic() < deadline, answer.body
            time.sleep(0.5)
        assert {n for t in answer.json()["tensors"] for n in t["names"]} == {"x"}
        assert answer.json()["source"] == "kernel"
    finally:
        client.stop_channels()
        jupyter_server.request("DELETE", f"/api/kernels/{kernel_id}")
