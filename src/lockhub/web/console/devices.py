"""Devices: the list (state in words, filter and search) and a device's page (lock and unlock
with the action attempt shown as it runs, its access codes, its recent events). Thermostats and
noise sensors are listed with their own state (mode and temperature, noise level); they are
controlled through the API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Response

from lockhub.clock import iso
from lockhub.domain.devices import state_in_words
from lockhub.web.console.visit import Visit, page

# The list's state filter: which devices each choice keeps.
STATES = {
    "locked": lambda d: d["properties"].get("locked") is True,
    "unlocked": lambda d: d["properties"].get("locked") is False,
    "offline": lambda d: d["properties"].get("online") is False,
    "attention": lambda d: bool(d.get("errors") or d.get("warnings")),
}
RECENT_EVENTS = timedelta(days=7)


def state_words(device: dict[str, Any]) -> dict[str, str]:
    """A device's state as a person reads it."""
    props = device.get("properties") or {}
    battery = props.get("battery") or {}
    level = props.get("battery_level")
    state = state_in_words(device)
    return {
        "state": state,
        # The state's style: a lock's position, else the kind of reading.
        "state_class": state.lower() if state in ("Locked", "Unlocked", "Unknown") else "reading",
        "online": "Online" if props.get("online") else "Offline",
        "battery": (f"{round(level * 100)}%" if isinstance(level, int | float) else "")
                   + (f" ({battery['status']})" if battery.get("status") else ""),
    }


@page("/devices")
async def device_list(visit: Visit) -> Response[Any]:
    search = visit.query.get("q", "").strip()
    state = visit.query.get("state", "")
    account = visit.query.get("connected_account_id", "") or None
    devices = (await visit.api("/devices/list", search=search or None,
                               connected_account_id=account))["devices"]
    if state in STATES:
        devices = [d for d in devices if STATES[state](d)]
    accounts = (await visit.api("/connected_accounts/list"))["connected_accounts"]
    return visit.render("devices.html", devices=devices, search=search, state=state,
                        states=list(STATES), account=account or "", accounts=accounts,
                        words=state_words)


async def _events(visit: Visit, device_id: str, limit: int = 20) -> list[dict[str, Any]]:
    since = iso(await visit.workspace_now() - RECENT_EVENTS)
    events = (await visit.api("/events/list", device_id=device_id, since=since,
                              limit=limit))["events"]
    return list(events)


@page("/devices/{device_id:str}")
async def device_page(visit: Visit) -> Response[Any]:
    device_id = visit.path_param("device_id")
    # The attempt first: when it has settled, the device read after it shows its outcome (read
    # the other way round, an attempt settling in between would show "done" beside the old
    # state, and the page would stop following it).
    attempt = None
    if visit.query.get("action_attempt_id"):
        attempt = (await visit.api("/action_attempts/get",
                                   action_attempt_id=visit.query["action_attempt_id"]))[
            "action_attempt"]
    device = (await visit.api("/devices/get", device_id=device_id))["device"]
    codes: list[dict[str, Any]] = []
    if "access_code" in device.get("capabilities_supported", []):
        codes = (await visit.api("/access_codes/list", device_id=device_id))["access_codes"]
    return visit.render("device.html", device=device, words=state_words(device), codes=codes,
                        events=await _events(visit, device_id), attempt=attempt)


@page("/devices/{device_id:str}/lock", methods=("POST",))
async def lock(visit: Visit) -> Response[Any]:
    return await _act(visit, "/locks/lock_door", "locked")


@page("/devices/{device_id:str}/unlock", methods=("POST",))
async def unlock(visit: Visit) -> Response[Any]:
    return await _act(visit, "/locks/unlock_door", "unlocked")


async def _act(visit: Visit, path: str, notice: str) -> Response[Any]:
    device_id = visit.path_param("device_id")
    attempt = (await visit.api(path, device_id=device_id))["action_attempt"]
    return visit.redirect(f"/devices/{device_id}", notice=notice,
                          action_attempt_id=attempt["action_attempt_id"])


@page("/action_attempts/{action_attempt_id:str}")
async def attempt_status(visit: Visit) -> Response[Any]:
    """The attempt's status as a fragment: the device page polls it while it is pending."""
    attempt = (await visit.api("/action_attempts/get",
                               action_attempt_id=visit.path_param("action_attempt_id")))[
        "action_attempt"]
    return visit.render("_attempt.html", attempt=attempt)
