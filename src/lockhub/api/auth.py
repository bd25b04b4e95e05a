"""Who is calling: API key (`seam_…`), personal access token (`seam_at…` + seam-workspace),
client session token (`seam_cst…`, as a bearer token or in the `client-session-token` or
`seam-client-session-token` header) or publishable key (`seam-publishable-key` header, only on
the routes that get or create a client session).

A credential checked against the database is remembered in the read model (by the whole
token and the seam-workspace header), which forgets every remembered credential as
soon as any process changes a key, token, membership or workspace: a revoked key, a deleted
workspace or a suspended one is refused on the very next request, in every process sharing the
database. Only credentials that were accepted are remembered.
"""

from __future__ import annotations

from collections.abc import Mapping

from lockhub.api.routing import Route
from lockhub.errors import LockhubError, Unauthorized
from lockhub.services import client_sessions, credentials
from lockhub.services.credentials import Principal
from lockhub.services.runtime import Runtime

CST_PREFIX = "seam_cst"
PUBLISHABLE_KEY_PREFIX = "seam_pk"
CST_HEADERS = ("client-session-token", "seam-client-session-token")
PUBLISHABLE_KEY_HEADER = "seam-publishable-key"


class WorkspaceSuspended(LockhubError):
    """Seam documents `is_suspended` but no error for using a suspended workspace; lockhub
    refuses every request made as that workspace with this one."""

    status_code = 403
    error_type = "workspace_suspended"


async def authenticate(rt: Runtime, headers: Mapping[str, str],
                       spec: Route) -> Principal | None:
    if spec.auth == "none":
        return None
    principal = await _look_up(rt, headers, spec)
    if principal.workspace_suspended:
        raise WorkspaceSuspended(f"Workspace {principal.workspace_id} is suspended")
    if principal.client_session is not None:
        if not spec.client_session:
            raise Unauthorized(f"{spec.path} does not accept a client session token")
        client_sessions.check_not_expired(principal, rt.clock.now())
    elif principal.publishable_key and not spec.publishable_key:
        raise Unauthorized(f"{spec.path} does not accept a publishable key")
    if spec.auth == "workspace" and principal.workspace_id is None:
        raise Unauthorized("A personal access token needs the seam-workspace header")
    return principal


def browser_credential(headers: Mapping[str, str]) -> bool:
    """The request authenticates as a browser may: with a client session token or a
    publishable key, and with no API key or personal access token."""
    token = _bearer(headers.get("authorization", ""))
    if token:
        return token.startswith(CST_PREFIX)
    return any(headers.get(name) for name in (*CST_HEADERS, PUBLISHABLE_KEY_HEADER))


def _bearer(header: str) -> str:
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _credential(headers: Mapping[str, str]) -> str:
    """The token the request authenticates with (a publishable key included)."""
    header = headers.get("authorization")
    if header:
        token = _bearer(header)
        if not token:
            raise Unauthorized("Authorization header must be 'Bearer <token>'")
        return token
    for name in CST_HEADERS:
        token = headers.get(name, "").strip()
        if token:
            if not token.startswith(CST_PREFIX):
                raise LockhubError(f"The {name} header must hold a client session token "
                                   f"(seam_cst…)", error_type="invalid_client_session_token")
            return token
    key = headers.get(PUBLISHABLE_KEY_HEADER, "").strip()
    if key:
        return key
    raise Unauthorized("No Authorization header")


async def _look_up(rt: Runtime, headers: Mapping[str, str], spec: Route) -> Principal:
    token = _credential(headers)
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
        if token.startswith(CST_PREFIX):
            return await client_sessions.principal_for_token(conn, token)
        if token.startswith(PUBLISHABLE_KEY_PREFIX):
            return await client_sessions.principal_for_publishable_key(conn, token)
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
