"""The server's side of the wire: bounded LSP framing over stdio, and an answer for every request.

pygls 2.1 trusts its peer: a `Content-Length: 99999999999` header makes it try to read 93 GB,
a request whose params do not fit the method's type is logged and never answered (the editor
waits forever), and every notification leaves one finished Future behind (memory grows with
each keystroke). Here:

- a reader thread frames messages with bounded header lines and a message size limit; a frame
  over the limit, or bytes that are not a header, are dropped, and reading resumes at the next
  `Content-Length` header (a JSON body is followed directly by the next header, so that header
  ends the line being read); the client's log says what was dropped;
- a body that is not JSON gets a Parse error (-32700), a message that is not a JSON-RPC object
  an Invalid Request error (-32600), a request whose params do not fit an Invalid Params error
  (-32602) naming the bad fields; a notification with bad params is logged and skipped;
- finished handler Futures are dropped.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import re
import threading
from collections.abc import Callable
from typing import Any, BinaryIO

import cattrs
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.protocol import LanguageServerProtocol

logger = logging.getLogger(__name__)

MAX_HEADER_LINE = 8 * 1024
# Far above any real message (documents above the analysis limit are still accepted and kept).
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
_CHUNK = 1024 * 1024
_CONTENT_LENGTH = re.compile(rb"content-length:[ \t]*([0-9]+)[ \t]*\r?\n", re.IGNORECASE)
_GLUED_CONTENT_LENGTH = re.compile(
    rb"content-length:[ \t]*([0-9]+)[ \t]*\r?\n\Z", re.IGNORECASE
)
_HEADER = re.compile(rb"[A-Za-z][A-Za-z0-9-]*:[^\r\n]*\r?\n")
# How much of a line's end is kept to find a header split across two reads.
_TAIL = 64

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602


class TensorViewsProtocol(LanguageServerProtocol):
    """pygls' LSP protocol with bad messages answered and finished Futures dropped."""

    def _execute_handler(
        self,
        msg_id: Any,
        handler: Any,
        callback: Any,
        args: tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        super()._execute_handler(msg_id, handler, callback, args=args, kwargs=kwargs)
        # pygls keeps the Future of every generator or async handler (its built-in didOpen,
        # didChange, ... are generators) under a fresh id and pops it only for requests.
        future = self._request_futures.get(msg_id)
        if future is not None:
            future.add_done_callback(functools.partial(self._drop_future, msg_id))

    def _drop_future(self, msg_id: Any, future: Any) -> None:
        if self._request_futures.get(msg_id) is future:
            del self._request_futures[msg_id]

    def handle_body(self, body: bytes) -> None:
        """Decode, check and dispatch one message body; every request gets an answer."""
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as error:
            self._reject(None, PARSE_ERROR, f"message is not JSON: {error}")
            return
        request_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(request_id, (int, str)) or isinstance(request_id, bool):
            request_id = None
        if not isinstance(data, dict) or data.get("jsonrpc") != "2.0":
            self._reject(request_id, INVALID_REQUEST, "not a JSON-RPC 2.0 message object")
            return
        method = data.get("method")
        if "method" in data and not isinstance(method, str):
            self._reject(request_id, INVALID_REQUEST, "`method` must be a string")
            return
        if "id" in data and request_id is None and method is not None:
            self._reject(None, INVALID_REQUEST, "`id` must be an integer or a string")
            return
        try:
            message = self.structure_message(data)
        except JsonRpcException as error:
            reason = _structure_problem(error)
            if method is not None and request_id is not None:
                self._reject(request_id, INVALID_PARAMS, f"invalid params for {method}: {reason}")
            else:
                self.report(f"ignored a {method or 'response'} message with bad fields: {reason}")
            return
        try:
            self.handle_message(message)
        except Exception as error:  # a failing handler must not end the read loop
            logger.exception("handling %s failed", method)
            self.report(f"handling {method} failed: {error!r}")

    def _reject(self, request_id: int | str | None, code: int, message: str) -> None:
        # JSON-RPC answers a request (or an unreadable message, id null); never a notification.
        error = types.ResponseError(code=code, message=message)
        self._send_response(request_id, error=error)  # type: ignore[arg-type]  # id null is valid
        self.report(message)

    def report(self, message: str) -> None:
        """Tell the client's log (and stderr) about a message the server could not use."""
        logger.warning("%s", message)
        try:
            self.notify(
                types.WINDOW_LOG_MESSAGE,
                types.LogMessageParams(
                    type=types.MessageType.Warning, message=f"Tensor Views: {message}"
                ),
            )
        except Exception:
            logger.exception("could not tell the client")


def _structure_problem(error: JsonRpcException) -> str:
    """The fields that did not fit, in cattrs' words (`... @ $.position.line`), briefly."""
    cause = error.__cause__
    if isinstance(cause, cattrs.BaseValidationError):
        lines = cattrs.transform_error(cause)
        shown = "; ".join(lines[:3])
        return shown + (f" (and {len(lines) - 3} more)" if len(lines) > 3 else "")
    return str(cause or error)[:300]


class RawReader:
    """`readline(limit)` and `read(n)` straight on a file descriptor.

    The reader thread is a daemon (a blocked read must not keep the process alive after
    `exit`); reading through `sys.stdin.buffer` would hold its lock at interpreter shutdown,
    which aborts Python, so it reads the descriptor itself."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = bytearray()

    def _fill(self) -> bool:
        chunk = os.read(self.fd, 64 * 1024)
        self.buffer += chunk
        return bool(chunk)

    def _take(self, count: int) -> bytes:
        taken = bytes(self.buffer[:count])
        del self.buffer[:count]
        return taken

    def readline(self, limit: int) -> bytes:
        while True:
            end = self.buffer.find(b"\n", 0, limit)
            if end >= 0:
                return self._take(end + 1)
            if len(self.buffer) >= limit or not self._fill():
                return self._take(min(limit, len(self.buffer)))

    def read(self, count: int) -> bytes:
        while len(self.buffer) < count and self._fill():
            pass
        return self._take(min(count, len(self.buffer)))


class FrameReader:
    """Reads LSP frames with bounded memory (runs in its own thread)."""

    def __init__(self, stream: RawReader, on_dropped: Callable[[str], None]) -> None:
        self.stream = stream
        self.on_dropped = on_dropped

    def frames(self) -> Any:
        """Yield each message body until the stream ends."""
        while True:
            length = self._headers()
            if length is None:
                return
            if length > MAX_MESSAGE_BYTES:
                self.on_dropped(
                    f"dropped a message of {length} bytes (the limit is {MAX_MESSAGE_BYTES}); "
                    "reading resumes at the next header"
                )
                continue  # its body is skipped as non-header bytes by the next _headers()
            body = self._read(length)
            if body is None:
                return
            yield body

    def _headers(self) -> int | None:
        """The Content-Length of the next frame (None at the end of the stream)."""
        length: int | None = None
        skipped = 0
        tail = b""
        while True:
            line = self.stream.readline(MAX_HEADER_LINE)
            if not line:
                return None
            if line in (b"\r\n", b"\n"):
                if length is not None:
                    if skipped:
                        self.on_dropped(f"skipped {skipped} bytes that were not an LSP message")
                    return length
                skipped += len(line)
                continue
            if match := _CONTENT_LENGTH.fullmatch(line):
                length = int(match.group(1))
                continue
            if _HEADER.fullmatch(line):
                continue  # Content-Type and any other header
            # Not a header: a dropped body or garbage. A header glued to its end starts a frame
            # (a JSON body holds no raw line break, so such a match is never inside a string).
            joined = tail + line
            last = _GLUED_CONTENT_LENGTH.search(joined)
            if last is not None:
                length = int(last.group(1))
                skipped += max(0, len(line) - (last.end() - last.start()))
                tail = b""
                continue
            skipped += len(line)
            length = None
            tail = b"" if line.endswith(b"\n") else joined[-_TAIL:]

    def _read(self, length: int) -> bytes | None:
        parts: list[bytes] = []
        left = length
        while left:
            part = self.stream.read(min(left, _CHUNK))
            if not part:
                return None
            parts.append(part)
            left -= len(part)
        return b"".join(parts)


# Messages read but not yet handled: the reader waits beyond this (a client typing faster than
# the server handles edits must not queue unbounded memory).
MAX_PENDING = 256


async def serve(protocol: TensorViewsProtocol, stream: BinaryIO) -> None:
    """Feed every frame of `stream` to `protocol` on this event loop until the stream ends."""
    loop = asyncio.get_running_loop()
    finished: asyncio.Future[None] = loop.create_future()
    room = threading.Semaphore(MAX_PENDING)

    def dropped(message: str) -> None:
        loop.call_soon_threadsafe(protocol.report, message)

    def handle(body: bytes) -> None:
        try:
            protocol.handle_body(body)
        finally:
            room.release()

    def read_all() -> None:
        try:
            for body in FrameReader(RawReader(stream.fileno()), dropped).frames():
                room.acquire()
                loop.call_soon_threadsafe(handle, body)
        except Exception as error:  # a broken stdin ends the session like EOF does
            logger.exception("reading from the client failed")
            loop.call_soon_threadsafe(protocol.report, f"reading from the client failed: {error}")
        finally:
            loop.call_soon_threadsafe(_finish, finished)

    # A daemon thread: a blocked read must not keep the process alive after `exit`.
    threading.Thread(target=read_all, name="lsp-reader", daemon=True).start()
    await finished


def _finish(finished: asyncio.Future[None]) -> None:
    if not finished.done():
        finished.set_result(None)

