"""Runtime settings, read once from CLI options, LOCKHUB_* environment variables and a
configuration file, in that order of precedence.

The configuration file is TOML whose keys are the environment variables' names without the
`LOCKHUB_` prefix, in lower case (`database_url = "postgresql://…"`). It is `LOCKHUB_CONFIG`
if set (which must exist), else `./lockhub.toml`, else `/etc/lockhub/lockhub.toml`. Its values
become defaults under the environment (`apply_config_file`), so every process (the server, a
worker, an administrator's command) finds the same database the same way.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

CONFIG_FILES = (Path("lockhub.toml"), Path("/etc/lockhub/lockhub.toml"))
DEFAULT_DATABASE_URL = "sqlite:///.lockhub/lockhub.db"

# Every LOCKHUB_* setting a configuration file may give (tests/test_cli_admin.py checks that
# each one the code reads is listed).
FILE_SETTINGS = frozenset({
    "LOCKHUB_ACTION_ATTEMPT_TIMEOUT_SECONDS", "LOCKHUB_BODY_TIMEOUT_SECONDS",
    "LOCKHUB_DATABASE_BUSY_TIMEOUT_SECONDS", "LOCKHUB_DATABASE_URL",
    "LOCKHUB_DEVICE_SYNC_SECONDS", "LOCKHUB_ENGINE_POLL_SECONDS", "LOCKHUB_IGLOOHOME_API_URL",
    "LOCKHUB_IGLOOHOME_AUTH_URL", "LOCKHUB_IGLOOHOME_POLL_SECONDS", "LOCKHUB_LEASE_SECONDS",
    "LOCKHUB_LOG_FORMAT", "LOCKHUB_LOG_LEVEL", "LOCKHUB_METRICS_TOKEN", "LOCKHUB_MQTT_PASSWORD",
    "LOCKHUB_NUKI_API_URL", "LOCKHUB_NUKI_POLL_SECONDS", "LOCKHUB_NUKI_WEBHOOK_POLL_SECONDS",
    "LOCKHUB_PUBLIC_URL", "LOCKHUB_RADIO_COMMAND_TIMEOUT_SECONDS", "LOCKHUB_RATE_LIMITS",
    "LOCKHUB_READ_MODEL_ENTRIES", "LOCKHUB_SANDBOX_LATENCY_SCALE", "LOCKHUB_SECRET_KEY",
    "LOCKHUB_SECRET_KEY_FILE", "LOCKHUB_SMARTTHINGS_API_URL", "LOCKHUB_SMARTTHINGS_AUTH_URL",
    "LOCKHUB_SMARTTHINGS_CLIENT_ID", "LOCKHUB_SMARTTHINGS_CLIENT_SECRET",
    "LOCKHUB_SMARTTHINGS_POLL_SECONDS", "LOCKHUB_SQLITE_READERS", "LOCKHUB_SQLITE_SYNCHRONOUS",
    "LOCKHUB_TEST_HOOKS", "LOCKHUB_TEST_PRODUCTION_CLOCK", "LOCKHUB_TTLOCK_API_URL",
    "LOCKHUB_TTLOCK_POLL_SECONDS", "LOCKHUB_WEBHOOK_ALLOW", "LOCKHUB_WEBHOOK_DENY",
    "LOCKHUB_WEBHOOK_TIMEOUT_SECONDS", "LOCKHUB_WORKER_ID", "LOCKHUB_WORKER_METRICS_HOST",
    "LOCKHUB_WORKER_METRICS_PORT", "LOCKHUB_ZWAVE_DEAD_PING_SECONDS",
})


class SettingError(ValueError):
    """A setting (flag, environment variable or configuration file) that cannot be used."""


def config_file() -> Path | None:
    named = os.environ.get("LOCKHUB_CONFIG")
    if named:
        if not Path(named).is_file():
            raise SettingError(f"LOCKHUB_CONFIG={named}: no such file")
        return Path(named)
    return next((path for path in CONFIG_FILES if path.is_file()), None)


def apply_config_file() -> Path | None:
    """Put the configuration file's settings into the environment where the environment has
    none (the environment wins). Returns the file read, if any."""
    path = config_file()
    if path is None:
        return None
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingError(f"cannot read {path}: {exc}") from None
    values: dict[str, str] = {}
    for key, value in data.items():
        name = "LOCKHUB_" + key.upper()
        if name not in FILE_SETTINGS:
            raise SettingError(f"{path}: unknown setting {key!r}")
        if isinstance(value, bool):
            values[name] = "1" if value else "0"
        elif isinstance(value, str | int | float):
            values[name] = str(value)
        else:
            raise SettingError(f"{path}: {key} must be a string, number or boolean")
    for name, value in values.items():
        os.environ.setdefault(name, value)
    return path


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise SettingError(f"{name}={value!r} is not a number") from None


@dataclass(frozen=True)
class Settings:
    database_url: str = field(
        default_factory=lambda: os.environ.get("LOCKHUB_DATABASE_URL") or DEFAULT_DATABASE_URL
    )
    # How long a request waits for a busy or unreachable database before a 503.
    database_busy_timeout_seconds: float = field(
        default_factory=lambda: _env_float("LOCKHUB_DATABASE_BUSY_TIMEOUT_SECONDS", 5.0)
    )
    host: str = "127.0.0.1"
    port: int = 3020
    # Public base URL used in pagination links and (later) Connect Webview URLs; derived from
    # host and port when unset.
    public_url: str | None = field(default_factory=lambda: os.environ.get("LOCKHUB_PUBLIC_URL"))
    # Run the background engine inside the API process. `lockhub worker` runs it on its own.
    run_engine: bool = True
    # How long a claimed engine row stays leased before another worker may take it over.
    lease_seconds: float = field(default_factory=lambda: _env_float("LOCKHUB_LEASE_SECONDS", 15.0))
    # A stable identity for this process's engine (unique among running engines), so that after
    # a crash the restarted process takes back its own leases at once. Unset: a fresh id.
    worker_id: str | None = field(default_factory=lambda: os.environ.get("LOCKHUB_WORKER_ID"))
    # Idle poll interval of the engine (it is also woken at once by in-process enqueues).
    engine_poll_seconds: float = field(
        default_factory=lambda: _env_float("LOCKHUB_ENGINE_POLL_SECONDS", 0.25)
    )
    # Serve the fake server's unauthenticated test hooks (/_fake/*): only when asked for, with
    # `serve --test-hooks` or LOCKHUB_TEST_HOOKS=1 (never implied by --seed).
    test_hooks: bool = field(
        default_factory=lambda: os.environ.get("LOCKHUB_TEST_HOOKS", "") in ("1", "true")
    )
    # Multiplies every sandbox device latency (0 makes virtual locks answer at once).
    sandbox_latency_scale: float = field(
        default_factory=lambda: _env_float("LOCKHUB_SANDBOX_LATENCY_SCALE", 1.0)
    )
    # An action attempt still pending after this long is resolved as an error.
    action_attempt_timeout_seconds: float = field(
        default_factory=lambda: _env_float("LOCKHUB_ACTION_ATTEMPT_TIMEOUT_SECONDS", 60.0)
    )
    # How often each lock's PINs are read back (to find codes added or changed at the lock).
    device_sync_seconds: float = field(
        default_factory=lambda: _env_float("LOCKHUB_DEVICE_SYNC_SECONDS", 300.0)
    )
    # Key that encrypts stored secrets (webhook secrets): LOCKHUB_SECRET_KEY (a Fernet key), or a
    # key file created on first use. Processes sharing a database must share the key.
    secret_key: str | None = field(default_factory=lambda: os.environ.get("LOCKHUB_SECRET_KEY"))
    secret_key_file: str = field(
        default_factory=lambda: os.environ.get("LOCKHUB_SECRET_KEY_FILE", ".lockhub/secret.key")
    )
    # Webhook targets: comma-separated hosts or CIDRs always allowed / always refused. Private
    # and loopback addresses are refused by default except for sandbox workspaces.
    webhook_allow: str = field(default_factory=lambda: os.environ.get("LOCKHUB_WEBHOOK_ALLOW", ""))
    webhook_deny: str = field(default_factory=lambda: os.environ.get("LOCKHUB_WEBHOOK_DENY", ""))
    webhook_timeout_seconds: float = field(
        default_factory=lambda: _env_float("LOCKHUB_WEBHOOK_TIMEOUT_SECONDS", 15.0)
    )
    # How long a request body may take to arrive in full before the request is answered 408.
    body_timeout_seconds: float = field(
        default_factory=lambda: _env_float("LOCKHUB_BODY_TIMEOUT_SECONDS", 10.0)
    )
    # Test suites of real providers only: production workspaces get a controllable clock too
    # (the /_lockhub/sandbox/clock routes), to test time-bound codes on real locks without
    # waiting for them. Never set this on a server that controls real doors.
    production_clock: bool = field(
        default_factory=lambda: os.environ.get("LOCKHUB_TEST_PRODUCTION_CLOCK") == "1")
    # How long a real lock (Z-Wave JS, Zigbee2MQTT) may take to report that a command took
    # effect before the command fails with device_communication_timeout.
    radio_command_timeout_seconds: float = field(
        default_factory=lambda: _env_float("LOCKHUB_RADIO_COMMAND_TIMEOUT_SECONDS", 20.0)
    )
    # SmartThings: the OAuth-In app the user registered (`smartthings apps:create`), whose
    # redirect URI is LOCKHUB_PUBLIC_URL + /connect_webviews/oauth/callback; and how often each
    # account's locks are polled (each poll reads every lock's status once: mind SmartThings'
    # 12 requests a minute per device, shared with commands and their confirmations).
    smartthings_client_id: str = field(
        default_factory=lambda: os.environ.get("LOCKHUB_SMARTTHINGS_CLIENT_ID", ""))
    smartthings_client_secret: str = field(
        default_factory=lambda: os.environ.get("LOCKHUB_SMARTTHINGS_CLIENT_SECRET", ""))
    smartthings_poll_seconds: float = field(
        default_factory=lambda: _env_float("LOCKHUB_SMARTTHINGS_POLL_SECONDS", 30.0))
    # How long `sync: true` waits for an action attempt to resolve before answering pending.
    sync_wait_seconds: float = 20.0

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")
