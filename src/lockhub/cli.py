"""`lockhub serve | worker | migrate | seed | keys | workspaces | sandbox | webhooks`."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from pathlib import Path

import typer
import uvicorn
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from lockhub import logs
from lockhub.config import Settings
from lockhub.store.migrate import upgrade

app = typer.Typer(help="lockhub: a Seam-compatible smart-lock API server.", no_args_is_help=True)
keys_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
workspaces_app = typer.Typer(help="Suspend or delete workspaces.", no_args_is_help=True)
app.add_typer(workspaces_app, name="workspaces")
sandbox_app = typer.Typer(help="Sandbox controls: workspace clock and device faults.",
                          no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")
clock_app = typer.Typer(help="A sandbox workspace's clock.", no_args_is_help=True)
sandbox_app.add_typer(clock_app, name="clock")
webhooks_app = typer.Typer(help="Webhook deliveries: inspect and replay.", no_args_is_help=True)
app.add_typer(webhooks_app, name="webhooks")
ttlock_app = typer.Typer(help="TTLock open-platform settings.", no_args_is_help=True)
app.add_typer(ttlock_app, name="ttlock")
connect_app = typer.Typer(help="Connect your own locks to a production workspace, without a "
                          "Connect Webview.", no_args_is_help=True)
app.add_typer(connect_app, name="connect")
console = Console()

DATABASE_HELP = "sqlite:///PATH (default .lockhub/lockhub.db) or postgresql://USER:PASS@HOST/DB"


CREATE_DATABASE_HELP = ("Create the SQLite database even though this deployment had one "
                        "(its marker or secret key file is beside the missing file)")


def _migrate(settings: Settings, create_database: bool = False) -> None:
    """Migrate, but never put a new SQLite file in place of a deployment's missing one unless
    told to: `serve --seed` would otherwise start over on an empty database, unnoticed."""
    from lockhub.store import sqlite_file

    try:
        sqlite_file.prepare(settings.database_url, settings.secret_key_file,
                            create=create_database)
    except sqlite_file.DatabaseMissing as exc:
        typer.echo(f"lockhub: {exc}", err=True)
        raise typer.Exit(1) from None
    upgrade(settings.database_url)
    sqlite_file.mark(settings.database_url)


def _settings(database_url: str | None, **kwargs: object) -> Settings:
    settings = Settings(**kwargs) if database_url is None else Settings(
        database_url=database_url, **kwargs)
    return settings


@app.command()
def migrate(database_url: str = typer.Option(None, help=DATABASE_HELP),
            create_database: bool = typer.Option(False, help=CREATE_DATABASE_HELP)) -> None:
    """Apply database migrations."""
    settings = _settings(database_url)
    _migrate(settings, create_database)
    console.print(f"[green]migrated[/] {settings.database_url}")


@app.command()
def backup(target: Path = typer.Argument(..., help="Where to write the copy (replaced)"),
           database_url: str = typer.Option(None, help=DATABASE_HELP)) -> None:
    """Copy the SQLite database while lockhub runs (a consistent online backup)."""
    from lockhub.store.backup import BackupError, backup_sqlite

    try:
        size = backup_sqlite(_settings(database_url).database_url, target)
    except BackupError as exc:
        typer.echo(f"lockhub: {exc}", err=True)
        raise typer.Exit(1) from None
    console.print(f"[green]backed up[/] {size:,} bytes to {target}")


async def _seed(settings: Settings) -> dict[str, str]:
    from lockhub.services.runtime import build_runtime
    from lockhub.services.seed import seed

    rt = build_runtime(settings)
    try:
        return await seed(rt)
    finally:
        await rt.db.dispose()


@app.command("seed")
def seed_command(database_url: str = typer.Option(None, help=DATABASE_HELP)) -> None:
    """Create the seeded workspaces, keys and sandbox devices; print their ids as JSON."""
    settings = _settings(database_url)
    _migrate(settings)
    print(json.dumps(asyncio.run(_seed(settings)), indent=2))


@keys_app.command("create")
def keys_create(
    workspace: str = typer.Option(..., "--workspace", help="Workspace id"),
    name: str = typer.Option("CLI key", help="A name for the key"),
    database_url: str = typer.Option(None, help=DATABASE_HELP),
) -> None:
    """Create an API key for a workspace and print it (it is shown only once)."""
    settings = _settings(database_url)
    _migrate(settings)

    async def create() -> str:
        from sqlalchemy import select

        from lockhub.services.credentials import create_api_key
        from lockhub.services.runtime import build_runtime
        from lockhub.store.tables import workspaces

        rt = build_runtime(settings)
        try:
            async with rt.db.write() as conn:
                row = (await conn.execute(select(workspaces.c.is_sandbox).where(
                    workspaces.c.workspace_id == workspace))).first()
                if row is None:
                    raise typer.BadParameter(f"no workspace {workspace!r}")
                return await create_api_key(conn, now=rt.clock.now(), workspace_id=workspace,
                                            name=name, sandbox=row.is_sandbox)
        finally:
            await rt.db.dispose()

    print(asyncio.run(create()))


@keys_app.command("revoke")
def keys_revoke(key: str = typer.Argument(..., help="The key, or its id (seam_<id>_...)"),
                database_url: str = typer.Option(None, help=DATABASE_HELP)) -> None:
    """Delete an API key; it is refused from the next request on."""
    from lockhub.services import credentials

    async def revoke(rt) -> bool:  # type: ignore[no-untyped-def]
        async with rt.db.write() as conn:
            return await credentials.revoke_api_key(conn, key)

    if not _with_runtime(_settings(database_url), revoke):
        console.print("[red]no such API key[/]")
        raise typer.Exit(1)
    console.print("API key revoked")


@workspaces_app.command("suspend")
def workspaces_suspend(workspace_id: str = typer.Argument(..., help="Workspace id"),
                       undo: bool = typer.Option(False, "--undo", help="Lift the suspension"),
                       database_url: str = typer.Option(None, help=DATABASE_HELP)) -> None:
    """Suspend a workspace: its keys and tokens are refused (403 workspace_suspended)."""
    from lockhub.services import workspaces

    _with_runtime(_settings(database_url),
                  lambda rt: workspaces.set_suspended(rt, workspace_id, not undo))
    console.print(f"{workspace_id} {'restored' if undo else 'suspended'}")


@workspaces_app.command("delete")
def workspaces_delete(workspace_id: str = typer.Argument(..., help="Workspace id"),
                      database_url: str = typer.Option(None, help=DATABASE_HELP)) -> None:
    """Delete a workspace with all its devices, codes, keys and history."""
    from lockhub.services import workspaces

    _with_runtime(_settings(database_url),
                  lambda rt: workspaces.delete_workspace(rt, workspace_id))
    console.print(f"{workspace_id} deleted")


def _with_runtime(settings: Settings, work):  # type: ignore[no-untyped-def]
    """Run one service call against the database (a running server picks the change up)."""
    _migrate(settings)

    async def main():  # type: ignore[no-untyped-def]
        from lockhub.services.runtime import build_runtime

        rt = build_runtime(settings)
        try:
            return await work(rt)
        finally:
            await rt.db.dispose()

    from lockhub.errors import LockhubError

    try:
        return asyncio.run(main())
    except LockhubError as exc:
        console.print(f"[red]{exc.error_type}[/]: {escape(exc.message)}", soft_wrap=True)
        raise typer.Exit(1) from None


def _print_clock(clock) -> None:  # type: ignore[no-untyped-def]
    from lockhub.clock import iso

    state = "frozen" if clock.frozen_at is not None else "running"
    console.print(f"{iso(clock.now)}  ({state}, offset {clock.offset.total_seconds():+.0f}s)")


WORKSPACE_OPTION = typer.Option(..., "--workspace", help="Sandbox workspace id")


@clock_app.command("get")
def clock_get(workspace: str = WORKSPACE_OPTION,
              database_url: str = typer.Option(None, help=DATABASE_HELP)) -> None:
    """Show the workspace's time."""
    from lockhub.services import sandbox

    _print_clock(_with_runtime(_settings(database_url),
                               lambda rt: sandbox.get_clock(rt, workspace)))


