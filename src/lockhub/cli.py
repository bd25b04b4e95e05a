"""`lockhub serve | worker | migrate | seed | keys | tokens | workspaces | sandbox | webhooks`.

Every mistake and start-up failure ends in one line on stderr (`lockhub: …`) and a non-zero
exit, never a traceback (`main`). Every command finds the database the way the server does:
`--database-url`, `LOCKHUB_DATABASE_URL`, the configuration file (config.py), the default.
Only `serve`, `migrate` and `seed` may create a database; the others refuse one that does
not exist.
"""

from __future__ import annotations

import asyncio
import errno
import json
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer
import uvicorn
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from lockhub import logs
from lockhub.config import SettingError, Settings, apply_config_file
from lockhub.store.migrate import upgrade

try:  # typer 0.2x carries its own copy of click
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover
    from click import exceptions as click_exceptions  # type: ignore[no-redef]
_ABORTS: tuple[type[BaseException], ...] = tuple(
    {typer.Abort, getattr(click_exceptions, "Abort", typer.Abort)})

app = typer.Typer(help="lockhub: a Seam-compatible smart-lock API server.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
keys_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
tokens_app = typer.Typer(help="Manage users' personal access tokens.", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")
workspaces_app = typer.Typer(help="Create, list, suspend or delete workspaces.",
                             no_args_is_help=True)
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
devices_app = typer.Typer(help="A workspace's devices.", no_args_is_help=True)
app.add_typer(devices_app, name="devices")
locks_app = typer.Typer(help="Lock and unlock doors.", no_args_is_help=True)
app.add_typer(locks_app, name="locks")
codes_app = typer.Typer(help="Access codes (PINs) on locks.", no_args_is_help=True)
app.add_typer(codes_app, name="codes")
events_app = typer.Typer(help="A workspace's events.", no_args_is_help=True)
app.add_typer(events_app, name="events")
console = Console()

DATABASE_HELP = ("sqlite:///PATH or postgresql://USER:PASS@HOST/DB (else LOCKHUB_DATABASE_URL, "
                 "else the configuration file, else sqlite:///.lockhub/lockhub.db)")
NO_DATABASE = "no lockhub database at {}; start `lockhub serve` or pass --database-url"

CREATE_DATABASE_HELP = ("Create the SQLite database even though this deployment had one "
                        "(its marker or secret key file is beside the missing file)")

T = TypeVar("T")


def fail(message: str, code: int = 1) -> NoReturn:
    """The one line a mistake or failure ends with."""
    typer.echo(f"lockhub: {message}", err=True)
    raise typer.Exit(code)


def masked_url(url: str) -> str:
    """A database URL fit to print: `postgresql://user:***@host/db`."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return logs.scrub(url)


def _reason(exc: BaseException) -> str:
    """An exception as one line without secrets (SQLAlchemy adds lines of background)."""
    text = logs.scrub(str(exc)).strip()
    first = text.splitlines()[0] if text else ""
    return first or type(exc).__name__


def _check_url(url: str) -> None:
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:
        fail(f"{logs.scrub(url)!r} is not a database URL: use sqlite:///PATH or "
             f"postgresql://USER:PASS@HOST/DB")
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        fail(f"unsupported database {masked_url(url)}: use sqlite:///PATH or "
             f"postgresql://USER:PASS@HOST/DB")
    if backend == "sqlite" and (parsed.database in (None, "", ":memory:")
                                or parsed.query.get("mode") == "memory"):
        fail(f"{url} is an in-memory SQLite database, which every process would have a "
             f"different copy of: use sqlite:///PATH")


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"lockhub {version('lockhub')}")
        raise typer.Exit()


@app.callback()
def _options(version: bool = typer.Option(False, "--version", is_eager=True, callback=_version,
                                          help="Print the version and exit")) -> None:
    """lockhub: a Seam-compatible smart-lock API server."""
    try:
        apply_config_file()
    except SettingError as exc:
        fail(str(exc))


def _migrate(settings: Settings, create_database: bool = False, *, create: bool = True) -> None:
    """Open (and migrate) the database. Without `create`, a database that does not exist is
    refused; with it, a new SQLite file is still never put in place of a deployment's missing
    one unless told to (`serve --seed` would otherwise start over on an empty database)."""
    from lockhub.store import sqlite_file

    url = settings.database_url
    path = sqlite_file.sqlite_path(url)
    if not create:
        if path is not None and not path.exists():
            fail(NO_DATABASE.format(path))
        if path is None and not asyncio.run(_has_schema(url)):
            fail(NO_DATABASE.format(masked_url(url)))
    try:
        sqlite_file.prepare(url, settings.secret_key_file, create=create_database)
    except sqlite_file.DatabaseMissing as exc:
        fail(str(exc))
    try:
        upgrade(url)
    except Exception as exc:
        fail(f"cannot open the database at {masked_url(url)}: {_reason(exc)}")
    sqlite_file.mark(url)


async def _has_schema(url: str) -> bool:
    """Whether a PostgreSQL database holds lockhub's tables (a failure to connect is one line)."""
    from sqlalchemy import inspect
    from sqlalchemy.ext.asyncio import create_async_engine

    from lockhub.store.db import async_url

    engine = create_async_engine(async_url(url), connect_args={"timeout": 10})
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda c: inspect(c).has_table("alembic_version"))
    except Exception as exc:
        fail(f"cannot open the database at {masked_url(url)}: {_reason(exc)}")
    finally:
        await engine.dispose()


def _settings(database_url: str | None, **kwargs: object) -> Settings:
    try:
        settings = Settings(**kwargs) if database_url is None else Settings(
            database_url=database_url, **kwargs)
    except SettingError as exc:
        fail(str(exc))
    _check_url(settings.database_url)
    return settings


@app.command()
def migrate(database_url: str = typer.Option(None, help=DATABASE_HELP),
            create_database: bool = typer.Option(False, help=CREATE_DATABASE_HELP)) -> None:
    """Apply database migrations."""
    settings = _settings(database_url)
    _migrate(settings, create_database)
    console.print(f"[green]migrated[/] {escape(masked_url(settings.database_url))}",
                  soft_wrap=True)


@app.command()
def backup(target: Path = typer.Argument(..., help="Where to write the copy (replaced)"),
           database_url: str = typer.Option(None, help=DATABASE_HELP)) -> None:
    """Copy the SQLite database while lockhub runs (a consistent online backup)."""
    from lockhub.store.backup import BackupError, backup_sqlite

    try:
        size = backup_sqlite(_settings(database_url).database_url, target)
    except BackupError as exc:
        fail(str(exc))
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
    _migrate(settings)  # seeding sets a database up, as `serve --seed` does: it may create one
    print(json.dumps(asyncio.run(_seed(settings)), indent=2))


def _with_runtime(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run one service call against an existing database (a running server picks the change
    up). A service's refusal (an unknown id, a wrong state) is one line."""
    _migrate(settings, create=False)

    async def main() -> T:
        from lockhub.services.runtime import build_runtime

        rt = build_runtime(settings)
        try:
            return await work(rt)
        finally:
            await rt.db.dispose()

    from lockhub.errors import LockhubError, NotFound

    try:
        return asyncio.run(main())
    except NotFound as exc:
        ids = ", ".join(str(v) for v in (exc.data or {}).values())
        fail(f"{exc.message.lower()}: {ids}" if ids else exc.message.lower())
    except LockhubError as exc:
        fail(f"{exc.message} ({exc.error_type})")


def _in_workspace(database_url: str | None, workspace_id: str,
                  work: Callable[[Any], Awaitable[T]]) -> T:
    """`_with_runtime` for a command about one workspace, which must exist."""
    from lockhub.services import workspaces

    async def checked(rt: Any) -> T:
        await workspaces.get(rt, workspace_id)
        return await work(rt)

    return _with_runtime(_settings(database_url), checked)


def _print_table(table: Any) -> None:
    """Rows at their full width, however narrow the terminal: ids are copied from them."""
    width = console.measure(table, options=console.options.update(max_width=1000)).maximum
    (console if width <= console.width else Console(width=width)).print(table)


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


@keys_app.command("create")
def keys_create(
    workspace: str = typer.Option(..., "--workspace", help="Workspace id"),
    name: str = typer.Option("CLI key", help="A name for the key"),
    database_url: str = typer.Option(None, help=DATABASE_HELP),
) -> None:
    """Create an API key for a workspace and print it (it is shown only once)."""
    from lockhub.services import credentials, workspaces

    async def create(rt: Any) -> str:
        sandbox = (await workspaces.get(rt, workspace)).is_sandbox
        async with rt.db.write() as conn:
            return await credentials.create_api_key(conn, now=rt.clock.now(),
                                                    workspace_id=workspace, name=name,
                                                    sandbox=sandbox)

    print(_with_runtime(_settings(database_url), create))


@keys_app.command("list")
def keys_list(workspace: str = typer.Option(None, "--workspace", help="Only this workspace's"),
              database_url: str = typer.Option(None, help=DATABASE_HELP)) -> None:
    """List API keys: id, name, workspace, created (never a secret: only digests are stored)."""
    from rich.table import Table

    from lockhub.services import credentials

    async def listed(rt: Any) -> list[credentials.ApiKeyInfo]:
        async with rt.db.read() as conn:
            return await credentials.list_api_keys(conn, workspace)

    keys = (_in_workspace(database_url, workspace, listed) if workspace
            else _with_runtime(_settings(database_url), listed))
    table = Table("id", "name", "workspace", "created")
    for key in keys:
        table.add_row(key.api_key_id, escape(key.name), key.workspace_id, _when(key.created_at))
    _print_table(table)


@keys_app.command("revoke")
def keys_revoke(key: str = typer.Argument(..., help="The key, or its id (seam_<id>_...)"),
                database_url: str = typer.Option(None, help=DATABASE_HELP)) -> None:
    """Delete an API key; it is refused from the next request on."""
    from lockhub.services import credentials

    async def revoke(rt: Any) -> bool:
        async with rt.db.write() as conn:
            return await credentials.revoke_api_key(conn, key)

    if not _with_runtime(_settings(database_url), revoke):
        fail("no such API key")
    console.print("API key revoked")


@tokens_app.command("create")
def tokens_create(
    email: str = typer.Option(..., "--email", help="The user's email (created if new)"),
    workspace: list[str] = typer.Option(None, "--workspace",
                                        help="Make the user a member of this workspace "
                                             "(repeatable)"),
    name: str = typer.Option("CLI token", help="A name for the token"),
    database_url: str = typer.Option(None, help=DATABASE_HELP),
) -> None:
    """Create a personal access token for a user and print it (it is shown only once)."""
    from lockhub.services import credentials

    if "@" not in email:
        fail(f"{email!r} is not an email address")

    async def create(rt: Any) -> str:
        async with rt.db.write() as conn:
            return await credentials.create_pat_for_email(
                conn, now=rt.clock.now(), email=email, name=name,
                workspace_ids=list(workspace or []))

    print(_with_runtime(_settings(database_url), create))


@tokens_app.command("list")
def tokens_list(email: str = typer.Option(None, "--email", help="Only this user's"),
                database_url: str = typer.Option(None, help=DATABASE_HELP)) -> None:
    """List personal access tokens: id, name, user, workspaces, created (never a secret)."""
    from rich.table import Table

    from lockhub.services import credentials

    async def listed(rt: Any) -> list[credentials.PatInfo]:
        async with rt.db.read() as conn:
            return await credentials.list_pats(conn, email)

    table = Table("id", "name", "user", "workspaces", "created")
    for pat in _with_runtime(_settings(database_url), listed):
        table.add_row(pat.token_id, escape(pat.name), escape(pat.email),
                      "\n".join(pat.workspace_ids), _when(pat.created_at))
    _print_table(table)


@tokens_app.command("revoke")
def tokens_revoke(token: str = typer.Argument(..., help="The token, or its id (seam_at<id>_...)"),
                  database_url: str = typer.Option(None, help=DATABASE_HELP)) -> None:
    """Delete a personal access token; it is refused from the next request on."""
    from lockhub.services import credentials

    async def revoke(rt: Any) -> bool:
        async with rt.db.write() as conn:
            return await credentials.revoke_pat(conn, token)

    if not _with_runtime(_settings(database_url), revoke):
        fail("no such personal access token")
    console.print("personal access token revoked")


@workspaces_app.command("create")
def workspaces_create(
    name: str = typer.Argument(..., help="The workspace's name"),
    sandbox: bool = typer.Option(False, "--sandbox/--production",
                                 help="A sandbox workspace (virtual locks) or a production one "
                                      "(real locks; the default)"),
    database_url: str = typer.Option(None, help=DATABASE_HELP),
) -> None:
    """Create a workspace and print its id and an API key for it (shown only once)."""
    from lockhub.services import workspaces

    workspace_id, key = _with_runtime(_settings(database_url), lambda rt: (
        workspaces.create_with_api_key(rt, name=name, is_sandbox=sandbox, key_name="CLI key")))
    print(f"workspace_id {workspace_id}")
    print(f"api_key      {key}")


@workspaces_app.command("list")
def workspaces_list(database_url: str = typer.Option(None, help=DATABASE_HELP)) -> None:
    """List workspaces: id, name, kind, state, API keys, created."""
    from rich.table import Table

    from lockhub.services import workspaces

    table = Table("id", "name", "kind", "state", "API keys", "created")
    for w in _with_runtime(_settings(database_url), workspaces.list_all):
        table.add_row(w.workspace_id, escape(w.name), "sandbox" if w.is_sandbox else "production",
                      "suspended" if w.is_suspended else "active", str(w.api_keys),
                      _when(w.created_at))
    _print_table(table)


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

    _print_clock(_in_workspace(database_url, workspace,
                               lambda rt: sandbox.get_clock(rt, workspace)))


@clock_app.command("freeze")
def clock_freeze(workspace: str = WORKSPACE_OPTION,
                 database_url: str = typer.Option(None, help=DATABASE_HELP)) -> None:
    """Stop the workspace's clock."""
    from lockhub.services import sandbox

    _print_clock(_in_workspace(database_url, workspace,
                               lambda rt: sandbox.change_clock(rt, workspace, frozen=True)))


@clock_app.command("unfreeze")
def clock_unfreeze(workspace: str = WORKSPACE_OPTION,
                   database_url: str = typer.Option(None, help=DATABASE_HELP)) -> None:
    """Let the workspace's clock run again."""
    from lockhub.services import sandbox

    _print_clock(_in_workspace(database_url, workspace,
                               lambda rt: sandbox.change_clock(rt, workspace, frozen=False)))


@clock_app.command("advance")
def clock_advance(seconds: float = typer.Argument(..., help="How far to move the clock"),
                  workspace: str = WORKSPACE_OPTION,
                  database_url: str = typer.Option(None, help=DATABASE_HELP)) -> None:
    """Move the workspace's clock forward; due access-code work runs at once."""
    from lockhub.services import sandbox

    _print_clock(_in_workspace(database_url, workspace, lambda rt: sandbox.change_clock(
        rt, workspace, advance_seconds=seconds)))


@clock_app.command("set")
def clock_set(instant: str = typer.Argument(..., help="ISO 8601 instant with a zone"),
              workspace: str = WORKSPACE_OPTION,
              database_url: str = typer.Option(None, help=DATABASE_HELP)) -> None:
    """Set the workspace's clock to an instant."""
    from datetime import datetime

    from lockhub.services import sandbox

    try:
        when = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    except ValueError:
        fail(f"{instant!r} is not an ISO 8601 instant, e.g. 2026-01-01T00:00:00Z")
    if when.tzinfo is None:
        fail(f"{instant!r} has no time zone: give one, e.g. 2026-01-01T00:00:00Z")
    _print_clock(_in_workspace(database_url, workspace, lambda rt: sandbox.change_clock(
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

    _in_workspace(database_url, workspace, lambda rt: sandbox.inject_failures(
        rt, workspace, device, error_type=error_type, count=count,
        operations=operation or None, message=None))
    console.print(f"next {count} operation(s) on {device} fail with {error_type}")


@sandbox_app.command("clear-faults")
def sandbox_clear_faults(device: str = typer.Option(..., "--device", help="Device id"),
                         workspace: str = WORKSPACE_OPTION,
                         database_url: str = typer.Option(None, help=DATABASE_HELP)) -> None:
    """Remove every injected failure from a virtual lock."""
    from lockhub.services import sandbox

    _in_workspace(database_url, workspace,
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

    rows = _in_workspace(database_url, workspace, lambda rt: webhooks.list_deliveries(
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

    delivery = _in_workspace(database_url, workspace,
                             lambda rt: webhooks.replay(rt, workspace, delivery_id))
    console.print(f"{delivery.delivery_id} is {delivery.status} again")


# --- the lock API from the command line ------------------------------------------------------
# These commands call the Seam routes in-process, as the workspace (`dispatch(as_principal=)`):
# the same validation, rules and answers as the API. Work they queue (a lock, a PIN) is done by
# the engine of `lockhub serve` or `lockhub worker` on the same database.

WORKSPACE_ID = typer.Option(..., "--workspace", help="Workspace id")


async def _route(rt: Any, workspace: str, path: str, **params: Any) -> dict[str, Any]:
    """The route's answer, or its Seam error raised as a LockhubError (one line)."""
    import msgspec

    from lockhub.api import app as _app  # noqa: F401  (registers the routes)
    from lockhub.api.dispatch import dispatch
    from lockhub.api.routing import ROUTES
    from lockhub.errors import LockhubError
    from lockhub.services.credentials import Principal

    spec = next(r for r in ROUTES if r.path == path)
    body = msgspec.json.encode({k: v for k, v in params.items() if v is not None})
    answer = await dispatch(rt, spec, "POST", {"content-type": "application/json"}, "", body,
                            as_principal=Principal(workspace_id=workspace))
    decoded: dict[str, Any] = msgspec.json.decode(answer.body)
    if answer.status >= 400:
        error = decoded.get("error") or {}
        raise LockhubError(str(error.get("message")), error_type=str(error.get("type")))
    return decoded


def _api(database_url: str | None, workspace: str, path: str, **params: Any) -> dict[str, Any]:
    return _in_workspace(database_url, workspace,
                         lambda rt: _route(rt, workspace, path, **params))


async def _device_id(rt: Any, workspace: str, device: str) -> dict[str, Any]:
    """A device by id, else by its exact name; a name several devices share is refused (the
    error names their ids)."""
    import uuid

    from lockhub.errors import LockhubError

    try:
        uuid.UUID(device)
        return await _route(rt, workspace, "/devices/get", device_id=device)
    except ValueError:
        pass
    found = [d for d in (await _route(rt, workspace, "/devices/list", search=device))["devices"]
             if d["display_name"] == device]
    if len(found) > 1:
        raise LockhubError(f"{len(found)} devices are named {device!r}: give one of their ids "
                           f"({', '.join(d['device_id'] for d in found)})",
                           error_type="ambiguous_device_name")
    if not found:
        raise LockhubError(f"No device named {device!r}", error_type="device_not_found")
    return {"device": found[0]}


@devices_app.command("list")
def devices_list(workspace: str = WORKSPACE_ID,
                 search: str = typer.Option(None, help="Only devices whose name or id has this"),
                 database_url: str = typer.Option(None, help=DATABASE_HELP)) -> None:
    """List the devices: state (a lock's bolt, a thermostat's mode and room, a noise level),
    connection, battery and problems."""
    from rich.table import Table

    from lockhub.domain.devices import state_in_words

    devices = _api(database_url, workspace, "/devices/list", search=search)["devices"]
    table = Table("device_id", "name", "type", "state", "online", "battery", "problems")
    for d in devices:
        props = d.get("properties") or {}
        level = props.get("battery_level")
        problems = [p["message"] for p in (*d.get("errors", []), *d.get("warnings", []))]
        table.add_row(d["device_id"], d["display_name"], d["device_type"],
                      escape(state_in_words(d)), "online" if props.get("online") else "offline",
                      f"{round(level * 100)}%" if isinstance(level, int | float) else "",
                      "; ".join(problems))
    _print_table(table)


def _act(database_url: str | None, workspace: str, device: str, path: str, wait: bool) -> None:
    """Request the action; with `wait`, follow its attempt until it settles."""
    async def work(rt: Any) -> dict[str, Any]:
        found = (await _device_id(rt, workspace, device))["device"]
        attempt = (await _route(rt, workspace, path,
                                device_id=found["device_id"]))["action_attempt"]
        deadline = time.monotonic() + rt.settings.action_attempt_timeout_seconds + 5
        while wait and attempt["status"] == "pending" and time.monotonic() < deadline:
            await asyncio.sleep(0.2)  # the engine of a server or worker runs it
            attempt = (await _route(rt, workspace, "/action_attempts/get",
                                    action_attempt_id=attempt["action_attempt_id"]))[
                "action_attempt"]
        return {"device": found, "attempt": attempt}

    done = _in_workspace(database_url, workspace, work)
    attempt, name = done["attempt"], done["device"]["display_name"]
    if attempt["status"] == "success":
        console.print(f"{name}: {attempt['action_type'].lower().replace('_', ' ')} done "
                      f"({attempt['action_attempt_id']})")
    elif attempt["status"] == "pending":
        message = (f"{name}: action attempt {attempt['action_attempt_id']} is pending")
        if wait:
            fail(message + "; is `lockhub serve` or `lockhub worker` running on this database?")
        console.print(message)
    else:
        error = attempt.get("error") or {}
        fail(f"{name}: {error.get('message', 'failed')} ({error.get('type', 'error')})")


NO_WAIT = typer.Option(False, "--no-wait", help="Return once requested; do not follow it")


@locks_app.command("lock")
def locks_lock(device: str = typer.Argument(..., help="Device id or name"),
               workspace: str = WORKSPACE_ID, no_wait: bool = NO_WAIT,
               database_url: str = typer.Option(None, help=DATABASE_HELP)) -> None:
    """Lock a door and wait for the lock to confirm."""
    _act(database_url, workspace, device, "/locks/lock_door", not no_wait)


@locks_app.command("unlock")
def locks_unlock(device: str = typer.Argument(..., help="Device id or name"),
                 workspace: str = WORKSPACE_ID, no_wait: bool = NO_WAIT,
                 database_url: str = typer.Option(None, help=DATABASE_HELP)) -> None:
    """Unlock a door and wait for the lock to confirm."""
    _act(database_url, workspace, device, "/locks/unlock_door", not no_wait)


@codes_app.command("list")
def codes_list(device: str = typer.Option(..., "--device", help="Device id or name"),
               workspace: str = WORKSPACE_ID,
               database_url: str = typer.Option(None, help=DATABASE_HELP)) -> None:
    """List a lock's access codes with their status."""
    from rich.table import Table

    async def work(rt: Any) -> list[dict[str, Any]]:
        found = (await _device_id(rt, workspace, device))["device"]
        return list((await _route(rt, workspace, "/access_codes/list",
                                  device_id=found["device_id"]))["access_codes"])

    table = Table("access_code_id", "name", "code", "status", "starts_at", "ends_at", "problems")
    for c in _in_workspace(database_url, workspace, work):
        problems = [p["message"] for p in (*c.get("errors", []), *c.get("warnings", []))]
        table.add_row(c["access_code_id"], c.get("name") or "", c.get("code") or "",
                      c["status"], c.get("starts_at") or "", c.get("ends_at") or "",
                      "; ".join(problems))
    _print_table(table)


@codes_app.command("create")
def codes_create(
    device: str = typer.Option(..., "--device", help="Device id or name"),
    workspace: str = WORKSPACE_ID,
    code: str = typer.Option(None, help="The PIN (default: one the device's rules allow)"),
    name: str = typer.Option(None, help="The code's name"),
    starts_at: str = typer.Option(None, "--starts-at", help="ISO 8601: a time-bound code"),
    ends_at: str = typer.Option(None, "--ends-at", help="ISO 8601: a time-bound code"),
    database_url: str = typer.Option(None, help=DATABASE_HELP),
) -> None:
    """Create an access code (ongoing, or time-bound with --starts-at and --ends-at)."""
    async def work(rt: Any) -> dict[str, Any]:
        found = (await _device_id(rt, workspace, device))["device"]
        return dict((await _route(rt, workspace, "/access_codes/create",
                                  device_id=found["device_id"], code=code, name=name,
                                  starts_at=starts_at, ends_at=ends_at))["access_code"])

    created = _in_workspace(database_url, workspace, work)
    pin = created.get("code") or "(chosen by the lock)"
    console.print(f"{created['access_code_id']}  code {pin}  {created['status']}")


@codes_app.command("delete")
def codes_delete(access_code_id: str = typer.Argument(..., help="Access code id"),
                 workspace: str = WORKSPACE_ID,
                 database_url: str = typer.Option(None, help=DATABASE_HELP)) -> None:
    """Delete an access code (it is removed from the lock)."""
    _api(database_url, workspace, "/access_codes/delete", access_code_id=access_code_id)
    console.print(f"{access_code_id} deleted")


@events_app.command("list")
def events_list(
    workspace: str = WORKSPACE_ID,
    device: str = typer.Option(None, "--device", help="Only this device's (id)"),
    event_type: str = typer.Option(None, "--type", help="Only this type (lock.unlocked, ...)"),
    since: str = typer.Option(None, help="ISO 8601 (default: the last 7 days)"),
    limit: int = typer.Option(50, help="How many, newest first"),
    database_url: str = typer.Option(None, help=DATABASE_HELP),
) -> None:
    """List events, newest first."""
    from datetime import UTC, datetime, timedelta

    from rich.table import Table

    from lockhub.clock import iso

    since = since or iso(datetime.now(UTC) - timedelta(days=7))
    events = _api(database_url, workspace, "/events/list", since=since, device_id=device,
                  event_type=event_type, limit=limit)["events"]
    table = Table("occurred_at", "event_type", "device_id", "event_id")
    for e in events:
        table.add_row(e["occurred_at"], e["event_type"], e.get("device_id") or "", e["event_id"])
    _print_table(table)


def _connect(database_url: str | None, workspace: str, account_type: str,
             form: dict[str, str]) -> None:
    """Sign in, then print the account and its locks."""
    from lockhub.services import connected_accounts

    account_id, devices = _in_workspace(database_url, workspace, lambda rt: (
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


def _banner(settings: Settings, seed_ids: dict[str, str] | None,
            first_run: tuple[str, str] | None = None) -> None:
    lines = [f"endpoint  {settings.base_url}",
             f"console   {settings.base_url}/console  (sign in with an API key or a personal access token)"]
    if first_run:
        workspace_id, key = first_run
        lines += [f"API key   {key}",
                  f"          production workspace {workspace_id}",
                  "          shown only this once: store it now",
                  "          (more: lockhub keys create --workspace ID)"]
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


def _configure_logs() -> None:
    """Logging for a long-running process (LOCKHUB_LOG_FORMAT, LOCKHUB_LOG_LEVEL; logs.py)."""
    try:
        logs.configure()
    except logs.LogSettingError as exc:
        fail(str(exc))


def _check_port(host: str, port: int) -> None:
    """Fail before the banner if the address cannot be listened on (uvicorn binds it again
    moments later, with the same SO_REUSEADDR)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror}")
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                fail(f"port {port} on {host} is already in use (another lockhub, or another "
                     f"program): stop it or pass --port")
            fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


async def _first_run(settings: Settings) -> tuple[str, str] | None:
    from lockhub.services import workspaces
    from lockhub.services.runtime import build_runtime

    rt = build_runtime(settings)
    try:
        return await workspaces.first_run(rt)
    finally:
        await rt.db.dispose()


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to bind (loopback by default)"),
    port: int = typer.Option(3020, min=1, max=65535, help="Port to listen on"),
    database_url: str = typer.Option(None, help=DATABASE_HELP),
    seed: bool = typer.Option(False, "--seed", help="Create the seeded workspaces and devices"),
    test_hooks: bool = typer.Option(
        False, "--test-hooks", help="Serve Seam's fake's /_fake/* test hooks, unauthenticated "
        "(for test suites only; also LOCKHUB_TEST_HOOKS=1)"),
    engine: bool = typer.Option(True, help="Run the background engine in this process"),
    workers: int = typer.Option(
        1, "--workers", min=1, max=64,
        help="API processes answering on the port (each with its own engine unless "
        "--no-engine); PostgreSQL is the database for more than one"),
    create_database: bool = typer.Option(False, help=CREATE_DATABASE_HELP),
) -> None:
    """Migrate, seed or set up a first workspace, and serve the API (and the engine).

    --no-engine leaves background work to `lockhub worker`. On a database without any
    workspace, and without --seed, one production workspace is created and its API key printed,
    once; a database that has any workspace gets nothing new.
    """
    _configure_logs()
    hooks = {"test_hooks": True} if test_hooks else {}  # else LOCKHUB_TEST_HOOKS decides
    settings = _settings(database_url, host=host, port=port, run_engine=engine, **hooks)
    if workers > 1 and engine and settings.worker_id:
        fail("LOCKHUB_WORKER_ID names one engine, and --workers N would start N: unset it, or "
             "serve with --no-engine and run `lockhub worker` processes")
    _check_port(host, port)
    _migrate(settings, create_database)
    seed_ids = asyncio.run(_seed(settings)) if seed else None
    first = None if seed else asyncio.run(_first_run(settings))
    _banner(settings, seed_ids, first)
    options: dict[str, Any] = {"host": host, "port": port, "log_level": "warning",
                               "access_log": False, "lifespan": "on"}
    if workers == 1:
        from lockhub.api.app import asgi_app
        from lockhub.services.runtime import build_runtime

        def factory():  # type: ignore[no-untyped-def]
            return asgi_app(build_runtime(settings))

        uvicorn.run(factory, factory=True, **options)
        return

    from lockhub.api import processes

    processes.hand_over(settings)
    with processes.shared_metrics():
        uvicorn.run("lockhub.api.processes:app", factory=True, workers=workers, **options)


@app.command()
def worker(database_url: str = typer.Option(None, help=DATABASE_HELP),
           concurrency: int = typer.Option(
               32, "--concurrency", min=1, max=1024,
               help="Jobs this worker runs at once (action attempts, PIN programming, webhook "
               "deliveries); more workers on more hosts share the queue")) -> None:
    """Run only the background engine (for deployments that split API and workers)."""
    _configure_logs()
    settings = _settings(database_url)
    _migrate(settings, create=False)

    async def main() -> None:
        from lockhub import metrics
        from lockhub.engine.worker import Worker
        from lockhub.gc_tuning import freeze_startup_objects
        from lockhub.services.runtime import build_runtime

        try:
            metrics_port = metrics.start_exporter()
        except (OSError, ValueError) as exc:
            fail(f"cannot serve worker metrics on LOCKHUB_WORKER_METRICS_PORT: {exc}")
        rt = build_runtime(settings)
        engine_worker = Worker(rt, concurrency=concurrency)
        freeze_startup_objects()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, engine_worker.stop)
        console.print(f"[green]worker[/] {engine_worker.worker_id} on "
                      f"{escape(masked_url(settings.database_url))}, {concurrency} jobs at once"
                      + (f", metrics on port {metrics_port}" if metrics_port else ""),
                      soft_wrap=True)
        try:
            await engine_worker.run()
        finally:
            await rt.close()

    asyncio.run(main())


def main() -> None:
    """The `lockhub` command: a mistake or failure is one line on stderr, never a traceback."""
    command = typer.main.get_command(app)
    try:
        code = command.main(prog_name="lockhub", standalone_mode=False)
    except click_exceptions.UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # `lockhub keys`: the group's help
            exc.show()
            code = 2
        else:
            where = exc.ctx.command_path if exc.ctx else "lockhub"
            typer.echo(f"{where}: {exc.format_message()} (see {where} --help)", err=True)
            code = exc.exit_code
    except (click_exceptions.ClickException, typer.TyperException) as exc:
        typer.echo(f"lockhub: {exc.format_message()}", err=True)
        code = exc.exit_code
    except (*_ABORTS, KeyboardInterrupt):
        code = 130
    except SettingError as exc:
        typer.echo(f"lockhub: {exc}", err=True)
        code = 1
    except Exception as exc:  # a failure nothing above foresaw: still one line
        typer.echo(f"lockhub: {type(exc).__name__}: {_reason(exc)}", err=True)
        code = 1
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
