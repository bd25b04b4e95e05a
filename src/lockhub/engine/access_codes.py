"""The access-code reconciler: make the lock hold exactly what one code should be, now.

Level-triggered and idempotent: it reads the desired state (the row, at workspace time) and
the PIN the lock holds for it, issues the smallest operation (set, rewrite, remove), then
records the outcome, the events of each transition, and when to look again (the next boundary
of the code's schedule, or a retry with backoff). Running it early or twice is harmless.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import bindparam, select, update

from lockhub.clock import iso
from lockhub.domain import access_codes as rules
from lockhub.domain import offline_codes
from lockhub.engine.jobs import (
    Job,
    backoff,
    claim_along,
    finish,
    reschedule,
    retry_later,
    retry_later_in,
)
from lockhub.providers.base import (
    CodeOnDevice,
    CodesNotListable,
    OfflineCodeRequest,
    ProviderError,
    makes_offline_codes,
    sets_codes_together,
)
from lockhub.providers.refs import device_ref
from lockhub.services import access_codes as code_service
from lockhub.services import access_grants, events
from lockhub.services import devices as device_service
from lockhub.services.runtime import Runtime
from lockhub.services.sandbox_clock import WorkspaceClock, workspace_clock
from lockhub.store.tables import access_codes, connected_accounts, devices

A = access_codes
log = logging.getLogger("lockhub.engine")
PROVIDER_TIMEOUT_SECONDS = 30.0
# The most codes of one lock a pass reconciles (the rest follow in the next pass).
BATCH = 50
# Errors that retrying cannot fix: they wait for the code (or the lock) to change.
PERMANENT = {"duplicate_code_on_device", "no_space_for_access_code_on_device",
             "code_constraints_violated", "access_codes_not_supported"}
# Device conditions copied onto the code while they last.
DEVICE_CONDITIONS = {"device_offline", "hub_disconnected", "device_disconnected",
                     "device_removed", "account_disconnected"}
# The errors _failed puts on a code.
FAILURE_ERRORS = {"failed_to_set_on_device", "failed_to_remove_from_device"} | \
    DEVICE_CONDITIONS | PERMANENT


# The pass's statements, built once (the values go as parameters).
_ROWS = select(A).where(A.c.access_code_id.in_(bindparam("b_ids", expanding=True)))
_ROW = select(A).where(A.c.access_code_id == bindparam("b_id"))
_UPDATE = update(A).where(A.c.access_code_id == bindparam("b_id"))
_MARK_SETTING = update(A).where(A.c.access_code_id == bindparam("b_id"), A.c.status == "unset")
_DEVICE = select(devices).where(devices.c.device_id == bindparam("b_id"))
_ACCOUNT = select(connected_accounts).where(
    connected_accounts.c.connected_account_id == bindparam("b_id"))


def _error(code: str, message: str, now: datetime, **extra: Any) -> dict[str, Any]:
    flag = "is_device_error" if code in DEVICE_CONDITIONS else "is_access_code_error"
    return {"error_code": code, "message": message, "created_at": iso(now), flag: True, **extra}


def _warning(code: str, message: str, now: datetime) -> dict[str, Any]:
    return {"warning_code": code, "message": message, "created_at": iso(now)}


class Lock:
    """The lock's side of a pass, loaded once for all the codes it reconciles."""

    def __init__(self, rt: Runtime, device: Any, account: Any, clock: WorkspaceClock) -> None:
        self.rt, self.device, self.account, self.clock = rt, device, account, clock
        self.model = device_service.model_of(device)
        self.provider = rt.providers.get(account.provider)
        self.ref = device_ref(rt.settings, device, account)


