"""Half-typed, truncated and random text never takes the server down: every request is answered."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp.conftest import diagnostics_of, file_uri, open_file, pos, replace_text, rng

MODULE = '''import numpy as np
import torch


class Buffer:
    def __init__(self) -> None:
        self.buf = torch.zeros(4, 3)

    def rotate(self, i: int, j: int) -> None:
        """Rotate rows, wrongly."""
        self.buf[i], self.buf[j] = self.buf[j], self.buf[i]


def shuffle(x: np.ndarray) -> None:
    tmp = x[0]
    x[0] = x[1]
    x[1] = tmp
    m = x.reshape(2, -1); m[0, 1], m[1, 0] = m[1, 0], m[0, 1]  # ä 😀
'''

FRAGMENTS = [
    "a[0]",
    "b[i]",
    "x[:, 0]",
    "m[0][1]",
    "self.buf[j]",
    ", ",
    " = ",
    "tmp",
    "torch.zeros(3)",
    "np.arange(4)",
    "import torch\n",
    "import numpy as np\n",
    "\n",
    "    ",
    "(",
    ")",
    "[",
    "]",
    ":",
    "def f(a: torch.Tensor):",
    "class C:",
    "if x:",
    "for i in range(3):",
    "lambda: ",
    ".clone()",
    ".copy()",
    "...",
    "'ü😀'",
    '"""',
    "#",
    "\\",
    "\t",
    "\r\n",
    "@",
    "*",
    "await ",
    "%time ",
    "!ls",
]
python_like = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)
any_text = st.one_of(python_like, st.text(max_size=200))


async def still_answers(client: LanguageClient, uri: str, text: str, version: int) -> None:
    """Send `text`, then hover and ask for code actions: both must come back."""
    replace_text(client, uri, text, version)
    lines = text.split("\n")
    position = pos(len(lines) // 2, len(lines[len(lines) // 2]) // 2)
    document = types.TextDocumentIdentifier(uri=uri)
    await asyncio.wait_for(
        client.text_document_hover_async(
            types.HoverParams(text_document=document, position=position)
        ),
        timeout=10,
    )
    actions = await asyncio.wait_for(
        client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=document,
                range=rng(0, 0, len(lines), 0),
                context=types.CodeActionContext(diagnostics=[]),
            )
        ),
        timeout=10,
    )
    assert actions is not None


def failures(client: LanguageClient) -> list[str]:
    return [m.message for m in client.log_messages if m.type == types.MessageType.Error]


@pytest.mark.asyncio
async def test_every_truncation_of_a_module(client: LanguageClient) -> None:
    uri = file_uri("truncated.py")
    open_file(client, uri, "")
    cuts = sorted({*range(0, len(MODULE), 7), len(MODULE)})
    for version, cut in enumerate(cuts, start=2):
        await still_answers(client, uri, MODULE[:cut], version)
    # The whole module is back: its findings are published (the server kept working).
    assert await diagnostics_of(client, uri, lambda d: len(d) >= 1)
    assert failures(client) == []


@pytest.mark.asyncio
async def test_hypothesis_generated_text(client: LanguageClient) -> None:
    uri = file_uri("generated.py")
    open_file(client, uri, "")
    loop = asyncio.get_running_loop()
    versions = iter(range(2, 10_000))

    # Hypothesis drives a plain function; it runs in a thread and hands each text to the loop.
    @settings(max_examples=75, deadline=None, suppress_health_check=list(HealthCheck))
    @given(text=any_text)
    def check(text: str) -> None:
        future = asyncio.run_coroutine_threadsafe(
            still_answers(client, uri, text, next(versions)), loop
        )
        future.result(timeout=30)

    await asyncio.to_thread(check)
    assert failures(client) == []
