"""Live connections: exactly one per connected account of a live provider, across processes.

Every engine process runs a `ConnectionManager`. Each pass it leases the `provider_connections`
row of every live account that is free (never held, lease expired, or already its own) and
renews the rows it holds; for each held row it keeps one task running `provider.maintain`,
which connects, reports, and raises when the connection is lost. The task reconnects with
exponential backoff and full jitter; the account shows `account_disconnected` meanwhile (the
provider's `ConnectionReport`s, applied by `services.device_reports`). When the holder dies its
lease runs out and another process takes the account over; an engine on the same machine frees
the row at once when it sees the holder's process gone (`engine.liveness`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import msgspec
from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lockhub import metrics
from lockhub.providers.base import (
    ConnectionReport,
    CredentialsRefused,
    CredentialsReport,
    ProviderError,
    Report,
    is_live,
)
from lockhub.providers.refs import account_ref
from lockhub.secret_box import open_credentials
from lockhub.services import connected_accounts as account_service
from lockhub.services import device_reports
from lockhub.services.runtime import Runtime
from lockhub.store.tables import connected_accounts, provider_connections

log = logging.getLogger("lockhub.connections")
P = provider_connections

BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 30.0


def backoff_delay(failures: int) -> float:
    """Full jitter over an exponential ceiling: reconnecting clients never move in step."""
    ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_FIRST_SECONDS * 2 ** max(0, failures - 1))
    return random.uniform(ceiling / 2, ceiling)


class ConnectionManager:
    def __init__(self, rt: Runtime, holder: str) -> None:
        self.rt = rt
        self.holder = holder
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self._fingerprints: dict[str, str] = {}

    @property
    def live_providers(self) -> list[str]:
        return [name for name, provider in self.rt.providers.items() if is_live(provider)]

    async def run(self) -> None:
        interval = max(0.2, min(self.rt.settings.lease_seconds / 3,
                                self.rt.settings.engine_poll_seconds * 8))
        try:
            while True:
                try:
                    await self.tick()
                except Exception:  # the database may be briefly unavailable
                    log.exception("leasing live connections failed")
                await asyncio.sleep(interval)
        finally:
            await self.close()

    async def close(self) -> None:
        """Stop every connection this process holds and give the leases back."""
        tasks = list(self.tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        held = list(self.tasks)
        self.tasks.clear()
        for name in self.live_providers:
            metrics.PROVIDER_CONNECTIONS.labels(name).set(0)
        if held:
            try:
                async with self.rt.db.write() as conn:
                    await conn.execute(update(P).where(
                        P.c.connected_account_id.in_(held), P.c.holder == self.holder,
                    ).values(holder=None, lease_until=None))
            except Exception:
                log.warning("could not release %d connection lease(s)", len(held))

    async def tick(self) -> None:
        names = self.live_providers
        if not names:
            return
        now = self.rt.clock.now()
        until = now + timedelta(seconds=self.rt.settings.lease_seconds)
        async with self.rt.db.read() as conn:
            accounts = {r.connected_account_id: r for r in (await conn.execute(
                select(connected_accounts).where(connected_accounts.c.provider.in_(names))
            )).all()}
        held = await self._lease(list(accounts), now, until)
        for account_id in list(self.tasks):
            if account_id not in held or self._changed(accounts.get(account_id)):
                self.tasks.pop(account_id).cancel()
        for account_id in held:
            task = self.tasks.get(account_id)
            if task is None or task.done():
                account = accounts[account_id]
                self._fingerprints[account_id] = _fingerprint(account)
                self.tasks[account_id] = asyncio.create_task(self._maintain(account),
                                                             name=f"connection:{account_id}")
        counts = dict.fromkeys(names, 0)
        for account_id, task in self.tasks.items():
            if account_id in accounts and not task.done():
                provider = accounts[account_id].provider
                counts[provider] = counts.get(provider, 0) + 1
        for name, count in counts.items():
            metrics.PROVIDER_CONNECTIONS.labels(name).set(count)

    def _changed(self, account: Any) -> bool:
        """Gone, or signed in again with other credentials: reconnect with the new ones."""
        return account is None or self._fingerprints.get(account.connected_account_id) \
            != _fingerprint(account)

    async def _lease(self, account_ids: list[str], now: datetime,
                     until: datetime) -> set[str]:
        """Take every free row and renew our own; return the accounts this process holds."""
        if not account_ids:
            return set()
        async with self.rt.db.write() as conn:
            existing = {r.connected_account_id for r in (await conn.execute(
                select(P.c.connected_account_id).where(
                    P.c.connected_account_id.in_(account_ids)))).all()}
            for account_id in set(account_ids) - existing:
                # Another process may make the row first; the update below decides.
                await conn.execute(_insert_if_missing(conn.dialect.name), dict(
                    connected_account_id=account_id, holder=None, lease_until=None,
                    connected=False, updated_at=now))
            await conn.execute(update(P).where(
                P.c.connected_account_id.in_(account_ids),
                or_(P.c.holder == self.holder, P.c.holder.is_(None), P.c.lease_until.is_(None),
                    P.c.lease_until < now),
            ).values(holder=self.holder, lease_until=until, updated_at=now))
            rows = (await conn.execute(select(P.c.connected_account_id).where(
                P.c.connected_account_id.in_(account_ids), P.c.holder == self.holder))).all()
            await conn.execute(delete(P).where(P.c.connected_account_id.not_in(account_ids)))
        return {r.connected_account_id for r in rows}

    async def _maintain(self, account: Any) -> None:
        """Hold one account's connection: run the provider, reconnect with backoff."""
        provider = self.rt.providers.get(account.provider)
        account_id = account.connected_account_id
        failures = 0
        # Reconnects use the newest tokens: a provider whose refresh tokens are single-use
        # has stored new ones (CredentialsReport) since this task read the account.
        ref = account_ref(self.rt.settings, account)

        async def sink(report: Report) -> None:
            nonlocal failures, ref
            if isinstance(report, CredentialsReport):
                stored = await account_service.store_refreshed_credentials(
                    self.rt, account_id, report.credentials)
                if stored is not None:  # our own refresh: no reconnect for it
                    self._fingerprints[account_id] = _fingerprint_of(stored)
                    ref = msgspec.structs.replace(
                        ref, credentials=open_credentials(self.rt.settings, stored))
                return
            if isinstance(report, ConnectionReport):
                await self._record(account_id, report)
                if report.connected:
                    failures = 0
            await device_reports.apply(self.rt, account_id, report)

        while True:
            try:
                await provider.maintain(ref, sink)
                message = "The connection closed."
            except asyncio.CancelledError:
                raise
            except CredentialsRefused as exc:
                # Retrying cannot help: disconnected until a new sign-in changes the
                # credentials, which makes the next tick restart this task.
                await sink(ConnectionReport(connected=False, message=exc.message))
                log.info("credentials of %s refused; waiting for a new sign-in", account_id)
                await asyncio.Event().wait()
            except ProviderError as exc:
                message = exc.message
            except Exception as exc:  # a provider bug must not end the account's connection
                log.exception("live connection of %s failed", account_id)
                message = f"{type(exc).__name__}: {exc}"
            failures += 1
            try:
                await sink(ConnectionReport(connected=False, message=message))
            except Exception:
                log.exception("recording the lost connection of %s failed", account_id)
            delay = backoff_delay(failures)
            log.info("connection of %s lost (%s); reconnecting in %.1f s", account_id,
                     message, delay)
            await asyncio.sleep(delay)

    async def _record(self, account_id: str, report: ConnectionReport) -> None:
        async with self.rt.db.write() as conn:
            await conn.execute(update(P).where(
                P.c.connected_account_id == account_id, P.c.holder == self.holder,
            ).values(connected=report.connected,
                     last_error=None if report.connected else report.message[:500],
                     updated_at=self.rt.clock.now()))


@cache
def _insert_if_missing(dialect: str) -> Any:
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return insert(P).on_conflict_do_nothing(index_elements=[P.c.connected_account_id])


def _fingerprint(account: Any) -> str:
    return _fingerprint_of(account.credentials)


def _fingerprint_of(stored_credentials: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(stored_credentials, sort_keys=True).encode()).hexdigest()
