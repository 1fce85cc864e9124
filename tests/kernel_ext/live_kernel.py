"""A real IPython kernel (jupyter_client + ipykernel) that a test drives cell by cell."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager

REPO = Path(__file__).resolve().parents[2]


class LiveKernel:
    """A started kernel and its client; `run` executes one cell and returns its stdout."""

    def __init__(self, manager: KernelManager, client: BlockingKernelClient) -> None:
        self.manager = manager
        self.client = client

    @property
    def kernel_id(self) -> str:
        return str(self.manager.kernel_id)

    @property
    def pid(self) -> int:
        provisioner: Any = self.manager.provisioner
        return int(provisioner.process.pid)

    def run(self, code: str, timeout: float = 60) -> str:
        out: list[str] = []

        def hook(msg: dict[str, Any]) -> None:
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                out.append("\n".join(msg["content"]["traceback"]))

        reply = self.client.execute_interactive(code, timeout=timeout, output_hook=hook)
        if reply["content"]["status"] != "ok":
            raise AssertionError(f"cell failed: {code!r}\n{''.join(out)}")
        return "".join(out)


@contextmanager
def live_kernel(runtime_dir: Path, **env: str) -> Iterator[LiveKernel]:
    """Start a python3 kernel whose Jupyter runtime dir is `runtime_dir`; shut it down after."""
    kernel_env = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(runtime_dir),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        **env,
    }
    kernel_id = str(uuid.uuid4())
    # The kernel learns its id from its connection file's name, as under Jupyter Server.
    manager = KernelManager(
        kernel_name="python3", connection_file=str(runtime_dir / f"kernel-{kernel_id}.json")
    )
    manager.start_kernel(env=kernel_env, cwd=str(REPO), kernel_id=kernel_id)
    client = manager.blocking_client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        yield LiveKernel(manager, client)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=False)
