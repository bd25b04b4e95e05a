"""Who is calling: API key (`seam_…`) or personal access token (`seam_at…` + seam-workspace).

Credentials are read from the database on every request (one indexed read for an API key), not
cached: a revoked key, a deleted workspace or a suspended one is refused on the very next
request, in every process sharing the database.
"""

from __future__ import annotations

from collections.abc import Mapping

from lockhub.api.routing import Auth
from lockhub.errors import LockhubError, Unauthorized
from lockhub.services import credentials
from lockhub.services.credentials import Principal
from lockhub.services.runtime import Runtime


class WorkspaceSuspended(LockhubError):
    """Seam documents `is_suspended` but no error for using a suspended workspace; lockhub
    refuses every request made as that workspace with this one."""

    status_code = 403
    error_type = "workspace_suspended"


async def authenticate(rt: Runtime, headers: Mapping[str, str], mode: Auth) -> Principal | None:
    if mode == "none":
        return None
    principal = await _look_up(rt, headers)
    if principal.workspace_suspended:
        raise WorkspaceSuspended(f"Workspace {principal.workspace_id} is suspended")
    if mode == "workspace" and principal.workspace_id is None:
        raise Unauthorized("A personal access token needs the seam-workspace header")
    return principal


async def _look_up(rt: Runtime, headers: Mapping[str, str]) -> Principal:
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
            return principal
        principal = await credentials.principal_for_api_key(conn, token)
    if principal is None:
        raise Unauthorized("API Key not found")
    return principal
