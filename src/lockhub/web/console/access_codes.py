"""Access codes: every code of the workspace, creating one (ongoing or time-bound, a generated or
a chosen PIN, the device's rules checked as you type by console.js and again by the API),
editing and deleting, and a code's status and timeline (why it is not on the lock yet)."""

from __future__ import annotations

from typing import Any

from litestar import Response

from lockhub.web.console.client import ApiError
from lockhub.web.console.visit import Visit, form_instant, page

# Statuses that change by themselves: the code's page polls its status block meanwhile.
MOVING = {"setting", "removing", "unknown"}


async def _code_devices(visit: Visit) -> list[dict[str, Any]]:
    devices = (await visit.api("/devices/list"))["devices"]
    return [d for d in devices if "access_code" in d.get("capabilities_supported", [])]


@page("/access_codes")
async def code_list(visit: Visit) -> Response[Any]:
    devices = await _code_devices(visit)
    codes: list[dict[str, Any]] = []
    for device in devices:
        codes += (await visit.api("/access_codes/list",
                                  device_id=device["device_id"]))["access_codes"]
    return visit.render("access_codes.html", codes=codes, show_device=True,
                        device_names={d["device_id"]: d["display_name"] for d in devices})


def _times(form: dict[str, str]) -> tuple[str | None, str | None]:
    if form.get("type") != "time_bound":
        return None, None
    return form_instant(form.get("starts_at", "")), form_instant(form.get("ends_at", ""))


def _form_errors(exc: ApiError) -> dict[str, str]:
    errors = exc.field_errors
    if not errors or set(errors) == {"_errors"}:
        errors = {"_form": exc.message}
    return errors


async def _form_page(visit: Visit, *, status: int = 200, code: dict[str, Any] | None = None,
                     values: dict[str, str] | None = None,
                     errors: dict[str, str] | None = None) -> Response[Any]:
    devices = await _code_devices(visit)
    device_id = (values or {}).get("device_id") or visit.query.get("device_id") or (
        code["device_id"] if code else "")
    existing: list[str] = []
    if device_id:
        existing = [c["code"] for c in (await visit.api("/access_codes/list",
                                                         device_id=device_id))["access_codes"]
                    if c.get("code") and (code is None or c["access_code_id"]
                                          != code["access_code_id"])]
    return visit.render("access_code_form.html", status=status, devices=devices, code=code,
                        device_id=device_id, values=values or {}, errors=errors or {},
                        existing=existing)


@page("/access_codes/new")
async def new_code(visit: Visit) -> Response[Any]:
    return await _form_page(visit)


@page("/access_codes/new", methods=("POST",))
async def create_code(visit: Visit) -> Response[Any]:
    form = visit.form
    starts_at, ends_at = _times(form)
    try:
        created = (await visit.api(
            "/access_codes/create", device_id=form.get("device_id", ""),
            name=form.get("name") or None, code=form.get("code") or None,
            starts_at=starts_at, ends_at=ends_at))["access_code"]
    except ApiError as exc:
        if exc.status >= 500 or exc.status == 404 and not form.get("device_id"):
            raise
        return await _form_page(visit, status=exc.status, values=form,
                                errors=_form_errors(exc))
    return visit.redirect(f"/access_codes/{created['access_code_id']}", notice="code_created")


async def _code(visit: Visit) -> dict[str, Any]:
    return dict((await visit.api("/access_codes/get",
                                 access_code_id=visit.path_param("access_code_id")))[
        "access_code"])


@page("/access_codes/{access_code_id:str}")
async def code_page(visit: Visit) -> Response[Any]:
    code = await _code(visit)
    device = (await visit.api("/devices/get", device_id=code["device_id"]))["device"]
    timeline = (await visit.api("/access_codes/get_timeline",
                                access_code_id=code["access_code_id"]))["timeline_events"]
    return visit.render("access_code.html", code=code, device=device, timeline=timeline,
                        moving=code["status"] in MOVING)


@page("/access_codes/{access_code_id:str}/status")
async def code_status(visit: Visit) -> Response[Any]:
    """The status block alone: the code's page polls it while the status moves."""
    code = await _code(visit)
    return visit.render("_code_status.html", code=code, moving=code["status"] in MOVING)


@page("/access_codes/{access_code_id:str}/edit")
async def edit_code(visit: Visit) -> Response[Any]:
    return await _form_page(visit, code=await _code(visit))


@page("/access_codes/{access_code_id:str}/edit", methods=("POST",))
async def update_code(visit: Visit) -> Response[Any]:
    code = await _code(visit)
    form = visit.form
    starts_at, ends_at = _times(form)
    try:
        await visit.api("/access_codes/update", access_code_id=code["access_code_id"],
                        name=form.get("name") or None, code=form.get("code") or None,
                        type=form.get("type") or None, starts_at=starts_at, ends_at=ends_at)
    except ApiError as exc:
        if exc.status >= 500:
            raise
        return await _form_page(visit, status=exc.status, code=code,
                                values={**form, "device_id": code["device_id"]},
                                errors=_form_errors(exc))
    return visit.redirect(f"/access_codes/{code['access_code_id']}", notice="code_updated")


@page("/access_codes/{access_code_id:str}/delete", methods=("POST",))
async def delete_code(visit: Visit) -> Response[Any]:
    code = await _code(visit)
    await visit.api("/access_codes/delete", access_code_id=code["access_code_id"])
    return visit.redirect(f"/devices/{code['device_id']}", notice="code_deleted")
