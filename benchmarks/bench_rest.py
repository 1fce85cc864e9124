"""Soak of the jupyter-server extension: rounds of 50 concurrent REST requests on one kernel.

    python benchmarks/bench_rest.py [--rounds N]

A real `jupyter server` (subprocess, loopback) with the extension and one real kernel holding
1,000 tensors and views. Each round sends 50 requests at once (a barrier): 20 JSON, 20 SVG,
10 JSON with `all=1`. Reported: every status (a 503 on an idle kernel is false), the kernel's
evaluations (concurrent requests share one), the server's resident memory after the first
round and after the last (flat: no growth per round), and each round's wall time as a ratio to
one lone JSON request measured in the same run.

Then the busy case: a kernel holding 20,000 tensors (no extension, so no live file to answer
from) runs a cell while the page polls it (JSON and SVG every 2 s); when that cell ends, how
long the next trivial cell takes, against the same cell after an unpolled busy cell.
Results go to benchmarks/results/rest.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.server.jupyter import (  # the repo root is put on the path above
    COUNTERS,
    GatedCell,
    JupyterServer,
    evaluate,
    run,
    running_server,
    wait_for_state,
)

RESULTS = Path(__file__).resolve().parent / "results" / "rest.json"
NAMESPACE = """
import torch
base = torch.zeros(1000, 64)
rows = [base[i] for i in range(0, 1000, 10)]
for i in range(900):
    globals()[f"t{i}"] = torch.zeros(8)
"""


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def one_round(server: JupyterServer, paths: list[str]) -> tuple[list[int], float]:
    barrier = threading.Barrier(len(paths))

    def one(path: str) -> int:
        barrier.wait()
        return server.request("GET", path, timeout=120).status

    start = time.perf_counter()
    with ThreadPoolExecutor(len(paths)) as pool:
        statuses = list(pool.map(one, paths))
    return statuses, time.perf_counter() - start


BIG_NAMESPACE = """
import torch
for i in range(20_000):
    globals()[f"t{i}"] = torch.zeros(4)
"""


def next_cell_after_busy(
    server: JupyterServer, home: Path, poll_s: float
) -> tuple[float, dict[str, int]]:
    """Seconds the cell after a busy cell takes when the page polled for ``poll_s`` seconds;
    and the kernel's `view_json` / `snapshot` counts during it."""
    kernel_id = server.start_session(f"busy-{poll_s}.ipynb")
    client = server.kernel_client(kernel_id)
    try:
        run(client, BIG_NAMESPACE)
        run(client, COUNTERS.format(slow=0))
        cell = GatedCell(client, home / f"gate-{poll_s}")
        wait_for_state(server, kernel_id, "busy")
        graph = f"/tensorviews/api/kernels/{kernel_id}/graph"
        end = time.monotonic() + poll_s
        while time.monotonic() < end:
            with ThreadPoolExecutor(2) as pool:
                list(pool.map(server.get, [graph, graph + "?format=svg"]))
            time.sleep(2)
        cell.open()
        start = time.perf_counter()
        run(client, "pass")
        took = time.perf_counter() - start
        calls: dict[str, int] = evaluate(client, "tv_calls")
        return took, calls
    finally:
        client.stop_channels()
        server.request("DELETE", f"/api/kernels/{kernel_id}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--busy-s", type=float, default=20.0, help="polling during the cell")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home, running_server(Path(home)) as server:
        kernel_id = server.start_session("soak.ipynb")
        client = server.kernel_client(kernel_id)
        try:
            run(client, NAMESPACE)
            run(client, COUNTERS.format(slow=0))
            graph = f"/tensorviews/api/kernels/{kernel_id}/graph"
            paths = [graph] * 20 + [graph + "?format=svg"] * 20 + [graph + "?all=1"] * 10
            wait_for_state(server, kernel_id, "idle")
            lone = []
            for _ in range(5):
                start = time.perf_counter()
                assert server.get(graph).status == 200
                lone.append(time.perf_counter() - start)
            baseline = statistics.median(lone)

            statuses: Counter[int] = Counter()
            walls = []
            rss = []
            for _ in range(args.rounds):
                wait_for_state(server, kernel_id, "idle")
                answers, wall = one_round(server, paths)
                statuses.update(answers)
                walls.append(wall)
                rss.append(rss_kib(server.pid))
            calls = evaluate(client, "tv_calls")
        finally:
            client.stop_channels()
            server.request("DELETE", f"/api/kernels/{kernel_id}")
        unpolled, _ = next_cell_after_busy(server, Path(home), 0)
        polled, busy_calls = next_cell_after_busy(server, Path(home), args.busy_s)

    result = {
        "rounds": args.rounds,
        "requests": args.rounds * len(paths),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "false_503": statuses.get(503, 0),
        "kernel_view_json_calls": calls["view_json"] - len(lone),
        "lone_request_s": round(baseline, 4),
        "round_median_s": round(statistics.median(walls), 4),
        "round_over_lone_request": round(statistics.median(walls) / baseline, 2),
        "server_rss_kib_after_first_round": rss[0],
        "server_rss_kib_after_last_round": rss[-1],
        "server_rss_growth_kib_second_half": rss[-1] - rss[len(rss) // 2],
        "server_rss_kib_every_10_rounds": rss[::10],
        "busy_20k_next_cell_unpolled_s": round(unpolled, 4),
        "busy_20k_next_cell_after_polling_s": round(polled, 4),
        "busy_20k_polled_over_unpolled": round(polled / unpolled, 2),
        "busy_20k_kernel_calls_while_polled": busy_calls,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    for key, value in result.items():
        print(f"{key:40} {value}")
    if result["false_503"] or set(statuses) != {200}:
        raise SystemExit("some requests were not answered 200")


if __name__ == "__main__":
    main()
