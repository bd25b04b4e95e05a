"""Who is calling: API key (`seam_…`) or personal access token (`seam_at…` + seam-workspace)."""

from __future__ import annotations

from collections.abc import Mapping

from lockhub.api.routing import Auth
from lockhub.errors import Unauthorized
from lockhub.services import credentials
from lockhub.services.credentials import Principal
from lockhub.services.runtime import Runtime


async def authenticate(rt: Runtime, headers: Mapping[str, str], mode: Auth) -> Principal | None:
    if mode == "none":
        return None
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
