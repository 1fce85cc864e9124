"""A real jupyter-server (subprocess on 127.0.0.1) with the extension, and real kernels in it:
what the server tests, the browser test and the REST soak benchmark drive."""

from __future__ import annotations

import ast
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_client.blocking.client import BlockingKernelClient

REPO = Path(__file__).resolve().parents[2]
STARTUP_S = 60.0
KERNEL_TIMEOUT_S = 5  # the default: a 10,000-tensor view must fit on a loaded machine


# Counts, in the kernel, the REST requests it evaluates (`view_json`) and those that did the
# work (`snapshot`); `slow` seconds of extra work per snapshot keep a request in flight while
# the others arrive.
COUNTERS = """
import tensorviews, time as _tv_time
tv_calls = {{"view_json": 0, "snapshot": 0}}
_tv_real = (tensorviews.view_json, tensorviews.snapshot)
def _tv_counted_view_json(*args, **kwargs):
    tv_calls["view_json"] += 1
    return _tv_real[0](*args, **kwargs)
def _tv_counted_snapshot(*args, **kwargs):
    tv_calls["snapshot"] += 1
    _tv_time.sleep({slow})
    return _tv_real[1](*args, **kwargs)
tensorviews.view_json, tensorviews.snapshot = _tv_counted_view_json, _tv_counted_snapshot
"""


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class JupyterServer:
    url: str
    token: str
    runtime_dir: Path
    pid: int

    def request(
        self, method: str, path: str, data: Any = None, token: bool = True, timeout: float = 30
    ) -> Response:
        headers = {"Authorization": f"token {self.token}"} if token else {}
        body = None if data is None else json.dumps(data).encode()
        request = urllib.request.Request(self.url + path, data=body, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return Response(answer.status, dict(answer.headers), answer.read())
        except urllib.error.HTTPError as error:
            return Response(error.code, dict(error.headers), error.read())

    def get(self, path: str, token: bool = True) -> Response:
        return self.request("GET", path, token=token)

    def start_session(self, path: str) -> str:
        """Open a notebook session (as JupyterLab does); return its kernel id."""
        answer = self.request(
            "POST", "/api/sessions",
            {"path": path, "type": "notebook", "name": path, "kernel": {"name": "python3"}},
        )
        assert answer.status == 201, answer.body
        return str(answer.json()["kernel"]["id"])

    def kernel_client(self, kernel_id: str) -> BlockingKernelClient:
        """A client of the server's kernel, through its connection file."""
        client = BlockingKernelClient(
            connection_file=str(self.runtime_dir / f"kernel-{kernel_id}.json")
        )
        client.load_connection_file()
        # No heartbeat: on a loaded machine a late beat reads as "kernel died".
        client.start_channels(hb=False)
        client.wait_for_ready(timeout=60)
        return client


def run(client: BlockingKernelClient, code: str) -> dict[str, Any]:
    """Execute one cell; fail the test if it fails."""
    reply: dict[str, Any] = client.execute_interactive(code, timeout=60, output_hook=lambda m: None)
    assert reply["content"]["status"] == "ok", reply["content"]
    return reply


def evaluate(client: BlockingKernelClient, expression: str) -> Any:
    """The value of a Python literal expression in the kernel (a silent request)."""
    msg_id = client.execute("", silent=True, user_expressions={"value": expression})
    reply = wait_reply(client, msg_id)
    value = reply["content"]["user_expressions"]["value"]
    assert value["status"] == "ok", value
    return ast.literal_eval(value["data"]["text/plain"])


def wait_reply(client: BlockingKernelClient, msg_id: str, timeout: float = 60) -> dict[str, Any]:
    """The shell reply to ``msg_id`` (other replies are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        reply: dict[str, Any] = client.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply


class GatedCell:
    """A cell that runs until the test opens its gate (a file): a busy kernel for as long as
    the test needs, with no timing involved."""

    def __init__(self, client: BlockingKernelClient, gate: Path) -> None:
        self.client, self.gate = client, gate
        self.msg_id = client.execute(
            f"import os, time\nwhile not os.path.exists({str(gate)!r}):\n    time.sleep(0.02)"
        )

    def open(self) -> dict[str, Any]:
        self.gate.touch()
        reply = wait_reply(self.client, self.msg_id)
        assert reply["content"]["status"] == "ok", reply["content"]
        return reply


def wait_for_state(server: JupyterServer, kernel_id: str, state: str, limit: float = 60) -> None:
    """Wait until the server reports the kernel's execution state as ``state``."""
    deadline = time.monotonic() + limit
    while server.get(f"/api/kernels/{kernel_id}").json()["execution_state"] != state:
        assert time.monotonic() < deadline, f"kernel never {state}"
        time.sleep(0.1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(home: Path, kernel_timeout: float = KERNEL_TIMEOUT_S) -> Iterator[JupyterServer]:
    """`jupyter server` in ``home``, enabled by the repo's own `jupyter_server_config.d` file."""
    runtime, root = home / "runtime", home / "root"
    root.mkdir()
    port, token = free_port(), uuid.uuid4().hex
    env = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(runtime),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_CONFIG_PATH": str(REPO / "jupyter-config"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    log = (home / "server.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "jupyter_server", "--allow-root", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}", f"--TensorViews.kernel_timeout={kernel_timeout}",
        ],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    server = JupyterServer(f"http://127.0.0.1:{port}", token, runtime, process.pid)
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "jupyter server did not start:\n" + (home / "server.log").read_text()
                )
            try:
                if server.get("/api/status").status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
