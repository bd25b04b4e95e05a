"""Virtual locks that behave like real ones: latency, offline, hubs, settings.

The virtual device lives in its own table (sandbox_devices), apart from lockhub's view of it,
exactly as a physical lock lives apart from the cloud that controls it: a lock can change while
lockhub is down, and lockhub only learns of it through this protocol.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, delete, select, update

from lockhub.catalogue import brand as catalogue_brand
from lockhub.catalogue import brands as catalogue_brands
from lockhub.catalogue import credential_kinds
from lockhub.catalogue import model as catalogue_model
from lockhub.clock import Clock, iso
from lockhub.domain.access_codes import generate_pin
from lockhub.providers.base import (
    AccountLogin,
    AccountRef,
    ClimateCommand,
    CodeOnDevice,
    DeviceRef,
    DeviceSnapshot,
    NoiseState,
    OfflineCodeRequest,
    ProviderError,
    SecondFactorRequired,
    slot_number,
)
from lockhub.providers.sandbox import climate
from lockhub.providers.sandbox.faults import injected_error
from lockhub.services.sandbox_clock import workspace_clock
from lockhub.store.db import Database
from lockhub.store.tables import sandbox_codes, sandbox_devices

T = sandbox_devices
C = sandbox_codes
_ACCOUNTS = Path(__file__).with_name("accounts.json")


@cache
def test_accounts() -> dict[str, list[dict[str, Any]]]:
    """Sandbox test accounts per brand, with the virtual devices each one owns."""
    return json.loads(_ACCOUNTS.read_text())["accounts"]


def find_test_account(brand: str, form: dict[str, Any],
                      ignore: frozenset[str] = frozenset()) -> dict[str, Any] | None:
    """The test account these credentials open, if any (exact documented test values).
    Fields in `ignore` are not checked (the second factor, while checking the first step)."""
    for account in test_accounts().get(brand, []):
        login = account["login"]
        ok = True
        for field_name, expected in login.items():
            if field_name in ignore:
                continue
            given = form.get(field_name)
            if field_name == "email" and account.get("any_example_com_email"):
                ok = ok and isinstance(given, str) and given.lower().endswith("@example.com")
            else:
                ok = ok and given == expected
        if ok:
            return account
    return None


def account_identity(form: dict[str, Any]) -> str:
    for field_name in ("email", "username", "api_key_id"):
        if form.get(field_name):
            return str(form[field_name]).lower()
    return "account"


def snapshot(row: Any, at: datetime) -> DeviceSnapshot:
    """What the virtual device reports at workspace instant `at`."""
    settings = row.settings or {}
    model = catalogue_model(row.brand, row.model)
    thermostat = noise = None
    if model.thermostat is not None and row.climate:
        thermostat = climate.thermostat_state(climate.advanced(row.climate, model.thermostat, at),
                                              at)
    if model.noise_sensor is not None and row.noise:
        noise = climate.noise_state(row.noise, model.noise_sensor, row.sandbox_device_id, at)
    return DeviceSnapshot(
        provider_device_id=row.sandbox_device_id,
        brand=row.brand,
        model=row.model,
        name=row.name,
        online=row.online,
        locked=row.locked if model.kind == "lock" else None,
        door_open=row.door_open,
        battery_level=row.battery_level,
        hub_connected=row.hub_connected,
        remote_unlock_enabled=settings.get("remote_unlock_enabled"),
        serial_number=row.serial_number,
        metadata=_metadata(row, noise, at),
        removed=bool(settings.get("removed", False)),
        subscription_expired=bool(settings.get("subscription_expired", False)),
        auto_lock_enabled=bool(settings.get("auto_lock_enabled", False))
        if model.auto_lock else None,
        auto_lock_delay_seconds=settings.get("auto_lock_delay_seconds"),
        thermostat=thermostat,
        noise=noise,
        climate_presets=settings.get("climate_presets"),
    )


def _metadata(row: Any, noise: NoiseState | None, at: datetime) -> dict[str, Any]:
    """The brand's metadata, with a noise sensor's latest reading in it."""
    metadata = dict(row.metadata or {})
    if noise is None:
        return metadata
    if "latest_sensor_values" in metadata:
        values = dict(metadata["latest_sensor_values"])
        values["sound"] = {"time": iso(at), "value": noise.noise_level_decibels}
        metadata["latest_sensor_values"] = values
    if "noise_level_decibel" in metadata:
        metadata["noise_level_decibel"] = noise.noise_level_decibels
        metadata["noise_level_nrs"] = noise.noise_level_nrs
    return metadata


# The hot statements, built once (the values go as parameters).
_LOCK = select(T).where(T.c.workspace_id == bindparam("b_workspace"),
                        T.c.sandbox_device_id == bindparam("b_device"))
_TAKEN = select(C.c.slot, C.c.code).where(C.c.sandbox_device_id == bindparam("b_device"))
_HOLD = select(T.c.sandbox_device_id).where(
    T.c.sandbox_device_id == bindparam("b_device")).with_for_update()
_INSERT_PIN = C.insert()
_UPDATE_PIN = update(C).where(C.c.sandbox_device_id == bindparam("b_device"),
                              C.c.slot == bindparam("b_slot"))


async def _taken(conn: Any, device: DeviceRef) -> dict[int, str]:
    """The lock's PIN slots in use: slot -> PIN. The virtual lock's row stays locked until the
    transaction ends, so two writers (the engine programming a code, someone adding one at the
    lock) cannot both take the same free slot: PostgreSQL runs them side by side, SQLite never
    does (`FOR UPDATE` is not rendered there)."""
    await conn.execute(_HOLD, {"b_device": device.provider_device_id})
    return {r.slot: r.code for r in (await conn.execute(
        _TAKEN, {"b_device": device.provider_device_id})).all()}


def _pin_model(row: Any) -> Any:
    """The lock's model, if it stores PINs over the network."""
    model = catalogue_model(row.brand, row.model)
    if not model.online_access_codes:
        raise ProviderError("access_codes_not_supported",
                            "This lock cannot store PINs over the network.", retryable=False)
    return model


