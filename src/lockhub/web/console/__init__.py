"""The web console at /console: server-rendered pages for people, over the same Seam routes the
API serves (client.py), behind a cookie session (services/console_sessions.py, gate.py).

Importing the page modules registers their pages (visit.page); `route_handlers` turns them into
Litestar handlers, adds sign-in, sign-out, the workspace switcher and the console's assets, and
redirects `/` to the console.
"""

from __future__ import annotations

from importlib import resources
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, get, post
from litestar import route as litestar_route
from litestar.handlers import HTTPRouteHandler
from litestar.response import Redirect

from lockhub.services import console_sessions
from lockhub.services.runtime import Runtime
from lockhub.web.console import (  # noqa: F401  (importing registers the pages)
    access_codes,
    accounts,
    devices,
    events,
    keys,
    sandbox,
    webhooks,
    workspaces,
)
from lockhub.web.console.client import ApiError, call
from lockhub.web.console.gate import (
    Refused,
    current_workspace,
    is_signed_out,
    read_form,
    session_of,
)
from lockhub.web.console.visit import COOKIE, HEADERS, PAGES, PREFIX, Page, Visit, standalone

_ASSETS = {"console.css": "text/css; charset=utf-8",
           "console.js": "text/javascript; charset=utf-8"}
SIGN_IN = f"{PREFIX}/sign_in"


def _to_sign_in(request: Request[Any, Any, Any]) -> Response[Any]:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response: Response[Any] = Redirect(path=f"{SIGN_IN}?next={quote(target, safe='')}",
                                       status_code=303, headers=HEADERS)
    response.delete_cookie(COOKIE, path=PREFIX)
    return response


def _safe_next(target: str | None) -> str:
    """Only a console path (never another site) is followed after sign-in."""
    if target and target.startswith(PREFIX + "/") and not target.startswith("//") \
            and "\\" not in target:
        return target
    return f"{PREFIX}/devices"


def _handler(rt: Runtime, spec: Page) -> HTTPRouteHandler:
    async def handle(request: Request[Any, Any, Any]) -> Response[Any]:
        session = await session_of(rt, request)
        if session is None:
            return _to_sign_in(request)
        try:
            form = await read_form(rt, request, session) if request.method == "POST" else {}
            workspace = await current_workspace(rt, session)
        except Refused as refused:
            return refused.response
        except ApiError as exc:
            if is_signed_out(exc):
                await console_sessions.end(rt, session.secret)
                return _to_sign_in(request)
            # The workspace cannot be read (an outage, the database): say so, stay signed in.
            return standalone("message.html", status=503, heading="Workspace unavailable",
                              message=f"lockhub cannot open this workspace now: "
                                      f"{exc.message} Try again in a moment.")
        visit = Visit(rt, request, session, workspace, form)
        if workspace is None and spec.needs_workspace:
            return visit.redirect("/workspaces")
        try:
            return await spec.fn(visit)
        except ApiError as exc:
            if is_signed_out(exc):
                return _to_sign_in(request)
            status = exc.status if exc.status in (400, 403, 404, 409, 422) else 502
            return visit.render("error.html", status=status, error=exc)

    name = "console" + spec.path.replace("/", "_").replace("{", "").replace("}", "") \
        .replace(":str", "") + "_" + "_".join(spec.methods).lower()
    return litestar_route(PREFIX + spec.path, http_method=list(spec.methods), name=name,
                          media_type="text/html")(handle)


def route_handlers(rt: Runtime) -> list[HTTPRouteHandler]:
    secure = rt.settings.base_url.startswith("https://")

    @get("/", name="root", include_in_schema=False)
    async def root() -> Redirect:
        return Redirect(path=f"{PREFIX}/devices", status_code=302)

    @get(PREFIX, name="console_home")
    async def home() -> Redirect:
        return Redirect(path=f"{PREFIX}/devices", status_code=302)

    @get(SIGN_IN, name="console_sign_in_form", media_type="text/html")
    async def sign_in_form(next: str | None = None,
                           signed_out: str | None = None) -> Response[str]:
        return standalone("sign_in.html", next=_safe_next(next),
                          notice="You have signed out." if signed_out else None)

    @post(SIGN_IN, name="console_sign_in", media_type="text/html", status_code=200)
    async def sign_in(request: Request[Any, Any, Any]) -> Response[Any]:
        try:
            form = await read_form(rt, request, None)
        except Refused as refused:
            return refused.response
        credential = form.get("token", "").strip()
        target = _safe_next(form.get("next"))
        workspace_id = await _workspace_for(rt, credential)
        if workspace_id is False:
            return standalone("sign_in.html", status=401, next=target,
                              error="This token was not accepted. Paste an API key "
                                    "(seam_…) or a personal access token (seam_at…).")
        session = await console_sessions.start(rt, credential, workspace_id or None)
        response: Response[Any] = Redirect(
            path=target if workspace_id else f"{PREFIX}/workspaces", status_code=303,
            headers=HEADERS)
        response.set_cookie(COOKIE, session.secret, path=PREFIX, httponly=True,
                            samesite="lax", secure=secure,
                            max_age=int(console_sessions.LIFETIME.total_seconds()))
        return response

    @post(f"{PREFIX}/sign_out", name="console_sign_out", status_code=303)
    async def sign_out(request: Request[Any, Any, Any]) -> Response[Any]:
        session = await session_of(rt, request)
        try:
            await read_form(rt, request, session)
        except Refused as refused:
            return refused.response
        if session is not None:
            await console_sessions.end(rt, session.secret)
        response: Response[Any] = Redirect(path=f"{SIGN_IN}?signed_out=1", status_code=303,
                                           headers=HEADERS)
        response.delete_cookie(COOKIE, path=PREFIX)
        return response

    @get(f"{PREFIX}/assets/{{name:str}}", name="console_asset")
    async def asset(name: str) -> Response[bytes]:
        media_type = _ASSETS.get(name)
        if media_type is None:
            return Response(content=b"not found", status_code=404, media_type="text/plain")
        body = resources.files("lockhub.web").joinpath("static", name).read_bytes()
        return Response(content=body, media_type=media_type,
                        headers={"Cache-Control": "public, max-age=300",
                                 "X-Content-Type-Options": "nosniff"})

    return [root, home, sign_in_form, sign_in, sign_out, asset,
            *(_handler(rt, spec) for spec in PAGES)]


async def _workspace_for(rt: Runtime, credential: str) -> str | bool:
    """The workspace a credential opens: an API key's own; for a PAT, its only workspace, or ""
    (choose one next). False: the API does not accept the credential."""
    if not credential.startswith("seam_") or credential.startswith(("seam_cst", "seam_pk")):
        return False
    try:
        if credential.startswith("seam_at"):
            found = (await call(rt, credential, None, "/workspaces/list"))["workspaces"]
            return str(found[0]["workspace_id"]) if len(found) == 1 else ""
        return str((await call(rt, credential, None, "/workspaces/get"))["workspace"]
                   ["workspace_id"])
    except ApiError:
        return False
