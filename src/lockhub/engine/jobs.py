"""Durable work items ("jobs") claimed with leases.

A job is a row with `run_at`, `attempts`, `lease_until` and a serialisation `key` (e.g. a device
id). A worker claims due rows in one statement; rows whose key is already leased by a live
worker are skipped, so one device never runs two operations at once. A crashed worker's lease
expires and another worker (or the restarted process) takes the row over.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import msgspec
from sqlalchemy import Integer, String, and_, bindparam, delete, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from lockhub.ids import new_id
from lockhub.store.db import Database
from lockhub.store.tables import jobs

# Advisory lock id under which PostgreSQL claims are serialised.
CLAIM_LOCK = 0x10C4B0B


class Job(msgspec.Struct):
    job_id: str
    workspace_id: str
    kind: str
    key: str
    payload: dict[str, Any]
    attempts: int
    generation: int = 0


async def enqueue(conn: AsyncConnection, *, now: datetime, workspace_id: str, kind: str,
                  key: str, payload: dict[str, Any], run_at: datetime | None = None) -> str:
    job_id = new_id()
    await conn.execute(_INSERT, dict(
        job_id=job_id, workspace_id=workspace_id, kind=kind, key=key, payload=payload,
        run_at=run_at or now, attempts=0, created_at=now,
    ))
    await notify_due(conn, now, run_at)
    return job_id


# PostgreSQL delivers a NOTIFY when the transaction commits (and once per transaction for
# the same channel and payload), so engines in other processes and on other hosts wake at once
# instead of at their next poll (engine/wakeups.py listens).
JOBS_CHANNEL = "lockhub_jobs"
_NOTIFY = text(f"SELECT pg_notify('{JOBS_CHANNEL}', '')")


async def notify_due(conn: AsyncConnection, now: datetime, run_at: datetime | None) -> None:
    """Wake the engines of other processes when a job is due now (PostgreSQL only; a SQLite
    database is shared by the processes of one host, which poll)."""
    if conn.dialect.name == "postgresql" and (run_at is None or run_at <= now):
        await conn.execute(_NOTIFY)


_INSERT = jobs.insert()  # built once; the values go as parameters


async def ensure(conn: AsyncConnection, *, job_id: str, now: datetime, workspace_id: str,
                 kind: str, key: str, payload: dict[str, Any],
                 run_at: datetime | None = None) -> None:
    """Make the one job named `job_id` due at `run_at` (default now), creating it if needed.

    Used for recurring per-resource work (e.g. reconciling one access code): asking again
    while it runs bumps its generation, so it runs once more after the current run.
    """
    values = dict(job_id=job_id, workspace_id=workspace_id, kind=kind, key=key,
                  payload=payload, run_at=run_at or now, attempts=0, generation=0,
                  created_at=now)
    await conn.execute(_upsert(conn.dialect.name), values)
    await notify_due(conn, now, run_at)


@cache
def _upsert(dialect: str) -> Any:
    """INSERT … ON CONFLICT (job_id) DO UPDATE, built once per dialect; values are parameters."""
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(jobs)
    return statement.on_conflict_do_update(
        index_elements=[jobs.c.job_id],
        set_={"run_at": statement.excluded.run_at, "generation": jobs.c.generation + 1,
              "payload": statement.excluded.payload},
    )


# The engine's per-job statements, built once (the values go as parameters).
_THIS_RUN = and_(jobs.c.job_id == bindparam("b_job_id"),
                 jobs.c.generation == bindparam("b_generation"))
_RESCHEDULE = update(jobs).where(_THIS_RUN).values(
    run_at=bindparam("b_run_at", type_=jobs.c.run_at.type), lease_until=None, leased_by=None,
    attempts=0)
_RELEASE = update(jobs).where(jobs.c.job_id == bindparam("b_job_id")).values(
    lease_until=None, leased_by=None)
_FINISH = delete(jobs).where(_THIS_RUN)


async def reschedule(conn: AsyncConnection, job: Job, run_at: datetime) -> None:
    """Release a recurring job until `run_at`, unless it was asked for again meanwhile."""
    moved = (await conn.execute(_RESCHEDULE, {
        "b_job_id": job.job_id, "b_generation": job.generation, "b_run_at": run_at})).rowcount
    if not moved:
        await _release(conn, job.job_id)


async def _release(conn: AsyncConnection, job_id: str) -> None:
    await conn.execute(_RELEASE, {"b_job_id": job_id})


async def claim(db: Database, *, now: datetime, worker_id: str, lease_seconds: float,
                limit: int) -> list[Job]:
    """Lease up to `limit` due jobs, at most one per key and none whose key a live lease holds.

    Each key's earliest due job is ranked first (a window over the due rows), so a backlog of
    one busy device never hides the due work of other devices from a claim.
    """
    lease_until = now + timedelta(seconds=lease_seconds)
    async with db.write() as conn:
        if not db.is_sqlite:
            # Claims take turns (a transaction-scoped advisory lock), so two workers never
            # both see a key as free. SQLite's single writer (BEGIN IMMEDIATE) serialises
            # claims already. The UPDATE re-checks the lease under the row lock.
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CLAIM_LOCK})
        rows = (await conn.execute(_claim_statement(), {
            "now": now, "lease_until": lease_until, "worker_id": worker_id,
            "claim_limit": limit})).all()
    return [Job(job_id=r.job_id, workspace_id=r.workspace_id, kind=r.kind, key=r.key,
                payload=r.payload, attempts=r.attempts, generation=r.generation)
            for r in rows]


@cache
def _claim_statement() -> Any:
    """The claim, built once: an engine claims after every wake-up, and building this
    statement (window, subqueries, cache key) cost more than running it."""
    now = bindparam("now", type_=jobs.c.run_at.type)
    due_now = and_(jobs.c.run_at <= now,
                   or_(jobs.c.lease_until.is_(None), jobs.c.lease_until <= now))
    ranked = select(
        jobs.c.job_id, jobs.c.key, jobs.c.run_at,
        func.row_number().over(partition_by=jobs.c.key,
                               order_by=(jobs.c.run_at, jobs.c.job_id)).label("rank"),
    ).where(due_now).subquery()
    busy_keys = select(jobs.c.key).where(jobs.c.lease_until.is_not(None),
                                         jobs.c.lease_until > now)
    chosen = (select(ranked.c.job_id)
              .where(ranked.c.rank == 1, ranked.c.key.not_in(busy_keys))
              .order_by(ranked.c.run_at).limit(bindparam("claim_limit", type_=Integer)))
    return (update(jobs)
            .where(jobs.c.job_id.in_(chosen.scalar_subquery()), due_now)
            .values(lease_until=bindparam("lease_until", type_=jobs.c.lease_until.type),
                    leased_by=bindparam("worker_id", type_=String),
                    attempts=jobs.c.attempts + 1)
            .returning(jobs.c.job_id, jobs.c.workspace_id, jobs.c.kind, jobs.c.key,
                       jobs.c.payload, jobs.c.attempts, jobs.c.generation))


async def claim_along(conn: AsyncConnection, job: Job, *, now: datetime,
                      limit: int) -> list[Job]:
    """Lease, alongside `job` (already leased), up to `limit` other due jobs of its kind and
    key, earliest first, under the same holder and lease: one pass can then do the work of
    several (all due codes of one lock). Nobody else can claim them meanwhile, since the key's
    lease is held (and renewed) through `job`; a crashed holder's leases all expire together."""
    rows = (await conn.execute(_along_statement(), {
        "b_job_id": job.job_id, "b_kind": job.kind, "b_key": job.key, "now": now,
        "claim_limit": limit})).all()
    return [Job(job_id=r.job_id, workspace_id=r.workspace_id, kind=r.kind, key=r.key,
                payload=r.payload, attempts=r.attempts, generation=r.generation)
            for r in sorted(rows, key=lambda r: (r.run_at, r.job_id))]


