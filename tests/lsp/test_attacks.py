"""Hostile and unusual traffic against the real language server over stdio (raw bytes, so that
what no client library would send can be sent): every request is answered, bad frames and
params never end the session, memory stays flat over 30,000 edits, a huge document neither
blocks other requests nor gets analysed past the size limit, and a kernel's snapshot file with
wrongly typed fields or Markdown in its strings fools nothing."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.lsp.conftest import SERVER_ENV, file_uri
from tests.lsp.raw_stdio import Message, RawServer

SWAP = "import torch\na = torch.zeros(3)\nb = torch.ones(3)\na[0], b[0] = b[0], a[0]\n"


@pytest.fixture
def server() -> Iterator[RawServer]:
    raw = RawServer()
    raw.initialize()
    yield raw
    assert raw.close() == 0, raw.stderr_text()


def is_log(message: Message, fragment: str) -> bool:
    return message.get("method") == "window/logMessage" and fragment in message["params"][
        "message"
    ]


def diagnostics(message: Message, uri: str, version: int | None = None) -> bool:
    return (
        message.get("method") == "textDocument/publishDiagnostics"
        and message["params"]["uri"] == uri
        and (version is None or message["params"].get("version") == version)
    )


def still_serves(server: RawServer) -> None:
    """A hover on a flagged swap is answered with its explanation: the session works."""
    uri = file_uri(f"alive-{len(server.received)}.py")
    server.open(uri, SWAP)
    answer = server.answer(server.hover(uri, 3, 2))
    assert "view" in answer["result"]["contents"]["value"], answer


def position(line: Any, character: Any) -> dict[str, Any]:
    return {"line": line, "character": character}


DOC = {"uri": file_uri("target.py")}
BAD_REQUESTS: list[tuple[str, Any]] = [
    ("textDocument/hover", None),
    ("textDocument/hover", [1, 2]),
    ("textDocument/hover", {"textDocument": DOC}),
    ("textDocument/hover", {"textDocument": DOC, "position": position({"n": 1}, 0)}),
    ("textDocument/hover", {"textDocument": {"uri": 5}, "position": position(0, 0)}),
    ("textDocument/hover", {"textDocument": DOC, "position": position(-1, -5)}),
    ("textDocument/hover", {"textDocument": DOC, "position": position(2**40, 2**40)}),
    ("textDocument/hover", {"textDocument": {"uri": file_uri("never-opened.py")},
                            "position": position(0, 0)}),
    ("textDocument/codeAction", {"textDocument": DOC, "range": {"start": position(0, 0)},
                                 "context": {"diagnostics": []}}),
    ("textDocument/codeAction", {"textDocument": DOC,
                                 "range": {"start": position(0, 0), "end": position(9, 0)},
                                 "context": {"diagnostics": [], "only": "quickfix"}}),
    ("textDocument/codeAction", {"textDocument": DOC,
                                 "range": {"start": position(0, 0), "end": position(9, 0)},
                                 "context": {"diagnostics": [{"range": 1}]}}),
    ("tensorviews/latestGraph", "not an object"),
    ("tensorviews/latestGraph", {"uri": ["a", "list"]}),
    ("no/suchMethod", {}),
]


def test_every_malformed_request_is_answered(server: RawServer) -> None:
    server.open(DOC["uri"], SWAP)
    ids = [server.request(method, params) for method, params in BAD_REQUESTS]
    answers = [server.answer(request_id) for request_id in ids]
    for (method, params), answer in zip(BAD_REQUESTS, answers, strict=True):
        assert "result" in answer or answer["error"]["code"] in (-32602, -32601), (method, params)
    by_params = dict(zip((json.dumps(p) for _, p in BAD_REQUESTS), answers, strict=True))
    invalid = by_params[json.dumps({"textDocument": DOC, "position": position({"n": 1}, 0)})]
    assert invalid["error"]["code"] == -32602
    assert "invalid params for textDocument/hover" in invalid["error"]["message"]
    assert "$.params.position.line" in invalid["error"]["message"]
    still_serves(server)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", -32700),
        (b"[1, 2, 3]", -32600),
        (b'{"jsonrpc": "2.0", "id": 7, "method": 42}', -32600),
        (b'{"jsonrpc": "2.0", "id": {"an": "object"}, "method": "textDocument/hover"}', -32600),
        (b'{"jsonrpc": "1.0", "id": 8, "method": "textDocument/hover"}', -32600),
        (b'"just a string"', -32600),
        (b"[" * 50_000 + b"]" * 50_000, -32700),
    ],
    ids=["not-json", "batch", "method-number", "id-object", "jsonrpc-1", "string", "deep"],
)
def test_unusable_messages_get_an_error_and_the_session_goes_on(
    server: RawServer, body: bytes, code: int
) -> None:
    server.send_bytes(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    error = server.wait_for(lambda m: "error" in m and "method" not in m)
    assert error["error"]["code"] == code
    still_serves(server)


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("textDocument/didOpen", {"textDocument": 5}),
        ("textDocument/didChange", {"textDocument": DOC, "contentChanges": "everything"}),
        ("textDocument/didClose", None),
        ("notebookDocument/didOpen", {"notebookDocument": {"cells": 3}}),
        ("workspace/didChangeConfiguration", {"settings": {"tensorviews": {"maxFileSize": -1}}}),
        ("$/cancelRequest", {"id": None}),
    ],
)
def test_a_notification_with_bad_params_is_logged_and_skipped(
    server: RawServer, method: str, params: Any
) -> None:
    server.notify(method, params)
    still_serves(server)
    assert server.process.poll() is None


def test_an_absurd_content_length_is_dropped_and_reading_resumes(server: RawServer) -> None:
    hover = {"jsonrpc": "2.0", "id": 999, "method": "textDocument/hover",
             "params": {"textDocument": DOC, "position": position(0, 0)}}
    server.send_bytes(b"Content-Length: 99999999999\r\n\r\n" + json.dumps(hover).encode())
    server.wait_for(lambda m: is_log(m, "dropped a message of 99999999999 bytes"))
    # Garbage lines, an over-long line and a header split from its value are skipped too.
    server.send_bytes(b"hello\r\n" + b"x" * 100_000 + b"\r\nContent-Type: text/plain\r\n\r\n")
    still_serves(server)
    assert all(m.get("id") != 999 for m in server.received)  # the dropped request never ran


def test_thirty_thousand_edits_keep_memory_flat(server: RawServer) -> None:
    """Each edit types a character and the next deletes it, as a user typing and undoing, in
    bursts of 1,000 edits followed by a hover. Before the fix every edit kept a finished Future
    (143 -> 260 MB, about 4 KB per edit): a leak of even a tenth of that would add 12 MB over
    30,000 edits. The bound, 8 MB, is above the allocator's noise (arenas, the cached analyses
    of the document's two texts, one burst of messages in flight)."""
    uri = file_uri("typing.py")
    server.open(uri, SWAP)
    version = 1

    def edits(count: int) -> None:
        nonlocal version
        for done in range(1, count + 1):
            version += 1
            inserting = version % 2 == 0
            server.notify(
                "textDocument/didChange",
                {"textDocument": {"uri": uri, "version": version},
                 "contentChanges": [{
                     "range": {"start": position(1, 0),
                               "end": position(1, 0 if inserting else 1)},
                     "text": "#" if inserting else "",
                 }]},
            )
            if done % 1_000 == 0:
                # Handled in order: the answer means every edit before it was applied.
                server.answer(server.hover(uri, 3, 2))

    edits(3_000)  # warm up: caches, pools and the allocator reach their working size
    before = server.rss_kib()
    edits(30_000)
    after = server.rss_kib()
    print(f"server RSS: {before} KiB before, {after} KiB after 30,000 edits")
    assert after - before < 8 * 1024, (before, after)
    final = server.wait_for(lambda m: diagnostics(m, uri, version))
    assert len(final["params"]["diagnostics"]) == 1  # the text is SWAP again, still flagged


