"""Access codes: validate and store the desired state; the engine programs the lock.

Every request is checked against the device's rules before anything is stored. The row holds
what the user wants (PIN, name, window, deletion); `engine/access_codes.py` reconciles it with
what the lock holds and moves `status` along unset → setting → set → removing → (deleted).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

import msgspec
from sqlalchemy import Select, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from lockhub.catalogue import DeviceModel
from lockhub.clock import iso
from lockhub.domain import access_codes as rules
from lockhub.domain import offline_codes
from lockhub.domain.objects import AccessCode, ActionAttempt, GeneratedCode, UnmanagedAccessCode
from lockhub.engine import jobs
from lockhub.engine.code_jobs import job_id_for, schedule_sync
from lockhub.errors import InvalidInput, LockhubError, NotFound
from lockhub.ids import new_id
from lockhub.services import action_attempts, events
from lockhub.services import devices as device_service
from lockhub.services.locks import enforce_rate_limit
from lockhub.services.runtime import Runtime
from lockhub.services.sandbox_clock import WorkspaceClock, workspace_clock
from lockhub.services.served import Lookup, served_page, served_rows
from lockhub.store.keyset import keyset_page, page_statement, position_columns, run_page
from lockhub.store.tables import access_codes
from lockhub.store.tables import devices as devices_table

A = access_codes
UNSET = msgspec.UNSET


# --- presentation ----------------------------------------------------------------------------


def _opt_iso(value: datetime | None) -> str | None:
    return iso(value) if value is not None else None


def to_access_code(row: Any) -> AccessCode:
    code = AccessCode(
        access_code_id=row.access_code_id, device_id=row.device_id,
        workspace_id=row.workspace_id, name=row.name, code=row.code,
        common_code_key=row.common_code_key,
        type="time_bound" if row.starts_at is not None else "ongoing",
        status=row.status, created_at=iso(row.created_at), errors=list(row.errors),
        warnings=list(row.warnings), pending_mutations=list(row.pending_mutations),
        is_managed=True,
        is_backup_access_code_available=bool(row.use_backup_pool and row.starts_at is not None
                                             and not row.is_backup),
        is_external_modification_allowed=row.is_external_modification_allowed,
        is_one_time_use=row.is_one_time_use, is_offline_access_code=row.is_offline_access_code,
        starts_at=_opt_iso(row.starts_at), ends_at=_opt_iso(row.ends_at),
        is_scheduled_on_device=row.is_scheduled_on_device,
    )
    if row.is_offline_access_code:  # its PIN comes from the lock maker's server
        code.is_waiting_for_code_assignment = row.code is None
    if row.is_backup:
        code.is_backup = True
    if row.pulled_backup_access_code_id:
        code.pulled_backup_access_code_id = row.pulled_backup_access_code_id
    return code


def to_unmanaged(row: Any) -> UnmanagedAccessCode:
    return UnmanagedAccessCode(
        access_code_id=row.access_code_id, device_id=row.device_id,
        workspace_id=row.workspace_id, name=row.name, code=row.code,
        type="time_bound" if row.starts_at is not None else "ongoing",
        status="set" if row.status == "set" else "unset", created_at=iso(row.created_at),
        errors=list(row.errors), warnings=list(row.warnings), is_managed=False,
        starts_at=_opt_iso(row.starts_at), ends_at=_opt_iso(row.ends_at))


# --- reading ------------------------------------------------------------------------------------


async def served_access_code(rt: Runtime, workspace_id: str, access_code_id: str) -> msgspec.Raw:
    """A managed code's JSON by id, from the read model when it is there."""
    lookup = Lookup(rt.db.read_model, "access_codes", access_code_id, workspace_id)
    if lookup.hit is not None:
        return lookup.hit.raw
    async with rt.db.read() as conn:
        row = await get_row(conn, workspace_id, managed=True, access_code_id=access_code_id)
    return lookup.remember(workspace_id, to_access_code(row))


# Built once: a code by id is read on every update, delete and uncached get.
_BY_ID = select(A).where(A.c.workspace_id == bindparam("workspace_id"),
                         A.c.is_managed == bindparam("managed"),
                         A.c.access_code_id == bindparam("access_code_id"))


async def get_row(conn: AsyncConnection, workspace_id: str, *, managed: bool,
                  access_code_id: str | None = None, device_id: str | None = None,
                  code: str | None = None) -> Any:
    if access_code_id is not None and device_id is None and code is None:
        row = (await conn.execute(_BY_ID, {"workspace_id": workspace_id, "managed": managed,
                                           "access_code_id": access_code_id})).first()
        if row is None:
            raise NotFound("access_code", {"access_code_id": access_code_id})
        return row
    cond: list[Any] = [A.c.workspace_id == workspace_id, A.c.is_managed == managed]
    if access_code_id is not None:
        cond.append(A.c.access_code_id == access_code_id)
    if device_id is not None:
        cond.append(A.c.device_id == device_id)
    if code is not None:
        cond.append(A.c.code == code)
    row = (await conn.execute(select(A).where(*cond).order_by(A.c.created_at).limit(1))).first()
    if row is None:
        raise NotFound("access_code", {"access_code_id": access_code_id}
                       if access_code_id else None)
    return row


