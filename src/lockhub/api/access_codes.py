"""/access_codes/*, /access_codes/unmanaged/* and /access_codes/simulate/*"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from lockhub.api import session_scope
from lockhub.api.context import Ctx
from lockhub.api.pagination import decode_cursor, page_limit
from lockhub.api.params import given
from lockhub.api.routing import Extra, Page, route
from lockhub.domain.access_codes import is_pin
from lockhub.domain.objects import AccessCode, GeneratedCode, UnmanagedAccessCode
from lockhub.domain.timeline import (
    TIMELINE_EVENT_TYPES,
    TimelineEvent,
    TimelineEventType,
    TimelinePagination,
    timeline_event,
)
from lockhub.errors import InvalidInput
from lockhub.services import access_codes as service
from lockhub.services import access_grants, backup_pool, events, sandbox
from lockhub.services.sandbox_clock import EARLIEST, LATEST

Timestamp = Annotated[datetime, Meta(tz=True)]
Limit = Annotated[float, Meta(gt=0)]
CodeLength = Annotated[int, Meta(ge=1, le=20)]


def _check_times(*values: Any) -> None:
    """Far outside workspace time's range, the engine's date arithmetic overflows."""
    for value in values:
        if isinstance(value, datetime) and not EARLIEST <= value <= LATEST:
            raise ValueError("starts_at and ends_at must be between 1970-01-01 and 9000-01-01")


class CodeFields(msgspec.Struct, kw_only=True):
    """What create and create_multiple share."""

    name: str | UnsetType = UNSET
    code: Annotated[str, Meta(min_length=1)] | UnsetType = UNSET
    starts_at: Timestamp | UnsetType = UNSET
    ends_at: Timestamp | UnsetType = UNSET
    preferred_code_length: CodeLength | UnsetType = UNSET
    prefer_native_scheduling: bool = True
    allow_external_modification: bool | UnsetType = UNSET
    is_external_modification_allowed: bool | UnsetType = UNSET
    use_backup_access_code_pool: bool = False
    attempt_for_offline_device: bool = True

    def __post_init__(self) -> None:
        _check_times(self.starts_at, self.ends_at)

    def request(self, **extra: Any) -> service.CodeRequest:
        external = given(self.is_external_modification_allowed,
                          given(self.allow_external_modification, False))
        return service.CodeRequest(
            name=given(self.name), code=given(self.code), starts_at=given(self.starts_at),
            ends_at=given(self.ends_at),
            preferred_code_length=given(self.preferred_code_length),
            prefer_native_scheduling=self.prefer_native_scheduling,
            is_external_modification_allowed=bool(external),
            use_backup_access_code_pool=self.use_backup_access_code_pool, **extra)


class CreateAccessCodeParams(CodeFields, kw_only=True):
    device_id: str
    common_code_key: str | UnsetType = UNSET
    is_offline_access_code: bool = False
    use_offline_access_code: bool | UnsetType = UNSET
    is_one_time_use: bool = False
    max_time_rounding: Literal["1hour", "1day", "1h", "1d"] | UnsetType = UNSET
    sync: bool = False


class CreateMultipleParams(CodeFields, kw_only=True):
    device_ids: list[str]
    behavior_when_code_cannot_be_shared: Literal["throw", "create_random_code"] = "throw"


class AccessCodeRef(msgspec.Struct):
    access_code_id: str | UnsetType = UNSET
    device_id: str | UnsetType = UNSET
    code: str | UnsetType = UNSET

    def __post_init__(self) -> None:
        if self.access_code_id is UNSET and self.device_id is UNSET and self.code is UNSET:
            raise ValueError("One of access_code_id, device_id or code is required")


class ListAccessCodesParams(msgspec.Struct):
    device_id: str | UnsetType = UNSET
    access_code_ids: list[str] | UnsetType = UNSET
    search: str | UnsetType = UNSET
    access_grant_id: str | UnsetType = UNSET
    access_grant_key: str | UnsetType = UNSET
    access_method_id: str | UnsetType = UNSET
    customer_key: str | UnsetType = UNSET
    user_identifier_key: str | UnsetType = UNSET
    limit: Limit = 55000
    page_cursor: str | None | UnsetType = UNSET


class ListUnmanagedParams(msgspec.Struct):
    device_id: str
    search: str | UnsetType = UNSET
    user_identifier_key: str | UnsetType = UNSET
    limit: Limit = 300000
    page_cursor: str | None | UnsetType = UNSET


class UpdateAccessCodeParams(msgspec.Struct, kw_only=True):
    access_code_id: str
    device_id: str | UnsetType = UNSET
    name: str | None | UnsetType = UNSET
    code: Annotated[str, Meta(min_length=1)] | UnsetType = UNSET
    starts_at: Timestamp | None | UnsetType = UNSET
    ends_at: Timestamp | None | UnsetType = UNSET
    type: Literal["ongoing", "time_bound"] | UnsetType = UNSET
    allow_external_modification: bool | UnsetType = UNSET
    is_external_modification_allowed: bool | UnsetType = UNSET
    is_managed: bool | UnsetType = UNSET
    attempt_for_offline_device: bool = True
    sync: bool = False

    def __post_init__(self) -> None:
        _check_times(self.starts_at, self.ends_at)


class UpdateMultipleParams(msgspec.Struct, kw_only=True):
    common_code_key: str
    name: str | None | UnsetType = UNSET
    starts_at: Timestamp | None | UnsetType = UNSET
    ends_at: Timestamp | None | UnsetType = UNSET

    def __post_init__(self) -> None:
        _check_times(self.starts_at, self.ends_at)


class DeleteAccessCodeParams(msgspec.Struct):
    access_code_id: str
    device_id: str | UnsetType = UNSET
    sync: bool = False


class DeleteUnmanagedParams(msgspec.Struct):
    access_code_id: str
    sync: bool = False


class GenerateCodeParams(msgspec.Struct):
    device_id: str


class ConvertParams(msgspec.Struct):
    access_code_id: str
    allow_external_modification: bool | UnsetType = UNSET
    is_external_modification_allowed: bool | UnsetType = UNSET
    force: bool = False
    sync: bool = False


class UpdateUnmanagedParams(msgspec.Struct):
    access_code_id: str
    is_managed: bool
    allow_external_modification: bool | UnsetType = UNSET
    is_external_modification_allowed: bool | UnsetType = UNSET
    force: bool = False


class SimulateUnmanagedParams(msgspec.Struct):
    device_id: str
    name: str
    code: Annotated[str, Meta(min_length=1)]


class PullBackupParams(msgspec.Struct):
    access_code_id: str


class TimelineParams(msgspec.Struct):
    access_code_id: str
    after: datetime | UnsetType = UNSET
    before: datetime | UnsetType = UNSET
    event_types: list[TimelineEventType] | UnsetType = UNSET
    limit: Annotated[float, Meta(ge=1, le=200)] = 50


class ReportConstraintsParams(msgspec.Struct):
    device_id: str
    supported_code_lengths: list[CodeLength] | UnsetType = UNSET
    min_code_length: CodeLength | UnsetType = UNSET
    max_code_length: CodeLength | UnsetType = UNSET


def _external(params: Any) -> bool:
    return bool(given(params.is_external_modification_allowed,
                       given(params.allow_external_modification, False)))


@route("/access_codes/create", params=CreateAccessCodeParams, response_key="access_code",
       response=AccessCode, client_session=True)
async def create_access_code(ctx: Ctx, params: CreateAccessCodeParams) -> Extra:
    """Create an access code (ongoing or time-bound) on a device."""
    offline = params.is_offline_access_code or params.use_offline_access_code is True
    code, attempt = await service.create(ctx.rt, ctx.workspace_id, params.device_id,
                                         params.request(
                                             common_code_key=given(params.common_code_key),
                                             is_offline_access_code=offline,
                                             is_one_time_use=params.is_one_time_use,
                                             max_time_rounding=given(params.max_time_rounding)))
    return Extra(value=code, extra={"action_attempt": attempt})


@route("/access_codes/create_multiple", alias="PUT", params=CreateMultipleParams,
       response_key="access_codes", response=list[AccessCode], client_session=True)
async def create_multiple(ctx: Ctx, params: CreateMultipleParams) -> list[AccessCode]:
    """Create linked access codes sharing one PIN across devices."""
    return await service.create_multiple(ctx.rt, ctx.workspace_id, params.device_ids,
                                         params.request(),
                                         params.behavior_when_code_cannot_be_shared)


@route("/access_codes/get", alias="GET", params=AccessCodeRef, response_key="access_code",
       response=AccessCode, client_session=True)
async def get_access_code(ctx: Ctx, params: AccessCodeRef) -> AccessCode | msgspec.Raw:
    """Get an access code by id (or by device and PIN)."""
    if isinstance(params.access_code_id, str) and params.device_id is UNSET \
            and params.code is UNSET:
        return await service.served_access_code(ctx.rt, ctx.workspace_id,
                                                params.access_code_id)
    async with ctx.rt.db.read() as conn:
        row = await service.get_row(conn, ctx.workspace_id, managed=True,
                                    access_code_id=given(params.access_code_id),
                                    device_id=given(params.device_id),
                                    code=given(params.code))
    return service.to_access_code(row)


@route("/access_codes/list", alias="GET", params=ListAccessCodesParams,
       response_key="access_codes", response=list[AccessCode], paginated=True, client_session=True)
async def list_access_codes(ctx: Ctx, params: ListAccessCodesParams) -> Page:
    """List access codes of a device (or by ids)."""
    grant_filters = (params.access_grant_id, params.access_grant_key, params.access_method_id,
                     params.customer_key, params.user_identifier_key)
    if params.device_id is UNSET and params.access_code_ids is UNSET \
            and params.search is UNSET and all(f is UNSET for f in grant_filters):
        raise InvalidInput.from_issues([([], "Either device_id or access_code_ids is required")])
    after = decode_cursor(ctx, params)
    if params.customer_key is not UNSET or params.user_identifier_key is not UNSET:
        return Page(items=[], next_after=None)  # no customers; codes belong to no session user
    ids = given(params.access_code_ids)
    if any(f is not UNSET for f in grant_filters):
        made = await access_grants.code_ids(
            ctx.rt, ctx.workspace_id, access_grant_id=given(params.access_grant_id),
            access_grant_key=given(params.access_grant_key),
            access_method_id=given(params.access_method_id))
        ids = made if ids is None else [i for i in ids if i in made]
    items, next_after = await service.list_served(
        ctx.rt, ctx.workspace_id, device_id=given(params.device_id), access_code_ids=ids,
        search=given(params.search), after=after, limit=page_limit(params.limit))
    return Page(items=items, next_after=next_after)


@route("/access_codes/update", alias=("PATCH", "PUT"), params=UpdateAccessCodeParams, client_session=True)
async def update_access_code(ctx: Ctx, params: UpdateAccessCodeParams) -> Extra:
    """Change a code's PIN, name or time frame (or make it unmanaged)."""
    external = UNSET
    if params.is_external_modification_allowed is not UNSET or \
            params.allow_external_modification is not UNSET:
        external = _external(params)
    attempt = await service.update_code(
        ctx.rt, ctx.workspace_id, params.access_code_id,
        service.CodeChanges(name=params.name, code=params.code, starts_at=params.starts_at,
                            ends_at=params.ends_at, type=params.type,
                            is_external_modification_allowed=external,
                            is_managed=params.is_managed),
        device_id=given(params.device_id))
    return Extra(value=None, extra={"action_attempt": attempt})


