"""The contract every provider implements, cloud API or local radio alike.

Every call is async and may take seconds or fail; the engine, not the provider, owns retries
and timeouts. A provider reports what the device says (a DeviceSnapshot); the domain layer
derives flags, errors and warnings from it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Literal, Protocol

import msgspec


class ProviderError(Exception):
    """A typed failure reported by the device or its cloud (becomes action_attempt.error).

    `retryable`: the same call may work if made again (nothing was done; a transient fault).
    `tries`: for a retryable failure, how many tries in all the provider would make of it;
    None leaves it to the engine (again with backoff until the action attempt times out)."""

    def __init__(self, error_type: str, message: str, *, retryable: bool = False,
                 tries: int | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.retryable = retryable
        self.tries = tries


def slot_number(ref: str | None) -> int:
    """The slot a slot-based provider's code reference names ("3" is slot 3)."""
    if ref is None or not (ref.isascii() and ref.isdigit()):
        raise ProviderError("invalid_code_reference",
                            f"{ref!r} is not a PIN slot number on this lock.")
    return int(ref)


class CodesNotListable(ProviderError):
    """The brand has no way to list the PINs on a lock (`list_codes`): lockhub trusts the PINs
    it set as set, and cannot see PINs added, changed or removed elsewhere."""

    def __init__(self, message: str = "This brand cannot list the PINs on a lock.") -> None:
        super().__init__("codes_not_listable", message)


class CredentialsRefused(ProviderError):
    """The brand refuses the account's credentials or tokens (revoked, expired refresh token,
    changed password): retrying cannot help; the account waits for a new sign-in."""

    def __init__(self, message: str = "The provider refused the account's credentials; "
                 "sign in again.") -> None:
        super().__init__("account_disconnected", message)


class SecondFactorRequired(ProviderError):
    """The first step of a sign-in was accepted and the provider sent the user a code; sign in
    again with the same form plus the code."""

    def __init__(self, message: str = "Enter the verification code the provider sent you.") -> None:
        super().__init__("second_factor_required", message)


class AccountRef(msgspec.Struct, frozen=True):
    workspace_id: str
    connected_account_id: str
    account_type: str
    credentials: dict[str, Any]


class DeviceRef(msgspec.Struct, frozen=True):
    workspace_id: str
    device_id: str
    provider_device_id: str
    brand: str
    model: str
    credentials: dict[str, Any]
    connected_account_id: str = ""


class ThermostatState(msgspec.Struct, omit_defaults=True):
    """What a thermostat reports: its settings (set points in `unit`, the device's own) and
    readings. `hvac_mode` is Seam's name for the mode, None for a mode Seam has no name for."""

    unit: Literal["celsius", "fahrenheit"]
    hvac_mode: str | None = None
    heating_set_point: float | None = None
    cooling_set_point: float | None = None
    fan_mode: str | None = None
    temperature: float | None = None  # in `unit`
    relative_humidity: float | None = None  # 0-1
    is_heating: bool = False
    is_cooling: bool = False
    is_fan_running: bool = False


class NoiseState(msgspec.Struct, omit_defaults=True):
    """What a noise sensor reports: the level now (and NoiseAware's risk score)."""

    noise_level_decibels: float
    noise_level_nrs: float | None = None


class ClimateCommand(msgspec.Struct, frozen=True, omit_defaults=True):
    """A change of a thermostat's settings; what is None stays as it is. Set points are in the
    device's own unit, already on its step."""

    hvac_mode: str | None = None
    heating_set_point: float | None = None
    cooling_set_point: float | None = None
    fan_mode: str | None = None


class DeviceSnapshot(msgspec.Struct, omit_defaults=True):
    """What a provider knows about one device right now."""

    provider_device_id: str
    brand: str
    model: str
    name: str
    online: bool
    locked: bool | None = None
    door_open: bool | None = None
    battery_level: float | None = None
    hub_connected: bool | None = None
    remote_unlock_enabled: bool | None = None
    serial_number: str | None = None
    metadata: dict[str, Any] | None = None
    removed: bool = False  # no longer in the provider account
    subscription_expired: bool = False  # a paid third-party plan the device needs has lapsed
    jammed: bool = False  # the bolt is stuck (a device error until it moves again)
    # The lock's own auto-lock (relocks this long after any unlock); None: not reported.
    auto_lock_enabled: bool | None = None
    auto_lock_delay_seconds: float | None = None
    # Radio providers reach locks of many makers through one account: the maker as the lock
    # itself reports it (manufacturer key, display name, Seam device_type) ...
    manufacturer: str | None = None
    manufacturer_display_name: str | None = None
    device_type: str | None = None
    # ... and what this particular lock can do (slots from the node, code lengths from the
    # model table, capabilities from what it supports), overriding the catalogue's generic model.
    model_facts: dict[str, Any] | None = None
    thermostat: ThermostatState | None = None
    noise: NoiseState | None = None
    # The climate presets the thermostat itself holds (an ecobee's Home, Away, Sleep), in
    # Seam's shape with set points in the device's unit; read once, when the device is added.
    climate_presets: list[dict[str, Any]] | None = None

    def state(self) -> dict[str, Any]:
        """The JSON lockhub stores as the device's last known state."""
        data = msgspec.to_builtins(self)
        for key in ("provider_device_id", "brand", "model", "climate_presets"):
            data.pop(key, None)
        return data