async def list_served(rt: Runtime, workspace_id: str, *,
                      device_id: str | None = None, access_code_ids: list[str] | None = None,
                      search: str | None = None, after: tuple[datetime, str] | None = None,
                      limit: int = 100) -> tuple[list[msgspec.Raw], tuple[str, str] | None]:
    """A page of managed codes as their JSON; the whole page from the read model when it has
    it (then without opening a read transaction)."""
    async def build() -> tuple[list[msgspec.Raw], tuple[str, str] | None]:
        async with rt.db.read() as conn:
            positions, next_after = await list_rows(
                conn, workspace_id, managed=True, device_id=device_id,
                access_code_ids=access_code_ids, search=search, after=after, limit=limit,
                columns=position_columns(A.c.created_at, A.c.access_code_id))
            items = await served_rows(rt.db.read_model, conn, A, A.c.access_code_id,
                                      [p[0] for p in positions], workspace_id,
                                      to_access_code)
        return items, next_after

    key = (workspace_id, device_id,
           tuple(access_code_ids) if access_code_ids is not None else None, search, after, limit)
    return await served_page(rt.db.read_model, "access_codes", key, build)


@cache
def _list_statement(columns: tuple[Any, ...], by_device: bool, by_ids: bool, with_after: bool,
                    with_limit: bool) -> Select[Any]:
    """The code list's statement for one combination of filters, built once."""
    cond: list[Any] = [A.c.workspace_id == bindparam("workspace_id"),
                       A.c.is_managed == bindparam("managed"),
                       or_(A.c.is_backup.is_(False), A.c.backup_for_access_code_id.is_not(None))]
    if by_device:
        cond.append(A.c.device_id == bindparam("device_id"))
    if by_ids:
        cond.append(A.c.access_code_id.in_(bindparam("access_code_ids", expanding=True)))
    return page_statement(select(*columns).where(*cond), A.c.created_at, A.c.access_code_id,
                          with_after=with_after, with_limit=with_limit)


async def list_rows(conn: AsyncConnection, workspace_id: str, *, managed: bool,
                    device_id: str | None = None, access_code_ids: list[str] | None = None,
                    search: str | None = None, after: tuple[datetime, str] | None = None,
                    limit: int = 100, columns: tuple[Any, ...] = (A,),
                    ) -> tuple[list[Any], tuple[str, str] | None]:
    if not search:
        statement = _list_statement(columns, device_id is not None, access_code_ids is not None,
                                    after is not None, limit is not None)
        params = {"workspace_id": workspace_id, "managed": managed, "device_id": device_id,
                  "access_code_ids": access_code_ids}
        return await run_page(conn, statement, params, A.c.created_at, A.c.access_code_id,
                              after=after, limit=limit)
    cond: list[Any] = [A.c.workspace_id == workspace_id, A.c.is_managed == managed,
                       # Backup codes waiting in the pool are not the user's codes.
                       or_(A.c.is_backup.is_(False), A.c.backup_for_access_code_id.is_not(None))]
    if device_id is not None:
        cond.append(A.c.device_id == device_id)
    if access_code_ids is not None:
        cond.append(A.c.access_code_id.in_(access_code_ids))
    if search:
        needle = f"%{search}%"
        cond.append(or_(A.c.name.ilike(needle), A.c.code.like(needle),
                        A.c.access_code_id.startswith(search)))
    return await keyset_page(conn, select(*columns).where(*cond), A.c.created_at,
                             A.c.access_code_id, after=after, limit=limit)


async def _device_codes(conn: AsyncConnection, device_id: str,
                        exclude: str | None = None) -> list[Any]:
    query = select(A.c.access_code_id, A.c.code, A.c.name, A.c.is_managed).where(
        A.c.device_id == device_id, A.c.deleting.is_(False))
    if exclude is not None:
        query = query.where(A.c.access_code_id != exclude)
    return list((await conn.execute(query)).all())


# --- validation ---------------------------------------------------------------------------------


class CodeRequest(msgspec.Struct, kw_only=True):
    """The desired state of one code, as a create or an update asks for it."""

    name: str | None = None
    code: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    common_code_key: str | None = None
    preferred_code_length: int | None = None
    prefer_native_scheduling: bool = True
    is_external_modification_allowed: bool = False
    use_backup_access_code_pool: bool = False
    is_offline_access_code: bool = False
    is_one_time_use: bool = False
    max_time_rounding: str | None = None  # offline codes: "1h"/"1hour" or "1d"/"1day"
    # Set for the codes of an access grant's `code` access method (services/access_grants.py).
    access_method_id: str | None = None
    access_grant_id: str | None = None


