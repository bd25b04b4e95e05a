"""The brand catalogue: every brand's display data and device models, as data (brands.json).

Brand rules (code lengths, constraints, slots, native scheduling, hub needs, latency) live here
and are read by the domain layer; no code branches on a brand's name.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, Literal

import msgspec

DeviceKind = Literal["lock", "thermostat", "noise_sensor"]
TemperatureUnit = Literal["celsius", "fahrenheit"]


class ThermostatModel(msgspec.Struct, frozen=True, kw_only=True):
    """What a thermostat model accepts, in its own unit (docs/design/thermostats-and-noise-
    sensors.md section 3.1): the modes it offers, its set-point ranges and their minimum gap."""

    temperature_unit: TemperatureUnit
    set_point_step: float
    hvac_modes: list[str]
    fan_modes: list[str]
    climate_preset_modes: list[str] = []
    min_heating_set_point: float | None = None
    max_heating_set_point: float | None = None
    min_cooling_set_point: float | None = None
    max_cooling_set_point: float | None = None
    min_heating_cooling_delta: float | None = None
    # Nest's eco mode holds the room between these two points.
    eco_heating_set_point: float | None = None
    eco_cooling_set_point: float | None = None
    has_humidity_sensor: bool = False
    has_direct_power: bool = True


class NoiseSensorModel(msgspec.Struct, frozen=True, kw_only=True):
    reports_nrs: bool = False  # NoiseAware's noise risk score beside the decibels
    has_direct_power: bool = False


class DeviceModel(msgspec.Struct, frozen=True, kw_only=True):
    """A model of a brand. Locks fill the lock fields; a thermostat or noise sensor has its
    own block (`thermostat`, `noise_sensor`) and leaves the lock fields at "cannot"."""

    display_name: str
    latency_ms: int
    can_simulate: list[str]
    kind: DeviceKind = "lock"
    has_built_in_keypad: bool = False
    can_connect_accessory_keypad: bool = False
    remote_lock: bool = False
    remote_unlock: bool = False
    requires_hub: bool = False
    online_access_codes: bool = False
    offline_access_codes: bool = False
    native_scheduling: bool = False
    supported_code_lengths: list[int] = []
    code_constraints: list[dict[str, Any]] = []
    max_active_codes_supported: int = 0
    code_slots: int = 0
    supports_backup_access_code_pool: bool = False
    has_native_entry_events: bool = False
    door_sensor: bool = False
    auto_lock: bool = False
    notes: str = ""
    # What the maker's server accepts for generated (offline) codes: domain/offline_codes.py.
    offline_code_rules: dict[str, Any] | None = None
    thermostat: ThermostatModel | None = None
    noise_sensor: NoiseSensorModel | None = None


class Logo(msgspec.Struct, frozen=True):
    """A brand's tile: a monogram on the brand colour, drawn by lockhub itself (in the Connect
    Webview picker, and as the brand's image at `Brand.image_path`) so nothing that shows a
    brand loads anything from elsewhere."""

    mark: str
    color: str  # "#rrggbb"

    @property
    def text_color(self) -> str:
        """Black or white, whichever reads better on `color` (WCAG relative luminance)."""
        channels = [int(self.color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
        return "#000000" if luminance > 0.179 else "#ffffff"


class FormField(msgspec.Struct, frozen=True):
    name: str
    label: str
    type: str  # an <input> type
    autocomplete: str = "off"
    required: bool = True
    placeholder: str = ""


class Choice(msgspec.Struct, frozen=True):
    name: str
    label: str
    options: list[str]


class CredentialKind(msgspec.Struct, frozen=True):
    """What a brand's sign-in form asks for: fields, choices, then an optional second step.
    An `oauth` kind asks for nothing: its page sends the user to the brand's own sign-in
    (the provider's `authorize_url`), which returns to lockhub with a code (OAUTH_FIELDS)."""

    description: str
    fields: list[FormField]
    choices: list[Choice] = []
    second_factor: list[FormField] = []
    oauth: bool = False


# What an OAuth sign-in hands the provider's `login`: the code from the brand's redirect and
# the redirect URI it was issued for.
OAUTH_FIELDS = ("code", "redirect_uri")


class Brand(msgspec.Struct, frozen=True):
    key: str
    display_name: str
    manufacturer: str
    device_type: str
    provider_categories: list[str]
    capabilities: list[str]  # what Connect Webviews' accepted_capabilities match against
    logo: Logo
    metadata_key: str
    credentials: str
    models: dict[str, DeviceModel]
    # The warning a device of this brand shows when remote unlock is switched off in its app.
    remote_unlock_disabled_warning: str = "provider_issue"
    # lockhub's own provider (a local radio system, not in Seam's spec): its key, device type
    # and metadata key are lockhub's, and the locks behind it name their own makers.
    lockhub_provider: bool = False
    # Present once lockhub has a real (cloud) provider for a sandbox brand: the credential kind
    # its production sign-in asks for (the sandbox keeps `credentials`, the brand's app login).
    production_credentials: str | None = None
    # The radio lockhub reaches the brand's locks over, when it is one ("zwave", "zigbee"): the
    # device database's main_connection_type (domain/devicedb.py); unset: not recorded.
    connection: Literal["zwave", "zigbee"] | None = None

    @property
    def image_path(self) -> str:
        """Where lockhub serves the brand's image (its logo tile as SVG; web/images.py)."""
        return f"{IMAGES_PATH}/{self.key}.svg"

    def image_url(self, base_url: str) -> str:
        """The absolute URL of the brand's image, for the `image_url`s of devices, accounts
        and device providers: on lockhub's own public base URL, never another host."""
        return f"{base_url}{self.image_path}"


IMAGES_PATH = "/_lockhub/images/brands"
_PATH = Path(__file__).with_name("brands.json")


@cache
def brands() -> dict[str, Brand]:
    raw = json.loads(_PATH.read_text())["brands"]
    return {key: msgspec.convert({**value, "key": key}, Brand) for key, value in raw.items()}


@cache
def credential_kinds() -> dict[str, CredentialKind]:
    raw = json.loads(_PATH.read_text())["credential_kinds"]
    return {key: msgspec.convert(value, CredentialKind) for key, value in raw.items()}


def sign_in_kind(brand: Brand, sandbox: bool) -> CredentialKind:
    """The form a brand's Connect Webview page asks for in a sandbox or production workspace."""
    key = brand.credentials if sandbox or brand.production_credentials is None \
        else brand.production_credentials
    return credential_kinds()[key]


def brand(key: str) -> Brand:
    return brands()[key]


def model(brand_key: str, model_key: str) -> DeviceModel:
    return brands()[brand_key].models[model_key]


_MODEL_FIELDS = frozenset(DeviceModel.__struct_fields__)


def with_facts(base: DeviceModel, facts: dict[str, Any] | None) -> DeviceModel:
    """The catalogue model narrowed by what one device reports of itself (radio locks: slots
    from the node, code lengths from the maker's model; a radio thermostat: its modes and
    limits under `thermostat`); unknown keys are ignored."""
    if not facts:
        return base
    changes = {k: v for k, v in facts.items() if k in _MODEL_FIELDS and k != "thermostat"}
    if base.thermostat is not None and facts.get("thermostat"):
        changes["thermostat"] = msgspec.convert(
            {**msgspec.to_builtins(base.thermostat), **facts["thermostat"]}, ThermostatModel)
    return msgspec.structs.replace(base, **changes)


class LockMaker(msgspec.Struct, frozen=True):
    """A maker of locks reached through a local radio system, as the lock names itself
    (and of thermostats: `thermostat_device_type`, when the maker makes Z-Wave thermostats)."""

    key: str
    display_name: str
    device_type: str
    zwave_manufacturer_ids: list[int] = []
    zigbee_vendors: list[str] = []
    thermostat_device_type: str | None = None


@cache
def lock_makers() -> dict[str, LockMaker]:
    raw = json.loads(_PATH.with_name("lock_makers.json").read_text())["makers"]
    return {key: msgspec.convert({**value, "key": key}, LockMaker) for key, value in raw.items()}


def maker_by_zwave_id(manufacturer_id: int | None) -> LockMaker | None:
    return next((m for m in lock_makers().values()
                 if manufacturer_id in m.zwave_manufacturer_ids), None)


def maker_by_zigbee_vendor(vendor: str | None) -> LockMaker | None:
    wanted = (vendor or "").strip().lower()
    return next((m for m in lock_makers().values()
                 if wanted in (v.lower() for v in m.zigbee_vendors)), None)
