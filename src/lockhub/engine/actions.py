"""Carrying out an action attempt through the device's provider."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from typing import Any

import msgspec
from sqlalchemy import select

from lockhub.engine.auto_lock import relocks_by_itself, schedule_relock
from lockhub.engine.device_reports import schedule_report
from lockhub.engine.jobs import Job, finish
from lockhub.providers.base import (
    ClimateCommand,
    DeviceRef,
    DeviceSnapshot,
    ProviderError,
    configures_auto_lock,
    controls_climate,
)
from lockhub.providers.refs import device_ref
from lockhub.services import action_attempts, events, noise_sensors, thermostats
from lockhub.services import devices as device_service
from lockhub.services.locks import DEFAULT_AUTO_LOCK_DELAY_SECONDS
from lockhub.services.noise_sensors import NOISE_THRESHOLD_ACTIONS
from lockhub.services.runtime import Runtime
from lockhub.services.sandbox_clock import workspace_clock
from lockhub.services.thermostats import CLIMATE_ACTIONS
from lockhub.store.tables import access_codes, connected_accounts, devices
from lockhub.store.tables import action_attempts as attempts_table

log = logging.getLogger("lockhub.engine")

# How long one provider call may take before the engine gives up on that try.
PROVIDER_TIMEOUT_SECONDS = 30.0

_OPERATIONS = {"LOCK_DOOR": ("lock", True), "UNLOCK_DOOR": ("unlock", False)}


class RetryLater(Exception):
    """A transient failure: the job goes back to the queue with backoff."""


def tries_left(exc: ProviderError, tries: int) -> bool:
    """Whether a failed command is sent again: only a failure its provider calls transient
    (`retryable`), and only while it allows more tries (`ProviderError.tries`; none given:
    until the attempt times out). Anything else settles the attempt with the provider's
    error at once."""
    return exc.retryable and (exc.tries is None or tries < exc.tries)


def _after_tries(message: str, tries: int) -> str:
    """A failure's message, saying how many tries it took when there were several."""
    return message if tries <= 1 else f"{message} (after {tries} tries)"


async def run_action_attempt(rt: Runtime, job: Job) -> None:
    attempt_id = job.payload["action_attempt_id"]
    async with rt.db.read() as conn:
        attempt = (await conn.execute(select(attempts_table).where(
            attempts_table.c.action_attempt_id == attempt_id))).first()
        device = None
        account = None
        if attempt is not None and attempt.device_id:
            device = (await conn.execute(select(devices).where(
                devices.c.device_id == attempt.device_id))).first()
            if device is not None:
                account = (await conn.execute(select(connected_accounts).where(
                    connected_accounts.c.connected_account_id == device.connected_account_id,
                ))).first()
    if attempt is None or attempt.status != "pending":
        async with rt.db.write() as conn:
            await finish(conn, job.job_id)
        return
    if action_attempts.overdue(rt, attempt, rt.clock.now()):
        # Too late to act: the device is not operated for an attempt already past its timeout.
        await _settle(rt, job, attempt, None, error=(action_attempts.EXPIRED,
                                                     action_attempts.EXPIRED_QUEUED))
        return
    if device is None or account is None:
        await _settle(rt, job, attempt, None, error=("device_not_found",
                      "The device no longer exists."))
        return
    if any(e.get("error_code") == "account_disconnected" for e in account.errors):
        await _settle(rt, job, attempt, device, error=(
            "account_disconnected", "The device's connected account is disconnected."))
        return
    provider = rt.providers.get(account.provider)
    ref = device_ref(rt.settings, device, account)
    if attempt.action_type in SIMULATIONS:
        await _simulate(rt, job, attempt, device, provider, ref)
        return
    if attempt.action_type in CLIMATE_ACTIONS and not controls_climate(provider):
        await _settle(rt, job, attempt, device, error=(
            "device_cannot_perform_action",
            "lockhub cannot change this thermostat's settings through its provider."))
        return
    if attempt.action_type == "CONFIGURE_AUTO_LOCK" and not configures_auto_lock(provider):
        await _settle(rt, job, attempt, device, error=(
            "device_cannot_perform_action",
            "lockhub cannot configure this lock's auto-lock through its provider."))
        return
    started = time.perf_counter()
    try:
        snapshot = await asyncio.wait_for(_operation(rt, provider, ref, attempt, device, job),
                                          PROVIDER_TIMEOUT_SECONDS)
    except ProviderError as exc:
        # job.attempts counts the runs of this attempt, this one included: its tries.
        if tries_left(exc, job.attempts):
            _log_outcome(attempt, device, f"{exc.error_type}, trying again", started)
            raise RetryLater(exc.message) from exc
        _log_outcome(attempt, device, exc.error_type, started)
        # Learn what the device now reports (e.g. that it went offline) along with the failure.
        await _settle(rt, job, attempt, device, snapshot=await _read_state(provider, ref),
                      error=(exc.error_type, _after_tries(exc.message, job.attempts)))
        return
    except TimeoutError as exc:
        raise RetryLater("provider timed out") from exc
    _log_outcome(attempt, device, "success", started)
    await _settle(rt, job, attempt, device, snapshot=snapshot,
                  relocks=relocks_by_itself(provider), tries=job.attempts)


