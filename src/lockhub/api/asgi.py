"""The ASGI entry of the Seam routes: the route table answered straight from the ASGI scope.

Every Seam route is the same shape (a path, a few verbs, JSON in, Seam's envelope out), so it
needs no framework routing, signature model or response classes: measured on one core,
Litestar's handler path cost about 60 µs of a 150 µs request. The table is looked up by exact
path; anything else (Connect Webview pages, brand callbacks, /openapi.json, unknown paths)
goes to the Litestar application behind it. The body has already been read whole, within the
size and time limits, by `InputLimits` in front of this.
"""

from __future__ import annotations

from typing import Any

from lockhub.api import cors
from lockhub.api.dispatch import dispatch
from lockhub.api.envelope import JSON, Answer, failure
from lockhub.api.limits import ASGIApp, Receive, Scope, Send
from lockhub.api.routing import Route
from lockhub.errors import MethodNotAllowed
from lockhub.ids import new_request_id
from lockhub.services.runtime import Runtime

_JSON_TYPE = JSON.encode()


class SeamRoutes:
    def __init__(self, rt: Runtime, routes: list[Route], fallback: ASGIApp) -> None:
        self.rt = rt
        self.fallback = fallback
        self.routes = {r.path: r for r in routes}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        spec = self.routes.get(scope["path"]) if scope["type"] == "http" else None
        if spec is None:
            await self.fallback(scope, receive, send)
            return
        method = scope["method"]
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        if method in spec.methods:
            body = b""
            message = await receive()
            if message["type"] == "http.request":
                body = message.get("body", b"")
            query = scope.get("query_string", b"").decode("latin-1")
            result = await dispatch(self.rt, spec, method, headers, query, body)
            if cors.browser_route(spec):
                result.headers.update(cors.response_headers(spec, headers))
        elif method == "OPTIONS":
            allowed = ", ".join(sorted((*spec.methods, "OPTIONS")))
            extra = [(k.encode(), v.encode())
                     for k, v in cors.preflight_headers(spec, headers).items()]
            await send({"type": "http.response.start", "status": 204,
                        "headers": [(b"allow", allowed.encode()), *extra]})
            await send({"type": "http.response.body", "body": b""})
            return
        else:
            # RFC 9110: a 405 must list the verbs the resource accepts.
            allowed = sorted(spec.methods)
            result = failure(MethodNotAllowed(f"only {','.join(allowed)} accepted",
                                              headers={"Allow": ", ".join(allowed)}),
                             new_request_id())
        await _send(send, result)


async def _send(send: Send, result: Answer) -> None:
    headers: list[Any] = [(k.lower().encode("latin-1"), v.encode("latin-1"))
                          for k, v in result.headers.items()]
    headers.append((b"content-type", _JSON_TYPE))
    headers.append((b"content-length", str(len(result.body)).encode()))
    await send({"type": "http.response.start", "status": result.status, "headers": headers})
    await send({"type": "http.response.body", "body": result.body})
