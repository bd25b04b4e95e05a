"""Connect Webviews: the hosted sign-in through which an end user links a provider account.

A webview is created through the API, opened by the end user at its `url` (pages served by
lockhub.web.connect), and completed once: the sign-in creates or reconnects the connected
account inside the same transaction that marks the webview authorized.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import msgspec
from sqlalchemy import String, cast, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from lockhub import secret_box
from lockhub.catalogue import OAUTH_FIELDS, Brand, sign_in_kind
from lockhub.catalogue import brands as catalogue_brands
from lockhub.clock import iso
from lockhub.config import Settings
from lockhub.domain.objects import ConnectWebview
from lockhub.domain.urls import InvalidUrl, parse_http_url
from lockhub.errors import InvalidInput, LockhubError, NotFound
from lockhub.ids import new_id
from lockhub.providers.base import ProviderError, SecondFactorRequired
from lockhub.providers.sandbox.provider import test_accounts
from lockhub.services import client_sessions, events
from lockhub.services.connected_accounts import NewAccountSettings, connect_account
from lockhub.services.custom_metadata import merge_custom_metadata, metadata_has_conditions
from lockhub.services.runtime import Runtime
from lockhub.store.keyset import keyset_page
from lockhub.store.owned import owned_row
from lockhub.store.tables import connect_webviews, workspaces

W = connect_webviews
VIEW_PATH = "/connect_webviews/view"
# Where a brand's OAuth sign-in sends the user back (the redirect URI its app registers).
OAUTH_CALLBACK_PATH = "/connect_webviews/oauth/callback"
# Wrong passwords a webview tolerates before it fails for good (status `failed`).
MAX_FAILED_ATTEMPTS = 5
# Provider errors that mean "the user typed something wrong": the page asks again.
_RETRY_ERRORS = {"invalid_credentials", "invalid_second_factor"}


class WebviewRequest(msgspec.Struct, frozen=True):
    """The parameters of /connect_webviews/create, already type-checked."""

    accepted_providers: list[str] | None = None
    excluded_providers: list[str] = []
    provider_category: str | None = None
    accepted_capabilities: list[str] | None = None
    custom_redirect_url: str | None = None
    custom_redirect_failure_url: str | None = None
    custom_metadata: dict[str, Any] = {}
    customer_key: str | None = None
    automatically_manage_new_devices: bool = True
    wait_for_device_creation: bool = False
    device_selection_mode: str = "none"


def to_connect_webview(row: Any, base_url: str) -> ConnectWebview:
    webview = ConnectWebview(
        connect_webview_id=row.connect_webview_id, workspace_id=row.workspace_id,
        created_at=iso(row.created_at), connected_account_id=row.connected_account_id,
        url=view_url(base_url, row), device_selection_mode=row.device_selection_mode,
        accepted_providers=list(row.accepted_providers),
        accepted_capabilities=list(row.accepted_capabilities), accepted_devices=[],
        any_device_allowed=False, any_provider_allowed=row.any_provider_allowed,
        login_successful=row.login_successful, status=row.status,
        custom_redirect_url=row.custom_redirect_url,
        custom_redirect_failure_url=row.custom_redirect_failure_url,
        custom_metadata=dict(row.custom_metadata),
        automatically_manage_new_devices=row.automatically_manage_new_devices,
        wait_for_device_creation=row.wait_for_device_creation,
        authorized_at=iso(row.authorized_at) if row.authorized_at else None,
        selected_provider=row.selected_provider)
    if row.customer_key is not None:
        webview.customer_key = row.customer_key
    return webview


def view_url(base_url: str, row: Any) -> str:
    query = urlencode({"connect_webview_id": row.connect_webview_id,
                       "auth_token": row.auth_token})
    return f"{base_url}{VIEW_PATH}?{query}"


def _absolute_url(field_name: str, value: str | None) -> None:
    if value is None:
        return
    try:
        parse_http_url(value)
    except InvalidUrl as exc:
        raise InvalidInput.for_field([field_name], str(exc)) from None


def _resolve_providers(request: WebviewRequest,
                       available: set[str]) -> tuple[list[str], bool]:
    """(accepted_providers, any_provider_allowed) as the webview reports them: a list given is
    kept as given; a category or the default means the brands this workspace can connect."""
    known = {k: b for k, b in catalogue_brands().items() if k in available}
    if request.accepted_providers is not None:
        chosen = list(dict.fromkeys(request.accepted_providers))
        any_allowed = False
    elif request.provider_category is not None:
        chosen = [k for k, b in known.items() if request.provider_category in b.provider_categories]
        any_allowed = False
    else:
        chosen = list(known)
        any_allowed = True
    excluded = set(request.excluded_providers)
    return [key for key in chosen if key not in excluded], any_allowed and not excluded


def _default_capabilities(providers: list[str]) -> list[str]:
    known = catalogue_brands()
    found = {cap for key in providers for cap in getattr(
        known.get(PROVIDER_ALIASES.get(key, key)), "capabilities", [])}
    return sorted(found) or ["lock"]


async def create(rt: Runtime, workspace_id: str, request: WebviewRequest, *,
                 client_session_id: str | None = None) -> Any:
    """A new pending webview; one a client session creates joins that session's grants."""
    _absolute_url("custom_redirect_url", request.custom_redirect_url)
    _absolute_url("custom_redirect_failure_url", request.custom_redirect_failure_url)
    metadata = merge_custom_metadata({}, request.custom_metadata)
    async with rt.db.read() as conn:
        is_sandbox = (await conn.execute(select(workspaces.c.is_sandbox).where(
            workspaces.c.workspace_id == workspace_id))).scalar_one()
    providers, any_allowed = _resolve_providers(
        request, set(rt.providers.for_workspace(bool(is_sandbox))))
    values = {
        "connect_webview_id": new_id(), "workspace_id": workspace_id,
        "auth_token": secrets.token_urlsafe(24), "status": "pending",
        "login_successful": False, "connected_account_id": None, "authorized_at": None,
        "selected_provider": None, "accepted_providers": providers,
        "any_provider_allowed": any_allowed,
        "accepted_capabilities": request.accepted_capabilities
        if request.accepted_capabilities is not None else _default_capabilities(providers),
        "device_selection_mode": request.device_selection_mode,
        "custom_redirect_url": request.custom_redirect_url,
        "custom_redirect_failure_url": request.custom_redirect_failure_url,
        "custom_metadata": metadata, "customer_key": request.customer_key,
        "automatically_manage_new_devices": request.automatically_manage_new_devices,
        "wait_for_device_creation": request.wait_for_device_creation,
        "pending_login": None, "failed_attempts": 0, "created_at": rt.clock.now(),
    }
    async with rt.db.write() as conn:
        await conn.execute(W.insert().values(**values))
        if client_session_id is not None:
            await client_sessions.add_connect_webview(conn, client_session_id,
                                                      values["connect_webview_id"])
        return (await conn.execute(select(W).where(
            W.c.connect_webview_id == values["connect_webview_id"]))).one()


