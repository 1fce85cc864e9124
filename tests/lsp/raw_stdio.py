"""A language server subprocess spoken to in raw bytes: for malformed framing and params that a
well-behaved client library cannot send, and for soaks that need the server's pid."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tests.lsp.conftest import REPO, SERVER_ENV

Message = dict[str, Any]


class RawServer:
    """`python -m lsp_server` over pipes; every message it sends is kept in `received`."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115  # closed by close()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "lsp_server"],
            cwd=REPO,
            env=dict(env or SERVER_ENV),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
        )
        self.received: list[Message] = []
        self._inbox: queue.Queue[Message | None] = queue.Queue()
        self._next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    self._inbox.put(None)
                    return
                if line == b"\r\n":
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            assert length is not None
            self._inbox.put(json.loads(stream.read(length)))

    def send_bytes(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def send(self, message: Message) -> None:
        body = json.dumps(message).encode("utf-8")
        self.send_bytes(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    def notify(self, method: str, params: Any) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method: str, params: Any) -> int:
        """Send a request; returns its id (wait with `answer`)."""
        self._next_id += 1
        self.send({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params})
        return self._next_id

    def wait_for(self, predicate: Callable[[Message], bool], timeout: float = 60) -> Message:
        """The first message (already received or still to come) that satisfies `predicate`."""
        for message in self.received:
            if predicate(message):
                return message
        while True:
            try:
                message = self._inbox.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError("the server sent no such message in time") from None
            if message is None:
                raise AssertionError(f"the server closed its output:\n{self.stderr_text()}")
            self.received.append(message)
            if predicate(message):
                return message

    def answer(self, request_id: int, timeout: float = 60) -> Message:
        return self.wait_for(
            lambda m: m.get("id") == request_id and "method" not in m, timeout=timeout
        )

    def initialize(self, options: Any = None) -> None:
        self.answer(
            self.request(
                "initialize",
                {"processId": os.getpid(), "rootUri": REPO.as_uri(), "capabilities": {},
                 "initializationOptions": options},
            )
        )
        self.notify("initialized", {})

    def open(self, uri: str, text: str, version: int = 1) -> None:
        self.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": version,
                              "text": text}},
        )

    def hover(self, uri: str, line: int, character: int) -> int:
        return self.request(
            "textDocument/hover",
            {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}},
        )

    def rss_kib(self) -> int:
        """The server's resident memory, from /proc/<pid>/status."""
        status = Path(f"/proc/{self.process.pid}/status").read_text(encoding="ascii")
        (line,) = (line for line in status.splitlines() if line.startswith("VmRSS:"))
        return int(line.split()[1])

    def stderr_text(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")[-5000:]

    def close(self) -> int:
        """Shut down politely; returns the exit status."""
        if self.process.poll() is None:
            try:
                self.answer(self.request("shutdown", None), timeout=30)
                self.notify("exit", None)
                self.process.stdin.close()  # type: ignore[union-attr]
            except (AssertionError, BrokenPipeError, OSError):
                self.process.kill()
        try:
            return self.process.wait(timeout=30)
        finally:
            self.stderr.close()