@clock_app.command("freeze")
def clock_freeze(workspace: str = WORKSPACE_OPTION,
                 database_url: str = typer.Option(None, help=DATABASE_HELP)) -> None:
    """Stop the workspace's clock."""
    from lockhub.services import sandbox

    _print_clock(_with_runtime(_settings(database_url),
                               lambda rt: sandbox.change_clock(rt, workspace, frozen=True)))


@clock_app.command("unfreeze")
def clock_unfreeze(workspace: str = WORKSPACE_OPTION,
                   database_url: str = typer.Option(None, help=DATABASE_HELP)) -> None:
    """Let the workspace's clock run again."""
    from lockhub.services import sandbox

    _print_clock(_with_runtime(_settings(database_url),
                               lambda rt: sandbox.change_clock(rt, workspace, frozen=False)))


@clock_app.command("advance")
def clock_advance(seconds: float = typer.Argument(..., help="How far to move the clock"),
                  workspace: str = WORKSPACE_OPTION,
                  database_url: str = typer.Option(None, help=DATABASE_HELP)) -> None:
    """Move the workspace's clock forward; due access-code work runs at once."""
    from lockhub.services import sandbox

    _print_clock(_with_runtime(_settings(database_url), lambda rt: sandbox.change_clock(
        rt, workspace, advance_seconds=seconds)))


