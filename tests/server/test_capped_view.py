"""The REST API serves the capped view with its notes, also for a kernel holding ten thousand
tensors: what `%tensorgraph` draws, not five megabytes of JSON and a 503."""

from __future__ import annotations

import pytest

from tests.server.jupyter import JupyterServer, run, wait_for_state

NAMESPACE = """
import torch
for i in range(10_000):
    globals()[f"t{i}"] = torch.zeros(4)
acts = torch.zeros(64, 1024, 256)  # 64 MiB
h = acts[:, -1]
del acts
"""


@pytest.mark.slow
def test_ten_thousand_tensors_give_the_capped_view_with_its_note_and_a_picture(
    jupyter_server: JupyterServer,
) -> None:
    kernel_id = jupyter_server.start_session("big.ipynb")
    client = jupyter_server.kernel_client(kernel_id)
    try:
        run(client, NAMESPACE)
        wait_for_state(jupyter_server, kernel_id, "idle")
        base = f"/tensorviews/api/kernels/{kernel_id}/graph"
        for query in ("", "?all=1"):
            answer = jupyter_server.get(base + query)
            assert answer.status == 200, answer.body[:300]
            if not query:  # `all=1` lists every folded name in `groups`: bigger, still capped
                assert len(answer.body) < 1_000_000
            view = answer.json()
            assert view["source"] == "kernel"
            assert 1 <= len(view["tensors"]) <= 300
            notes = view["notes"]
            assert any(
                note.startswith("h (64.0 KiB) keeps its storage") and "(64.0 MiB) alive" in note
                for note in notes
            ), notes
            if not query:  # `all=1` draws the first 300 in namespace order
                assert any(t["names"] == ["h"] for t in view["tensors"])

        svg = jupyter_server.get(base + "?format=svg")
        assert svg.status == 200 and svg.headers["Content-Type"] == "image/svg+xml"
        assert b"<svg" in svg.body and b"64.0 MiB" in svg.body
    finally:
        client.stop_channels()
        jupyter_server.request("DELETE", f"/api/kernels/{kernel_id}")
