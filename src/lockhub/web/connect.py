"""The Connect Webview pages: brand picker, each brand's sign-in form, second factor, result.

Served at the webview's `url` (/connect_webviews/view?connect_webview_id=…&auth_token=…).
Links and the form action are relative, so the pages work behind any public base URL.
The result page posts `connect_webview.login_succeeded` / `login_failed` to a parent window
(when embedded in an iframe) and then follows the webview's redirect URL.

Framing by any site stays allowed (Seam's guides embed the webview in an iframe), so the
sign-in POST guards itself: it must come from lockhub's own pages (its `Origin`, else its
`Referer`, names lockhub; clients that send neither, as non-browser clients do, pass) and be
a url-encoded form, and the result is posted only to the integrator's app (the origin of
the redirect URL).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from litestar import Request, Response, get, post
from litestar.handlers import HTTPRouteHandler

from lockhub.catalogue import Brand, sign_in_kind
from lockhub.errors import LockhubError, NotFound
from lockhub.providers.base import ProviderError
from lockhub.providers.sandbox.provider import test_accounts
from lockhub.services import connect_webviews as service
from lockhub.services.runtime import Runtime
from lockhub.web import origins
from lockhub.web.origins import is_form, sent_by_another_site

_env = Environment(loader=PackageLoader("lockhub.web", "templates"),
                   autoescape=select_autoescape(default=True), trim_blocks=True,
                   lstrip_blocks=True)
# Embedding in any site's iframe is the point of these pages; everything else stays local.
_CSP = ("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
        "img-src 'self' data: https:; form-action 'self'; base-uri 'none'")
# The page URL carries the webview's token: no other site sees it as a referrer. (Not
# no-referrer: then browsers send `Origin: null` with the page's own form, which would be
# refused with the forged ones.)
_REFERRER_POLICY = "same-origin"
_HTML = "text/html; charset=utf-8"
_SECOND_FACTOR_PROMPTS = {
    "Others": "We emailed you a verification code. Enter it to finish signing in.",
}
# The picker, relative to the OAuth callback's URL.
_FROM_CALLBACK = "../view"
_DEFAULT_PROMPT = "We sent a verification code to your phone. Enter it to finish signing in."


def _page(template: str, status: int = 200, **context: Any) -> Response[str]:
    body = _env.get_template(template).render(**context)
    return Response(content=body, status_code=status, media_type=_HTML,
                    headers={"Content-Security-Policy": _CSP, "Cache-Control": "no-store",
                             "Referrer-Policy": _REFERRER_POLICY})


def _layout(page: service.PageContext | None) -> dict[str, Any]:
    """What base.html needs: the workspace's name, sandbox banner and customization."""
    if page is None:
        return {"partner": "lockhub", "is_sandbox": False, "inviter_logo_url": None,
                "logo_shape": "square", "theme": _theme({})}
    custom = page.workspace.connect_webview_customization or {}
    return {
        "partner": page.workspace.connect_partner_name or page.workspace.company_name
        or page.workspace.name,
        "is_sandbox": page.workspace.is_sandbox,
        "inviter_logo_url": custom.get("inviter_logo_url"),
        "logo_shape": custom.get("logo_shape") or "square",
        "theme": _theme(custom),
    }


def _theme(custom: dict[str, Any]) -> dict[str, str]:
    return {"button": _css_color(custom.get("primary_button_color"), "#1f5fd6"),
            "button_text": _css_color(custom.get("primary_button_text_color"), "#ffffff"),
            "tile_radius": "50%" if custom.get("logo_shape") == "circle" else "10px"}


def _css_color(value: Any, default: str) -> str:
    """Only plain colour tokens reach the style sheet (the value is the integrator's input)."""
    if isinstance(value, str) and value and all(c.isalnum() or c in "#(),. %" for c in value):
        return value
    return default


def _target_origin(url: str | None) -> str | None:
    """What the result page passes to postMessage as targetOrigin: the origin of the
    integrator's redirect URL, or `*` when the webview has none (the message then reaches
    any embedding page; it holds ids only, no secret). None: the URL has no usable origin,
    and nothing is posted."""
    if not url:
        return "*"
    origin = origins.origin(url)
    if origin is None:
        return None
    scheme, host, port = origin
    host = f"[{host}]" if ":" in host else host  # IPv6
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{host}" + ("" if port == default else f":{port}")


