"""An access code's timeline (/access_codes/get_timeline): its events, oldest first, each with
who caused it.

lockhub records events, not their callers, so the actor is told from the event's type: the
integrator's requests (created, changed, deleted, a backup pulled, converted to managed) are an
`api_key` actor, changes noticed at the lock are `external`, and what the engine did on the
lock is `system`.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

TIMELINE_EVENT_TYPES = (
    "access_code.created", "access_code.changed", "access_code.name_changed",
    "access_code.code_changed", "access_code.time_frame_changed",
    "access_code.mutations_requested", "access_code.deleted",
    "access_code.modified_external_to_seam", "access_code.deleted_external_to_seam",
    "access_code.scheduled_on_device", "access_code.set_on_device",
    "access_code.removed_from_device", "access_code.delay_in_setting_on_device",
    "access_code.failed_to_set_on_device", "access_code.delay_in_removing_from_device",
    "access_code.failed_to_remove_from_device", "internal.access_code.programming_started",
    "internal.access_code.programming_finished", "access_code.backup_access_code_pulled",
    "access_code.unmanaged.created", "access_code.unmanaged.removed",
    "access_code.unmanaged.converted_to_managed",
    "access_code.unmanaged.failed_to_convert_to_managed",
)
TimelineEventType = Literal[TIMELINE_EVENT_TYPES]  # type: ignore[valid-type]

_REQUESTED = frozenset({
    "access_code.created", "access_code.changed", "access_code.name_changed",
    "access_code.code_changed", "access_code.time_frame_changed",
    "access_code.mutations_requested", "access_code.deleted",
    "access_code.backup_access_code_pulled", "access_code.unmanaged.converted_to_managed",
    "access_code.unmanaged.failed_to_convert_to_managed"})
_EXTERNAL = frozenset({
    "access_code.modified_external_to_seam", "access_code.deleted_external_to_seam",
    "access_code.unmanaged.created", "access_code.unmanaged.removed"})


class TimelineActor(msgspec.Struct, omit_defaults=True):
    type: Literal["api_key", "console_user", "system", "external"]
    display_name: str | UnsetType = UNSET


class RelatedResourceIds(msgspec.Struct, omit_defaults=True):
    event_id: str
    device_id: str | UnsetType = UNSET
    connected_account_id: str | UnsetType = UNSET
    action_attempt_id: str | UnsetType = UNSET


class TimelineEvent(msgspec.Struct):
    timeline_event_id: str
    event_type: str
    occurred_at: str
    description: str
    actor: TimelineActor
    related_resource_ids: RelatedResourceIds


class TimelinePagination(msgspec.Struct):
    """The timeline's own paging (not Seam's usual one): `next_cursor` is the `occurred_at` of
    the last event served, to pass as `after` for the next page."""

    has_more: bool
    next_cursor: str | None
    prev_cursor: str | None


def actor_of(event_type: str) -> TimelineActor:
    if event_type in _REQUESTED:
        return TimelineActor(type="api_key", display_name="API request")
    if event_type in _EXTERNAL:
        return TimelineActor(type="external", display_name="Changed at the lock")
    return TimelineActor(type="system", display_name="lockhub")


def timeline_event(body: dict[str, Any]) -> TimelineEvent:
    """A stored event (its served JSON) as a timeline entry."""
    related = RelatedResourceIds(event_id=body["event_id"])
    for name in ("device_id", "connected_account_id", "action_attempt_id"):
        if body.get(name):
            setattr(related, name, body[name])
    return TimelineEvent(
        timeline_event_id=body["event_id"], event_type=body["event_type"],
        occurred_at=body["occurred_at"], description=body.get("event_description", ""),
        actor=actor_of(body["event_type"]), related_resource_ids=related)
