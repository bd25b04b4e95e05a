"""Who may see a console page, and which posts it accepts.

A page needs a live session (the cookie's secret names an unexpired row) whose credential the
API still accepts: the console asks `/workspaces/get` (an API key's workspace, or the PAT's
chosen one) on every view, so a revoked key or a removed membership signs the person out at
once. A post must also come from lockhub's own pages, as a url-encoded form carrying the
session's form token.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from litestar import Request, Response

from lockhub.services import console_sessions
from lockhub.services.console_sessions import ConsoleSession
from lockhub.services.runtime import Runtime
from lockhub.web.console.client import ApiError, call
from lockhub.web.console.visit import COOKIE, standalone
from lockhub.web.origins import is_form, sent_by_another_site


class Refused(Exception):
    """A request the console answers with a page of its own (sign-in, refusal)."""

    def __init__(self, response: Response[Any]) -> None:
        self.response = response


async def session_of(rt: Runtime, request: Request[Any, Any, Any]) -> ConsoleSession | None:
    return await console_sessions.open_session(rt, request.cookies.get(COOKIE))


async def current_workspace(rt: Runtime, session: ConsoleSession) -> dict[str, Any] | None:
    """The workspace the session shows, as the API describes it to this credential; None when
    a PAT has chosen none yet. `ApiError` (401) when the credential is no longer accepted."""
    if session.is_pat and not session.workspace_id:
        return None
    body = await call(rt, session.credential, session.workspace_id, "/workspaces/get")
    return dict(body["workspace"])


async def read_form(rt: Runtime, request: Request[Any, Any, Any],
                    session: ConsoleSession | None) -> dict[str, str]:
    """The posted form, or `Refused`: sent by another site, not a url-encoded form, or (with a
    session) without the session's form token."""
    if sent_by_another_site(request, rt.settings.base_url):
        raise Refused(standalone("message.html", status=403, heading="Request refused",
                                 message="This form was sent from another site."))
    if not is_form(request):
        raise Refused(standalone("message.html", status=415, heading="Request refused",
                                 message="Forms must be sent as "
                                         "application/x-www-form-urlencoded."))
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"),
                          keep_blank_values=True))
    if session is not None and not console_sessions.form_token_matches(
            rt, session.secret, form.get("form_token")):
        raise Refused(standalone("message.html", status=403, heading="Request refused",
                                 message="This form has expired or did not come from this "
                                         "console. Go back, reload the page and try again."))
    return form


def is_signed_out(exc: ApiError) -> bool:
    return exc.status == 401 or exc.error.get("type") == "workspace_suspended"