class Context:
    """Everything one code's reconciliation needs, loaded once."""

    def __init__(self, lock: Lock, job: Job, row: Any) -> None:
        self.rt, self.device, self.account, self.clock = (
            lock.rt, lock.device, lock.account, lock.clock)
        self.model, self.provider, self.ref = lock.model, lock.provider, lock.ref
        self.job, self.row = job, row
        self.current: Any = UNREAD  # the row as the recording transaction found it
        self.schedule = rules.schedule_for(self.model, row.starts_at, row.ends_at,
                                           row.prefer_native_scheduling)

    def common(self) -> dict[str, Any]:
        return {"access_code_id": self.row.access_code_id, "device_id": self.device.device_id,
                "connected_account_id": self.device.connected_account_id}


# A Context's current row before the recording transaction has read it.
UNREAD = object()

# What one code's pass records, inside the pass's recording transaction.
Record = Callable[[Any], Awaitable[None]]


class Run:
    """One code in a pass: what to do with it, and then what to record."""

    def __init__(self, job: Job, ctx: Context | None) -> None:
        self.job, self.ctx = job, ctx
        self.record: Record = lambda conn: finish(conn, job)
        self.plan = _plan(ctx) if ctx is not None else "finish"


async def reconcile_access_code(rt: Runtime, job: Job) -> None:
    """Reconcile the due codes of `job`'s lock in one pass (up to BATCH): claim them alongside,
    read them and mark those about to be written `setting` in one transaction, do each code's
    lock operation in turn (a provider that writes several PINs in one exchange gets them
    together), then record every outcome, event and next run in one transaction. Each code
    keeps its own lifecycle, exactly as when reconciled alone."""
    async with rt.db.write() as conn:
        batch = [job, *await claim_along(conn, job, now=rt.clock.now(), limit=BATCH - 1)]
        runs = await _load(conn, rt, batch)
        # A code written ahead of its window (the lock enforces it) stays `unset` meanwhile.
        await _mark_setting(conn, [run.ctx for run in runs if run.plan == "set" and
                                   run.ctx.row.device_ref is None and
                                   run.ctx.row.status == "unset" and
                                   _status_on_device(run.ctx) == "set"])
    await _act(runs)
    await _record_outcomes(rt, runs)


async def _load(conn: Any, rt: Runtime, batch: list[Job]) -> list[Run]:
    ids = [job.payload["access_code_id"] for job in batch]
    rows = {r.access_code_id: r for r in (await conn.execute(_ROWS, {"b_ids": ids})).all()}
    locks: dict[str, Lock | None] = {}
    runs = []
    for job in batch:
        row = rows.get(job.payload["access_code_id"])
        if row is not None and row.device_id not in locks:
            locks[row.device_id] = await _lock(conn, rt, row)
        lock = locks[row.device_id] if row is not None else None
        try:
            runs.append(Run(job, Context(lock, job, row) if lock is not None else None))
        except Exception as exc:  # this code's job retries; the others go on
            log.exception("job %s (access_code) failed", job.job_id)
            runs.append(Run(job, None))
            runs[-1].record = _retry(job, rt.clock.now(), repr(exc))
    return runs


async def _lock(conn: Any, rt: Runtime, row: Any) -> Lock | None:
    """The code's lock, or None when there is nothing to do (the job then just finishes)."""
    device = (await conn.execute(_DEVICE, {"b_id": row.device_id})).first()
    account = (await conn.execute(_ACCOUNT, {"b_id": device.connected_account_id})).first() \
        if device is not None else None
    if device is None or account is None:
        return None
    if any(e.get("error_code") == "account_disconnected" for e in account.errors):
        # Nothing can be verified or changed until the account reconnects, which reschedules.
        return None
    return Lock(rt, device, account, await workspace_clock(conn, row.workspace_id,
                                                           rt.clock.now()))


def _plan(ctx: Context) -> str:
    """The smallest operation that makes the lock hold what the code should be now."""
    row = ctx.row
    if row.is_offline_access_code:
        return "offline"
    if not row.deleting and (not row.is_managed or
                             rules.should_be_on_device(ctx.schedule, ctx.clock.now)):
        if row.device_ref is None or row.on_device != _snapshot(_desired(ctx)):
            return "set"
        return "steady"
    return "remove" if row.device_ref is not None else "absent"