def _operation(rt: Runtime, provider: Any, ref: DeviceRef, attempt: Any, device: Any,
               job: Job) -> Awaitable[DeviceSnapshot]:
    """The provider call an attempt stands for."""
    if attempt.action_type in CLIMATE_ACTIONS:
        return provider.set_climate(ref, msgspec.convert(job.payload["command"], ClimateCommand))
    if attempt.action_type in NOISE_THRESHOLD_ACTIONS:
        return noise_sensors.program_thresholds(rt, provider, ref, device.device_id)
    if attempt.action_type == "CONFIGURE_AUTO_LOCK":
        enabled = bool(job.payload["auto_lock_enabled"])
        delay = job.payload.get("auto_lock_delay_seconds") or (device.state or {}).get(
            "auto_lock_delay_seconds") or DEFAULT_AUTO_LOCK_DELAY_SECONDS
        return provider.configure_auto_lock(ref, enabled, float(delay))
    operation, _ = _OPERATIONS[attempt.action_type]
    return getattr(provider, operation)(ref)


def _log_outcome(attempt: Any, device: Any, outcome: str, started: float) -> None:
    """One line per device command, with the time spent in the provider (the lock's own
    round trip); `make bench-radio` pairs it with the client's latency to get lockhub's."""
    log.info("action_attempt %s %s device %s: %s, provider %.2f ms", attempt.action_attempt_id,
             attempt.action_type, device.device_id, outcome,
             (time.perf_counter() - started) * 1000)


async def _read_state(provider: Any, ref: DeviceRef) -> DeviceSnapshot | None:
    try:
        return await asyncio.wait_for(provider.read_state(ref), PROVIDER_TIMEOUT_SECONDS)
    except (ProviderError, TimeoutError):
        return None


async def _settle(rt: Runtime, job: Job, attempt: Any, device: Any, *,
                  snapshot: DeviceSnapshot | None = None,
                  error: tuple[str, str] | None = None, relocks: bool = False,
                  tries: int = 1) -> None:
    """Record the outcome. The attempt's own outcome is decided by its deadline: an answer
    that comes after the timeout leaves it `action_attempt_expired` (as reads already serve
    it), while what the device did and reports is recorded all the same. `relocks`: the
    lock's auto-lock is lockhub's to carry out (a virtual lock). `tries`: how many times the
    provider was asked; a success that took more than one says so in its result."""
    now = rt.clock.now()
    account_id = device.connected_account_id if device is not None else None
    operated = error is None and device is not None
    outcome = error
    if (outcome is None or outcome[0] != action_attempts.EXPIRED) and action_attempts.overdue(
            rt, attempt, now):
        outcome = (action_attempts.EXPIRED, action_attempts.EXPIRED_IN_FLIGHT)
    result: dict[str, Any] | None = None
    if outcome is None:  # a lock operation says the device confirmed it; a setting has none
        result = {"was_confirmed_by_device": True} if attempt.action_type in _OPERATIONS else {}
        if tries > 1:
            result["tries"] = tries
    async with rt.db.write() as conn:
        if outcome is None and attempt.action_type in NOISE_THRESHOLD_ACTIONS:
            result = await noise_sensors.programmed(conn, attempt.device_id, job.payload)
        await action_attempts.resolve(
            conn, now=now, row=attempt, succeeded=outcome is None, result=result,
            error_type=outcome[0] if outcome else "", message=outcome[1] if outcome else "",
            connected_account_id=account_id)
        if snapshot is not None and device is not None:
            state = device_service.merged_state(device, snapshot)
            if operated and attempt.action_type in _OPERATIONS:
                # The device did it: the bolt is where it was sent, even for brands whose
                # state reports cannot see the bolt.
                state["locked"] = _OPERATIONS[attempt.action_type][1]
            await device_service.apply_snapshot(conn, now=now, row=device, state=state)
            if operated and relocks and attempt.action_type == "UNLOCK_DOOR":
                await schedule_relock(conn, now=now, device=device, state=state)
        if operated and attempt.action_type in CLIMATE_ACTIONS:
            await thermostats.record_adjustment(conn, now=now, device_id=device.device_id,
                                                action_type=attempt.action_type,
                                                payload=job.payload)
            await schedule_report(conn, now=now, workspace_id=device.workspace_id,
                                  device_id=device.device_id)
        if operated and attempt.action_type in _OPERATIONS:
            _, locked = _OPERATIONS[attempt.action_type]
            await events.record(
                conn, now=now, workspace_id=device.workspace_id,
                event_type="lock.locked" if locked else "lock.unlocked",
                device_id=device.device_id, connected_account_id=account_id,
                method="remote", action_attempt_id=attempt.action_attempt_id)
        await finish(conn, job.job_id)
    rt.announce_resolution()