@clock_app.command("set")
def clock_set(instant: str = typer.Argument(..., help="ISO 8601 instant with a zone"),
              workspace: str = WORKSPACE_OPTION,
              database_url: str = typer.Option(None, help=DATABASE_HELP)) -> None:
    """Set the workspace's clock to an instant."""
    from datetime import datetime

    from lockhub.services import sandbox

    when = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    if when.tzinfo is None:
        raise typer.BadParameter("give a time zone, e.g. 2026-01-01T00:00:00Z")
    _print_clock(_with_runtime(_settings(database_url), lambda rt: sandbox.change_clock(
        rt, workspace, set_to=when)))


@sandbox_app.command("fail")
def sandbox_fail(
    device: str = typer.Option(..., "--device", help="Device id"),
    error_type: str = typer.Option("device_offline", help="error.type the operations fail with"),
    count: int = typer.Option(1, help="How many operations fail"),
    operation: list[str] = typer.Option(None, help="lock, unlock, set_code, remove_code, "
                                                    "list_codes (default: all)"),
    workspace: str = WORKSPACE_OPTION,
    database_url: str = typer.Option(None, help=DATABASE_HELP),
) -> None:
    """Make the next operations on a virtual lock fail."""
    from lockhub.services import sandbox

    _with_runtime(_settings(database_url), lambda rt: sandbox.inject_failures(
        rt, workspace, device, error_type=error_type, count=count,
        operations=operation or None, message=None))
    console.print(f"next {count} operation(s) on {device} fail with {error_type}")


@sandbox_app.command("clear-faults")
def sandbox_clear_faults(device: str = typer.Option(..., "--device", help="Device id"),
                         workspace: str = WORKSPACE_OPTION,
                         database_url: str = typer.Option(None, help=DATABASE_HELP)) -> None:
    """Remove every injected failure from a virtual lock."""
    from lockhub.services import sandbox

    _with_runtime(_settings(database_url),
                  lambda rt: sandbox.clear_faults(rt, workspace, device))
    console.print(f"faults cleared on {device}")


