"""API keys of the workspace shown: create (the key is shown once, never stored in clear),
list, revoke. Whoever is signed in to a workspace (its API key, or a member's personal access
token) manages its keys, as in Seam's console; the credential is checked by the API on every
view (gate.py) before these pages touch the keys."""

from __future__ import annotations

from typing import Any

from litestar import Response

from lockhub.services import credentials
from lockhub.web.console.visit import Visit, page

NAME_MAX = 100


async def _keys(visit: Visit) -> list[credentials.ApiKeyInfo]:
    async with visit.rt.db.read() as conn:
        return await credentials.list_api_keys(conn, visit.workspace_id)


@page("/keys")
async def key_list(visit: Visit) -> Response[Any]:
    return visit.render("keys.html", keys=await _keys(visit), created=None, error=None,
                        own_key_id=_own_key_id(visit))


def _own_key_id(visit: Visit) -> str | None:
    split = credentials.split_api_key(visit.session.credential)
    return split[0] if split else None


@page("/keys", methods=("POST",))
async def create(visit: Visit) -> Response[Any]:
    name = visit.form.get("name", "").strip()
    if not name or len(name) > NAME_MAX:
        return visit.render("keys.html", status=400, keys=await _keys(visit), created=None,
                            error=f"Give the key a name of 1 to {NAME_MAX} characters.",
                            own_key_id=_own_key_id(visit))
    async with visit.rt.db.write() as conn:
        key = await credentials.create_api_key(conn, now=visit.rt.clock.now(),
                                               workspace_id=visit.workspace_id, name=name,
                                               sandbox=bool(visit.workspace["is_sandbox"]))
    # Shown in this answer only; the page is not cached (Cache-Control: no-store).
    return visit.render("keys.html", status=201, keys=await _keys(visit), created=key,
                        error=None, own_key_id=_own_key_id(visit))


@page("/keys/{api_key_id:str}/revoke", methods=("POST",))
async def revoke(visit: Visit) -> Response[Any]:
    key_id = visit.path_param("api_key_id")
    # Only a key of the workspace shown (another workspace's id is "not found").
    if key_id not in {k.api_key_id for k in await _keys(visit)}:
        return visit.render("keys.html", status=404, keys=await _keys(visit), created=None,
                            error="No such API key in this workspace.",
                            own_key_id=_own_key_id(visit))
    async with visit.rt.db.write() as conn:
        await credentials.revoke_api_key(conn, key_id)
    return visit.redirect("/keys", notice="key_revoked")
