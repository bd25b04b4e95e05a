"""Cross-process wake-ups on PostgreSQL: LISTEN on the jobs channel, so an engine starts a job
another process (an API process, another worker, another host) enqueued at once, instead of
at its next poll (`LOCKHUB_ENGINE_POLL_SECONDS`, which stays the fallback).

One dedicated connection per engine process holds the LISTEN; when it drops (database restart,
network), it is opened again with backoff, and the engine polls meanwhile. SQLite processes of
one host keep polling (SQLite has no notifications).
"""

from __future__ import annotations

import asyncio
import logging
import random

from lockhub.engine.jobs import JOBS_CHANNEL
from lockhub.services.runtime import Runtime

log = logging.getLogger("lockhub.engine")
MAX_BACKOFF_SECONDS = 30.0


async def listen(rt: Runtime) -> None:
    """Until cancelled: wake this process's engine on every notification of the channel."""
    if rt.db.is_sqlite:
        return
    backoff = 0.5
    while True:
        try:
            await _listen_once(rt)
            backoff = 0.5
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the connection dropped: poll until it is back
            log.warning("job notifications unavailable (%s); polling until they are back", exc)
            await asyncio.sleep(backoff * random.uniform(0.5, 1.0))
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)


async def _listen_once(rt: Runtime) -> None:
    lost = asyncio.Event()

    def wake(*_args: object) -> None:
        rt.wake_engine()

    async with rt.db.driver_connection() as raw:
        raw.add_termination_listener(lambda _conn: lost.set())
        await raw.add_listener(JOBS_CHANNEL, wake)
        # A job enqueued while the listener was down is due now: look at once.
        rt.wake_engine()
        try:
            await lost.wait()
        finally:
            if not raw.is_closed():
                await raw.remove_listener(JOBS_CHANNEL, wake)
    raise ConnectionError("the notification connection was closed")