@ttlock_app.command("callback-url")
def ttlock_callback_url(
    client_id: str = typer.Option(..., "--client-id", help="Your TTLock application's client id"),
) -> None:
    """The callback URL to set in TTLock's developer console (uses LOCKHUB_PUBLIC_URL)."""
    from lockhub.services.ttlock_callbacks import callback_url

    print(callback_url(Settings(), client_id))


@webhooks_app.command("deliveries")
def webhooks_deliveries(
    workspace: str = typer.Option(..., "--workspace", help="Workspace id"),
    status: str = typer.Option(None, help="pending, delivered or failed"),
    limit: int = typer.Option(50, help="How many, newest first"),
    database_url: str = typer.Option(None, help=DATABASE_HELP),
) -> None:
    """Show webhook deliveries: status, attempts, last response and next retry."""
    from rich.table import Table

    from lockhub.services import webhooks

    rows = _with_runtime(_settings(database_url), lambda rt: webhooks.list_deliveries(
        rt, workspace, webhook_id=None, event_id=None, status=status, limit=limit))
    table = Table("delivery", "event", "status", "attempts", "last response", "latency ms",
                  "next attempt (workspace time)")
    for d in rows:
        last = d.attempts[-1] if d.attempts else None
        table.add_row(d.delivery_id, d.event_type, d.status, str(d.attempt_count),
                      (str(last.status_code) if last and last.status_code else
                       (last.error or "") if last else ""),
                      f"{last.latency_ms:.1f}" if last and last.latency_ms is not None else "",
                      d.next_attempt_at or "")
    console.print(table)


@webhooks_app.command("replay")
def webhooks_replay(
    delivery_id: str = typer.Argument(..., help="Delivery id"),
    workspace: str = typer.Option(..., "--workspace", help="Workspace id"),
    database_url: str = typer.Option(None, help=DATABASE_HELP),
) -> None:
    """Send a delivery again."""
    from lockhub.services import webhooks

    delivery = _with_runtime(_settings(database_url),
                             lambda rt: webhooks.replay(rt, workspace, delivery_id))
    console.print(f"{delivery.delivery_id} is {delivery.status} again")


def _connect(database_url: str | None, workspace: str, account_type: str,
             form: dict[str, str]) -> None:
    """Sign in, then print the account and its locks."""
    from lockhub.services import connected_accounts

    account_id, devices = _with_runtime(_settings(database_url), lambda rt: (
        connected_accounts.connect_directly(rt, workspace, account_type, form)))
    console.print(f"[green]connected[/] {account_type} account {account_id}")
    from rich.table import Table

    table = Table("device_id", "name", "maker", "locked", "online", "battery")
    for device in devices:
        props = device.properties
        table.add_row(device.device_id, escape(device.display_name),
                      escape(str(props.get("manufacturer", ""))), str(props.get("locked", "")),
                      str(props.get("online", "")), str(props.get("battery_level", "")))
    console.print(table)


@connect_app.command("zwave-js")
def connect_zwave_js(
    url: str = typer.Argument(..., help="The Z-Wave JS server's WebSocket URL, e.g. "
                                        "ws://192.168.1.10:3000"),
    workspace: str = typer.Option(..., "--workspace", help="Production workspace id"),
    database_url: str = typer.Option(None, help=DATABASE_HELP),
) -> None:
    """Connect a Z-Wave network through its Z-Wave JS server and list its locks."""
    _connect(database_url, workspace, "zwave_js", {"url": url})


