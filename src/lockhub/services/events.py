"""Recording and reading events. Every event is written in the transaction of its cause."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

import msgspec
from sqlalchemy import Select, Text, bindparam, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncConnection

from lockhub.clock import iso
from lockhub.domain.events import EVENT_TYPES
from lockhub.errors import NotFound
from lockhub.ids import new_ordered_id
from lockhub.services import webhooks
from lockhub.services.served import served_page
from lockhub.store.db import Database
from lockhub.store.tables import events

_INDEXED = ("device_id", "connected_account_id", "access_code_id", "connect_webview_id",
            "action_attempt_id")


def _to_millisecond(value: datetime) -> datetime:
    return value.replace(microsecond=value.microsecond - value.microsecond % 1000)


_INSERT = events.insert()


async def record(conn: AsyncConnection, *, now: datetime, workspace_id: str, event_type: str,
                 occurred_at: datetime | None = None, keep_null: tuple[str, ...] = (),
                 **fields: Any) -> dict[str, Any]:
    """Record an event; fields that are None are left out, except those in `keep_null` (the
    spec requires them, with null as a value: a preset activated by no schedule)."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    # Store the instants at the precision they are served (milliseconds), so `since` and the
    # exclusive `between` compare against exactly the timestamps clients saw.
    now = _to_millisecond(now)
    occurred_at = _to_millisecond(occurred_at) if occurred_at is not None else None
    event_id = new_ordered_id()
    body: dict[str, Any] = {
        "event_id": event_id,
        "event_type": event_type,
        "workspace_id": workspace_id,
        "created_at": iso(now),
        "occurred_at": iso(occurred_at or now),
        "event_description": EVENT_TYPES[event_type],
    }
    body.update({k: v for k, v in fields.items() if v is not None or k in keep_null})
    # Values go as parameters of one prebuilt statement: SQLAlchemy reuses its compiled form
    # instead of coercing every value into a new statement (the hot write path).
    await conn.execute(_INSERT, dict(
        event_id=event_id, workspace_id=workspace_id, event_type=event_type,
        created_at=now, occurred_at=occurred_at or now, body=body,
        **{k: body.get(k) for k in _INDEXED},
    ))
    await webhooks.enqueue_for_event(conn, now=now, event=body)
    return body


async def get_event(conn: AsyncConnection, workspace_id: str, *, event_id: str | None,
                    device_id: str | None, event_type: str | None) -> dict[str, Any]:
    query = select(events.c.body).where(events.c.workspace_id == workspace_id)
    if event_id is not None:
        query = query.where(events.c.event_id == event_id)
    if device_id is not None:
        query = query.where(events.c.device_id == device_id)
    if event_type is not None:
        query = query.where(events.c.event_type == event_type)
    row = (await conn.execute(query.order_by(events.c.created_at.desc(),
                                             events.c.event_id.desc()).limit(1))).first()
    if row is None:
        raise NotFound("event", {"event_id": event_id} if event_id else None)
    return row.body


async def list_events(db: Database, workspace_id: str, *, since: datetime | None,
                      between: tuple[datetime, datetime] | None,
                      filters: dict[str, list[str]], event_types: list[str] | None, limit: int,
                      offset: int) -> list[Any]:
    """Newest first; the whole page from the read model when it has it (then without opening a
    read transaction). On SQLite each event is served as the very JSON text stored for it
    (msgspec wrote it, so it is byte for byte what encoding the object gives), without decoding
    and encoding it again; events never change once written."""
    stored_text = db.is_sqlite

    async def build() -> tuple[list[Any], None]:
        statement = _list_statement(frozenset(filters), bool(event_types), since is not None,
                                    between is not None, stored_text)
        params: dict[str, Any] = {"workspace_id": workspace_id, "limit": limit,
                                  "offset": offset, "event_types": event_types, "since": since,
                                  **filters}
        if between is not None:
            params["after"], params["before"] = between
        async with db.read() as conn:
            rows = (await conn.execute(statement, params)).all()
        if stored_text:
            return [msgspec.Raw(row[0].encode()) for row in rows], None
        return [row[0] for row in rows], None

    key = (workspace_id, since, between, tuple(sorted((k, tuple(v)) for k, v in filters.items())),
           tuple(event_types) if event_types else None, limit, offset)
    items, _ = await served_page(db.read_model, "events", key, build)
    return items


@cache
def _list_statement(filtered: frozenset[str], by_type: bool, with_since: bool,
                    with_between: bool, stored_text: bool) -> Select[Any]:
    """The event list's statement for one combination of filters, built once."""
    body = type_coerce(events.c.body, Text).label("body") if stored_text else events.c.body
    created = events.c.created_at
    query = select(body).where(events.c.workspace_id == bindparam("workspace_id"))
    if with_since:
        query = query.where(created >= bindparam("since", type_=created.type))
    if with_between:
        query = query.where(created > bindparam("after", type_=created.type),
                            created < bindparam("before", type_=created.type))
    for column in sorted(filtered):
        query = query.where(events.c[column].in_(bindparam(column, expanding=True)))
    if by_type:
        query = query.where(events.c.event_type.in_(bindparam("event_types", expanding=True)))
    # Event ids are time-ordered, so ties within a millisecond break newest first too.
    return (query.order_by(created.desc(), events.c.event_id.desc())
            .offset(bindparam("offset")).limit(bindparam("limit")))


async def access_code_timeline(db: Database, workspace_id: str, access_code_id: str, *,
                               after: datetime | None, before: datetime | None,
                               event_types: list[str], limit: int,
                               ) -> tuple[list[dict[str, Any]], bool]:
    """The code's events of these types, oldest first (by when they happened), and whether
    more follow. A deleted code keeps its timeline; a code with no events at all in the
    workspace (never existed, or another workspace's) is not found."""
    E = events
    cond: list[Any] = [E.c.workspace_id == workspace_id, E.c.access_code_id == access_code_id]
    async with db.read() as conn:
        known = (await conn.execute(select(E.c.event_id).where(*cond).limit(1))).first()
        if known is None:
            raise NotFound("access_code", {"access_code_id": access_code_id})
        cond.append(E.c.event_type.in_(event_types))
        if after is not None:
            cond.append(E.c.occurred_at > after)
        if before is not None:
            cond.append(E.c.occurred_at < before)
        rows = (await conn.execute(select(E.c.body).where(*cond).order_by(
            E.c.occurred_at, E.c.event_id).limit(limit + 1))).all()
    return [r.body for r in rows[:limit]], len(rows) > limit
