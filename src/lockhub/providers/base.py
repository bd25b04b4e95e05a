"""The contract every provider implements, cloud API or local radio alike.

Every call is async and may take seconds or fail; the engine, not the provider, owns retries
and timeouts. A provider reports what the device says (a DeviceSnapshot); the domain layer
derives flags, errors and warnings from it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import msgspec


class ProviderError(Exception):
    """A typed failure reported by the device or its cloud (becomes action_attempt.error)."""

    def __init__(self, error_type: str, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.retryable = retryable


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

    def state(self) -> dict[str, Any]:
        """The JSON lockhub stores as the device's last known state."""
        data = msgspec.to_builtins(self)
        for key in ("provider_device_id", "brand", "model"):
            data.pop(key, None)
        return data


class AccountLogin(msgspec.Struct, frozen=True):
    """The result of a successful sign-in: what to store and how to name the account."""

    account_login: str  # stable identity of the provider account (reconnects match on it)
    user_identifier: dict[str, Any]
    credentials: dict[str, Any]


class CodeOnDevice(msgspec.Struct, frozen=True, omit_defaults=True):
    """A PIN as the lock stores it. `slot` is the lock's own reference (None before it is set).

    `starts_at` / `ends_at` are present only when the lock enforces the window itself
    (native scheduling).
    """

    code: str
    name: str | None = None
    slot: int | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None


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

    async def list_codes(self, device: DeviceRef) -> list[CodeOnDevice]: ...

    async def set_code(self, device: DeviceRef, code: CodeOnDevice) -> CodeOnDevice:
        """Write `code` into its slot (a free one when `slot` is None); returns where it is."""
        ...

    async def remove_code(self, device: DeviceRef, slot: int) -> None: ...