@connect_app.command("zigbee2mqtt")
def connect_zigbee2mqtt(
    broker_url: str = typer.Argument(..., help="mqtt://HOST[:1883] or mqtts://HOST[:8883]"),
    workspace: str = typer.Option(..., "--workspace", help="Production workspace id"),
    username: str = typer.Option("", help="Broker username"),
    password: str = typer.Option("", envvar="LOCKHUB_MQTT_PASSWORD",
                                 help="Broker password (or LOCKHUB_MQTT_PASSWORD)"),
    base_topic: str = typer.Option("zigbee2mqtt", help="Zigbee2MQTT's base topic"),
    database_url: str = typer.Option(None, help=DATABASE_HELP),
) -> None:
    """Connect a Zigbee2MQTT bridge through its MQTT broker and list its locks."""
    _connect(database_url, workspace, "zigbee2mqtt",
             {"broker_url": broker_url, "username": username, "password": password,
              "base_topic": base_topic})


def _banner(settings: Settings, seed_ids: dict[str, str] | None) -> None:
    lines = [f"endpoint  {settings.base_url}"]
    if seed_ids:
        from lockhub.services.seed import DEMO_API_KEY, DEMO_WORKSPACE

        key = DEMO_API_KEY
        lines += [
            f"API key   {key}  (sandbox workspace {DEMO_WORKSPACE}: every brand's test locks)",
            f"          {seed_ids['seam_apikey1_token']}  ({seed_ids['seed_workspace_1']}: "
            "Seam's fake's seed, exactly)",
            "",
            "from seam import Seam",
            f'seam = Seam(api_key="{key}", endpoint="{settings.base_url}")',
            "print([d.display_name for d in seam.devices.list()])",
        ]
    if settings.test_hooks:
        lines += ["", "TEST HOOKS ON: /_fake/* is served WITHOUT authentication (--test-hooks);",
                  "anyone who can reach this port can rewrite sandbox action attempts and",
                  "complete sandbox Connect Webviews. Never use this outside tests."]
    console.print(Panel(escape("\n".join(lines)), title="lockhub is running", expand=False))


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to bind (loopback by default)"),
    port: int = typer.Option(3020, help="Port to listen on"),
    database_url: str = typer.Option(None, help=DATABASE_HELP),
    seed: bool = typer.Option(False, "--seed", help="Create the seeded workspaces and devices"),
    test_hooks: bool = typer.Option(
        False, "--test-hooks", help="Serve Seam's fake's /_fake/* test hooks, unauthenticated "
        "(for test suites only; also LOCKHUB_TEST_HOOKS=1)"),
    engine: bool = typer.Option(True, help="Run the background engine in this process"),
    create_database: bool = typer.Option(False, help=CREATE_DATABASE_HELP),
) -> None:
    """Migrate, optionally seed, and serve the API (with the engine, unless --no-engine)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logs.scrub_secrets()
    hooks = {"test_hooks": True} if test_hooks else {}  # else LOCKHUB_TEST_HOOKS decides
    settings = _settings(database_url, host=host, port=port, run_engine=engine, **hooks)
    _migrate(settings, create_database)
    seed_ids = asyncio.run(_seed(settings)) if seed else None
    _banner(settings, seed_ids)

    from lockhub.api.app import asgi_app
    from lockhub.services.runtime import build_runtime

    def factory():  # type: ignore[no-untyped-def]
        return asgi_app(build_runtime(settings))

    uvicorn.run(factory, factory=True, host=host, port=port, log_level="warning",
                access_log=False, lifespan="on")


@app.command()
def worker(database_url: str = typer.Option(None, help=DATABASE_HELP)) -> None:
    """Run only the background engine (for deployments that split API and workers)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logs.scrub_secrets()
    settings = _settings(database_url)
    _migrate(settings)

    async def main() -> None:
        from lockhub.engine.worker import Worker
        from lockhub.gc_tuning import freeze_startup_objects
        from lockhub.services.runtime import build_runtime

        rt = build_runtime(settings)
        engine_worker = Worker(rt)
        freeze_startup_objects()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, engine_worker.stop)
        console.print(f"[green]worker[/] {engine_worker.worker_id} on "
                      f"{logs.scrub(settings.database_url)}")
        try:
            await engine_worker.run()
        finally:
            await rt.close()

    asyncio.run(main())


if __name__ == "__main__":
    app()