def _raise_violation(violation: rules.RuleViolation, device_id: str) -> None:
    if violation.error_type == "invalid_code":
        raise InvalidInput.for_field([violation.field], violation.message)
    raise LockhubError(violation.message, error_type=violation.error_type,
                       data={"device_id": device_id,
                             "constraint_type": violation.constraint_type})


def check_time_frame(req: CodeRequest, now: datetime, model: DeviceModel) -> None:
    if (req.starts_at is None) != (req.ends_at is None):
        missing = "ends_at" if req.ends_at is None else "starts_at"
        raise InvalidInput.for_field([missing], "starts_at and ends_at must be given together")
    if req.starts_at is None or req.ends_at is None:
        if req.use_backup_access_code_pool:
            raise InvalidInput.for_field(["use_backup_access_code_pool"],
                                         "Backup codes are only for time-bound codes")
        return
    if req.ends_at <= req.starts_at:
        raise InvalidInput.for_field(["ends_at"], "ends_at must be after starts_at")
    if req.ends_at <= now:
        raise InvalidInput.for_field(["ends_at"], "ends_at must be in the future")
    constraint_types = {c["constraint_type"] for c in model.code_constraints}
    if "start_date_in_future" in constraint_types and req.starts_at < now:
        raise LockhubError("This device needs starts_at in the future.",
                           error_type="code_constraints_violated",
                           data={"constraint_type": "start_date_in_future"})


async def offline_request(conn: AsyncConnection, device_id: str, model: DeviceModel,
                          req: CodeRequest, now: datetime) -> CodeRequest:
    """An offline code's request with the window the lock maker's server will be asked for,
    after the maker's rules (domain/offline_codes.py); its PIN comes from that server."""
    if req.code is not None:
        raise InvalidInput.for_field(["code"], "Offline access codes are generated by the "
                                               "lock maker's server; omit code")
    if req.use_backup_access_code_pool:
        raise InvalidInput.for_field(["use_backup_access_code_pool"],
                                     "Backup codes are online codes")
    maker = offline_codes.rules_for(model)
    try:
        window = offline_codes.window(maker, starts_at=req.starts_at, ends_at=req.ends_at,
                                      one_time=req.is_one_time_use,
                                      max_time_rounding=req.max_time_rounding, now=now)
    except offline_codes.OfflineCodeRefused as refused:
        raise InvalidInput.for_field([refused.field], refused.message) from None
    if offline_codes.over_capacity(maker, model, len(await _device_codes(conn, device_id))):
        raise LockhubError(
            f"This device holds at most {model.max_active_codes_supported} PINs, online and "
            "offline together; delete one first.", error_type="max_access_codes_reached",
            data={"device_id": device_id})
    return msgspec.structs.replace(req, starts_at=window.starts_at, ends_at=window.ends_at)


async def _device_and_model(conn: AsyncConnection, workspace_id: str,
                            device_id: str) -> tuple[Any, DeviceModel]:
    row = await device_service.get_row(conn, workspace_id, device_id=device_id)
    return row, device_service.model_of(row)


def _require_capability(model: DeviceModel, device_id: str, offline: bool) -> None:
    able = model.offline_access_codes if offline else model.online_access_codes
    if not able:
        kind = "offline" if offline else "online"
        raise LockhubError(
            f"This device cannot program {kind} access codes "
            f"(can_program_{kind}_access_codes is false).",
            error_type="device_cannot_perform_action",
            data={"device_id": device_id, "capability": f"can_program_{kind}_access_codes"})


# Uniqueness on one device, each answered by one indexed look-up (ix_access_codes_device_code)
# instead of reading every code of the device: a lock may hold thousands.
_LIVE_ON_DEVICE = (A.c.device_id == bindparam("device_id"), A.c.deleting.is_(False),
                   A.c.access_code_id != bindparam("exclude"))
_PIN_OWNER = select(A.c.access_code_id, A.c.is_managed).where(
    *_LIVE_ON_DEVICE, A.c.code == bindparam("code")).limit(1)
_PREFIX_OWNER = select(A.c.access_code_id).where(
    *_LIVE_ON_DEVICE, func.substr(A.c.code, 1, 4) == bindparam("prefix")).limit(1)
_NAME_OWNER = select(A.c.access_code_id).where(
    *_LIVE_ON_DEVICE, A.c.name == bindparam("name")).limit(1)
_HOLD_DEVICE = select(devices_table.c.device_id).where(
    devices_table.c.device_id == bindparam("device_id")).with_for_update()
# Random PINs tried (each checked with the look-ups above) before falling back to reading the
# device's codes, which finds a free PIN however full the lock is.
_GENERATE_TRIES = 20


async def _pin_taken(conn: AsyncConnection, device_id: str, exclude: str | None,
                     model: DeviceModel, code: str) -> list[str]:
    """The PINs on the device (other than `exclude`'s) that make `code` not unique there:
    the same PIN, or the same first four digits where the device requires them unique."""
    params = {"device_id": device_id, "exclude": exclude or "", "code": code}
    taken = [code] if (await conn.execute(_PIN_OWNER, params)).first() else []
    if "unique_first_four_digits" in rules.constraint_types(model) and not taken and (
            await conn.execute(_PREFIX_OWNER, {**params, "prefix": code[:4]})).first():
        taken.append(code[:4])
    return taken


