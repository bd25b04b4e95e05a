"""One Seam request, from its parts to Seam's envelope: authenticate, validate the parameters
against the route's Struct, run the handler, and shape its result as the route declares."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from lockhub.api import session_scope
from lockhub.api.access_log import note_workspace
from lockhub.api.auth import authenticate
from lockhub.api.context import Ctx
from lockhub.api.envelope import Answer, failure, success
from lockhub.api.pagination import pagination
from lockhub.api.params import build_params
from lockhub.api.routing import Extra, Page, Route
from lockhub.errors import LockhubError
from lockhub.ids import new_request_id
from lockhub.services.credentials import Principal
from lockhub.services.runtime import Runtime

log = logging.getLogger("lockhub.api")
_BODY_METHODS = ("POST", "PATCH", "PUT")


async def dispatch(rt: Runtime, spec: Route, method: str, headers: Mapping[str, str],
                   query: str, body: bytes, *, as_principal: Principal | None = None) -> Answer:
    """`headers` has lower-case names; `body` is the whole request body. `as_principal`: the
    caller is already known (the CLI acting for a workspace whose database it was given), so
    the request carries no credential; everything else is as for a request."""
    request_id = new_request_id()
    try:
        if body and method in _BODY_METHODS:
            content_type = headers.get("content-type", "")
            if "application/json" not in content_type and body.strip():
                raise LockhubError(
                    f'{method} requests must have Content-Type header with '
                    f'"application/json"', error_type="invalid_content_type")
        if not body.strip():
            body = b""
        rt.db.read_model.start_request()
        principal = as_principal or await authenticate(rt, headers, spec)
        if principal is not None:
            note_workspace(principal.workspace_id)
        if principal is not None and spec.path in principal.outage_routes:
            raise LockhubError(f"{spec.path} is unavailable for this workspace (a simulated "
                               f"outage: /_fake/simulate_workspace_outage)",
                               error_type="service_unavailable", status_code=503)
        ctx = Ctx(rt=rt, principal=principal, request_id=request_id, method=method,
                  route_path=spec.path)
        params = build_params(spec.params, query, body) if spec.params else None
        if principal is not None and principal.client_session is not None:
            await session_scope.check_params(ctx, params)
            result = await spec.handler(ctx, params)
            await session_scope.check_result(
                ctx, spec, result.value if isinstance(result, Extra) else result)
        else:
            result = await spec.handler(ctx, params)
        return success(_body(ctx, spec, params, result), request_id)
    except LockhubError as exc:
        return failure(exc, request_id)
    except Exception:
        log.exception("unhandled error on %s", spec.path)
        return failure(LockhubError("Internal server error", error_type="internal_server_error",
                                    status_code=500), request_id)


def _body(ctx: Ctx, spec: Route, params: Any, result: Any) -> dict[str, Any]:
    if isinstance(result, Extra):
        body = {spec.response_key: result.value} if spec.response_key else {}
        body.update(result.extra)
        return body
    if isinstance(result, Page):
        return {
            spec.response_key: result.items,
            "pagination": pagination(ctx, params, result.next_after),
        }
    if spec.response_key:
        return {spec.response_key: result}
    if isinstance(result, dict):
        return dict(result)
    return {}
