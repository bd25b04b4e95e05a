"""Events: the workspace's recent events, filtered by device and type; console.js asks the feed
for newer ones every few seconds and adds them at the top, so the page is live without reload."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Response

from lockhub.clock import iso
from lockhub.domain.events import EVENT_TYPES
from lockhub.web.console.client import ApiError
from lockhub.web.console.visit import Visit, page

WINDOW = timedelta(days=7)
LIMIT = 100


async def _events(visit: Visit, since: str) -> list[dict[str, Any]]:
    device_id = visit.query.get("device_id") or None
    event_type = visit.query.get("event_type") or None
    if event_type not in EVENT_TYPES:
        event_type = None
    try:
        events = (await visit.api("/events/list", since=since, device_id=device_id,
                                  event_type=event_type, limit=LIMIT))["events"]
    except ApiError as exc:
        if exc.status == 400:  # a malformed filter from an edited URL: show nothing
            return []
        raise
    return list(events)


async def _device_names(visit: Visit) -> dict[str, str]:
    devices = (await visit.api("/devices/list"))["devices"]
    return {d["device_id"]: d["display_name"] for d in devices}


@page("/events")
async def event_list(visit: Visit) -> Response[Any]:
    now = await visit.workspace_now()
    names = await _device_names(visit)
    return visit.render("events.html", events=await _events(visit, iso(now - WINDOW)),
                        device_names=names, event_types=sorted(EVENT_TYPES),
                        device_id=visit.query.get("device_id", ""),
                        event_type=visit.query.get("event_type", ""))


@page("/events/feed")
async def feed(visit: Visit) -> Response[Any]:
    """Table rows of the events created since `since` (the newest the page shows), newest
    first; the page drops those it already has."""
    since = visit.query.get("since") or iso(await visit.workspace_now() - WINDOW)
    return visit.render("_events.html", events=await _events(visit, since),
                        device_names=await _device_names(visit))