@route("/access_codes/update_multiple", alias="PATCH", params=UpdateMultipleParams, client_session=True)
async def update_multiple(ctx: Ctx, params: UpdateMultipleParams) -> None:
    """Change every code that shares a common_code_key."""
    await service.update_multiple(ctx.rt, ctx.workspace_id, params.common_code_key,
                                  service.CodeChanges(name=params.name,
                                                      starts_at=params.starts_at,
                                                      ends_at=params.ends_at),
                                  device_ids=await session_scope.visible_devices(ctx))


@route("/access_codes/delete", alias="DELETE", params=DeleteAccessCodeParams, client_session=True)
async def delete_access_code(ctx: Ctx, params: DeleteAccessCodeParams) -> Extra:
    """Delete a code: it is removed from the lock, then gone."""
    attempt = await service.delete_code(ctx.rt, ctx.workspace_id, params.access_code_id,
                                        device_id=given(params.device_id))
    return Extra(value=None, extra={"action_attempt": attempt})


@route("/access_codes/generate_code", alias="GET", params=GenerateCodeParams,
       response_key="generated_code", response=GeneratedCode, client_session=True)
async def generate_code(ctx: Ctx, params: GenerateCodeParams) -> GeneratedCode:
    """A PIN that satisfies every rule of the device."""
    return await service.generate_code(ctx.rt, ctx.workspace_id, params.device_id)


