"""/client_sessions/*: credentials for browsers and apps, scoped to what they were granted.

An API key or personal access token creates sessions with any grants; a publishable key (from a
browser, with the end user's `user_identifier_key`) gets or creates that user's session, which
starts empty: the integrator's backend grants it accounts, webviews or user identities.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

from lockhub.api.context import Ctx
from lockhub.api.params import given
from lockhub.api.routing import route
from lockhub.domain.objects import ClientSession
from lockhub.errors import InvalidInput, LockhubError
from lockhub.services import client_sessions as service

NonEmpty = Annotated[str, Meta(min_length=1)]


class GrantParams(msgspec.Struct):
    connected_account_ids: list[str] | UnsetType = UNSET
    connect_webview_ids: list[str] | UnsetType = UNSET
    user_identity_id: str | UnsetType = UNSET
    user_identity_ids: list[str] | UnsetType = UNSET
    user_identifier_key: NonEmpty | UnsetType = UNSET


class GetOrCreateParams(GrantParams):
    expires_at: datetime | UnsetType = UNSET


class CreateClientSessionParams(GetOrCreateParams):
    customer_id: str | UnsetType = UNSET
    customer_key: NonEmpty | UnsetType = UNSET


class GetClientSessionParams(msgspec.Struct):
    client_session_id: str | UnsetType = UNSET
    user_identifier_key: str | UnsetType = UNSET


class ListClientSessionsParams(msgspec.Struct):
    client_session_id: str | UnsetType = UNSET
    connect_webview_id: str | UnsetType = UNSET
    user_identifier_key: str | UnsetType = UNSET
    user_identity_id: str | UnsetType = UNSET
    without_user_identifier_key: bool = False


class GrantAccessParams(GrantParams):
    client_session_id: str | UnsetType = UNSET


class ClientSessionIdParams(msgspec.Struct):
    client_session_id: str


def _grants(params: GrantParams) -> service.Grants:
    identities = list(given(params.user_identity_ids) or [])
    if params.user_identity_id is not UNSET:
        identities.insert(0, params.user_identity_id)
    return service.Grants(
        connected_account_ids=tuple(given(params.connected_account_ids) or ()),
        connect_webview_ids=tuple(given(params.connect_webview_ids) or ()),
        user_identity_ids=tuple(identities))


def _from_publishable_key(ctx: Ctx, params: GrantParams) -> bool:
    """A publishable key may only get or create an empty session for a given user."""
    if ctx.principal is None or not ctx.principal.publishable_key:
        return False
    if params.user_identifier_key is UNSET:
        raise LockhubError("Must provide a user_identifier_key with a seam-publishable-key",
                           error_type="publishable_key_requires_user_identifier_key",
                           status_code=401)
    if not _grants(params).empty:
        raise LockhubError("A publishable key creates empty client sessions: grant accounts, "
                           "webviews or user identities with an API key",
                           error_type="publishable_keys_must_create_empty_client_sessions",
                           status_code=403)
    return True


@route("/client_sessions/create", alias="PUT", params=CreateClientSessionParams,
       response_key="client_session", response=ClientSession, publishable_key=True)
async def create_client_session(ctx: Ctx, params: CreateClientSessionParams) -> ClientSession:
    """Create a client session token (`seam_cst…`) that sees only what it is granted."""
    _from_publishable_key(ctx, params)
    return await service.create(
        ctx.rt, ctx.workspace_id, _grants(params),
        user_identifier_key=given(params.user_identifier_key),
        customer_key=given(params.customer_key), expires_at=given(params.expires_at),
        existing_ok=ctx.method == "PUT")


@route("/client_sessions/get_or_create", params=GetOrCreateParams,
       response_key="client_session", response=ClientSession, publishable_key=True)
async def get_or_create_client_session(ctx: Ctx, params: GetOrCreateParams) -> ClientSession:
    """The session of a user identifier key (grants added, expiry moved), or a new one."""
    _from_publishable_key(ctx, params)
    return await service.get_or_create(
        ctx.rt, ctx.workspace_id, _grants(params),
        user_identifier_key=given(params.user_identifier_key),
        expires_at=given(params.expires_at))


@route("/client_sessions/get", alias="GET", params=GetClientSessionParams,
       response_key="client_session", response=ClientSession, client_session=True)
async def get_client_session(ctx: Ctx, params: GetClientSessionParams) -> ClientSession:
    """Get a client session by id or user identifier key (a session token: its own)."""
    grant = ctx.principal.client_session if ctx.principal else None
    if grant is not None:
        if params.user_identifier_key is not UNSET:
            raise InvalidInput("A client session token reads its own session: send no "
                               "user_identifier_key")
        return await service.get(ctx.rt, ctx.workspace_id,
                                 client_session_id=grant.client_session_id)
    if params.client_session_id is UNSET and params.user_identifier_key is UNSET:
        raise InvalidInput("Either client_session_id or user_identifier_key is required")
    return await service.get(ctx.rt, ctx.workspace_id,
                             client_session_id=given(params.client_session_id),
                             user_identifier_key=given(params.user_identifier_key))


@route("/client_sessions/list", alias="GET", params=ListClientSessionsParams,
       response_key="client_sessions", response=list[ClientSession])
async def list_client_sessions(ctx: Ctx, params: ListClientSessionsParams,
                               ) -> list[ClientSession]:
    """List the workspace's client sessions, oldest first."""
    return await service.list_all(
        ctx.rt, ctx.workspace_id, client_session_id=given(params.client_session_id),
        connect_webview_id=given(params.connect_webview_id),
        user_identifier_key=given(params.user_identifier_key),
        user_identity_id=given(params.user_identity_id),
        without_user_identifier_key=params.without_user_identifier_key)


@route("/client_sessions/grant_access", alias="PATCH", params=GrantAccessParams)
async def grant_access(ctx: Ctx, params: GrantAccessParams) -> None:
    """Let a session see more: accounts, webviews, user identities (what it had stays)."""
    if params.client_session_id is UNSET and params.user_identifier_key is UNSET:
        raise InvalidInput("Either client_session_id or user_identifier_key is required")
    await service.grant_access(ctx.rt, ctx.workspace_id, _grants(params),
                               client_session_id=given(params.client_session_id),
                               user_identifier_key=given(params.user_identifier_key))


@route("/client_sessions/revoke", params=ClientSessionIdParams)
async def revoke_client_session(ctx: Ctx, params: ClientSessionIdParams) -> None:
    """Refuse the session's token from now on (the session stays listed until deleted)."""
    await service.revoke(ctx.rt, ctx.workspace_id, params.client_session_id)


@route("/client_sessions/delete", alias="DELETE", params=ClientSessionIdParams)
async def delete_client_session(ctx: Ctx, params: ClientSessionIdParams) -> None:
    """Delete a session: its token is refused from now on."""
    await service.delete(ctx.rt, ctx.workspace_id, params.client_session_id)