@cache
def _along_statement() -> Any:
    now = bindparam("now", type_=jobs.c.run_at.type)
    holder = jobs.alias("holder")
    due = (select(jobs.c.job_id)
           .where(jobs.c.key == bindparam("b_key"), jobs.c.kind == bindparam("b_kind"),
                  jobs.c.job_id != bindparam("b_job_id"), jobs.c.run_at <= now,
                  or_(jobs.c.lease_until.is_(None), jobs.c.lease_until <= now))
           .order_by(jobs.c.run_at, jobs.c.job_id)
           .limit(bindparam("claim_limit", type_=Integer)))
    held = select(holder.c.lease_until, holder.c.leased_by).where(
        holder.c.job_id == bindparam("b_job_id"))
    return (update(jobs)
            .where(jobs.c.job_id.in_(due.scalar_subquery()))
            .values(lease_until=held.with_only_columns(holder.c.lease_until).scalar_subquery(),
                    leased_by=held.with_only_columns(holder.c.leased_by).scalar_subquery(),
                    attempts=jobs.c.attempts + 1)
            .returning(jobs.c.job_id, jobs.c.workspace_id, jobs.c.kind, jobs.c.key,
                       jobs.c.payload, jobs.c.attempts, jobs.c.generation, jobs.c.run_at))


async def finish(conn: AsyncConnection, job: Job | str) -> None:
    """Remove a done job; a recurring job asked for again meanwhile stays, due."""
    if isinstance(job, str):
        await conn.execute(delete(jobs).where(jobs.c.job_id == job))
        return
    gone = (await conn.execute(_FINISH, {"b_job_id": job.job_id,
                                          "b_generation": job.generation})).rowcount
    if not gone:
        await _release(conn, job.job_id)


def backoff(attempts: int, base: float = 1.0, cap: float = 300.0) -> float:
    """Exponential backoff with full jitter, capped."""
    return random.uniform(0, min(cap, base * 2 ** max(0, attempts - 1)))


async def retry_later(db: Database, job: Job, *, now: datetime, error: str) -> None:
    async with db.write() as conn:
        await retry_later_in(conn, job, now=now, error=error)


async def retry_later_in(conn: AsyncConnection, job: Job, *, now: datetime, error: str) -> None:
    """retry_later inside the caller's transaction."""
    await conn.execute(update(jobs).where(
        jobs.c.job_id == job.job_id, jobs.c.generation == job.generation,
    ).values(run_at=now + timedelta(seconds=backoff(job.attempts)),
             lease_until=None, leased_by=None, last_error=error[:2000]))
    await _release(conn, job.job_id)


async def release_held_by(conn: AsyncConnection, holders: list[str]) -> None:
    """Free every lease of these holders (known gone): their jobs are due again at once."""
    if holders:
        await conn.execute(update(jobs).where(jobs.c.leased_by.in_(holders)).values(
            lease_until=None, leased_by=None))


async def renew(conn: AsyncConnection, job_ids: list[str], *, worker_id: str,
                until: datetime) -> None:
    if job_ids:
        await conn.execute(update(jobs).where(
            jobs.c.job_id.in_(job_ids), jobs.c.leased_by == worker_id,
        ).values(lease_until=until))