def big_module(lines: int) -> str:
    block = (
        "\n\ndef block_{i}(x):\n    a = torch.zeros(8)\n    b = torch.ones(8)\n"
        "    a[0], b[0] = b[0], a[0]\n    return x + a.sum() + b.sum()\n"
    )
    parts = ["import torch\n"]
    count = 1
    i = 0
    while count < lines:
        parts.append(block.format(i=i))
        count += 7
        i += 1
    return "".join(parts)


def test_a_big_document_does_not_block_requests_on_another() -> None:
    server = RawServer()
    server.initialize({"tensorviews": {"maxFileSize": 0}})  # no limit: analyse all of it
    try:
        small = file_uri("small.py")
        server.open(small, SWAP)
        server.wait_for(lambda m: diagnostics(m, small))
        big = file_uri("big.py")
        text = big_module(50_000)
        server.open(big, text)
        hover = server.hover(small, 3, 2)
        answered = server.answer(hover)
        assert "view" in answered["result"]["contents"]["value"]
        published = server.wait_for(lambda m: diagnostics(m, big), timeout=300)
        order = [id(m) for m in server.received]
        assert order.index(id(answered)) < order.index(id(published))
        assert len(published["params"]["diagnostics"]) == text.count("a[0], b[0] = b[0], a[0]")
    finally:
        assert server.close() == 0