async def _act(runs: list[Run]) -> None:
    """Each code's lock operation, removals first (a PIN leaving may make room for one
    arriving); each outcome becomes the code's Record."""
    for run in runs:
        ctx = run.ctx
        if run.plan == "steady":
            run.record = lambda conn, ctx=ctx: _steady(conn, ctx)
        elif run.plan == "absent":
            run.record = lambda conn, ctx=ctx: _absent(conn, ctx)
        elif run.plan == "offline":
            await _guarded(run, _offline(ctx))
        elif run.plan == "remove":
            await _guarded(run, _remove(ctx))
    sets = [run for run in runs if run.plan == "set"]
    if len(sets) > 1 and sets_codes_together(sets[0].ctx.provider):
        await _set_together(sets)
    else:
        for run in sets:
            await _guarded(run, _set(run.ctx, _desired(run.ctx)))


async def _guarded(run: Run, operation: Awaitable[Record]) -> None:
    """Run one code's operation; a failure becomes its Record: the code's errors and retry for
    the lock's, the job's retry with backoff for anything else."""
    ctx = run.ctx
    try:
        run.record = await operation
    except ProviderError as exc:
        run.record = _failure(ctx, exc)
    except TimeoutError:
        run.record = _timeout(ctx)
    except Exception as exc:
        log.exception("job %s (access_code) failed", run.job.job_id)
        run.record = _retry(run.job, ctx.clock.real_now, repr(exc))


def _failure(ctx: Context, exc: ProviderError, *, permanent: bool | None = None) -> Record:
    if permanent is None:
        permanent = exc.error_type in PERMANENT
    return lambda conn: _failed(conn, ctx, exc.error_type, exc.message, permanent=permanent)


def _timeout(ctx: Context, message: str = "The lock did not answer in time.") -> Record:
    return lambda conn: _failed(conn, ctx, "provider_timeout", message, permanent=False)


def _retry(job: Job, now: datetime, error: str) -> Record:
    return lambda conn: retry_later_in(conn, job, now=now, error=error)


async def _remove(ctx: Context) -> Record:
    await asyncio.wait_for(ctx.provider.remove_code(ctx.ref, _written(ctx.row)),
                           PROVIDER_TIMEOUT_SECONDS)
    return lambda conn: _removed(conn, ctx)


async def _set(ctx: Context, desired: CodeOnDevice,
               placed: frozenset[str] = frozenset()) -> Record:
    written = await _set_or_adopt(ctx, desired, placed)
    return lambda conn: _programmed(conn, ctx, written)


async def _set_together(runs: list[Run]) -> None:
    """Several PINs of one lock in one exchange (a provider with `set_codes`), each with its
    own outcome; a duplicate of a PIN this lock may already hold from an unrecorded run goes
    through adoption, as alone."""
    ctx = runs[0].ctx
    desired = [_desired(run.ctx) for run in runs]
    wanted = [(code, _replacing(run.ctx, code)) for run, code in zip(runs, desired, strict=True)]
    try:
        results = await asyncio.wait_for(ctx.provider.set_codes(ctx.ref, wanted),
                                         PROVIDER_TIMEOUT_SECONDS * len(runs))
    except Exception as exc:  # the exchange as a whole failed: so did each PIN in it
        for run in runs:
            await _guarded(run, _raise(exc))
        return
    placed = frozenset(r.ref for r in results if isinstance(r, CodeOnDevice) and r.ref)
    for run, code, result in zip(runs, desired, results, strict=True):
        if isinstance(result, CodeOnDevice):
            run.record = lambda conn, ctx=run.ctx, result=result: _programmed(conn, ctx, result)
        else:
            await _guarded(run, _adopted(run.ctx, code, result, placed))


async def _raise(exc: Exception) -> Record:
    raise exc