async def resolve_pin(conn: AsyncConnection, workspace_id: str, device_id: str,
                      model: DeviceModel, req: CodeRequest, exclude: str | None = None) -> str:
    """The PIN this request will use on this device: the given one after every rule, a shared
    one for a common_code_key, or a generated one that satisfies the device.

    The device's row stays locked until the caller's transaction ends: two requests for one
    lock's PINs then choose one after the other on PostgreSQL, as they always do on SQLite
    (one writer), so neither can take a PIN the other has just taken."""
    await conn.execute(_HOLD_DEVICE, {"device_id": device_id})
    code = req.code
    if code is None and req.common_code_key:
        sibling = (await conn.execute(select(A.c.code).where(
            A.c.workspace_id == workspace_id, A.c.common_code_key == req.common_code_key,
            A.c.code.is_not(None)).limit(1))).first()
        code = sibling.code if sibling else None
    if code is None:
        length = rules.code_length_for(model, req.preferred_code_length)
        for _ in range(_GENERATE_TRIES):
            candidate = rules.generate_pin(model, length=length)
            if not await _pin_taken(conn, device_id, exclude, model, candidate):
                return candidate
        taken = [o.code for o in await _device_codes(conn, device_id, exclude) if o.code]
        return rules.generate_pin(model, length=length, taken=taken)
    for violation in rules.pin_violations(model, code,
                                          await _pin_taken(conn, device_id, exclude, model,
                                                           code)):
        _raise_violation(violation, device_id)
    duplicate = (await conn.execute(_PIN_OWNER, {"device_id": device_id, "code": code,
                                                 "exclude": exclude or ""})).first()
    if duplicate is not None:
        raise LockhubError(
            f"Cannot set duplicate access code {code} on this device",
            error_type="duplicate_access_code", status_code=409,
            data={"device_id": device_id, "access_code_id": duplicate.access_code_id
                  if duplicate.is_managed else None})
    return code


async def check_name(conn: AsyncConnection, device_id: str, model: DeviceModel,
                     name: str | None, exclude: str | None = None) -> None:
    taken: list[str | None] = []
    if name is not None and "name_must_be_unique" in rules.constraint_types(model) and (
            await conn.execute(_NAME_OWNER, {"device_id": device_id, "name": name,
                                             "exclude": exclude or ""})).first():
        taken.append(name)
    for violation in rules.name_violations(model, name, taken):
        _raise_violation(violation, device_id)


# --- writing ------------------------------------------------------------------------------------


def _initial_state(model: DeviceModel, req: CodeRequest,
                   now: datetime) -> tuple[str, list[dict[str, Any]]]:
    if req.is_offline_access_code:
        return "unset", [{"mutation_code": "creating", "created_at": iso(now),
                          "message": "The code is being registered with the lock maker's "
                                     "server."}]
    schedule = rules.schedule_for(model, req.starts_at, req.ends_at,
                                  req.prefer_native_scheduling)
    if schedule.program_at is None:
        return "setting", [{"mutation_code": "creating", "created_at": iso(now),
                            "message": "The code is being set on the device."}]
    if schedule.program_at > now:
        return "unset", [{"mutation_code": "deferring_creation", "created_at": iso(now),
                          "scheduled_at": iso(schedule.program_at),
                          "message": "Waiting until closer to starts_at to program the code."}]
    return "unset", [{"mutation_code": "creating", "created_at": iso(now),
                      "message": "The code is being set on the device."}]


_INSERT_RETURNING = A.insert().returning(*A.c)


async def insert_code(conn: AsyncConnection, clock: WorkspaceClock, device: Any,
                      model: DeviceModel, req: CodeRequest, pin: str | None) -> Any:
    """Store a new code; an offline code has no PIN until the maker's server issues it."""
    now = clock.now
    status, mutations = _initial_state(model, req, now)
    warnings: list[dict[str, Any]] = []
    if req.is_offline_access_code:
        window = offline_codes.OfflineWindow(req.starts_at, req.ends_at)
        warnings = offline_codes.warnings(offline_codes.rules_for(model), window,
                                          one_time=req.is_one_time_use, now=clock.real_now)
    access_code_id = new_id()
    row = (await conn.execute(_INSERT_RETURNING, dict(
        access_code_id=access_code_id, workspace_id=device.workspace_id,
        device_id=device.device_id, is_managed=True, name=req.name, code=pin,
        common_code_key=req.common_code_key, starts_at=req.starts_at, ends_at=req.ends_at,
        status=status, deleting=False,
        is_external_modification_allowed=req.is_external_modification_allowed,
        is_one_time_use=req.is_one_time_use, is_offline_access_code=req.is_offline_access_code,
        is_backup=False, use_backup_pool=req.use_backup_access_code_pool,
        prefer_native_scheduling=req.prefer_native_scheduling, is_scheduled_on_device=False,
        errors=[], warnings=warnings, pending_mutations=mutations, failures=0,
        created_at=clock.real_now, access_method_id=req.access_method_id,
        access_grant_id=req.access_grant_id))).one()
    await events.record(conn, now=clock.real_now, workspace_id=device.workspace_id,
                        event_type="access_code.created", access_code_id=access_code_id,
                        device_id=device.device_id,
                        connected_account_id=device.connected_account_id, code=pin)
    await schedule_sync(conn, clock, workspace_id=device.workspace_id, device_id=device.device_id,
                        access_code_id=access_code_id)
    return row