class AccountLogin(msgspec.Struct, frozen=True):
    """The result of a successful sign-in: what to store and how to name the account."""

    account_login: str  # stable identity of the provider account (reconnects match on it)
    user_identifier: dict[str, Any]
    credentials: dict[str, Any]


class CodeOnDevice(msgspec.Struct, frozen=True, omit_defaults=True):
    """A PIN as the lock stores it (`ref` is None before it is set).

    `ref` is the provider's own reference to the stored PIN: the slot number for slot-based
    locks, the brand's id for cloud locks (what its activity reports name the PIN by); opaque to
    lockhub, which only stores and compares it. When lockhub asks a provider to rewrite or
    remove a PIN it wrote, it hands back that PIN as written (ref, digits, name, window), so a
    brand that deletes a PIN by its digits needs no record of its own.
    `starts_at` / `ends_at` are present only when the lock enforces the window itself
    (native scheduling).
    """

    code: str | None  # None: the lock holds a PIN here but never reveals its digits
    name: str | None = None
    ref: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None


class OfflineCodeRequest(msgspec.Struct, frozen=True):
    """A generated (offline) code to register with the lock maker's server.

    The window is already what the maker accepts (whole hours, see domain/offline_codes.py);
    `ends_at` is None for a permanent code. `rounding` "day" asks for a day-bound code (the same
    time of day at both ends) where the maker distinguishes one."""

    starts_at: datetime
    ends_at: datetime | None
    name: str | None = None
    one_time_use: bool = False
    rounding: Literal["hour", "day"] = "hour"
    # How many offline codes lockhub already had issued on this lock for the same window and
    # kind (makers that derive PINs from the window tell them apart by a counter: igloohome's
    # `variance`).
    issued_for_window: int = 0


# --- what a live connection reports, as the device says it --------------------------------

LockMethod = Literal["keycode", "manual", "automatic", "remote", "unknown"]


class DeviceListReport(msgspec.Struct, frozen=True, tag="device_list"):
    """Every device the account has now: new ones are added, missing ones removed."""

    devices: list[DeviceSnapshot]


class DeviceStateReport(msgspec.Struct, frozen=True, tag="device_state"):
    """A device's whole state changed (online, battery, jam, lock state without a known cause)."""

    snapshot: DeviceSnapshot


class LockOperationReport(msgspec.Struct, frozen=True, tag="lock_operation"):
    """The lock locked or unlocked, and how; `code_ref` is the reference (see CodeOnDevice) of
    the PIN that was used for a keycode, so the event can name the access code."""

    provider_device_id: str
    locked: bool
    method: LockMethod
    code_ref: str | None = None
    occurred_at: datetime | None = None


class AccessDeniedReport(msgspec.Struct, frozen=True, tag="access_denied"):
    """Someone tried a PIN (or a slot that is disabled) and the lock refused it; `code_ref` is
    the refused PIN's reference when the lock knows it (a disabled slot)."""

    provider_device_id: str
    code_ref: str | None = None
    occurred_at: datetime | None = None


class ClimateAdjustedReport(msgspec.Struct, frozen=True, tag="climate_adjusted"):
    """Someone changed the thermostat's settings at the thermostat (not lockhub): sent after
    the state report that carries the new settings."""

    provider_device_id: str


class CodesChangedReport(msgspec.Struct, frozen=True, tag="codes_changed"):
    """PINs were added, changed or removed at the lock: read its slots back."""

    provider_device_id: str


class CredentialsReport(msgspec.Struct, frozen=True, tag="credentials"):
    """The provider refreshed its tokens (some brands rotate the refresh token on every use):
    lockhub stores them, sealed, in place of the account's credentials."""

    credentials: dict[str, Any]


class ConnectionReport(msgspec.Struct, frozen=True, tag="connection"):
    """The live connection to the controller, bridge or broker went up or down."""

    connected: bool
    message: str = ""


Report = (DeviceListReport | DeviceStateReport | LockOperationReport | AccessDeniedReport
          | CodesChangedReport | ConnectionReport | CredentialsReport | ClimateAdjustedReport)
ReportSink = Callable[[Report], Awaitable[None]]


class Provider(Protocol):
    name: str
    sandbox: bool  # serves sandbox workspaces (virtual devices) rather than production ones

    def account_types(self) -> list[str]:
        """The brands (connected account types) this provider can sign in to."""
        ...

    async def login(self, workspace_id: str, account_type: str,
                    form: dict[str, Any]) -> AccountLogin: ...

    async def import_devices(self, account: AccountRef) -> list[DeviceSnapshot]: ...

    async def read_state(self, device: DeviceRef) -> DeviceSnapshot: ...

    async def lock(self, device: DeviceRef) -> DeviceSnapshot: ...

    async def unlock(self, device: DeviceRef) -> DeviceSnapshot: ...

    async def list_codes(self, device: DeviceRef) -> list[CodeOnDevice]:
        """The PINs on the lock now; raises CodesNotListable when the brand cannot list them."""
        ...

    async def set_code(self, device: DeviceRef, code: CodeOnDevice,
                       replacing: CodeOnDevice | None = None) -> CodeOnDevice:
        """Write `code` where `code.ref` points (a new place when None); returns it with its ref.
        `replacing` is the PIN at `code.ref` as lockhub wrote it or the lock listed it."""
        ...

    async def remove_code(self, device: DeviceRef, code: CodeOnDevice) -> None:
        """Take off the lock the PIN at `code.ref` (as lockhub wrote it or the lock listed it)."""
        ...