@route("/access_codes/unmanaged/list", alias="GET", params=ListUnmanagedParams,
       response_key="access_codes", response=list[UnmanagedAccessCode], paginated=True, client_session=True)
async def list_unmanaged(ctx: Ctx, params: ListUnmanagedParams) -> Page:
    """List the codes found on a device that this workspace did not create."""
    after = decode_cursor(ctx, params)
    async with ctx.rt.db.read() as conn:
        rows, next_after = await service.list_rows(
            conn, ctx.workspace_id, managed=False, device_id=params.device_id,
            search=given(params.search), after=after, limit=page_limit(params.limit))
    return Page(items=[service.to_unmanaged(r) for r in rows], next_after=next_after)


@route("/access_codes/unmanaged/get", alias="GET", params=AccessCodeRef,
       response_key="access_code", response=UnmanagedAccessCode, client_session=True)
async def get_unmanaged(ctx: Ctx, params: AccessCodeRef) -> UnmanagedAccessCode:
    """Get an unmanaged code by id (or by device and PIN)."""
    async with ctx.rt.db.read() as conn:
        row = await service.get_row(conn, ctx.workspace_id, managed=False,
                                    access_code_id=given(params.access_code_id),
                                    device_id=given(params.device_id),
                                    code=given(params.code))
    return service.to_unmanaged(row)


