"""Who is calling: API key (`seam_…`) or personal access token (`seam_at…` + seam-workspace)."""

from __future__ import annotations

import time
from collections.abc import Mapping

from lockhub.api.routing import Auth
from lockhub.errors import Unauthorized
from lockhub.services import credentials
from lockhub.services.credentials import Principal
from lockhub.services.runtime import Runtime

# Successful look-ups are remembered briefly, so hot paths skip a database read per request.
# Only successes are cached (a new key or membership works at once); a credential removed from
# the database stops working within CACHE_SECONDS.
CACHE_SECONDS = 5.0
CACHE_SIZE = 10_000
_cache: dict[tuple[str, str | None], tuple[float, Principal]] = {}


async def authenticate(rt: Runtime, headers: Mapping[str, str], mode: Auth) -> Principal | None:
    if mode == "none":
        return None
    header = headers.get("authorization")
    key = (header or "", headers.get("seam-workspace"))
    cached = _cache.get(key)
    if cached is not None and cached[0] > time.monotonic():
        principal = cached[1]
        if mode == "workspace" and principal.workspace_id is None:
            raise Unauthorized("A personal access token needs the seam-workspace header")
        return principal
    principal = await _look_up(rt, headers, mode)
    if principal is not None:
        if len(_cache) >= CACHE_SIZE:
            _cache.clear()
        _cache[key] = (time.monotonic() + CACHE_SECONDS, principal)
    return principal


async def _look_up(rt: Runtime, headers: Mapping[str, str], mode: Auth) -> Principal:
    header = headers.get("authorization")
    if not header:
        raise Unauthorized("No Authorization header")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("Authorization header must be 'Bearer <token>'")
    async with rt.db.read() as conn:
        if token.startswith("seam_at"):
            workspace_id = headers.get("seam-workspace") or None
            principal = await credentials.principal_for_pat(conn, token, workspace_id)
            if principal is None:
                raise Unauthorized("Access token not found")
            if mode == "workspace" and principal.workspace_id is None:
                raise Unauthorized("A personal access token needs the seam-workspace header")
            return principal
        principal = await credentials.principal_for_api_key(conn, token)
    if principal is None:
        raise Unauthorized("API Key not found")
    return principal
