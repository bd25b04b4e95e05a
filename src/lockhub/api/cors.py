"""CORS for browsers calling lockhub from an integrator's own origin with a client session token
or a publishable key.

Only routes that accept those credentials answer cross-origin requests, and only when the
request carries one of them (never an API key or personal access token, which must not live in
a browser). Credentials are allowed, so the Origin is echoed (a wildcard would be refused by
the browser) with `Vary: Origin`. A preflight cannot show its credential, so it is answered for
every such route.

A route with nothing to protect (`any_origin`: it asks for no credential and reads none, as
Seam Components' telemetry, which sends none) answers any origin with `*`, without
credentials.
"""

from __future__ import annotations

from collections.abc import Mapping

from lockhub.api.auth import browser_credential
from lockhub.api.routing import Route

ALLOWED_HEADERS = ("authorization, client-session-token, seam-client-session-token, "
                   "content-type, seam-sdk-name, seam-sdk-version, seam-lts-version, "
                   "seam-publishable-key")
MAX_AGE_SECONDS = "600"


def browser_route(spec: Route) -> bool:
    return spec.client_session or spec.publishable_key or spec.any_origin


def response_headers(spec: Route, headers: Mapping[str, str]) -> dict[str, str]:
    """What to add to an answer (error answers too: the browser must be able to read a 401)."""
    origin = headers.get("origin")
    if origin and spec.any_origin:
        return {"access-control-allow-origin": "*",
                "access-control-expose-headers": "seam-request-id"}
    if not origin or not browser_route(spec) or not browser_credential(headers):
        return {}
    return {"access-control-allow-origin": origin,
            "access-control-allow-credentials": "true",
            "access-control-expose-headers": "seam-request-id",
            "vary": "Origin"}


def preflight_headers(spec: Route, headers: Mapping[str, str]) -> dict[str, str]:
    origin = headers.get("origin")
    if not origin or not browser_route(spec) or not headers.get(
            "access-control-request-method"):
        return {}
    if spec.any_origin:
        return {"access-control-allow-origin": "*",
                "access-control-allow-methods": ", ".join(spec.methods),
                "access-control-allow-headers": "content-type",
                "access-control-max-age": MAX_AGE_SECONDS}
    return {"access-control-allow-origin": origin,
            "access-control-allow-credentials": "true",
            "access-control-allow-methods": ", ".join(spec.methods),
            "access-control-allow-headers": ALLOWED_HEADERS,
            "access-control-max-age": MAX_AGE_SECONDS,
            "vary": "Origin"}