async def _adopted(ctx: Context, desired: CodeOnDevice, exc: ProviderError,
                   placed: frozenset[str]) -> Record:
    written = await _adopt(ctx, desired, exc, placed)
    return lambda conn: _programmed(conn, ctx, written)


async def _record_outcomes(rt: Runtime, runs: list[Run]) -> None:
    """Every outcome in one transaction. Should one code's recording fail, each is recorded in
    its own, so the others are not held back; the pass's own job last (its lease keeps the
    lock's key, and so the others, this engine's until then), its failure left to the worker."""
    contexts = [run.ctx for run in runs if run.ctx is not None]
    try:
        async with rt.db.write() as conn:
            if len(contexts) > 1:
                found = {r.access_code_id: r for r in (await conn.execute(_ROWS, {
                    "b_ids": [ctx.row.access_code_id for ctx in contexts]})).all()}
                for ctx in contexts:
                    ctx.current = found.get(ctx.row.access_code_id)
            for run in runs:
                await run.record(conn)
        return
    except Exception:
        if len(runs) == 1:
            raise
        log.exception("recording a pass of %d access codes failed; recording them one by one",
                      len(runs))
    for ctx in contexts:  # read again, each in its own transaction
        ctx.current = UNREAD
    first, *along = runs
    for run in along:
        try:
            async with rt.db.write() as conn:
                await run.record(conn)
        except Exception as exc:
            log.exception("job %s (access_code) failed", run.job.job_id)
            try:
                await retry_later(rt.db, run.job, now=rt.clock.now(), error=repr(exc))
            except Exception as again:  # the lease expires and the job runs again
                log.warning("job %s (access_code) could not be rescheduled: %s",
                            run.job.job_id, again)
    async with rt.db.write() as conn:
        await first.record(conn)


def _replacing(ctx: Context, desired: CodeOnDevice) -> CodeOnDevice | None:
    return _written(ctx.row) if desired.ref is not None else None


async def _set_or_adopt(ctx: Context, desired: CodeOnDevice,
                        placed: frozenset[str] = frozenset()) -> CodeOnDevice:
    try:
        return await asyncio.wait_for(
            ctx.provider.set_code(ctx.ref, desired, _replacing(ctx, desired)),
            PROVIDER_TIMEOUT_SECONDS)
    except ProviderError as exc:
        return await _adopt(ctx, desired, exc, placed)


async def _adopt(ctx: Context, desired: CodeOnDevice, exc: ProviderError,
                 placed: frozenset[str]) -> CodeOnDevice:
    """After a duplicate: if the lock already holds this very PIN where no other code owns it
    (a previous run wrote it and crashed before recording), adopt that place instead; `placed`
    are the places this pass wrote and has not recorded yet. A lock whose PINs cannot be listed
    cannot show that: the duplicate stands."""
    if exc.error_type != "duplicate_code_on_device" or desired.ref is not None:
        raise exc
    try:
        on_lock = await asyncio.wait_for(ctx.provider.list_codes(ctx.ref),
                                         PROVIDER_TIMEOUT_SECONDS)
    except CodesNotListable:
        raise exc from None
    async with ctx.rt.db.read() as conn:
        owned = {r.device_ref for r in (await conn.execute(select(A.c.device_ref).where(
            A.c.device_id == ctx.device.device_id, A.c.device_ref.is_not(None)))).all()}
    mine = next((c for c in on_lock if c.code == desired.code and c.ref not in owned | placed),
                None)
    if mine is None:
        raise exc
    adopted = msgspec.structs.replace(desired, ref=mine.ref)
    return await asyncio.wait_for(ctx.provider.set_code(ctx.ref, adopted, mine),
                                  PROVIDER_TIMEOUT_SECONDS)


def _written(row: Any) -> CodeOnDevice:
    """The PIN as lockhub last wrote it to the lock (or found it there), under its reference:
    what a provider is handed to rewrite or remove it."""
    written = row.on_device or {}
    return CodeOnDevice(code=written.get("code"), name=written.get("name"), ref=row.device_ref,
                        starts_at=_instant(written.get("starts_at")),
                        ends_at=_instant(written.get("ends_at")))


