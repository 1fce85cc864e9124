"""A failing handler is logged (stderr traceback) and answered with its empty result."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types

from lsp_server.failures import guarded
from lsp_server.server import TensorViewsServer


@guarded([])
def broken_code_action(ls: TensorViewsServer, params: types.CodeActionParams) -> list[object]:
    """Fails like a feature with a bug would."""
    raise ZeroDivisionError("feature bug")


@guarded(None)
async def broken_hover(ls: TensorViewsServer, params: types.HoverParams) -> types.Hover | None:
    """Fails after awaiting, like an async feature with a bug would."""
    await asyncio.sleep(0)
    raise KeyError("missing")


def test_sync_handler_failure_is_logged_and_answered_empty(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert broken_code_action(TensorViewsServer(), None) == []  # type: ignore[arg-type]
    err = capsys.readouterr().err
    assert "broken_code_action failed" in err and "ZeroDivisionError: feature bug" in err


def test_async_handler_failure_is_logged_and_answered_none(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert asyncio.run(broken_hover(TensorViewsServer(), None)) is None  # type: ignore[arg-type]
    assert "KeyError: 'missing'" in capsys.readouterr().err


def test_guarded_handlers_still_receive_the_server() -> None:
    """pygls injects the server into handlers whose first parameter is `ls`; wrapping keeps it."""
    from pygls.feature_manager import has_ls_param_or_annotation

    assert has_ls_param_or_annotation(broken_code_action, TensorViewsServer)
    assert asyncio.iscoroutinefunction(broken_hover)
