"""Limits held at the ASGI edge, before a request reaches Litestar: header size, body size and
how long a body may take to arrive.

uvicorn's httptools parser has no header limit, and its keep-alive timeout covers only idle
connections, so a client that sends headers and then trickles (or never sends) its body would
hold a connection and a task for as long as it likes. `InputLimits` reads the whole body under
one deadline, then hands it to the application: a handler never waits on a slow client, and a
client that goes away mid-body is a one-line log entry, not a traceback.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import msgspec

from lockhub.api.envelope import JSON, error_body
from lockhub.errors import LockhubError
from lockhub.ids import new_request_id

MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_HEADER_BYTES = 16 * 1024  # all header lines together
MAX_HEADER_LINE_BYTES = 8 * 1024  # one `name: value` line
BODY_TIMEOUT_SECONDS = 10.0

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("lockhub.api.limits")


class _TooLarge(Exception):
    pass


class _Disconnected(Exception):
    pass


class InputLimits:
    """ASGI middleware: 431 for oversized headers, 413 for an oversized body, 408 (and the
    connection closed) for a body not complete within `body_timeout` seconds."""

    def __init__(self, app: ASGIApp, *, body_timeout: float = BODY_TIMEOUT_SECONDS,
                 max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.body_timeout = body_timeout
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = _header_problem(scope["headers"])
        if problem:
            await _refuse(send, 431, "request_header_fields_too_large", problem)
            return
        if _declared_length(scope["headers"]) > self.max_body_bytes:
            await _refuse(send, 413, "payload_too_large", self._too_large_message())
            return
        try:
            async with asyncio.timeout(self.body_timeout):
                body = await self._read_body(receive)
        except TimeoutError:
            log.info("%s %s: request body not complete after %gs; answered 408",
                     scope["method"], scope["path"], self.body_timeout)
            await _refuse(send, 408, "request_timeout",
                          f"Request body not received within {self.body_timeout:g} seconds")
            return
        except _TooLarge:
            await _refuse(send, 413, "payload_too_large", self._too_large_message())
            return
        except _Disconnected:
            log.info("%s %s: client disconnected before sending the whole body",
                     scope["method"], scope["path"])
            return
        await self.app(scope, _replay(body, receive), send)

    def _too_large_message(self) -> str:
        return f"Request body is larger than {self.max_body_bytes} bytes"

    async def _read_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _header_problem(headers: list[tuple[bytes, bytes]]) -> str | None:
    total = 0
    for name, value in headers:
        line = len(name) + len(value) + 4  # ": " and CRLF
        if line > MAX_HEADER_LINE_BYTES:
            return f"Header {name.decode('latin-1')!r} is longer than {MAX_HEADER_LINE_BYTES} bytes"
        total += line
    if total > MAX_HEADER_BYTES:
        return f"Request headers are larger than {MAX_HEADER_BYTES} bytes in total"
    return None


def _declared_length(headers: list[tuple[bytes, bytes]]) -> int:
    for name, value in headers:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0  # the server's parser rejects these before we see them
    return 0


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that returns the buffered body once, then defers to the server's (for the
    http.disconnect that follows)."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _refuse(send: Send, status: int, error_type: str, message: str) -> None:
    """Answer in Seam's envelope and close the connection: the rest of the request was not
    read, so the connection cannot carry another one."""
    request_id = new_request_id()
    content = msgspec.json.encode(
        error_body(LockhubError(message, error_type=error_type, status_code=status), request_id))
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", JSON.encode()),
        (b"content-length", str(len(content)).encode()),
        (b"seam-request-id", request_id.encode()),
        (b"connection", b"close"),
    ]})
    await send({"type": "http.response.body", "body": content, "more_body": False})