async def get_row(conn: AsyncConnection, workspace_id: str, connect_webview_id: str) -> Any:
    return await owned_row(conn, W, W.c.connect_webview_id, workspace_id, connect_webview_id,
                           "connect_webview")


async def connected_account_of(rt: Runtime, workspace_id: str,
                               connect_webview_id: str) -> str | None:
    """The account a webview of the workspace connected (None: none yet, or no such webview)."""
    async with rt.db.read() as conn:
        return (await conn.execute(select(W.c.connected_account_id).where(
            W.c.workspace_id == workspace_id,
            W.c.connect_webview_id == connect_webview_id))).scalar_one_or_none()


async def list_rows(conn: AsyncConnection, workspace_id: str, *, search: str | None,
                    customer_key: str | None, custom_metadata_has: dict[str, Any] | None,
                    connect_webview_ids: list[str] | None,
                    after: tuple[datetime, str] | None,
                    limit: int) -> tuple[list[Any], tuple[str, str] | None]:
    cond: list[Any] = [W.c.workspace_id == workspace_id]
    if connect_webview_ids is not None:
        cond.append(W.c.connect_webview_id.in_(connect_webview_ids))
    if customer_key is not None:
        cond.append(W.c.customer_key == customer_key)
    cond.extend(metadata_has_conditions(W.c.custom_metadata, custom_metadata_has))
    if search:
        # The user's text is matched literally: `%` and `_` are not wildcards.
        needle = search.lower()
        cond.append(or_(W.c.connect_webview_id.startswith(search, autoescape=True),
                        func.lower(cast(W.c.accepted_providers, String)).contains(
                            needle, autoescape=True),
                        func.lower(cast(W.c.custom_metadata, String)).contains(
                            needle, autoescape=True),
                        func.lower(W.c.customer_key).contains(needle, autoescape=True)))
    return await keyset_page(conn, select(W).where(*cond), W.c.created_at,
                             W.c.connect_webview_id, after=after, limit=limit)


async def delete(rt: Runtime, workspace_id: str, connect_webview_id: str) -> None:
    """Remove the webview; an account it already connected stays."""
    async with rt.db.write() as conn:
        await get_row(conn, workspace_id, connect_webview_id)
        await conn.execute(W.delete().where(W.c.connect_webview_id == connect_webview_id))


# --- the end user's side (pages) -----------------------------------------------------------


class PageContext(msgspec.Struct, frozen=True):
    """A webview as its pages need it: the row, its workspace, and the brands it offers."""

    webview: Any
    workspace: Any
    brands: list[Brand]


