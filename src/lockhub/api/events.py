"""/events/list and /events/get"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from lockhub.api import session_scope
from lockhub.api.context import Ctx
from lockhub.api.pagination import page_limit
from lockhub.api.routing import route
from lockhub.domain.events import EVENT_TYPES
from lockhub.domain.objects import Event
from lockhub.errors import InvalidInput
from lockhub.services import events

EventType = Literal[tuple(EVENT_TYPES)]  # type: ignore[valid-type]


class ListEventsParams(msgspec.Struct):
    since: str | UnsetType = UNSET
    between: Annotated[list[str], Meta(min_length=2, max_length=2)] | UnsetType = UNSET
    device_id: str | UnsetType = UNSET
    device_ids: list[str] | UnsetType = UNSET
    access_code_id: str | UnsetType = UNSET
    access_code_ids: list[str] | UnsetType = UNSET
    connected_account_id: str | UnsetType = UNSET
    connect_webview_id: str | UnsetType = UNSET
    event_ids: list[str] | UnsetType = UNSET
    event_type: EventType | UnsetType = UNSET
    event_types: list[EventType] | UnsetType = UNSET
    limit: Annotated[float, Meta(gt=0)] = 500
    unstable_offset: Annotated[float, Meta(ge=0)] | UnsetType = UNSET
    # Filters on resources lockhub does not have (access grants, ACS, spaces, user identities,
    # customers): given, they match no event.
    access_grant_id: str | UnsetType = UNSET
    access_grant_ids: list[str] | UnsetType = UNSET
    access_method_id: str | UnsetType = UNSET
    access_method_ids: list[str] | UnsetType = UNSET
    acs_access_group_id: str | UnsetType = UNSET
    acs_credential_id: str | UnsetType = UNSET
    acs_encoder_id: str | UnsetType = UNSET
    acs_entrance_id: str | UnsetType = UNSET
    acs_system_id: str | UnsetType = UNSET
    acs_system_ids: list[str] | UnsetType = UNSET
    acs_user_id: str | UnsetType = UNSET
    customer_key: str | UnsetType = UNSET
    space_id: str | UnsetType = UNSET
    space_ids: list[str] | UnsetType = UNSET
    user_identity_id: str | UnsetType = UNSET


_ABSENT_RESOURCE_FILTERS = (
    "access_grant_id", "access_grant_ids", "access_method_id", "access_method_ids",
    "acs_access_group_id", "acs_credential_id", "acs_encoder_id", "acs_entrance_id",
    "acs_system_id", "acs_system_ids", "acs_user_id", "customer_key", "space_id", "space_ids",
    "user_identity_id",
)


class GetEventParams(msgspec.Struct):
    event_id: str | UnsetType = UNSET
    device_id: str | UnsetType = UNSET
    event_type: str | UnsetType = UNSET

    def __post_init__(self) -> None:
        if self.event_id is UNSET and self.device_id is UNSET and self.event_type is UNSET:
            raise ValueError("One of event_id, device_id or event_type is required")


def _timestamp(value: str, path: list[str]) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput.for_field(path, "Invalid timestamp") from None
    if parsed.tzinfo is None:
        raise InvalidInput.for_field(path, "Timestamp needs a time zone (e.g. Z)")
    return parsed


def _ids(single: Any, many: Any) -> list[str] | None:
    values: list[str] = []
    if single is not UNSET:
        values.append(single)
    if many is not UNSET:
        values.extend(many)
    return values if (single is not UNSET or many is not UNSET) else None


@route("/events/list", alias="GET", params=ListEventsParams, response_key="events",
       response=list[Event], client_session=True)
async def list_events(ctx: Ctx, params: ListEventsParams) -> list[Any]:
    """List events, newest first, from `since` or within `between`."""
    if params.since is UNSET and params.between is UNSET:
        raise InvalidInput.from_issues([([], "Must specify either since or between")])
    since = _timestamp(params.since, ["since"]) if params.since is not UNSET else None
    between = None
    if params.between is not UNSET:
        between = (_timestamp(params.between[0], ["between", "0"]),
                   _timestamp(params.between[1], ["between", "1"]))
    filters: dict[str, list[str]] = {}
    for column, single, many in (
        ("device_id", params.device_id, params.device_ids),
        ("access_code_id", params.access_code_id, params.access_code_ids),
        ("connected_account_id", params.connected_account_id, UNSET),
        ("connect_webview_id", params.connect_webview_id, UNSET),
        ("event_id", UNSET, params.event_ids),
    ):
        ids = _ids(single, many)
        if ids is not None:
            filters[column] = ids
    visible = await session_scope.visible_devices(ctx)
    if visible is not None:
        # A client session sees the events of its devices.
        filters["device_id"] = session_scope.narrowed(filters.get("device_id"), visible) or []
    types = _ids(params.event_type, params.event_types)
    if any(getattr(params, name) is not UNSET for name in _ABSENT_RESOURCE_FILTERS):
        return []
    return await events.list_events(
        ctx.rt.db, ctx.workspace_id, since=since, between=between, filters=filters,
        event_types=types, limit=page_limit(params.limit),
        offset=int(min(params.unstable_offset, 1e9)) if params.unstable_offset is not UNSET
        else 0)


@route("/events/get", alias="GET", params=GetEventParams, response_key="event", response=Event,
       client_session=True)
async def get_event(ctx: Ctx, params: GetEventParams) -> dict[str, Any]:
    """Get an event by id (or the latest of a device or type)."""
    async with ctx.rt.db.read() as conn:
        return await events.get_event(
            conn, ctx.workspace_id,
            event_id=None if params.event_id is UNSET else params.event_id,
            device_id=None if params.device_id is UNSET else params.device_id,
            event_type=None if params.event_type is UNSET else params.event_type)