def _instant(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _device_name(ctx: Context) -> str | None:
    """The name as written to the lock: cut to the device's name length."""
    name = ctx.row.name
    for constraint in ctx.model.code_constraints:
        if constraint["constraint_type"] == "name_length" and name is not None:
            high = constraint.get("max_length")
            if high is not None:
                name = name[:high]
    return name


def _desired(ctx: Context) -> CodeOnDevice:
    native = ctx.schedule.native
    return CodeOnDevice(code=ctx.row.code, name=_device_name(ctx), ref=ctx.row.device_ref,
                        starts_at=ctx.schedule.starts_at if native else None,
                        ends_at=ctx.schedule.ends_at if native else None)


def _snapshot(code: CodeOnDevice) -> dict[str, Any]:
    return {"code": code.code, "name": code.name,
            "starts_at": code.starts_at.isoformat() if code.starts_at else None,
            "ends_at": code.ends_at.isoformat() if code.ends_at else None}


def _status_on_device(ctx: Context) -> str:
    if not ctx.row.is_managed:
        return "set"
    if ctx.schedule.native and not rules.is_active(ctx.schedule, ctx.clock.now):
        return "unset"
    return "set"


async def _next_run(ctx: Context, conn: Any, *, retry_in: float | None = None) -> None:
    if retry_in is not None:
        await reschedule(conn, ctx.job, ctx.clock.real_now + timedelta(seconds=retry_in))
        return
    boundary = rules.next_boundary(ctx.schedule, ctx.clock.now) if ctx.row.is_managed else None
    if boundary is None:
        await finish(conn, ctx.job)
    else:
        await reschedule(conn, ctx.job, ctx.clock.to_real(boundary))


async def _current(conn: Any, ctx: Context) -> Any:
    """The code's row as it is now (a request may have changed it during the provider call):
    read with the pass's others at the start of the recording transaction, once, before any of
    the code's own writes."""
    if ctx.current is not UNREAD:
        current, ctx.current = ctx.current, UNREAD
        return current
    return (await conn.execute(_ROW, {"b_id": ctx.row.access_code_id})).first()


async def _change(conn: Any, ctx: Context, **values: Any) -> None:
    """Update the code's row."""
    await conn.execute(_UPDATE, {"b_id": ctx.row.access_code_id, **values})


async def _current_or_finish(conn: Any, ctx: Context) -> Any:
    """The current row, or None after finishing the job when the code is gone."""
    current = await _current(conn, ctx)
    if current is None:
        await finish(conn, ctx.job)
    return current


async def _record(conn: Any, ctx: Context, event_type: str, **fields: Any) -> None:
    await events.record(conn, now=ctx.clock.real_now, workspace_id=ctx.row.workspace_id,
                        event_type=event_type, **ctx.common(), **fields)
    if event_type == "access_code.set_on_device" and ctx.row.access_method_id:
        await access_grants.code_set_on_device(
            conn, now=ctx.clock.real_now, access_method_id=ctx.row.access_method_id,
            access_code_id=ctx.row.access_code_id)


async def _mark_setting(conn: Any, contexts: list[Context],
                        message: str = "The code is being set on the device.") -> None:
    """The codes are being written: `setting` (one statement for them all)."""
    if contexts:
        await conn.execute(_MARK_SETTING, [{
            "b_id": ctx.row.access_code_id, "status": "setting",
            "pending_mutations": [{"mutation_code": "creating",
                                   "created_at": iso(ctx.clock.real_now), "message": message}]}
            for ctx in contexts])


async def _programmed(conn: Any, ctx: Context, placed: CodeOnDevice) -> None:
    row = ctx.row
    status = _status_on_device(ctx)
    first_time = row.device_ref is None
    current = await _current_or_finish(conn, ctx)
    if current is None:
        return
    if current.deleting:
        # Deleted while the PIN was being written: record where it is; the next run (due at
        # once) takes the PIN off the lock again.
        await _change(conn, ctx, device_ref=placed.ref, on_device=_snapshot(placed))
        await reschedule(conn, ctx.job, ctx.clock.real_now)
        return
    changed_mutations, later = _applied(row, current)
    await _change(
        conn, ctx, device_ref=placed.ref, on_device=_snapshot(placed), status=status,
        is_scheduled_on_device=ctx.schedule.native and status == "unset",
        pending_mutations=later, errors=[], failures=0,
        warnings=[w for w in current.warnings if w["warning_code"] not in (
            "delay_in_setting_on_device",)])
    if not first_time and (row.on_device or {}).get("code") != placed.code:
        await code_service.retry_blocked(conn, ctx.clock, workspace_id=row.workspace_id,
                                         device_id=row.device_id)
    if row.is_managed:
        if first_time and ctx.schedule.native and status == "unset":
            await _record(conn, ctx, "access_code.scheduled_on_device", code=row.code)
        elif first_time or row.status != "set" and status == "set":
            await _record(conn, ctx, "access_code.set_on_device", code=row.code)
        if changed_mutations:
            await _record_changes(conn, ctx, changed_mutations)
    await _next_run(ctx, conn)


def _applied(row: Any, current: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Split the current pending updates into those this run applied (requested before it read
    the row) and those requested since (a later run, already due, applies them)."""
    updates = [m for m in current.pending_mutations if m["mutation_code"].startswith("updating_")]
    applied = [m for m in updates if m in row.pending_mutations]
    return applied, [m for m in updates if m not in applied]


async def _record_changes(conn: Any, ctx: Context, mutations: list[dict[str, Any]]) -> None:
    specific = {"updating_code": ("access_code.code_changed", "code"),
                "updating_name": ("access_code.name_changed", "name"),
                "updating_time_frame": ("access_code.time_frame_changed", "time frame")}
    changed = []
    for mutation in mutations:
        event_type, label = specific[mutation["mutation_code"]]
        await _record(conn, ctx, event_type, description=f"The {label} changed on the device.",
                      **{"from": mutation["from"], "to": mutation["to"]})
        for key, value in mutation["to"].items():
            changed.append({"property": key, "from": mutation["from"].get(key), "to": value})
    await _record(conn, ctx, "access_code.changed", changed_properties=changed)


async def _steady(conn: Any, ctx: Context) -> None:
    """On the lock as wanted; only the schedule may move the status (native window opens)."""
    status = _status_on_device(ctx)
    current = await _current(conn, ctx)
    if status != ctx.row.status:
        await _change(conn, ctx, status=status,
                      is_scheduled_on_device=status == "unset" and ctx.schedule.native)
        if status == "set":
            await _record(conn, ctx, "access_code.set_on_device", code=ctx.row.code)
    # An update the lock needs no write for (e.g. a just-in-time window that still covers
    # now) is in effect already.
    applied, later = _applied(ctx.row, current) if current is not None else ([], [])
    if applied:
        await _change(conn, ctx, pending_mutations=[m for m in current.pending_mutations
                                                      if m not in applied])
        await _record_changes(conn, ctx, applied)
    await _next_run(ctx, conn)


async def _removed(conn: Any, ctx: Context) -> None:
    if ctx.row.is_managed:  # an unmanaged code's removal is access_code.unmanaged.removed
        await _record(conn, ctx, "access_code.removed_from_device")
    ended = ctx.row.ends_at is not None and ctx.clock.now >= ctx.row.ends_at
    if ctx.row.deleting or ended or not ctx.row.is_managed:
        await _gone(conn, ctx)
        return
    # Off the lock until its (moved) window comes near: the requested change is in effect,
    # and the failures of earlier attempts are over.
    current = await _current_or_finish(conn, ctx)
    if current is None:
        return
    changed = [m for m in current.pending_mutations
               if m["mutation_code"].startswith("updating_")]
    await _change(
        conn, ctx, device_ref=None, on_device=None, status="unset", is_scheduled_on_device=False,
        pending_mutations=[m for m in current.pending_mutations if m not in changed],
        **_without_failures(current))
    if changed:
        await _record_changes(conn, ctx, changed)
    await code_service.retry_blocked(conn, ctx.clock, workspace_id=ctx.row.workspace_id,
                                     device_id=ctx.row.device_id)
    await reschedule(conn, ctx.job, ctx.clock.real_now)  # _absent shows what it waits for


async def _absent(conn: Any, ctx: Context) -> None:
    """Not on the lock and should not be: deleted, ended, or waiting for its window."""
    row = ctx.row
    ended = row.ends_at is not None and ctx.clock.now >= row.ends_at
    if row.deleting or ended:
        await _gone(conn, ctx)
        return
    program_at = ctx.schedule.program_at
    mutations = [{"mutation_code": "deferring_creation", "created_at": iso(ctx.clock.real_now),
                  "scheduled_at": iso(program_at) if program_at else None,
                  "message": "Waiting until closer to starts_at to program the code."}]
    if row.status != "unset" or row.pending_mutations != mutations:
        # Nothing is being attempted while it waits: no failure or delay is current.
        await _change(conn, ctx, status="unset", pending_mutations=mutations,
                      **_without_failures(row))
    await _next_run(ctx, conn)


async def _gone(conn: Any, ctx: Context, row: Any = None) -> None:
    """The code is over: its row goes (with its event), and its job."""
    await code_service.remove_row(conn, ctx.clock, row if row is not None else ctx.row)
    await finish(conn, ctx.job)


def _without_failures(row: Any) -> dict[str, Any]:
    """The row's errors and warnings minus those of failed lock operations (see _failed)."""
    return {"errors": [e for e in row.errors if e["error_code"] not in FAILURE_ERRORS],
            "warnings": [w for w in row.warnings if w["warning_code"] not in (
                "delay_in_setting_on_device", "delay_in_removing_from_device")],
            "failures": 0}


async def _failed(conn: Any, ctx: Context, error_type: str, message: str, *,
                  permanent: bool) -> None:
    row, now = ctx.row, ctx.clock.real_now
    wanted_on = not row.deleting and (not row.is_managed or
                                      rules.should_be_on_device(ctx.schedule, ctx.clock.now))
    removing = row.device_ref is not None and not wanted_on
    summary = "failed_to_remove_from_device" if removing else "failed_to_set_on_device"
    errors = [_error(summary, f"{message} ({error_type})", now)]
    if error_type in DEVICE_CONDITIONS or error_type in PERMANENT:
        errors.append(_error(error_type, message, now))
    warning = "delay_in_removing_from_device" if removing else "delay_in_setting_on_device"
    current = await _current_or_finish(conn, ctx)
    if current is None:
        return
    warnings = [w for w in current.warnings if w["warning_code"] != warning]
    if not permanent:
        warnings.append(_warning(warning, f"Still trying: {message}", now))
    await _change(conn, ctx, errors=errors, warnings=warnings, failures=current.failures + 1)
    if current.failures == 0 or permanent and not current.errors:
        await _record(conn, ctx, f"access_code.{summary}",
                      access_code_errors=errors, access_code_warnings=warnings)
    if permanent:
        # Retrying cannot help until the code or the lock changes; an update reschedules.
        await finish(conn, ctx.job)
    else:
        await _next_run(ctx, conn, retry_in=min(60.0, 0.5 + backoff(current.failures + 1)))


async def _offline(ctx: Context) -> Record:
    """An offline code is registered with the lock maker's server (its "setting" step), which
    issues the PIN; nothing is ever written to the lock. Once registered it is valid inside its
    window and gone at its end: it cannot be revoked (the API refuses to delete it)."""
    row, now = ctx.row, ctx.clock.now
    if row.deleting or (row.ends_at is not None and now >= row.ends_at):
        return lambda conn: _gone(conn, ctx)
    if row.device_ref is not None:
        return lambda conn: _offline_window(conn, ctx)
    try:
        issued = await _register(ctx)
    except ProviderError as exc:
        return _failure(ctx, exc, permanent=exc.error_type in PERMANENT or not exc.retryable)
    except TimeoutError:
        return _timeout(ctx, "The lock maker's server did not answer in time.")
    return lambda conn: _registered(conn, ctx, issued)


async def _register(ctx: Context) -> CodeOnDevice:
    if not makes_offline_codes(ctx.provider):
        raise ProviderError("access_codes_not_supported",
                            "This lock's provider cannot issue offline access codes.")
    row = ctx.row
    async with ctx.rt.db.write() as conn:
        await _mark_setting(conn, [ctx],
                            "The code is being registered with the lock maker's server.")
    starts_at = offline_codes.issue_start(row.starts_at, ctx.clock.now)
    request = OfflineCodeRequest(
        starts_at=starts_at, ends_at=row.ends_at,
        name=_device_name(ctx), one_time_use=row.is_one_time_use,
        rounding=offline_codes.rounding_of(offline_codes.rules_for(ctx.model), row.starts_at,
                                           row.ends_at),
        issued_for_window=await _issued_for_window(ctx, starts_at))
    return await asyncio.wait_for(ctx.provider.create_offline_code(ctx.ref, request),
                                  PROVIDER_TIMEOUT_SECONDS)


async def _issued_for_window(ctx: Context, starts_at: datetime) -> int:
    """The offline codes already issued on this lock for the same window and kind."""
    async with ctx.rt.db.read() as conn:
        rows = (await conn.execute(select(A.c.on_device, A.c.is_one_time_use).where(
            A.c.device_id == ctx.device.device_id, A.c.device_ref.is_not(None),
            A.c.is_offline_access_code.is_(True)))).all()
    wanted = (starts_at.isoformat(),
              ctx.row.ends_at.isoformat() if ctx.row.ends_at is not None else None,
              ctx.row.is_one_time_use)
    return sum(1 for r in rows if r.on_device and (
        r.on_device.get("starts_at"), r.on_device.get("ends_at"),
        bool(r.is_one_time_use)) == wanted)


async def _registered(conn: Any, ctx: Context, issued: CodeOnDevice) -> None:
    status = "set" if rules.is_active(ctx.schedule, ctx.clock.now) else "unset"
    current = await _current_or_finish(conn, ctx)
    if current is None:
        return
    if current.deleting:  # deleted while the server issued it: the PIN was never shown
        await _gone(conn, ctx, current)
        return
    await _change(conn, ctx, code=issued.code, device_ref=issued.ref,
                  on_device=_snapshot(issued), status=status, pending_mutations=[], errors=[],
                  failures=0, warnings=[w for w in current.warnings
                                        if w["warning_code"] != "delay_in_setting_on_device"])
    if status == "set":
        await _record(conn, ctx, "access_code.set_on_device", code=issued.code)
    await _offline_next_run(ctx, conn)


async def _offline_window(conn: Any, ctx: Context) -> None:
    """Registered: set inside its window, unset before it."""
    row = ctx.row
    status = "set" if rules.is_active(ctx.schedule, ctx.clock.now) else "unset"
    if status != row.status:
        await _change(conn, ctx, status=status, pending_mutations=[])
        if status == "set":
            await _record(conn, ctx, "access_code.set_on_device", code=row.code)
    await _offline_next_run(ctx, conn)


async def _offline_next_run(ctx: Context, conn: Any) -> None:
    now = ctx.clock.now
    boundary = next((i for i in (ctx.row.starts_at, ctx.row.ends_at)
                     if i is not None and i > now), None)
    if boundary is None:
        await finish(conn, ctx.job)
    else:
        await reschedule(conn, ctx.job, ctx.clock.to_real(boundary))
