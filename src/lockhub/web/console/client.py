"""The console's calls to the Seam routes: in-process, through the same `dispatch` an HTTP
request goes through, with the signed-in person's own credential.

So every console page sees exactly what that credential sees through the API (workspace walls,
validation, sandbox-only routes, errors), and the console adds no second authorization model.
"""

from __future__ import annotations

from typing import Any

import msgspec

from lockhub.api.dispatch import dispatch
from lockhub.api.routing import ROUTES, Route
from lockhub.services.runtime import Runtime

_ROUTES: dict[str, Route] = {}


class ApiError(Exception):
    """A Seam route answered with an error: its status and Seam's `error` object."""

    def __init__(self, status: int, error: dict[str, Any]) -> None:
        super().__init__(error.get("message", ""))
        self.status = status
        self.error = error

    @property
    def message(self) -> str:
        return str(self.error.get("message") or self.error.get("type") or "Request failed")

    @property
    def field_errors(self) -> dict[str, str]:
        """`validation_errors` as {field: message} (Seam's flattened zod shape)."""
        found: dict[str, str] = {}
        details = self.error.get("validation_errors") or {}
        for name, detail in details.items() if isinstance(details, dict) else ():
            messages = detail.get("_errors") if isinstance(detail, dict) else None
            if messages:
                found[name] = "; ".join(str(m) for m in messages)
        return found


def _route(path: str) -> Route:
    if not _ROUTES:
        _ROUTES.update({r.path: r for r in ROUTES})
    return _ROUTES[path]


async def call(rt: Runtime, credential: str, workspace_id: str | None, path: str,
               params: dict[str, Any] | None = None) -> dict[str, Any]:
    """POST `params` to the Seam route at `path` as `credential`; the decoded body, or
    `ApiError`. Parameters that are None are left out (the route's defaults apply)."""
    headers = {"authorization": f"Bearer {credential}", "content-type": "application/json"}
    if workspace_id and credential.startswith("seam_at"):
        headers["seam-workspace"] = workspace_id
    body = msgspec.json.encode({k: v for k, v in (params or {}).items() if v is not None})
    answer = await dispatch(rt, _route(path), "POST", headers, "", body)
    decoded: dict[str, Any] = msgspec.json.decode(answer.body)
    if answer.status >= 400:
        raise ApiError(answer.status, decoded.get("error") or {})
    return decoded