def test_a_document_above_the_size_limit_is_not_analysed_and_the_user_told_once(
    server: RawServer,
) -> None:
    uri = file_uri("one-line.py")
    line = "x = [" + "1, " * 1_750_000 + "]"  # one 5 MB line
    server.open(uri, SWAP + line)
    published = server.wait_for(lambda m: diagnostics(m, uri))
    assert published["params"]["diagnostics"] == []
    told = server.wait_for(lambda m: m.get("method") == "window/showMessage")
    assert told["params"]["message"] == (
        "Tensor Views does not check this file: 5.0 MiB is above the 2.0 MiB limit "
        "(setting `tensorviews.maxFileSize`)"
    )
    server.notify(
        "textDocument/didChange",
        {"textDocument": {"uri": uri, "version": 2},
         "contentChanges": [{"text": SWAP + line + "\n# more"}]},
    )
    server.wait_for(lambda m: diagnostics(m, uri, 2))
    assert server.answer(server.hover(uri, 3, 2))["result"] is None
    still_serves(server)
    assert sum(m.get("method") == "window/showMessage" for m in server.received) == 1
    assert server.rss_kib() < 1024 * 1024  # nowhere near the 1.7 GB an analysis took


@pytest.fixture
def runtime_dir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="tensorviews-attack-"))
    (folder / "tensorviews").mkdir(mode=0o700)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_a_snapshot_file_with_wrong_types_and_markdown_fools_nothing(runtime_dir: Path) -> None:
    notebook_path = runtime_dir / "nb.py"
    kernel_id = "**bold** `code` <b>html</b> [link](http://x)"
    tensor = {"id": "t0", "names": ["a"], "library": "torch", "dtype": "float32", "shape": [3],
              "device": "cpu", "storage": "s0", "offset": 0}
    snapshot = {
        "schema": "tensorviews.snapshot/1", "kernelId": kernel_id, "pid": os.getpid(),
        "notebookPath": str(notebook_path), "time": 1.0, "seq": 1,
        "names": {
            "a": {"kind": "torch", "ndim": 1},
            "b": {"kind": ["torch"], "ndim": 1},  # list-valued kind: this entry is skipped
            "c": {"kind": "torch", "ndim": "one"},
            "d": {"kind": {"nested": True}},
        },
        "graph": {"tensors": [
            tensor,
            {**tensor, "names": "b", "shape": "3"},  # wrong types: skipped
            {**tensor, "names": ["c"], "shape": [1, "x"], "storage": ["s0"]},
            7,
        ]},
    }
    file = runtime_dir / "tensorviews" / "kernel-attack.json"
    file.write_text(json.dumps(snapshot), encoding="utf-8")
    file.chmod(0o600)
    server = RawServer(
        {**SERVER_ENV, "JUPYTER_RUNTIME_DIR": str(runtime_dir), "TENSORVIEWS_LIVE_POLL_S": "0.1"}
    )
    try:
        server.initialize()
        uri = notebook_path.as_uri()
        # Definite only with the kernel's types: `a` is known to be a tensor there.
        server.open(uri, "a[0], a[1] = a[1], a[0]\nb[0], b[1] = b[1], b[0]\n")
        published = server.wait_for(
            lambda m: diagnostics(m, uri)
            and any(d["severity"] == 1 for d in m["params"]["diagnostics"])
        )
        severities = sorted((d["range"]["start"]["line"], d["severity"])
                            for d in published["params"]["diagnostics"])
        assert severities == [(0, 1), (1, 3)]  # a: error (live type), b: possible (bad entry)
        hover = server.answer(server.hover(uri, 0, 0))["result"]["contents"]["value"]
        assert "a: torch.float32 [3] on cpu, offset 0" in hover
        assert f"live: kernel `` {kernel_id} ``" in hover
        assert "\n**bold**" not in hover
    finally:
        assert server.close() == 0


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, ValueError):
                continue
    return found


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads processes from /proc")
def test_analysis_workers_end_with_a_server_killed_by_a_signal() -> None:
    """An editor or jupyter-lsp may stop the server with a signal: its analysis workers, which
    hold the editor's pipes, must not outlive it."""
    raw = RawServer()
    raw.initialize()
    uri = file_uri("workers.py")
    raw.open(uri, SWAP)
    raw.wait_for(lambda message: diagnostics(message, uri))
    workers = _children(raw.process.pid)
    assert workers, "the analysis ran in no worker process"
    raw.process.kill()
    raw.process.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{w}") for w in workers):
        time.sleep(0.2)
    assert not [w for w in workers if os.path.exists(f"/proc/{w}")]