async def _settled_attempt(conn: AsyncConnection, clock: WorkspaceClock, workspace_id: str,
                           device_id: str, action_type: str,
                           result: dict[str, Any] | None = None) -> ActionAttempt:
    """The request's action attempt: the change is stored and queued for the lock, so the
    attempt succeeds; the lock's progress shows on the code (`status`, `pending_mutations`)."""
    return await action_attempts.create_settled(
        conn, now=clock.real_now, workspace_id=workspace_id, action_type=action_type,
        device_id=device_id, result=result or {})


async def create(rt: Runtime, workspace_id: str, device_id: str,
                 req: CodeRequest) -> tuple[AccessCode, ActionAttempt]:
    async with rt.db.write() as conn:
        clock = await workspace_clock(conn, workspace_id, rt.clock.now())
        device, model = await _device_and_model(conn, workspace_id, device_id)
        _require_capability(model, device_id, req.is_offline_access_code)
        if req.is_offline_access_code:
            req = await offline_request(conn, device_id, model, req, clock.now)
        else:
            check_time_frame(req, clock.now, model)
        await enforce_rate_limit(conn, device_id, "CREATE_ACCESS_CODE", clock.real_now)
        pin = None if req.is_offline_access_code else await resolve_pin(
            conn, workspace_id, device_id, model, req)
        await check_name(conn, device_id, model, req.name)
        if req.use_backup_access_code_pool:
            from lockhub.services import backup_pool  # builds on this module

            await backup_pool.enable(conn, clock, device)
        row = await insert_code(conn, clock, device, model, req, pin)
        code = to_access_code(row)
        attempt = await _settled_attempt(conn, clock, workspace_id, device_id,
                                         "CREATE_ACCESS_CODE",
                                         {"access_code": msgspec.to_builtins(code)})
    rt.wake_engine()
    return code, attempt


async def create_multiple(rt: Runtime, workspace_id: str, device_ids: list[str],
                          req: CodeRequest, behavior: str) -> list[AccessCode]:
    """Codes on several devices sharing one PIN and one common_code_key."""
    if not device_ids:
        raise InvalidInput.for_field(["device_ids"], "At least one device is required")
    async with rt.db.write() as conn:
        clock = await workspace_clock(conn, workspace_id, rt.clock.now())
        rows = await create_linked(conn, clock, workspace_id, device_ids, req, behavior)
    rt.wake_engine()
    return [to_access_code(row) for row in rows]


async def create_linked(conn: AsyncConnection, clock: WorkspaceClock, workspace_id: str,
                        device_ids: list[str], req: CodeRequest, behavior: str, *,
                        drop_unfit_names: bool = False) -> list[Any]:
    """Inside the caller's transaction: codes on several devices sharing one PIN (a generated
    one every device accepts, unless `req.code` is given) and one common_code_key. A device
    that cannot take the shared PIN fails the whole request, or (`create_random_code`) gets a
    PIN of its own and no common_code_key. A name a device refuses fails the request too, or
    (`drop_unfit_names`, for names lockhub chose) leaves that device's code unnamed."""
    linked = req.code is None
    targets = []
    names: dict[str, str | None] = {}
    for device_id in dict.fromkeys(device_ids):
        device, model = await _device_and_model(conn, workspace_id, device_id)
        _require_capability(model, device_id, False)
        check_time_frame(req, clock.now, model)
        names[device_id] = req.name
        try:
            await check_name(conn, device_id, model, req.name)
        except LockhubError:
            if not drop_unfit_names:
                raise
            names[device_id] = None
        targets.append((device, model))
    key = req.common_code_key or (f"auto_set_by_create_multiple_{new_id()}"
                                  if linked else None)
    shared = req.code or await _shared_pin(conn, targets, req)
    created = []
    for device, model in targets:
        device_req = msgspec.structs.replace(req, common_code_key=key, code=None,
                                             name=names[device.device_id])
        pin = shared
        try:
            pin = await resolve_pin(conn, workspace_id, device.device_id, model,
                                    msgspec.structs.replace(device_req, code=shared))
        except LockhubError:
            if behavior != "create_random_code":
                raise
            # This device gets its own random PIN (also when the caller chose the PIN), and
            # is not linked: codes sharing a common_code_key always share their PIN.
            device_req = msgspec.structs.replace(device_req, common_code_key=None)
            pin = await resolve_pin(conn, workspace_id, device.device_id, model, device_req)
        await enforce_rate_limit(conn, device.device_id, "CREATE_ACCESS_CODE", clock.real_now)
        created.append(await insert_code(conn, clock, device, model, device_req, pin))
    return created