def _refused_sign_in(request: Request[Any, Any, Any], base_url: str) -> Response[str] | None:
    """A sign-in POST that did not come from lockhub's own form: sent by another site (its
    `Origin`, or without one its `Referer`, names another origin: a forged form), or not a
    url-encoded form (`text/plain` and multipart bodies are how forged forms are sent)."""
    if sent_by_another_site(request, base_url):
        return _page("message.html", status=403, **_layout(None), heading="Sign-in refused",
                     message="This sign-in form was sent from another site. Open your "
                             "sign-in link again to sign in.")
    if not is_form(request):
        return _page("message.html", status=415, **_layout(None), heading="Sign-in refused",
                     message=f"The sign-in form must be sent as {origins.FORM}.")
    return None


def _query(page: service.PageContext) -> str:
    return urlencode({"connect_webview_id": page.webview.connect_webview_id,
                      "auth_token": page.webview.auth_token})


def _hint(brand: Brand, second_factor: bool) -> str | None:
    """Sandbox pages name a documented test account, so a developer can sign in at once."""
    accounts = test_accounts().get(brand.key)
    if not accounts:
        return None
    kind = sign_in_kind(brand, sandbox=True)
    names = [f.name for f in (kind.second_factor if second_factor else kind.fields)]
    login = accounts[0]["login"]
    return " · ".join(f"{name.replace('_', ' ')}: {login[name]}" for name in names
                      if name in login)


def _oauth_url(rt: Runtime, page: service.PageContext, brand: Brand) -> str:
    """Where the brand's "Continue" button leads: its own sign-in page, which returns to
    lockhub's OAuth callback with a code and this webview's signed state."""
    provider: Any = rt.providers.for_workspace(page.workspace.is_sandbox)[brand.key]
    return provider.authorize_url(service.oauth_state(rt.settings, page.webview, brand.key),
                                  service.oauth_redirect_uri(rt.settings))


def _sign_in_form(rt: Runtime, page: service.PageContext, brand: Brand, *, second_factor: bool,
                  values: dict[str, str], error: str | None, prompt: str | None = None,
                  view_path: str = "") -> Response[str]:
    """The brand's page; `view_path` leads back to the picker from pages served elsewhere
    (links are relative to the page)."""
    kind = sign_in_kind(brand, page.workspace.is_sandbox)
    oauth_url = None
    if kind.oauth:
        try:
            oauth_url = _oauth_url(rt, page, brand)
        except ProviderError as exc:
            error = error or exc.message
    return _page(
        "sign_in.html", **_layout(page), brand=brand, query=_query(page),
        oauth=kind.oauth, oauth_url=oauth_url, view_path=view_path,
        webview_id=page.webview.connect_webview_id, auth_token=page.webview.auth_token,
        fields=kind.second_factor if second_factor else kind.fields,
        choices=[] if second_factor else kind.choices, second_factor=second_factor,
        second_factor_prompt=prompt or _DEFAULT_PROMPT, values=values, error=error,
        hint=_hint(brand, second_factor) if page.workspace.is_sandbox else None)


def _closed(page: service.PageContext) -> Response[str]:
    if page.webview.status == "authorized":
        return _page("message.html", status=409, **_layout(page), heading="Already connected",
                     message="This link has already been used to connect an account. "
                             "Ask for a new link to connect another one.")
    return _page("message.html", status=409, **_layout(page), heading="Link no longer valid",
                 message="Signing in through this link failed. Ask for a new link to try again.")


def _invalid_link() -> Response[str]:
    return _page("message.html", status=404, **_layout(None), heading="Link not valid",
                 message="This sign-in link is not valid. Check that you copied all of it.")


def _result(page: service.PageContext, outcome: service.SignInOutcome) -> Response[str]:
    webview = page.webview
    custom = page.workspace.connect_webview_customization or {}
    target_origin = _target_origin(webview.custom_redirect_url
                                   or webview.custom_redirect_failure_url)
    if isinstance(outcome, service.Authorized):
        return _page("done.html", **_layout(page), success=True, heading="Connected",
                     target_origin=target_origin,
                     message=custom.get("success_message")
                     or "Your account is connected. You can close this window.",
                     redirect_url=webview.custom_redirect_url,
                     browser_message={"event": "connect_webview.login_succeeded",
                                      "connect_webview_id": webview.connect_webview_id,
                                      "connected_account_id": outcome.connected_account_id})
    return _page("done.html", **_layout(page), success=False, heading="Could not connect",
                 target_origin=target_origin,
                 message=getattr(outcome, "message", ""),
                 redirect_url=webview.custom_redirect_failure_url or webview.custom_redirect_url,
                 browser_message={"event": "connect_webview.login_failed",
                                  "connect_webview_id": webview.connect_webview_id})