@route("/access_codes/unmanaged/convert_to_managed", alias="PATCH", params=ConvertParams, client_session=True)
async def convert_to_managed(ctx: Ctx, params: ConvertParams) -> None:
    """Take over an unmanaged code."""
    await service.convert_to_managed(ctx.rt, ctx.workspace_id, params.access_code_id,
                                     allow_external_modification=_external(params))


@route("/access_codes/unmanaged/update", alias="PATCH", params=UpdateUnmanagedParams, client_session=True)
async def update_unmanaged(ctx: Ctx, params: UpdateUnmanagedParams) -> None:
    """`is_managed: true` takes the code over."""
    if not params.is_managed:
        raise InvalidInput.for_field(["is_managed"], "Invalid literal value, expected true")
    await service.convert_to_managed(ctx.rt, ctx.workspace_id, params.access_code_id,
                                     allow_external_modification=_external(params))


@route("/access_codes/unmanaged/delete", alias="DELETE", params=DeleteUnmanagedParams, client_session=True)
async def delete_unmanaged(ctx: Ctx, params: DeleteUnmanagedParams) -> Extra:
    """Remove an unmanaged code from the lock."""
    attempt = await service.delete_code(ctx.rt, ctx.workspace_id, params.access_code_id,
                                        managed=False)
    return Extra(value=None, extra={"action_attempt": attempt})


@route("/access_codes/simulate/create_unmanaged_access_code", params=SimulateUnmanagedParams,
       response_key="access_code", response=UnmanagedAccessCode, sandbox_only=True, client_session=True)
async def simulate_create_unmanaged(ctx: Ctx,
                                    params: SimulateUnmanagedParams) -> UnmanagedAccessCode:
    """Sandbox: someone adds a PIN at the lock, outside lockhub."""
    if not is_pin(params.code):
        raise InvalidInput.for_field(["code"], "The code must contain the digits 0-9 only")
    return await sandbox.create_unmanaged_code(ctx.rt, ctx.workspace_id, params.device_id,
                                               params.code, params.name)


@route("/access_codes/pull_backup_access_code", params=PullBackupParams,
       response_key="access_code", response=AccessCode, client_session=True)
async def pull_backup_access_code(ctx: Ctx, params: PullBackupParams) -> AccessCode:
    """Hand out a backup code that works at once in place of a failing time-bound code."""
    return await backup_pool.pull(ctx.rt, ctx.workspace_id, params.access_code_id)


@route("/access_codes/report_device_constraints", params=ReportConstraintsParams, client_session=True)
async def report_device_constraints(ctx: Ctx, params: ReportConstraintsParams) -> None:
    """Tell lockhub which PIN lengths a device accepts."""
    await service.report_device_constraints(
        ctx.rt, ctx.workspace_id, params.device_id,
        lengths=given(params.supported_code_lengths), min_length=given(params.min_code_length),
        max_length=given(params.max_code_length))


@route("/access_codes/get_timeline", alias="GET", params=TimelineParams,
       response_key="timeline_events", response=list[TimelineEvent], paginated=True,
       pagination=TimelinePagination, client_session=True)
async def get_timeline(ctx: Ctx, params: TimelineParams) -> Extra:
    """An access code's events, oldest first, each with who caused it (a deleted code's too).
    For the next page pass `pagination.next_cursor` as `after`."""
    found, more = await events.access_code_timeline(
        ctx.rt.db, ctx.workspace_id, params.access_code_id, after=given(params.after),
        before=given(params.before),
        event_types=list(given(params.event_types) or TIMELINE_EVENT_TYPES),
        limit=int(params.limit))
    items = [timeline_event(body) for body in found]
    return Extra(value=items, extra={"pagination": TimelinePagination(
        has_more=more, next_cursor=items[-1].occurred_at if more else None, prev_cursor=None)})
