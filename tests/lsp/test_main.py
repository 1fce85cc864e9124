"""`python -m lsp_server`: options, the `check` dispatch, TCP, and a clean shutdown/exit."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from typing import Any

import pytest
from pytest_lsp import LanguageClient

from tests.lsp.conftest import REPO, SERVER_ENV, start


def run_module(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lsp_server", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env=SERVER_ENV,
        check=False,
    )


def test_version_and_help() -> None:
    version = run_module("--version")
    assert (version.returncode, version.stdout.strip()) == (0, "tensorviews 0.1.0")
    usage = run_module("--help")
    assert usage.returncode == 0 and "--tcp" in usage.stdout and "check" in usage.stdout


def test_check_is_dispatched_to_the_cli_without_pygls(tmp_path: object) -> None:
    probe = (
        "import sys\n"
        "from unittest import mock\n"
        "import lsp_server.cli\n"
        "with mock.patch.object(lsp_server.cli, 'main', lambda argv: print(list(argv)) or 7):\n"
        "    from lsp_server.__main__ import main\n"
        "    status = main(['check', 'a.py', '--format', 'json'])\n"
        "print(status, 'pygls' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        env=SERVER_ENV,
        check=False,
    )
    assert result.stdout.split("\n")[:2] == ["['a.py', '--format', 'json']", "7 False"], (
        result.stderr
    )


def test_tcp_server_answers_initialize() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "lsp_server", "--tcp", "--port", str(port)],
        env=SERVER_ENV,
        stderr=subprocess.DEVNULL,
    )
    try:
        connection = connect(port)
        body = json.dumps(
            {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}
        ).encode()
        connection.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        reply = read_message(connection)
        assert reply["id"] == 1
        assert reply["result"]["serverInfo"] == {"name": "tensorviews", "version": "0.1.0"}
        assert reply["result"]["capabilities"]["hoverProvider"] is True
        connection.close()
    finally:
        server.kill()
        server.wait(timeout=10)


def connect(port: int) -> socket.socket:
    deadline = time.monotonic() + 20
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=10)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def read_message(connection: socket.socket) -> dict[str, Any]:
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(4096)
    header, _, body = data.partition(b"\r\n\r\n")
    fields = dict(line.split(b": ", 1) for line in header.split(b"\r\n"))
    length = int(fields[b"Content-Length"])
    while len(body) < length:
        body += connection.recv(4096)
    message: dict[str, Any] = json.loads(body[:length])
    return message


@pytest.mark.asyncio
async def test_shutdown_then_exit_ends_the_process_with_status_0(
    bare_client: LanguageClient,
) -> None:
    await start(bare_client)
    server = bare_client._server
    assert server is not None
    await bare_client.shutdown_async(None)
    bare_client.exit(None)
    assert await asyncio.wait_for(server.wait(), timeout=10) == 0
    bare_client.capabilities = None  # the session is over: the fixture must not shut it down again
