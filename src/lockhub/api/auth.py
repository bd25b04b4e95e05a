"""Who is calling: API key (`seam_…`) or personal access token (`seam_at…` + seam-workspace).

A credential checked against the database is remembered in the read model (by the whole
token and the seam-workspace header), which forgets every remembered credential as
soon as any process changes a key, token, membership or workspace: a revoked key, a deleted
workspace or a suspended one is refused on the very next request, in every process sharing the
database. Only credentials that were accepted are remembered.
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
    model = rt.db.read_model
    sync_token = model.request_token()
    # The token itself is the key: str hashes are keyed per process (SipHash), so a lookup's
    # timing says nothing useful about other remembered tokens.
    key = (token, headers.get("seam-workspace"))
    remembered = model.principals.get(key) if sync_token is not None else None
    if remembered is not None:
        return remembered
    principal = await _check(rt, token, headers)
    model.remember_principal(key, principal, sync_token)
    return principal


async def _check(rt: Runtime, token: str, headers: Mapping[str, str]) -> Principal:
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