SIMULATIONS = ("SIMULATE_KEYPAD_CODE_ENTRY", "SIMULATE_MANUAL_LOCK_VIA_KEYPAD")


async def _simulate(rt: Runtime, job: Job, attempt: Any, device: Any, provider: Any,
                    ref: DeviceRef) -> None:
    """Sandbox: a person at the keypad. A valid PIN in its window unlocks and is attributed to
    its access code; anything else is refused (`lock.access_denied`)."""
    async with rt.db.read() as conn:
        clock = await workspace_clock(conn, device.workspace_id, rt.clock.now())
    match = None
    pin = job.payload.get("code", "")
    if attempt.action_type == "SIMULATE_KEYPAD_CODE_ENTRY":
        match = await provider.keypad_code_entry(ref, pin, clock.now)
    else:
        await provider.manual_lock(ref)
    snapshot = await provider.read_state(ref)
    now = rt.clock.now()
    common = {"device_id": device.device_id, "connected_account_id": device.connected_account_id}
    late = action_attempts.overdue(rt, attempt, now)
    async with rt.db.write() as conn:
        await action_attempts.resolve(
            conn, now=now, row=attempt, succeeded=not late, result={},
            error_type=action_attempts.EXPIRED, message=action_attempts.EXPIRED_IN_FLIGHT,
            connected_account_id=device.connected_account_id)
        # What happened at the keypad is recorded even if the attempt timed out meanwhile.
        await device_service.apply_snapshot(conn, now=now, row=device,
                                            state=device_service.merged_state(device, snapshot))
        if attempt.action_type == "SIMULATE_MANUAL_LOCK_VIA_KEYPAD":
            await events.record(conn, now=now, workspace_id=device.workspace_id,
                                event_type="lock.locked", method="manual", **common)
        elif match is not None:
            if relocks_by_itself(provider):
                await schedule_relock(conn, now=now, device=device,
                                      state=device_service.merged_state(device, snapshot))
            code = (await conn.execute(select(access_codes).where(
                access_codes.c.device_id == device.device_id,
                access_codes.c.device_ref == match.ref))).first()
            await events.record(
                conn, now=now, workspace_id=device.workspace_id, event_type="lock.unlocked",
                method="keycode", access_code_id=code.access_code_id if code else None,
                access_code_is_managed=code.is_managed if code else None,
                code=match.code, **common)
        else:
            known = (await conn.execute(select(access_codes.c.access_code_id).where(
                access_codes.c.device_id == device.device_id,
                access_codes.c.code == pin))).first()
            reason = ("expired_code", "The code is not valid at this time.") if known else (
                "unknown_code", "No code on the lock matches.")
            await events.record(
                conn, now=now, workspace_id=device.workspace_id,
                event_type="lock.access_denied",
                access_code_id=known.access_code_id if known else None,
                reason={"reason_code": reason[0], "message": reason[1]}, **common)
        await finish(conn, job.job_id)
    rt.announce_resolution()