async def _outcome(call: Awaitable[CodeOnDevice]) -> CodeOnDevice | ProviderError:
    try:
        return await call
    except ProviderError as exc:
        return exc


def virtual_device(device: dict[str, Any], at: datetime, **identity: Any) -> dict[str, Any]:
    """The sandbox_devices row of a test account's device (accounts.json), as it is at
    workspace instant `at`."""
    model = catalogue_model(identity["brand"], device["model"])
    settings = {k: device[k] for k in ("remote_unlock_enabled",) if k in device}
    if device.get("climate", {}).get("presets"):
        settings["climate_presets"] = device["climate"]["presets"]
    return dict(
        identity, model=device["model"], name=device["name"], locked=device.get("locked", True),
        online=device.get("online", True), door_open=device.get("door_open"),
        hub_connected=device.get("hub_connected"), battery_level=device.get("battery_level"),
        settings=settings, metadata=device.get("metadata") or {},
        serial_number=device.get("serial_number"), latency_ms=None, faults={}, codes={},
        climate=climate.initial_climate(device, model.thermostat, at)
        if model.thermostat is not None else None,
        noise=climate.initial_noise(device) if model.noise_sensor is not None else None)


class SandboxProvider:
    name = "sandbox"
    sandbox = True

    def account_types(self) -> list[str]:
        return [key for key in catalogue_brands() if test_accounts().get(key)]

    def __init__(self, db: Database, clock: Clock, latency_scale: float = 1.0) -> None:
        self.db = db
        self.clock = clock
        self.latency_scale = latency_scale

    async def _row(self, device: DeviceRef) -> Any:
        async with self.db.read() as conn:
            row = (await conn.execute(_LOCK, {"b_workspace": device.workspace_id,
                                              "b_device": device.provider_device_id})).first()
        if row is None:
            raise ProviderError("device_removed", "Device no longer exists in the account.")
        return row

    async def _operate(self, device: DeviceRef, operation: str) -> Any:
        """Load the virtual lock for an operation: injected faults first, then reachability."""
        row = await self._row(device)
        if row.faults.get("failures"):
            await self._consume_fault(device, operation)
        self._reachable(row)
        return row

    async def _consume_fault(self, device: DeviceRef, operation: str) -> None:
        async with self.db.write() as conn:
            row = (await conn.execute(select(T.c.faults).where(
                T.c.sandbox_device_id == device.provider_device_id))).first()
            failures = list((row.faults if row else {}).get("failures", []))
            for index, failure in enumerate(failures):
                operations = failure.get("operations")
                if operations and operation not in operations:
                    continue
                failure = dict(failure, remaining=failure.get("remaining", 1) - 1)
                if failure["remaining"] > 0:
                    failures[index] = failure
                else:
                    failures.pop(index)
                await conn.execute(update(T).where(
                    T.c.sandbox_device_id == device.provider_device_id,
                ).values(faults={**row.faults, "failures": failures}))
                break
            else:
                return
        raise injected_error(failure, operation)

    async def _latency(self, row: Any) -> None:
        latency_ms = row.latency_ms
        if latency_ms is None:
            latency_ms = catalogue_model(row.brand, row.model).latency_ms
        delay = latency_ms / 1000 * self.latency_scale
        if delay > 0:
            await asyncio.sleep(delay)

    def _reachable(self, row: Any) -> None:
        model = catalogue_model(row.brand, row.model)
        if (row.settings or {}).get("removed"):
            raise ProviderError("device_removed", "The device was removed from the account.")
        # A lost hub also makes the lock unreachable; report the cause, as the device's
        # errors do (domain.devices.device_errors checks the hub first too).
        if model.requires_hub and row.hub_connected is False:
            raise ProviderError("hub_disconnected",
                                "The hub or gateway this device depends on is offline.")
        if not row.online:
            raise ProviderError("device_offline", "Device is offline.")

    def sandbox_device_id(self, workspace_id: str, account_login: str, key: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"lockhub:{workspace_id}:{account_login}:{key}"))

    async def login(self, workspace_id: str, account_type: str,
                    form: dict[str, Any]) -> AccountLogin:
        """Accept exactly the documented sandbox test credentials; create the account's locks.

        Brands with a second factor first check the rest of the form and ask for the code
        (SecondFactorRequired), as the real provider sends one after the password step."""
        second = frozenset(f.name for f in credential_kinds()[
            catalogue_brand(account_type).credentials].second_factor)
        first_step_ok = find_test_account(account_type, form, ignore=second) is not None
        if second and first_step_ok and not all(form.get(name) for name in second):
            raise SecondFactorRequired()
        account = find_test_account(account_type, form)
        if account is None and second and first_step_ok:
            raise ProviderError("invalid_second_factor", "That verification code is not valid.")
        if account is None:
            raise ProviderError("invalid_credentials",
                                "These are not valid sandbox credentials for this provider.")
        identity = account_identity(form)
        account_login = f"{account_type}:{identity}"
        now = self.clock.now()
        async with self.db.write() as conn:
            at = (await workspace_clock(conn, workspace_id, now)).now
            existing = {r.sandbox_device_id for r in (await conn.execute(
                select(T.c.sandbox_device_id).where(
                    T.c.workspace_id == workspace_id, T.c.account_login == account_login)
            )).all()}
            for position, device in enumerate(account["devices"]):
                device_id = self.sandbox_device_id(workspace_id, account_login, device["key"])
                if device_id in existing:
                    continue
                await conn.execute(T.insert().values(**virtual_device(
                    device, at, sandbox_device_id=device_id, workspace_id=workspace_id,
                    account_login=account_login, brand=account_type,
                    created_at=now + timedelta(microseconds=position))))
        user_identifier = {k: form[k] for k in ("email", "username") if form.get(k)}
        if not user_identifier:
            user_identifier = {"api_url": identity}
        return AccountLogin(account_login=account_login, user_identifier=user_identifier,
                            credentials={"account_login": account_login})

    async def import_devices(self, account: AccountRef) -> list[DeviceSnapshot]:
        login = account.credentials.get("account_login")
        async with self.db.read() as conn:
            rows = (await conn.execute(select(T).where(
                T.c.workspace_id == account.workspace_id, T.c.account_login == login,
            ).order_by(T.c.created_at, T.c.sandbox_device_id))).all()
        at = await self.workspace_now(account.workspace_id)
        return [snapshot(row, at) for row in rows]

    async def read_state(self, device: DeviceRef) -> DeviceSnapshot:
        return snapshot(await self._row(device), await self.workspace_now(device.workspace_id))

    async def workspace_now(self, workspace_id: str) -> datetime:
        """The workspace's time (its sandbox clock), in which virtual devices live."""
        async with self.db.read() as conn:
            return (await workspace_clock(conn, workspace_id, self.clock.now())).now

    async def _set_locked(self, device: DeviceRef, locked: bool) -> DeviceSnapshot:
        row = await self._operate(device, "lock" if locked else "unlock")
        model = catalogue_model(row.brand, row.model)
        if locked and not model.remote_lock:
            raise ProviderError("remote_lock_not_supported", "This lock cannot be locked remotely.")
        if not locked:
            if not model.remote_unlock:
                raise ProviderError("remote_unlock_not_supported",
                                    "This lock cannot be unlocked remotely.")
            if (row.settings or {}).get("remote_unlock_enabled") is False:
                raise ProviderError("remote_unlock_not_enabled",
                                    "Remote unlocking is switched off in the lock's app settings.")
        await self._latency(row)
        await self._store(device, locked=locked)
        return await self.read_state(device)

    async def _store(self, device: DeviceRef, **values: Any) -> None:
        """Write columns of the virtual lock."""
        async with self.db.write() as conn:
            await conn.execute(update(T).where(
                T.c.workspace_id == device.workspace_id,
                T.c.sandbox_device_id == device.provider_device_id,
            ).values(**values))

    async def lock(self, device: DeviceRef) -> DeviceSnapshot:
        return await self._set_locked(device, True)

    async def unlock(self, device: DeviceRef) -> DeviceSnapshot:
        return await self._set_locked(device, False)

    async def relock_by_itself(self, device: DeviceRef) -> DeviceSnapshot:
        """The lock's own auto-lock firing: no network, so no latency or injected faults."""
        await self._store(device, locked=True)
        return await self.read_state(device)

    async def configure_auto_lock(self, device: DeviceRef, enabled: bool,
                                  delay_seconds: float) -> DeviceSnapshot:
        """Store the setting on the virtual lock (which reports it in its state); the engine
        relocks the lock that long after each unlock (engine/auto_lock.py)."""
        row = await self._operate(device, "configure_auto_lock")
        if not catalogue_model(row.brand, row.model).auto_lock:
            raise ProviderError("device_cannot_perform_action",
                                "This lock has no auto-lock to configure.")
        await self._latency(row)
        await self._store(device, settings={**(row.settings or {}), "auto_lock_enabled": enabled,
                                            "auto_lock_delay_seconds": delay_seconds})
        return await self.read_state(device)

    # --- PINs -----------------------------------------------------------------------------

    async def list_codes(self, device: DeviceRef) -> list[CodeOnDevice]:
        await self._operate(device, "list_codes")
        return await self.stored_codes(device)

    async def stored_codes(self, device: DeviceRef) -> list[CodeOnDevice]:
        """What the lock holds, read directly (no network, no faults): the physical truth."""
        async with self.db.read() as conn:
            rows = (await conn.execute(select(C).where(
                C.c.sandbox_device_id == device.provider_device_id).order_by(C.c.slot))).all()
        return [CodeOnDevice(code=r.code, name=r.name, ref=str(r.slot), starts_at=r.starts_at,
                             ends_at=r.ends_at) for r in rows]

    async def set_code(self, device: DeviceRef, code: CodeOnDevice,
                       replacing: CodeOnDevice | None = None) -> CodeOnDevice:
        row = await self._operate(device, "set_code")
        model = _pin_model(row)
        if code.ref is not None:
            slot_number(code.ref)
        await self._latency(row)
        async with self.db.write() as conn:
            return await self._write_pin(conn, device, model, await _taken(conn, device), code)

    async def set_codes(self, device: DeviceRef,
                        writes: list[tuple[CodeOnDevice, CodeOnDevice | None]],
                        ) -> list[CodeOnDevice | ProviderError]:
        """Several PINs in one exchange: the virtual lock read once, one latency, one write of
        its PIN table. Injected faults are consumed one operation at a time, as by set_code."""
        try:
            row = await self._row(device)
            if row.faults.get("failures"):
                return [await _outcome(self.set_code(device, code, replacing))
                        for code, replacing in writes]
            self._reachable(row)
            model = _pin_model(row)
        except ProviderError as exc:
            return [exc for _ in writes]
        await self._latency(row)
        outcomes: list[CodeOnDevice | ProviderError] = []
        async with self.db.write() as conn:
            taken = await _taken(conn, device)
            for code, _replacing in writes:
                outcomes.append(await _outcome(self._write_pin(conn, device, model, taken, code)))
        return outcomes

    async def _write_pin(self, conn: Any, device: DeviceRef, model: Any, taken: dict[int, str],
                         code: CodeOnDevice) -> CodeOnDevice:
        """Store one PIN where `code.ref` points (a free slot when None); `taken` (slot: PIN)
        follows along."""
        wanted = None if code.ref is None else slot_number(code.ref)
        if any(pin == code.code and slot != wanted for slot, pin in taken.items()):
            raise ProviderError("duplicate_code_on_device",
                                "The lock already holds this PIN.", retryable=False)
        slot = wanted
        if slot is None or slot not in taken:
            if slot is None:
                slot = next((n for n in range(1, model.code_slots + 1) if n not in taken), None)
            if slot is None:
                raise ProviderError("no_space_for_access_code_on_device",
                                    "The lock has no free PIN slot.", retryable=False)
            await conn.execute(_INSERT_PIN, dict(
                sandbox_device_id=device.provider_device_id, slot=slot, code=code.code,
                name=code.name, starts_at=code.starts_at, ends_at=code.ends_at,
                created_at=self.clock.now()))
        else:
            await conn.execute(_UPDATE_PIN, dict(
                b_device=device.provider_device_id, b_slot=slot, code=code.code, name=code.name,
                starts_at=code.starts_at, ends_at=code.ends_at))
        taken[slot] = code.code
        return CodeOnDevice(code=code.code, name=code.name, ref=str(slot),
                            starts_at=code.starts_at, ends_at=code.ends_at)

    async def remove_code(self, device: DeviceRef, code: CodeOnDevice) -> None:
        slot = slot_number(code.ref)
        row = await self._operate(device, "remove_code")
        await self._latency(row)
        async with self.db.write() as conn:
            await conn.execute(delete(C).where(
                C.c.sandbox_device_id == device.provider_device_id, C.c.slot == slot))

    async def create_offline_code(self, device: DeviceRef,
                                  request: OfflineCodeRequest) -> CodeOnDevice:
        """The maker's server, played at once: a PIN the model accepts, under a fresh reference.
        Nothing reaches the virtual lock (so the lock's reachability does not matter), but an
        injected fault for `create_offline_code` fails the registration."""
        row = await self._row(device)
        if row.faults.get("failures"):
            await self._consume_fault(device, "create_offline_code")
        model = catalogue_model(row.brand, row.model)
        if not model.offline_access_codes:
            raise ProviderError("access_codes_not_supported",
                                "This lock's maker issues no offline codes.", retryable=False)
        return CodeOnDevice(code=generate_pin(model), name=request.name,
                            ref=f"offline:{uuid.uuid4()}", starts_at=request.starts_at,
                            ends_at=request.ends_at)

    # --- the physical world (sandbox only) ------------------------------------------------

    async def keypad_code_entry(self, device: DeviceRef, pin: str,
                                at: datetime) -> CodeOnDevice | None:
        """Someone types `pin` on the keypad at workspace time `at`: a valid code in its window
        unlocks the lock and is returned; anything else is refused (None)."""
        row = await self._row(device)
        async with self.db.write() as conn:
            match = (await conn.execute(select(C).where(
                C.c.sandbox_device_id == device.provider_device_id, C.c.code == pin))).first()
            valid = match is not None and (match.starts_at is None or match.starts_at <= at) \
                and (match.ends_at is None or at < match.ends_at)
            if valid:
                await conn.execute(update(T).where(
                    T.c.sandbox_device_id == row.sandbox_device_id).values(locked=False))
        if not valid or match is None:
            return None
        return CodeOnDevice(code=match.code, name=match.name, ref=str(match.slot),
                            starts_at=match.starts_at, ends_at=match.ends_at)

    async def manual_lock(self, device: DeviceRef) -> None:
        """Someone locks the door from the keypad (no network involved)."""
        await self._store(device, locked=True)

    async def program_code_at_lock(self, device: DeviceRef, code: str,
                                   name: str | None) -> CodeOnDevice:
        """Someone adds a PIN in the manufacturer's app or at the lock, behind lockhub's back."""
        model_row = await self._row(device)
        model = catalogue_model(model_row.brand, model_row.model)
        async with self.db.write() as conn:
            taken = await _taken(conn, device)
            if code in taken.values():
                raise ProviderError("duplicate_code_on_device", "The lock already holds this PIN.")
            slot = next((n for n in range(1, model.code_slots + 1) if n not in taken), None)
            if slot is None:
                raise ProviderError("no_space_for_access_code_on_device",
                                    "The lock has no free PIN slot.")
            await conn.execute(C.insert().values(
                sandbox_device_id=device.provider_device_id, slot=slot, code=code, name=name,
                created_at=self.clock.now()))
        return CodeOnDevice(code=code, name=name, ref=str(slot))

    async def edit_code_at_lock(self, device: DeviceRef, slot: int, *, code: str | None,
                                name: str | None, remove: bool) -> None:
        """Someone changes or deletes a stored PIN at the lock or in the manufacturer's app."""
        async with self.db.write() as conn:
            where = (C.c.sandbox_device_id == device.provider_device_id, C.c.slot == slot)
            if remove:
                await conn.execute(delete(C).where(*where))
                return
            values: dict[str, Any] = {}
            if code is not None:
                values["code"] = code
            if name is not None:
                values["name"] = name
            if values:
                await conn.execute(update(C).where(*where).values(**values))

    # --- thermostats and noise sensors -----------------------------------------------------

    async def set_climate(self, device: DeviceRef, command: ClimateCommand) -> DeviceSnapshot:
        """Change the virtual thermostat's settings, over the network (faults, latency)."""
        row = await self._operate(device, "set_climate")
        model = catalogue_model(row.brand, row.model).thermostat
        if model is None or row.climate is None:
            raise ProviderError("device_cannot_perform_action", "This device is no thermostat.")
        await self._latency(row)
        at = await self.workspace_now(device.workspace_id)
        await self._store(device, climate=climate.applied(row.climate, model, command, at))
        return await self.read_state(device)

    async def adjust_at_device(self, device: DeviceRef, command: ClimateCommand) -> DeviceSnapshot:
        """Someone changes the thermostat's settings on the thermostat itself."""
        row = await self._row(device)
        model = catalogue_model(row.brand, row.model).thermostat
        assert model is not None and row.climate is not None
        at = await self.workspace_now(device.workspace_id)
        await self._store(device, climate=climate.applied(row.climate, model, command, at))
        return await self.read_state(device)

    async def set_temperature(self, device: DeviceRef, value: float) -> DeviceSnapshot:
        """The room reaches `value` (in the thermostat's unit) now."""
        row = await self._row(device)
        model = catalogue_model(row.brand, row.model).thermostat
        assert model is not None and row.climate is not None
        at = await self.workspace_now(device.workspace_id)
        await self._store(device, climate=climate.with_temperature(row.climate, model, value, at))
        return await self.read_state(device)

    async def set_climate_conditions(self, device: DeviceRef, **values: Any) -> DeviceSnapshot:
        """Change the room's physics: the outside temperature (°C), the humidity, static or
        dynamic."""
        row = await self._row(device)
        model = catalogue_model(row.brand, row.model).thermostat
        assert model is not None and row.climate is not None
        at = await self.workspace_now(device.workspace_id)
        updated = {**climate.advanced(row.climate, model, at), **values}
        await self._store(device, climate=climate.settled(updated, model))
        return await self.read_state(device)

    async def next_report(self, device: DeviceRef) -> datetime | None:
        """When a dynamic thermostat or noise sensor next has something new to report
        (workspace time); None for a device that only changes when told."""
        row = await self._row(device)
        model = catalogue_model(row.brand, row.model)
        at = await self.workspace_now(device.workspace_id)
        if model.thermostat is not None and row.climate:
            return climate.next_thermostat_report(
                climate.advanced(row.climate, model.thermostat, at), model.thermostat, at)
        if model.noise_sensor is not None and row.noise:
            return climate.next_noise_report(row.noise, row.sandbox_device_id, at)
        return None

    async def program_noise_thresholds(self, device: DeviceRef,
                                       thresholds: list[dict[str, Any]]) -> None:
        """The virtual sensor takes its thresholds over the network (faults, latency)."""
        row = await self._operate(device, "program_noise_thresholds")
        await self._latency(row)
        await self._store(device, noise={**(row.noise or {}), "thresholds": thresholds})

    async def disturb(self, device: DeviceRef, peak: float) -> DeviceSnapshot:
        """Noise at the sensor: the level jumps to `peak` now, holds, then falls back."""
        row = await self._row(device)
        at = await self.workspace_now(device.workspace_id)
        await self._store(device, noise=climate.disturbed(row.noise or {}, peak, at))
        return await self.read_state(device)

    async def faults(self, device: DeviceRef) -> dict[str, Any]:
        return dict((await self._row(device)).faults or {})

    async def set_faults(self, device: DeviceRef, faults: dict[str, Any]) -> None:
        await self._store(device, faults=faults)

    async def set_conditions(self, device: DeviceRef, **values: Any) -> None:
        """Change the physical conditions: online, hub_connected, latency_ms, battery_level, and
        the account-side flags `removed` and `subscription_expired`."""
        flags = {k: values.pop(k) for k in ("removed", "subscription_expired") if k in values}
        async with self.db.write() as conn:
            if flags:
                row = (await conn.execute(select(T.c.settings).where(
                    T.c.sandbox_device_id == device.provider_device_id))).one()
                values["settings"] = {**(row.settings or {}), **flags}
            await conn.execute(update(T).where(
                T.c.sandbox_device_id == device.provider_device_id).values(**values))
