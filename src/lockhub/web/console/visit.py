"""One console page view or form post: who is signed in, which workspace they look at, and how
the page talks to the API and answers (templates, redirects, notices).

Pages register with `@page(path)` at import (like the Seam routes with `@route`);
`web/console/__init__.py` turns them into Litestar handlers. A POST reaches its page only
after `forms.check_post` accepted it (same origin, url-encoded, the session's form token).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from litestar import Request, Response
from litestar.response import Redirect

from lockhub.services import console_sessions
from lockhub.services.console_sessions import ConsoleSession
from lockhub.services.runtime import Runtime
from lockhub.web.console.client import call

PREFIX = "/console"
COOKIE = "lockhub_console"
HTML = "text/html; charset=utf-8"
# Everything from lockhub itself; the console is never framed (clickjacking).
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
HEADERS = {"Content-Security-Policy": CSP, "Cache-Control": "no-store",
           "Referrer-Policy": "same-origin", "X-Content-Type-Options": "nosniff"}

# What a redirect after a form may say on the next page (keys only travel in the URL, so no
# link can make the console show a text of its author's).
NOTICES = {
    "locked": "Lock requested.", "unlocked": "Unlock requested.",
    "code_created": "Access code created.", "code_updated": "Access code updated.",
    "code_deleted": "Access code deleted.", "webhook_created": "Webhook created.",
    "webhook_deleted": "Webhook deleted.", "replayed": "Delivery queued again.",
    "clock_changed": "Sandbox clock changed.", "fault_injected": "Failure injected.",
    "faults_cleared": "Faults cleared.", "conditions_set": "Device conditions changed.",
    "pin_entered": "PIN entered on the keypad.", "key_revoked": "API key revoked.",
    "account_deleted": "Connected account removed.", "switched": "Workspace changed.",
}

env = Environment(loader=PackageLoader("lockhub.web", "templates"),
                  autoescape=select_autoescape(default=True), trim_blocks=True,
                  lstrip_blocks=True)


def _when(value: str | None) -> str:
    """An ISO timestamp as people read it (UTC)."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return value
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _words(value: str | None) -> str:
    return (value or "").replace("_", " ")


env.filters["when"] = _when
env.filters["words"] = _words


def form_instant(value: str) -> str | None:
    """A datetime-local field's value (read as UTC) as an ISO timestamp; None when empty."""
    value = value.strip()
    if not value:
        return None
    return value + (":00Z" if len(value) == 16 else "Z")


@dataclass
class Visit:
    rt: Runtime
    request: Request[Any, Any, Any]
    session: ConsoleSession
    workspace: dict[str, Any] | None  # the workspace shown (None: a PAT has not chosen one)
    form: dict[str, str] = field(default_factory=dict)

    @property
    def workspace_id(self) -> str:
        assert self.workspace is not None
        return str(self.workspace["workspace_id"])

    @property
    def query(self) -> Mapping[str, str]:
        return self.request.query_params

    def path_param(self, name: str) -> str:
        return str(self.request.path_params[name])

    async def workspace_now(self) -> datetime:
        """The workspace's time: a sandbox's own clock, else the server's."""
        if self.workspace and self.workspace.get("is_sandbox"):
            clock = (await self.api("/_lockhub/sandbox/clock/get"))["clock"]
            return datetime.fromisoformat(clock["now"].replace("Z", "+00:00"))
        return datetime.now(UTC)

    async def api(self, path: str, **params: Any) -> dict[str, Any]:
        """Call a Seam route as the signed-in person, in the workspace shown."""
        return await call(self.rt, self.session.credential, self.session.workspace_id, path,
                          params)

    def render(self, template: str, status: int = 200, **context: Any) -> Response[str]:
        notice = NOTICES.get(self.query.get("notice", ""))
        body = env.get_template(f"console/{template}").render(
            visit=self, workspace=self.workspace, notice=notice, prefix=PREFIX,
            form_token=console_sessions.form_token(self.rt, self.session.secret),
            is_pat=self.session.is_pat, **context)
        return Response(content=body, status_code=status, media_type=HTML, headers=HEADERS)

    def redirect(self, path: str, notice: str | None = None, **query: str) -> Response[Any]:
        if notice:
            assert notice in NOTICES, notice
            query["notice"] = notice
        target = PREFIX + path + (f"?{urlencode(query)}" if query else "")
        return Redirect(path=target, status_code=303, headers=HEADERS)


PageFn = Callable[[Visit], Awaitable[Response[Any]]]


@dataclass(frozen=True)
class Page:
    path: str  # under PREFIX, with Litestar path parameters ({device_id:str})
    methods: tuple[str, ...]
    fn: PageFn
    needs_workspace: bool


PAGES: list[Page] = []


def page(path: str, *, methods: tuple[str, ...] = ("GET",),
         needs_workspace: bool = True) -> Callable[[PageFn], PageFn]:
    def register(fn: PageFn) -> PageFn:
        PAGES.append(Page(path, methods, fn, needs_workspace))
        return fn
    return register


def standalone(template: str, status: int = 200, **context: Any) -> Response[str]:
    """A page outside a session (sign-in, messages)."""
    body = env.get_template(f"console/{template}").render(prefix=PREFIX, visit=None,
                                                         workspace=None, **context)
    return Response(content=body, status_code=status, media_type=HTML, headers=HEADERS)
