"""The workspace switcher: a personal access token opens every workspace its user belongs to;
the console shows one at a time. An API key belongs to one workspace and has nothing to switch."""

from __future__ import annotations

from typing import Any

from litestar import Response

from lockhub.services import console_sessions
from lockhub.web.console.visit import Visit, page


async def _workspaces(visit: Visit) -> list[dict[str, Any]]:
    if not visit.session.is_pat:
        return [visit.workspace] if visit.workspace else []
    return list((await visit.api("/workspaces/list"))["workspaces"])


@page("/workspaces", needs_workspace=False)
async def choose(visit: Visit) -> Response[Any]:
    return visit.render("workspaces.html", workspaces=await _workspaces(visit))


@page("/workspaces/switch", methods=("POST",), needs_workspace=False)
async def switch(visit: Visit) -> Response[Any]:
    wanted = visit.form.get("workspace_id", "")
    # Only a workspace the token's user belongs to (the API's own list) can be chosen.
    if wanted not in {w["workspace_id"] for w in await _workspaces(visit)}:
        return visit.render("workspaces.html", status=404, workspaces=await _workspaces(visit),
                            error="That workspace is not one of yours.")
    if visit.session.is_pat:
        await console_sessions.switch_workspace(visit.rt, visit.session, wanted)
    return visit.redirect("/devices", notice="switched")
