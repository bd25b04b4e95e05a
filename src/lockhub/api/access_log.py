"""One access-log line and one metrics sample per HTTP request, Seam routes and Litestar's alike.

`AccessLog` is the outermost ASGI layer: it sees every answer, including the limits' 408, 413
and 431, and reads the status and `seam-request-id` from the response start. The workspace is
known only once `dispatch` has authenticated the request; it notes it in a context variable
(`note_workspace`), which the layer reads after the request (same task, same context).

The line (logger `lockhub.access`, INFO) is built only if that level is enabled, and written
straight by lockhub's log handler when nothing else would see the record
(`logs.direct_handler`): a LogRecord, the record factory and a Formatter cost about 50 µs per
request. The metrics are always kept. Routes are labelled by their template (a Seam path, or Litestar's
`path_template`); a path no route matched is `unmatched`, so unknown paths cannot grow the
label set.
"""

from __future__ import annotations

import logging
import time
from contextvars import ContextVar

from lockhub import metrics
from lockhub.api.limits import ASGIApp, Message, Receive, Scope, Send
from lockhub.logs import direct_handler

log = logging.getLogger("lockhub.access")
_workspace: ContextVar[str | None] = ContextVar("lockhub_workspace_id", default=None)
UNMATCHED = "unmatched"


def note_workspace(workspace_id: str | None) -> None:
    """The workspace the current request acts in (for its access-log line)."""
    _workspace.set(workspace_id)


class AccessLog:
    def __init__(self, app: ASGIApp, seam_paths: frozenset[str]) -> None:
        self.app = app
        self.seam_paths = seam_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an application that never answered
        request_id = ""

        async def sending(message: Message) -> None:
            nonlocal status, request_id
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", ()):
                    if name == b"seam-request-id":
                        request_id = value.decode("latin-1")
                        break
            await send(message)

        _workspace.set(None)
        try:
            await self.app(scope, receive, sending)
        finally:
            seconds = time.perf_counter() - started
            path = scope["path"]
            route = path if path in self.seam_paths else scope.get("path_template", UNMATCHED)
            method = scope["method"]
            metrics.observe_request(route, method, status, seconds)
            if log.isEnabledFor(logging.INFO):
                _log_line(method, path, route, status, seconds, request_id)


def _log_line(method: str, path: str, route: str, status: int, seconds: float,
              request_id: str) -> None:
    workspace_id = _workspace.get()
    message = (f"{method} {path} {status} {seconds * 1000:.2f}ms "
               f"request_id={request_id or '-'} workspace_id={workspace_id or '-'}")
    fields = {"method": method, "path": path, "route": route, "status": status,
              "duration_ms": round(seconds * 1000, 3), "request_id": request_id or None,
              "workspace_id": workspace_id}
    handler = direct_handler(log)
    if handler is not None:
        handler.write_line(log.name, "INFO", message, fields)
    else:
        log.info("%s", message, extra=fields)