async def holds_online_codes(conn: AsyncConnection, workspace_id: str, device_id: str) -> bool:
    """Whether lockhub can program PINs on this device over the network."""
    _, model = await _device_and_model(conn, workspace_id, device_id)
    return model.online_access_codes


async def _shared_pin(conn: AsyncConnection, targets: list[tuple[Any, DeviceModel]],
                      req: CodeRequest) -> str:
    """A PIN every target device accepts, if one exists; else the first device's PIN."""
    first_device, first_model = targets[0]
    lengths = set(first_model.supported_code_lengths)
    for _, model in targets[1:]:
        lengths &= set(model.supported_code_lengths)
    preferred = req.preferred_code_length
    length = preferred if preferred in lengths else (min(lengths) if lengths else None)
    taken: set[str] = set()
    for device, _ in targets:
        taken |= {o.code for o in await _device_codes(conn, device.device_id) if o.code}
    if length is not None:
        for _ in range(200):
            candidate = rules.generate_pin(first_model, length=length, taken=taken)
            if all(not rules.pin_violations(m, candidate, taken) for _, m in targets):
                return candidate
    return rules.generate_pin(first_model, length=rules.code_length_for(first_model, preferred),
                              taken=taken)


class CodeChanges(msgspec.Struct, kw_only=True):
    """An update: UNSET leaves a field alone; None clears it where that is allowed."""

    name: Any = UNSET
    code: Any = UNSET
    starts_at: Any = UNSET
    ends_at: Any = UNSET
    type: Any = UNSET
    is_external_modification_allowed: Any = UNSET
    is_managed: Any = UNSET


def _mutation(code: str, now: datetime, message: str, before: dict[str, Any],
              after: dict[str, Any]) -> dict[str, Any]:
    return {"mutation_code": code, "created_at": iso(now), "message": message,
            "from": before, "to": after}


async def update_code(rt: Runtime, workspace_id: str, access_code_id: str,
                 changes: CodeChanges, device_id: str | None = None) -> ActionAttempt:
    async with rt.db.write() as conn:
        clock = await workspace_clock(conn, workspace_id, rt.clock.now())
        row = await get_row(conn, workspace_id, managed=True, access_code_id=access_code_id,
                            device_id=device_id)
        attempt = await apply_update(conn, clock, row, changes)
    rt.wake_engine()
    return attempt


async def apply_update(conn: AsyncConnection, clock: WorkspaceClock, row: Any,
                       changes: CodeChanges) -> ActionAttempt:
    now = clock.now
    device, model = await _device_and_model(conn, row.workspace_id, row.device_id)
    if row.deleting:
        raise LockhubError("This access code is being deleted.", error_type="access_code_deleting")
    if row.is_offline_access_code:
        raise LockhubError("Offline access codes cannot be changed.",
                           error_type="offline_access_code_cannot_be_updated")
    if changes.is_managed is False:
        await _convert_to_unmanaged(conn, clock, row)
        return await _settled_attempt(conn, clock, row.workspace_id, row.device_id,
                                      "UPDATE_ACCESS_CODE")
    await enforce_rate_limit(conn, row.device_id, "UPDATE_ACCESS_CODE", clock.real_now)
    starts_at, ends_at = row.starts_at, row.ends_at
    if changes.type == "ongoing":
        starts_at = ends_at = None
    if changes.starts_at is not UNSET:
        starts_at = changes.starts_at
    if changes.ends_at is not UNSET:
        ends_at = changes.ends_at
    if changes.type == "time_bound" and (starts_at is None or ends_at is None):
        raise InvalidInput.for_field(["starts_at"], "A time_bound code needs starts_at and "
                                                    "ends_at")
    name = row.name if changes.name is UNSET else changes.name
    req = CodeRequest(name=name, code=None if changes.code is UNSET else changes.code,
                      starts_at=starts_at, ends_at=ends_at,
                      use_backup_access_code_pool=row.use_backup_pool and starts_at is not None)
    window_changed = (starts_at, ends_at) != (row.starts_at, row.ends_at)
    if window_changed:
        check_time_frame(req, now, model)
    pin = row.code
    if changes.code is not UNSET and changes.code != row.code:
        if changes.code is None:
            req = msgspec.structs.replace(req, code=None)
        pin = await resolve_pin(conn, row.workspace_id, row.device_id, model, req,
                                exclude=row.access_code_id)
    if name != row.name:
        await check_name(conn, row.device_id, model, name, exclude=row.access_code_id)
    mutations = [m for m in row.pending_mutations
                 if m["mutation_code"] not in ("updating_code", "updating_name",
                                               "updating_time_frame")]
    requested: list[dict[str, Any]] = []
    if pin != row.code:
        requested.append(_mutation("updating_code", clock.real_now, "Changing the PIN.",
                                   {"code": row.code}, {"code": pin}))
    if name != row.name:
        requested.append(_mutation("updating_name", clock.real_now, "Changing the name.",
                                   {"name": row.name}, {"name": name}))
    if window_changed:
        requested.append(_mutation(
            "updating_time_frame", clock.real_now, "Changing the time frame.",
            {"starts_at": _opt_iso(row.starts_at), "ends_at": _opt_iso(row.ends_at)},
            {"starts_at": _opt_iso(starts_at), "ends_at": _opt_iso(ends_at)}))
    values: dict[str, Any] = {"code": pin, "name": name, "starts_at": starts_at,
                              "ends_at": ends_at}
    if changes.is_external_modification_allowed is not UNSET:
        values["is_external_modification_allowed"] = bool(
            changes.is_external_modification_allowed)
    if row.device_ref is not None and requested:
        values["pending_mutations"] = mutations + requested
    elif requested:
        # Not on the lock yet: the new desired state simply replaces the old one.
        status, initial = _initial_state(model, req, now)
        values.update(status=status, pending_mutations=initial)
    await conn.execute(update(A).where(A.c.access_code_id == row.access_code_id).values(**values))
    if requested:
        await events.record(
            conn, now=clock.real_now, workspace_id=row.workspace_id,
            event_type="access_code.mutations_requested", access_code_id=row.access_code_id,
            device_id=row.device_id, connected_account_id=device.connected_account_id,
            requested_mutations=[{k: m[k] for k in ("mutation_code", "from", "to")}
                                 for m in requested])
    await schedule_sync(conn, clock, workspace_id=row.workspace_id, device_id=row.device_id,
                        access_code_id=row.access_code_id)
    return await _settled_attempt(conn, clock, row.workspace_id, row.device_id,
                                  "UPDATE_ACCESS_CODE")