async def open_webview(rt: Runtime, connect_webview_id: str,
                       auth_token: str | None) -> PageContext:
    """The webview a page URL names, if its token matches (compared in constant time).
    `auth_token` None skips the check (the test hook, which names the webview by id alone)."""
    async with rt.db.read() as conn:
        row = (await conn.execute(select(W).where(
            W.c.connect_webview_id == connect_webview_id))).first()
        if row is None or auth_token is not None and not hmac.compare_digest(
                row.auth_token.encode(), auth_token.encode()):
            raise NotFound("connect_webview", {"connect_webview_id": connect_webview_id})
        workspace = (await conn.execute(select(workspaces).where(
            workspaces.c.workspace_id == row.workspace_id))).one()
    return PageContext(webview=row, workspace=workspace,
                       brands=offered_brands(rt, row, workspace.is_sandbox))


def offered_brands(rt: Runtime, row: Any, is_sandbox: bool) -> list[Brand]:
    """Brands the picker shows: accepted by the webview, reachable from this kind of workspace
    (sandbox: virtual devices; production: real providers), and with an accepted capability."""
    available = rt.providers.for_workspace(is_sandbox)
    known = catalogue_brands()
    wanted = set(row.accepted_capabilities)
    keys = dict.fromkeys(PROVIDER_ALIASES.get(key, key) for key in row.accepted_providers)
    return [known[key] for key in keys
            if key in available and key in known and wanted & set(known[key].capabilities)]


# Seam's webviews accept two names for Google Nest; the catalogue's brand is `nest`.
PROVIDER_ALIASES = {"google_nest": "nest"}


def oauth_redirect_uri(settings: Settings) -> str:
    return f"{settings.base_url}{OAUTH_CALLBACK_PATH}"


def _state_signature(settings: Settings, connect_webview_id: str, brand_key: str,
                     auth_token: str) -> str:
    message = f"{connect_webview_id}\n{brand_key}\n{auth_token}".encode()
    return hmac.new(secret_box.derived_key(settings, "connect_webview_oauth_state"), message,
                    hashlib.sha256).hexdigest()


def oauth_state(settings: Settings, row: Any, brand_key: str) -> str:
    """The OAuth `state` of a webview's sign-in with a brand: it names the webview and the
    brand, and is signed with the webview's auth token (which never leaves lockhub's pages),
    so the callback knows which webview to complete and that this page sent the user."""
    signature = _state_signature(settings, row.connect_webview_id, brand_key, row.auth_token)
    return f"{row.connect_webview_id}.{brand_key}.{signature}"


async def open_oauth_state(rt: Runtime, state: str) -> tuple[PageContext, str]:
    """The webview and brand an OAuth callback's `state` names; NotFound unless its signature
    is valid."""
    webview_id, _, rest = state.partition(".")
    brand_key, _, signature = rest.partition(".")
    page = await open_webview(rt, webview_id, None) if webview_id and signature else None
    if page is None or not hmac.compare_digest(signature.encode(), _state_signature(
            rt.settings, webview_id, brand_key, page.webview.auth_token).encode()):
        raise NotFound("connect_webview", {"connect_webview_id": webview_id})
    return page, brand_key


class Authorized(msgspec.Struct, frozen=True):
    connected_account_id: str


class NeedsSecondFactor(msgspec.Struct, frozen=True):
    message: str


class TryAgain(msgspec.Struct, frozen=True):
    message: str


class Failed(msgspec.Struct, frozen=True):
    message: str


SignInOutcome = Authorized | NeedsSecondFactor | TryAgain | Failed


def _already_used() -> LockhubError:
    return LockhubError("This Connect Webview has already been used.",
                        error_type="connect_webview_already_used")


def _while_pending(connect_webview_id: str) -> Any:
    """An UPDATE of the webview that applies only while it is still pending: two sign-ins
    submitted at once (two tabs, a double click) read it pending, and only the first write
    wins. The caller checks the row count and answers the loser with `_already_used`."""
    return update(W).where(W.c.connect_webview_id == connect_webview_id,
                           W.c.status == "pending")