def route_handlers(rt: Runtime) -> list[HTTPRouteHandler]:
    async def load(webview_id: str | None, token: str | None) -> service.PageContext | None:
        if not webview_id or not token:
            return None
        try:
            return await service.open_webview(rt, webview_id, token)
        except NotFound:
            return None

    @get(service.VIEW_PATH, name="connect_webview_view", media_type=_HTML)
    async def view(connect_webview_id: str | None = None, auth_token: str | None = None,
                   provider: str | None = None) -> Response[str]:
        page = await load(connect_webview_id, auth_token)
        if page is None:
            return _invalid_link()
        if page.webview.status != "pending":
            return _closed(page)
        brand = next((b for b in page.brands if b.key == provider), None)
        if brand is None:
            return _page("picker.html", **_layout(page), brands=page.brands, query=_query(page))
        return _sign_in_form(rt, page, brand, second_factor=False, values={}, error=None)

    @post(service.VIEW_PATH, name="connect_webview_sign_in", media_type=_HTML, status_code=200)
    async def sign_in(request: Request[Any, Any, Any]) -> Response[str]:
        refused = _refused_sign_in(request, rt.settings.base_url)
        if refused is not None:
            return refused
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"),
                              keep_blank_values=True))
        page = await load(form.get("connect_webview_id"), form.get("auth_token"))
        if page is None:
            return _invalid_link()
        if page.webview.status != "pending":
            return _closed(page)
        brand = next((b for b in page.brands if b.key == form.get("provider")), None)
        if brand is None:
            return _page("picker.html", status=422, **_layout(page), brands=page.brands,
                         query=_query(page))
        try:
            outcome = await service.sign_in(rt, page, brand.key, form)
        except LockhubError:
            # Another submission completed the webview meanwhile: say what it became.
            return _closed(await load(form.get("connect_webview_id"),
                                      form.get("auth_token")) or page)
        if isinstance(outcome, service.NeedsSecondFactor):
            prompt = _SECOND_FACTOR_PROMPTS.get(form.get("region", ""), _DEFAULT_PROMPT)
            return _sign_in_form(rt, page, brand, second_factor=True, values={}, error=None,
                                 prompt=prompt)
        if isinstance(outcome, service.TryAgain):
            second_step = any(form.get(f.name) for f in
                              sign_in_kind(brand, page.workspace.is_sandbox).second_factor)
            return _sign_in_form(rt, page, brand, second_factor=second_step, values=form,
                                 error=outcome.message)
        return _result(page, outcome)

    @get(service.OAUTH_CALLBACK_PATH, name="connect_webview_oauth_callback", media_type=_HTML)
    async def oauth_callback(request: Request[Any, Any, Any]) -> Response[str]:
        """The brand's sign-in page sends the user back here (`?code&state`, or `?error`):
        finish the sign-in the webview's form would (the same `sign_in`), with the code
        instead of typed credentials. (`state` is a name Litestar reserves: read the query.)"""
        query = request.query_params
        code, error = query.get("code"), query.get("error")
        try:
            page, brand_key = await service.open_oauth_state(rt, query.get("state") or "")
        except NotFound:
            return _invalid_link()
        if page.webview.status != "pending":
            return _closed(page)
        brand = next((b for b in page.brands if b.key == brand_key), None)
        if brand is None:
            return _invalid_link()
        if not code:
            message = "Access was not allowed. Continue to sign in and allow access to " \
                      "connect your account." if error == "access_denied" else \
                      f"{brand.display_name}'s sign-in did not complete ({error or 'no code'})."
            return _sign_in_form(rt, page, brand, second_factor=False, values={}, error=message,
                                 view_path=_FROM_CALLBACK)
        form = {"code": code, "redirect_uri": service.oauth_redirect_uri(rt.settings)}
        try:
            outcome = await service.sign_in(rt, page, brand.key, form)
        except LockhubError:
            return _closed(await load(page.webview.connect_webview_id,
                                      page.webview.auth_token) or page)
        if isinstance(outcome, service.TryAgain | service.NeedsSecondFactor):
            return _sign_in_form(rt, page, brand, second_factor=False, values={},
                                 error=outcome.message, view_path=_FROM_CALLBACK)
        return _result(page, outcome)

    return [view, sign_in, oauth_callback]