async def update_multiple(rt: Runtime, workspace_id: str, common_code_key: str,
                          changes: CodeChanges, *, device_ids: set[str] | None = None) -> None:
    """Change every code of the key (only those on `device_ids` when given)."""
    async with rt.db.write() as conn:
        clock = await workspace_clock(conn, workspace_id, rt.clock.now())
        rows = [r for r in (await conn.execute(select(A).where(
            A.c.workspace_id == workspace_id, A.c.common_code_key == common_code_key,
            A.c.is_managed.is_(True), A.c.deleting.is_(False)))).all()
            if device_ids is None or r.device_id in device_ids]
        if not rows:
            raise NotFound("access_code", {"common_code_key": common_code_key})
        for row in rows:
            await apply_update(conn, clock, row, changes)
    rt.wake_engine()


async def delete_code(rt: Runtime, workspace_id: str, access_code_id: str, *, managed: bool = True,
                 device_id: str | None = None) -> ActionAttempt:
    async with rt.db.write() as conn:
        clock = await workspace_clock(conn, workspace_id, rt.clock.now())
        row = await get_row(conn, workspace_id, managed=managed, access_code_id=access_code_id,
                            device_id=device_id)
        if managed and row.is_offline_access_code and row.device_ref is not None:
            raise LockhubError(
                "Offline access codes cannot be deleted: the lock maker's server issued the "
                "PIN and the lock accepts it until its end.",
                error_type="offline_access_code_cannot_be_deleted",
                data={"access_code_id": row.access_code_id})
        await enforce_rate_limit(conn, row.device_id, "DELETE_ACCESS_CODE", clock.real_now)
        if not row.deleting:
            await mark_deleting(conn, clock, row)
        attempt = await _settled_attempt(conn, clock, workspace_id, row.device_id,
                                         "DELETE_ACCESS_CODE")
    rt.wake_engine()
    return attempt


async def mark_deleting(conn: AsyncConnection, clock: WorkspaceClock, row: Any) -> None:
    if row.device_ref is None and not await _in_flight(conn, row.access_code_id):
        await remove_row(conn, clock, row)
        return
    await conn.execute(update(A).where(A.c.access_code_id == row.access_code_id).values(
        deleting=True, status="removing",
        pending_mutations=[{"mutation_code": "deleting", "created_at": iso(clock.real_now),
                            "message": "The code is being removed from the device."}],
        warnings=[w for w in row.warnings if w.get("warning_code") != "being_deleted"] + [
            {"warning_code": "being_deleted", "message": "Deletion in progress.",
             "created_at": iso(clock.real_now)}]))
    await schedule_sync(conn, clock, workspace_id=row.workspace_id, device_id=row.device_id,
                        access_code_id=row.access_code_id)


async def _in_flight(conn: AsyncConnection, access_code_id: str) -> bool:
    """Whether the engine is working on the code right now (it may be writing the PIN to the
    lock): such a code is marked deleting, and the engine takes the PIN off again."""
    leased = (await conn.execute(select(jobs.jobs.c.job_id).where(
        jobs.jobs.c.job_id == job_id_for(access_code_id),
        jobs.jobs.c.lease_until.is_not(None)))).first()
    return leased is not None


