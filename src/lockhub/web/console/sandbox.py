"""A sandbox workspace's controls, so a developer can play a stay from check-in to check-out:
the workspace clock (freeze, advance, set), each virtual lock's faults and conditions, its
keypad (enter a PIN) and the PINs it holds. Every control is a sandbox route of the API; a
production workspace gets the API's own refusal."""

from __future__ import annotations

from typing import Any

from litestar import Response

from lockhub.web.console.client import ApiError
from lockhub.web.console.visit import Visit, form_instant, page

FAULT_TYPES = ("device_offline", "device_communication_timeout", "lock_jammed",
               "device_busy", "hub_disconnected", "provider_error")
ADVANCE_UNITS = {"minutes": 60, "hours": 3600, "days": 86400}


async def _page(visit: Visit, status: int = 200, error: str | None = None,
                pin_result: dict[str, Any] | None = None) -> Response[Any]:
    clock = (await visit.api("/_lockhub/sandbox/clock/get"))["clock"]
    devices = (await visit.api("/locks/list"))["devices"]
    codes_on_lock: dict[str, list[dict[str, Any]]] = {}
    for device in devices:
        try:
            codes_on_lock[device["device_id"]] = (await visit.api(
                "/_lockhub/sandbox/devices/list_codes_on_lock",
                device_id=device["device_id"]))["codes_on_lock"]
        except ApiError:
            codes_on_lock[device["device_id"]] = []
    return visit.render("sandbox.html", status=status, clock=clock, devices=devices,
                        codes_on_lock=codes_on_lock, error=error, fault_types=FAULT_TYPES,
                        pin_result=pin_result)


@page("/sandbox")
async def sandbox_page(visit: Visit) -> Response[Any]:
    return await _page(visit)


async def _try(visit: Visit, path: str, notice: str, **params: Any) -> Response[Any]:
    """Call a control; its refusal (a bad value, not a sandbox) is shown on the page."""
    try:
        await visit.api(path, **params)
    except ApiError as exc:
        if exc.status >= 500:
            raise
        return await _page(visit, status=exc.status, error=exc.message)
    return visit.redirect("/sandbox", notice=notice)


@page("/sandbox/clock", methods=("POST",))
async def clock(visit: Visit) -> Response[Any]:
    form = visit.form
    action = form.get("action")
    if action == "freeze":
        return await _try(visit, "/_lockhub/sandbox/clock/freeze", "clock_changed")
    if action == "unfreeze":
        return await _try(visit, "/_lockhub/sandbox/clock/unfreeze", "clock_changed")
    if action == "advance":
        try:
            seconds = float(form.get("amount", "")) * ADVANCE_UNITS[form.get("unit", "")]
        except (ValueError, KeyError):
            return await _page(visit, status=400, error="Enter how far to advance the clock.")
        return await _try(visit, "/_lockhub/sandbox/clock/advance", "clock_changed",
                          seconds=seconds)
    if action == "set":
        return await _try(visit, "/_lockhub/sandbox/clock/set", "clock_changed",
                          now=form_instant(form.get("now", "")) or "")
    return await _page(visit, status=400, error="Unknown clock action.")


@page("/sandbox/devices/{device_id:str}/fault", methods=("POST",))
async def inject(visit: Visit) -> Response[Any]:
    form = visit.form
    operations = [op for op in ("lock", "unlock", "set_code", "remove_code")
                  if form.get(f"op_{op}")]
    try:
        count = int(form.get("count") or 1)
    except ValueError:
        return await _page(visit, status=400, error="The count must be a whole number.")
    return await _try(visit, "/_lockhub/sandbox/devices/inject_failure", "fault_injected",
                      device_id=visit.path_param("device_id"),
                      error_type=form.get("error_type", ""), count=count,
                      operations=operations or None)


@page("/sandbox/devices/{device_id:str}/clear", methods=("POST",))
async def clear(visit: Visit) -> Response[Any]:
    return await _try(visit, "/_lockhub/sandbox/devices/clear_faults", "faults_cleared",
                      device_id=visit.path_param("device_id"))


@page("/sandbox/devices/{device_id:str}/conditions", methods=("POST",))
async def conditions(visit: Visit) -> Response[Any]:
    form = visit.form
    try:
        battery = float(form["battery_percent"]) / 100 if form.get("battery_percent") else None
    except ValueError:
        return await _page(visit, status=400, error="The battery level must be a number.")
    return await _try(visit, "/_lockhub/sandbox/devices/set_conditions", "conditions_set",
                      device_id=visit.path_param("device_id"),
                      online=form.get("online") == "on", battery_level=battery)


@page("/sandbox/devices/{device_id:str}/keypad", methods=("POST",))
async def keypad(visit: Visit) -> Response[Any]:
    device_id = visit.path_param("device_id")
    try:
        attempt = (await visit.api("/locks/simulate/keypad_code_entry", device_id=device_id,
                                   code=visit.form.get("code", "")))["action_attempt"]
    except ApiError as exc:
        if exc.status >= 500:
            raise
        return await _page(visit, status=exc.status, error=exc.message)
    return visit.redirect(f"/devices/{device_id}", notice="pin_entered",
                          action_attempt_id=attempt["action_attempt_id"])
