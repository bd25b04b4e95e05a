"""Telling that a lease holder's process is gone, so its leases are taken at once.

A lease expires on its own after `LOCKHUB_LEASE_SECONDS`; waiting that long is only needed when
nothing better is known. Each engine records a process key: the kernel's boot id, its pid
namespace, its pid and the process's start time. Another engine that shares the boot and the pid
namespace (the same machine or container) can check that process directly: no such pid, or a pid
now used by a process started at another time, means the holder is dead. Holders elsewhere are
never judged; their leases expire.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from lockhub.engine import jobs
from lockhub.store.db import Database
from lockhub.store.tables import provider_connections, workers


@dataclass(frozen=True)
class ProcessKey:
    boot_id: str
    pid_namespace: str
    pid: int
    started: str  # start time in clock ticks since boot (field 22 of /proc/<pid>/stat)

    def __str__(self) -> str:
        return f"{self.boot_id}:{self.pid_namespace}:{self.pid}:{self.started}"

    @classmethod
    def parse(cls, value: str | None) -> ProcessKey | None:
        parts = (value or "").split(":")
        if len(parts) != 4 or not parts[2].isdigit():
            return None
        return cls(parts[0], parts[1], int(parts[2]), parts[3])


def _stat(pid: int) -> tuple[str, str] | None:
    """(state, start time) of a process, from /proc/<pid>/stat."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces; the fields after its ")" are fixed.
    fields = stat.rsplit(")", 1)[1].split()
    return fields[0], fields[19]


def current() -> ProcessKey | None:
    """This process's key, or None where /proc does not offer one (then nothing is judged)."""
    pid = os.getpid()
    try:
        boot_id = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return None
    stat = _stat(pid)
    if stat is None:
        return None
    return ProcessKey(boot_id, namespace, pid, stat[1])


def known_dead(holder: ProcessKey | None, me: ProcessKey | None) -> bool:
    """True only when the holder's process has certainly ended."""
    if holder is None or me is None or holder == me:
        return False
    if (holder.boot_id, holder.pid_namespace) != (me.boot_id, me.pid_namespace):
        return False
    if holder.pid == me.pid:
        return True  # our own pid, so an earlier process that used it (e.g. pid 1 of a container)
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # exists, owned by another user
    stat = _stat(holder.pid)
    if stat is None:
        return False  # hidden from us (e.g. /proc mounted with hidepid): assume alive
    state, started = stat
    return started != holder.started or state in ("Z", "X")  # pid reused, or exited


# --- the `workers` table ------------------------------------------------------------------------

# Rows of engines not heard from for this long are dropped (their leases expired long before).
FORGET_AFTER = timedelta(hours=1)


class WorkerIdInUse(RuntimeError):
    """A configured worker id is held by another live process on this machine."""


async def register(db: Database, *, worker_id: str, me: ProcessKey | None,
                   now: datetime) -> list[str]:
    """Record this engine and take back what is known to be free: leases held under this
    worker id (an earlier run with the same configured id) and those of holders known dead.

    Returns the ids of the dead holders whose leases were released.
    """
    async with db.write() as conn:
        existing = (await conn.execute(select(workers).where(
            workers.c.worker_id == worker_id))).first()
        if existing is not None:
            holder = ProcessKey.parse(existing.process_key)
            same_machine = holder is not None and me is not None and (
                holder.boot_id, holder.pid_namespace) == (me.boot_id, me.pid_namespace)
            if same_machine and holder != me and not known_dead(holder, me):
                raise WorkerIdInUse(f"worker id {worker_id!r} is in use by the running process "
                                    f"{holder.pid if holder else '?'}")
            await conn.execute(delete(workers).where(workers.c.worker_id == worker_id))
        await conn.execute(workers.insert().values(
            worker_id=worker_id, host=socket.gethostname(), pid=os.getpid(),
            process_key=str(me) if me else None, started_at=now, heartbeat_at=now))
        await release_held_by(conn, [worker_id])
    return await reap(db, worker_id=worker_id, me=me, now=now)


async def release_held_by(conn: AsyncConnection, holders: list[str]) -> None:
    """Free every lease of these engines (known gone): their jobs are due again and their
    accounts' live connections are free for the next `ConnectionManager` pass to take."""
    if holders:
        await jobs.release_held_by(conn, holders)
        await conn.execute(update(provider_connections).where(
            provider_connections.c.holder.in_(holders)).values(holder=None, lease_until=None))


async def heartbeat(conn: AsyncConnection, *, worker_id: str, now: datetime) -> None:
    await conn.execute(update(workers).where(workers.c.worker_id == worker_id).values(
        heartbeat_at=now))


async def reap(db: Database, *, worker_id: str, me: ProcessKey | None,
               now: datetime) -> list[str]:
    """Release the leases of engines known dead; forget engines silent for long."""
    async with db.read() as conn:
        rows = (await conn.execute(select(workers.c.worker_id, workers.c.process_key,
                                          workers.c.heartbeat_at))).all()
    dead = [r.worker_id for r in rows
            if r.worker_id != worker_id and known_dead(ProcessKey.parse(r.process_key), me)]
    forgotten = [r.worker_id for r in rows
                 if r.worker_id != worker_id and r.heartbeat_at < now - FORGET_AFTER]
    if not dead and not forgotten:
        return []
    async with db.write() as conn:
        await release_held_by(conn, dead)
        await conn.execute(delete(workers).where(workers.c.worker_id.in_(dead + forgotten)))
    return dead


async def retire(db: Database, *, worker_id: str) -> None:
    """A clean stop: hand back this engine's leases at once and remove its row."""
    async with db.write() as conn:
        await release_held_by(conn, [worker_id])
        await conn.execute(delete(workers).where(workers.c.worker_id == worker_id))


async def alive_count(db: Database, *, since: datetime) -> int:
    """Engines (this process's or any other's) that sent a heartbeat at or after `since`
    (readiness: is any engine running the queue?)."""
    async with db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(workers).where(
            workers.c.heartbeat_at >= since))).scalar() or 0)