class OfflineCodeProvider(Provider, Protocol):
    """A provider whose lock maker's server issues generated ("offline") PINs: TTLock
    keyboardPwd/get, igloohome algoPINs. A provider without `create_offline_code` cannot make
    offline codes.

    An offline code is registered with the maker's server, which derives the PIN from the
    lock's secret and the window; nothing is written to the lock, which recognises the PIN by
    itself (no gateway or bridge needed). So the PIN is known only once registered, and the code
    cannot be revoked remotely: it works until its end.
    """

    async def create_offline_code(self, device: DeviceRef,
                                  request: OfflineCodeRequest) -> CodeOnDevice:
        """Register the code; returns the PIN and the maker's reference to it (`ref`), which the
        lock's records name when the PIN is used. Raise ProviderError (retryable when the
        maker's server may accept it later)."""
        ...


def makes_offline_codes(provider: Any) -> bool:
    return callable(getattr(provider, "create_offline_code", None))


class CodeBatchProvider(Provider, Protocol):
    """A provider that writes several PINs of one lock in one exchange (the sandbox's virtual
    locks: one transaction). The engine hands it all the PINs of a lock due together; a
    provider without `set_codes` gets them one `set_code` at a time."""

    async def set_codes(self, device: DeviceRef,
                        writes: list[tuple[CodeOnDevice, CodeOnDevice | None]],
                        ) -> list[CodeOnDevice | ProviderError]:
        """`set_code(device, code, replacing)` for each pair, in order: each PIN's outcome on
        its own, the PIN as written or the ProviderError `set_code` would have raised."""
        ...


def sets_codes_together(provider: Any) -> bool:
    return callable(getattr(provider, "set_codes", None))


class AutoLockProvider(Provider, Protocol):
    """A provider that can set the lock's own auto-lock (/locks/configure_auto_lock)."""

    async def configure_auto_lock(self, device: DeviceRef, enabled: bool,
                                  delay_seconds: float) -> DeviceSnapshot:
        """Make the lock relock `delay_seconds` after any unlock, or stop it; returns the
        state, with `auto_lock_enabled` and `auto_lock_delay_seconds` as the lock now has them.
        Raise ProviderError as for lock and unlock."""
        ...


def configures_auto_lock(provider: Any) -> bool:
    return callable(getattr(provider, "configure_auto_lock", None))


class ThermostatProvider(Provider, Protocol):
    """A provider that controls thermostats (/thermostats/* actions)."""

    async def set_climate(self, device: DeviceRef, command: ClimateCommand) -> DeviceSnapshot:
        """Change the thermostat's mode, set points and fan as `command` says; returns the
        state the thermostat then reports. Raise ProviderError as for lock and unlock."""
        ...


def controls_climate(provider: Any) -> bool:
    return callable(getattr(provider, "set_climate", None))


class NoiseThresholdProvider(Provider, Protocol):
    """A provider whose noise sensors hold their thresholds themselves (programmed by the
    /noise_sensors/noise_thresholds/* attempts). Without it, thresholds are lockhub's alone."""

    async def program_noise_thresholds(self, device: DeviceRef,
                                       thresholds: list[dict[str, Any]]) -> None:
        """Make the sensor's thresholds exactly `thresholds` (Seam's noise_threshold objects).
        Raise ProviderError as for lock and unlock."""
        ...


def programs_noise_thresholds(provider: Any) -> bool:
    return callable(getattr(provider, "program_noise_thresholds", None))


class LiveProvider(Provider, Protocol):
    """A provider that holds one live connection per connected account (a Z-Wave JS server, an
    MQTT broker) and learns of changes when the device reports them.

    The engine runs `maintain` in exactly one process per account (a leased row) and restarts it
    with backoff when it raises. Commands (lock, set_code, ...) run wherever the engine claims
    the job: over that connection when this process holds it (`holds(account_id)`), otherwise
    over a short connection of their own; a provider's memory of its own recent commands is
    therefore per process.

    A provider that registers something at the brand for an account (a webhook) also has
    `async forget(account: AccountRef)`, called when the account is deleted, to remove it.
    """

    async def maintain(self, account: AccountRef, sink: ReportSink) -> None:
        """Connect, report the device list and states, then every change, until cancelled.
        Raise ProviderError when the connection cannot be made or is lost."""
        ...

    def holds(self, connected_account_id: str) -> bool:
        """Whether this process has the account's connection open right now."""
        ...


def is_live(provider: Any) -> bool:
    return callable(getattr(provider, "maintain", None))
