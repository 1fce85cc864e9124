"""Keeping the server alive: a failing handler is logged and answered with an empty result.

The user sees the failure in the client's log (`window/logMessage`) and the traceback goes to
stderr; the request still gets its answer, so the editor never waits on a broken feature.
"""

from __future__ import annotations

import functools
import inspect
import logging
import sys
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

from lsprotocol import types
from pygls.lsp.server import LanguageServer

logger = logging.getLogger(__name__)

Handler = TypeVar("Handler", bound=Callable[..., Any])


def log_failure(ls: LanguageServer, what: str, error: BaseException) -> None:
    """Report a failure to stderr (with its traceback) and to the client's log."""
    trace = "".join(traceback.format_exception(error))
    print(f"tensorviews: {what} failed\n{trace}", file=sys.stderr, flush=True)
    try:
        ls.window_log_message(
            types.LogMessageParams(
                type=types.MessageType.Error, message=f"Tensor Views: {what} failed: {error!r}"
            )
        )
    except Exception:
        logger.exception("could not send the failure to the client")


def guarded(default: Any) -> Callable[[Handler], Handler]:
    """Wrap a handler `(ls, params)` so that an exception is logged and answered with `default`."""

    def decorate(handler: Handler) -> Handler:
        what = handler.__name__

        if inspect.iscoroutinefunction(handler):

            @functools.wraps(handler)
            async def run_async(ls: LanguageServer, *args: Any) -> Any:
                try:
                    return await handler(ls, *args)
                except Exception as error:
                    log_failure(ls, what, error)
                    return default

            return run_async  # type: ignore[return-value]

        @functools.wraps(handler)
        def run(ls: LanguageServer, *args: Any) -> Any:
            try:
                return handler(ls, *args)
            except Exception as error:
                log_failure(ls, what, error)
                return default

        return run  # type: ignore[return-value]

    return decorate
