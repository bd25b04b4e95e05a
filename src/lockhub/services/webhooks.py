"""Webhooks: subscriptions, and the outbox of deliveries written with each event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from lockhub.clock import iso
from lockhub.domain import webhooks as rules
from lockhub.domain.events import EVENT_TYPES
from lockhub.domain.urls import InvalidUrl, parse_http_url
from lockhub.engine import jobs
from lockhub.errors import InvalidInput, LockhubError, NotFound
from lockhub.ids import new_id
from lockhub.secret_box import decrypt, encrypt
from lockhub.services.runtime import Runtime
from lockhub.store.owned import owned_row
from lockhub.store.tables import webhook_deliveries, webhooks, workspaces

W = webhooks
D = webhook_deliveries
DELIVERY_KIND = "webhook_delivery"
_encoder = msgspec.json.Encoder()
# Asked for every event recorded: built once, the workspace goes as a parameter.
_SUBSCRIPTIONS = select(W.c.webhook_id, W.c.event_types).where(
    W.c.workspace_id == bindparam("b_workspace"))


class Webhook(msgspec.Struct, omit_defaults=True):
    webhook_id: str
    url: str
    event_types: list[str]
    secret: str | None = None


class DeliveryAttempt(msgspec.Struct, omit_defaults=True):
    at: str
    status_code: int | None = None
    latency_ms: float | None = None
    error: str | None = None


class Delivery(msgspec.Struct, omit_defaults=True):
    delivery_id: str
    webhook_id: str
    event_id: str
    event_type: str
    status: str
    attempt_count: int
    attempts: list[DeliveryAttempt]
    created_at: str
    next_attempt_at: str | None = None
    delivered_at: str | None = None


def job_id_for(delivery_id: str) -> str:
    return f"webhook_delivery:{delivery_id}"


async def _check_url(rt: Runtime, conn: AsyncConnection, workspace_id: str, url: str) -> str:
    """A URL that can be sent to: well formed, and not a literal address (or a name) the
    workspace may not call. Names are judged again, by the addresses they resolve to, when
    each delivery connects (engine/webhook_transport.py)."""
    try:
        target = parse_http_url(url)
    except InvalidUrl as exc:
        raise InvalidInput.for_field(["url"], str(exc)) from None
    sandbox = (await conn.execute(select(workspaces.c.is_sandbox).where(
        workspaces.c.workspace_id == workspace_id))).scalar_one_or_none()
    refusal = rules.target_refusal(
        target.host, [target.address] if target.address is not None else [],
        allow=rt.settings.webhook_allow, deny=rt.settings.webhook_deny,
        private_allowed=bool(sandbox))
    if refusal is not None:
        raise InvalidInput.for_field(["url"], f"Webhooks cannot be sent there: {refusal}")
    return url


def _check_event_types(event_types: list[str]) -> list[str]:
    unknown = [t for t in event_types if t != "*" and t not in EVENT_TYPES]
    if unknown:
        raise InvalidInput.for_field(["event_types"], f"Unknown event types: {', '.join(unknown)}")
    return list(dict.fromkeys(event_types)) or ["*"]


def to_webhook(rt: Runtime, row: Any) -> Webhook:
    return Webhook(webhook_id=row.webhook_id, url=row.url, event_types=list(row.event_types),
                   secret=decrypt(rt.settings, row.secret_encrypted))


async def create(rt: Runtime, workspace_id: str, url: str, event_types: list[str]) -> Webhook:
    webhook_id = new_id()
    async with rt.db.write() as conn:
        await conn.execute(W.insert().values(
            webhook_id=webhook_id, workspace_id=workspace_id,
            url=await _check_url(rt, conn, workspace_id, url),
            event_types=_check_event_types(event_types),
            secret_encrypted=encrypt(rt.settings, rules.new_secret()),
            created_at=rt.clock.now()))
    return await get(rt, workspace_id, webhook_id)


async def _row(conn: AsyncConnection, workspace_id: str, webhook_id: str) -> Any:
    return await owned_row(conn, W, W.c.webhook_id, workspace_id, webhook_id, "webhook")


async def get(rt: Runtime, workspace_id: str, webhook_id: str) -> Webhook:
    async with rt.db.read() as conn:
        return to_webhook(rt, await _row(conn, workspace_id, webhook_id))


async def list_webhooks(rt: Runtime, workspace_id: str) -> list[Webhook]:
    async with rt.db.read() as conn:
        rows = (await conn.execute(select(W).where(W.c.workspace_id == workspace_id)
                                   .order_by(W.c.created_at, W.c.webhook_id))).all()
    return [to_webhook(rt, r) for r in rows]


async def update_webhook(rt: Runtime, workspace_id: str, webhook_id: str, *,
                         event_types: list[str] | None, url: str | None) -> None:
    async with rt.db.write() as conn:
        await _row(conn, workspace_id, webhook_id)
        values: dict[str, Any] = {}
        if event_types is not None:
            values["event_types"] = _check_event_types(event_types)
        if url is not None:
            values["url"] = await _check_url(rt, conn, workspace_id, url)
        if values:
            await conn.execute(update(W).where(W.c.webhook_id == webhook_id).values(**values))


async def delete(rt: Runtime, workspace_id: str, webhook_id: str) -> None:
    """Delete a webhook; its pending deliveries stop (they go with it)."""
    async with rt.db.write() as conn:
        await _row(conn, workspace_id, webhook_id)
        pending = (await conn.execute(select(D.c.delivery_id).where(
            D.c.webhook_id == webhook_id, D.c.status == "pending"))).all()
        if pending:
            await conn.execute(jobs.jobs.delete().where(jobs.jobs.c.job_id.in_(
                [job_id_for(p.delivery_id) for p in pending])))
        await conn.execute(W.delete().where(W.c.webhook_id == webhook_id))


async def enqueue_for_event(conn: AsyncConnection, *, now: datetime,
                            event: dict[str, Any]) -> None:
    """Write one delivery per interested webhook, in the transaction that records the event."""
    rows = (await conn.execute(_SUBSCRIPTIONS, {"b_workspace": event["workspace_id"]})).all()
    interested = [r for r in rows if rules.wants(r.event_types, event["event_type"])]
    if not interested:
        return
    payload = _encoder.encode(event).decode()
    for row in interested:
        delivery_id = new_id()
        await conn.execute(D.insert().values(
            delivery_id=delivery_id, workspace_id=event["workspace_id"],
            webhook_id=row.webhook_id, event_id=event["event_id"],
            event_type=event["event_type"], payload=payload, status="pending",
            attempt_count=0, attempts=[], created_at=now))
        await jobs.ensure(conn, job_id=job_id_for(delivery_id), now=now,
                          workspace_id=event["workspace_id"], kind=DELIVERY_KIND,
                          key=f"delivery:{delivery_id}", payload={"delivery_id": delivery_id})


def to_delivery(row: Any) -> Delivery:
    def opt(value: datetime | None) -> str | None:
        return iso(value) if value is not None else None

    return Delivery(delivery_id=row.delivery_id, webhook_id=row.webhook_id,
                    event_id=row.event_id, event_type=row.event_type, status=row.status,
                    attempt_count=row.attempt_count,
                    attempts=[msgspec.convert(a, DeliveryAttempt) for a in row.attempts],
                    created_at=iso(row.created_at), next_attempt_at=opt(row.next_attempt_at),
                    delivered_at=opt(row.delivered_at))


async def list_deliveries(rt: Runtime, workspace_id: str, *, webhook_id: str | None,
                          event_id: str | None, status: str | None,
                          limit: int) -> list[Delivery]:
    query = select(D).where(D.c.workspace_id == workspace_id)
    if webhook_id is not None:
        query = query.where(D.c.webhook_id == webhook_id)
    if event_id is not None:
        query = query.where(D.c.event_id == event_id)
    if status is not None:
        query = query.where(D.c.status == status)
    async with rt.db.read() as conn:
        rows = (await conn.execute(query.order_by(D.c.created_at.desc(), D.c.delivery_id)
                                   .limit(limit))).all()
    return [to_delivery(r) for r in rows]


async def replay(rt: Runtime, workspace_id: str, delivery_id: str) -> Delivery:
    """Send a delivery again (any status): it goes back to pending and is due at once."""
    async with rt.db.write() as conn:
        row = (await conn.execute(select(D).where(
            D.c.workspace_id == workspace_id, D.c.delivery_id == delivery_id))).first()
        if row is None:
            raise NotFound("webhook_delivery", {"delivery_id": delivery_id})
        webhook = (await conn.execute(select(W.c.webhook_id).where(
            W.c.webhook_id == row.webhook_id))).first()
        if webhook is None:
            raise LockhubError("The webhook of this delivery was deleted.",
                               error_type="webhook_not_found")
        now = rt.clock.now()
        await conn.execute(update(D).where(D.c.delivery_id == delivery_id).values(
            status="pending", next_attempt_at=None, delivered_at=None, attempt_count=0))
        await jobs.ensure(conn, job_id=job_id_for(delivery_id), now=now,
                          workspace_id=workspace_id, kind=DELIVERY_KIND,
                          key=f"delivery:{delivery_id}", payload={"delivery_id": delivery_id})
        row = (await conn.execute(select(D).where(D.c.delivery_id == delivery_id))).one()
    rt.wake_engine()
    return to_delivery(row)