async def sign_in(rt: Runtime, page: PageContext, brand_key: str,
                  form: dict[str, str]) -> SignInOutcome:
    """One submission of a brand's sign-in form (first step, or the second factor)."""
    row = page.webview
    if row.status != "pending":
        raise _already_used()
    if brand_key not in {b.key for b in page.brands}:
        raise NotFound("provider", {"provider": brand_key})
    kind = sign_in_kind(catalogue_brands()[brand_key], page.workspace.is_sandbox)
    asked = [f.name for f in kind.fields] + [c.name for c in kind.choices] \
        + (list(OAUTH_FIELDS) if kind.oauth else [])
    second = [f.name for f in kind.second_factor]
    if row.pending_login and row.selected_provider == brand_key and any(form.get(n)
                                                                          for n in second):
        given = {**json.loads(secret_box.decrypt(rt.settings, row.pending_login)),
                 **{n: form.get(n, "").strip() for n in second}}
    else:
        given = {n: form[n].strip() for n in asked + second if form.get(n)}
    provider = rt.providers.for_workspace(page.workspace.is_sandbox)[brand_key]

    async def mark_authorized(conn: AsyncConnection, account_id: str) -> None:
        now = rt.clock.now()
        marked = await conn.execute(_while_pending(row.connect_webview_id).values(
            status="authorized", login_successful=True, connected_account_id=account_id,
            authorized_at=now, selected_provider=brand_key, pending_login=None))
        if marked.rowcount != 1:
            # Raised inside connect_account's transaction: the account is not recorded either.
            raise _already_used()
        await events.record(conn, now=now, workspace_id=row.workspace_id,
                            event_type="connect_webview.login_succeeded",
                            connect_webview_id=row.connect_webview_id,
                            connected_account_id=account_id, customer_key=row.customer_key)

    try:
        account_id = await connect_account(
            rt, row.workspace_id, brand_key, given, provider_name=provider.name,
            settings=NewAccountSettings(
                automatically_manage_new_devices=row.automatically_manage_new_devices,
                custom_metadata=dict(row.custom_metadata), customer_key=row.customer_key,
                accepted_capabilities=list(row.accepted_capabilities),
                connect_webview_id=row.connect_webview_id),
            within=mark_authorized)
    except SecondFactorRequired as exc:
        pending = secret_box.encrypt(rt.settings, json.dumps(given))
        async with rt.db.write() as conn:
            asked = await conn.execute(_while_pending(row.connect_webview_id).values(
                pending_login=pending, selected_provider=brand_key))
            if asked.rowcount != 1:
                raise _already_used() from None
        return NeedsSecondFactor(exc.message)
    except ProviderError as exc:
        if exc.error_type in _RETRY_ERRORS or exc.retryable:
            return await _count_failure(rt, row, brand_key, exc.message)
        await _fail(rt, row, brand_key, exc.message)
        return Failed(exc.message)
    return Authorized(account_id)


async def _count_failure(rt: Runtime, row: Any, brand_key: str, message: str) -> SignInOutcome:
    """Count one wrong try (an atomic increment, so tries submitted at once all count); the
    last allowed one fails the webview in the same transaction."""
    async with rt.db.write() as conn:
        counted = await conn.execute(_while_pending(row.connect_webview_id).values(
            failed_attempts=W.c.failed_attempts + 1))
        if counted.rowcount != 1:
            raise _already_used()
        attempts = (await conn.execute(select(W.c.failed_attempts).where(
            W.c.connect_webview_id == row.connect_webview_id))).scalar_one()
        if attempts >= MAX_FAILED_ATTEMPTS:
            await _mark_failed(conn, rt, row, brand_key, "Too many failed sign-in attempts.")
            return Failed("Too many failed sign-in attempts.")
    return TryAgain(message)


async def _fail(rt: Runtime, row: Any, brand_key: str, message: str) -> None:
    async with rt.db.write() as conn:
        await _mark_failed(conn, rt, row, brand_key, message)


async def _mark_failed(conn: AsyncConnection, rt: Runtime, row: Any, brand_key: str,
                       message: str) -> None:
    failed = await conn.execute(_while_pending(row.connect_webview_id).values(
        status="failed", selected_provider=brand_key, pending_login=None))
    if failed.rowcount != 1:
        raise _already_used()
    await events.record(conn, now=rt.clock.now(), workspace_id=row.workspace_id,
                        event_type="connect_webview.login_failed",
                        connect_webview_id=row.connect_webview_id,
                        customer_key=row.customer_key, error_message=message)


async def complete_with_test_account(rt: Runtime, connect_webview_id: str) -> Any:
    """The fake's /_fake/complete_connect_webview: sign in with the first documented test
    account of the first brand the webview offers (August when it is offered)."""
    page = await open_webview(rt, connect_webview_id, None)
    keys = [b.key for b in page.brands]
    if not keys:
        raise LockhubError("This Connect Webview offers no provider with test accounts.",
                           error_type="no_provider_available")
    brand_key = "august" if "august" in keys else keys[0]
    outcome = await sign_in(rt, page, brand_key, dict(test_accounts()[brand_key][0]["login"]))
    if not isinstance(outcome, Authorized):
        raise LockhubError(f"Sign-in failed: {getattr(outcome, 'message', '')}",
                           error_type="connect_webview_login_failed")
    async with rt.db.read() as conn:
        return await get_row(conn, page.webview.workspace_id, connect_webview_id)