# Lock-level conflicts that retrying alone cannot fix, but a PIN leaving the lock can.
LOCK_CONFLICTS = ("duplicate_code_on_device", "no_space_for_access_code_on_device")


async def retry_blocked(conn: AsyncConnection, clock: WorkspaceClock, *, workspace_id: str,
                        device_id: str) -> None:
    """A PIN left the lock (or a slot was freed): the device's codes that wait on a duplicate
    PIN or a full lock are looked at again."""
    rows = (await conn.execute(select(A.c.access_code_id, A.c.errors).where(
        A.c.device_id == device_id))).all()
    for r in rows:
        if any(e.get("error_code") in LOCK_CONFLICTS for e in r.errors):
            await schedule_sync(conn, clock, workspace_id=workspace_id, device_id=device_id,
                                access_code_id=r.access_code_id)


async def remove_row(conn: AsyncConnection, clock: WorkspaceClock, row: Any) -> None:
    """The code is gone: delete it and say so."""
    await conn.execute(A.delete().where(A.c.access_code_id == row.access_code_id))
    if row.device_ref is not None:
        await retry_blocked(conn, clock, workspace_id=row.workspace_id, device_id=row.device_id)
    await conn.execute(jobs.jobs.delete().where(
        jobs.jobs.c.job_id == job_id_for(row.access_code_id),
        jobs.jobs.c.lease_until.is_(None)))
    device = await device_service.get_row(conn, row.workspace_id, device_id=row.device_id,
                                          managed=None)
    event_type = "access_code.deleted" if row.is_managed else "access_code.unmanaged.removed"
    await events.record(conn, now=clock.real_now, workspace_id=row.workspace_id,
                        event_type=event_type, access_code_id=row.access_code_id,
                        device_id=row.device_id,
                        connected_account_id=device.connected_account_id, code=row.code)


async def _convert_to_unmanaged(conn: AsyncConnection, clock: WorkspaceClock, row: Any) -> None:
    await conn.execute(update(A).where(A.c.access_code_id == row.access_code_id).values(
        is_managed=False, common_code_key=None, pending_mutations=[],
        status="set" if row.device_ref is not None else "unset"))


async def convert_to_managed(rt: Runtime, workspace_id: str, access_code_id: str, *,
                             allow_external_modification: bool) -> None:
    async with rt.db.write() as conn:
        clock = await workspace_clock(conn, workspace_id, rt.clock.now())
        row = await get_row(conn, workspace_id, managed=False, access_code_id=access_code_id)
        device = await device_service.get_row(conn, workspace_id, device_id=row.device_id)
        on_device = {"code": row.code, "name": row.name}
        await conn.execute(update(A).where(A.c.access_code_id == access_code_id).values(
            is_managed=True, status="set" if row.device_ref is not None else "unset",
            is_external_modification_allowed=allow_external_modification,
            on_device=on_device, pending_mutations=[], errors=[], warnings=[]))
        await events.record(conn, now=clock.real_now, workspace_id=workspace_id,
                            event_type="access_code.unmanaged.converted_to_managed",
                            access_code_id=access_code_id, device_id=row.device_id,
                            connected_account_id=device.connected_account_id)
        await schedule_sync(conn, clock, workspace_id=workspace_id, device_id=row.device_id,
                            access_code_id=access_code_id)
    rt.wake_engine()


async def generate_code(rt: Runtime, workspace_id: str, device_id: str) -> GeneratedCode:
    async with rt.db.read() as conn:
        device, model = await _device_and_model(conn, workspace_id, device_id)
        _require_capability(model, device_id, False)
        taken = [o.code for o in await _device_codes(conn, device_id) if o.code]
    return GeneratedCode(device_id=device_id, code=rules.generate_pin(model, taken=taken))


async def report_device_constraints(rt: Runtime, workspace_id: str, device_id: str, *,
                                    lengths: list[int] | None, min_length: int | None,
                                    max_length: int | None) -> None:
    """The integrator tells lockhub which PIN lengths a device takes (where the provider
    cannot say); validation and generation follow it from then on."""
    if lengths is None:
        if min_length is None or max_length is None:
            raise InvalidInput.from_issues([([], "Give supported_code_lengths, or both "
                                                 "min_code_length and max_code_length")])
        if min_length > max_length:
            raise InvalidInput.for_field(["min_code_length"],
                                         "min_code_length must not exceed max_code_length")
        lengths = list(range(min_length, max_length + 1))
    if not lengths:
        raise InvalidInput.for_field(["supported_code_lengths"], "At least one length")
    async with rt.db.write() as conn:
        row = await device_service.get_row(conn, workspace_id, device_id=device_id)
        await conn.execute(update(devices_table).where(
            devices_table.c.device_id == row.device_id).values(
            reported_code_lengths=sorted(set(lengths))))
