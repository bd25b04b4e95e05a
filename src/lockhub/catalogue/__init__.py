"""The brand catalogue: every brand's display data and device models, as data (brands.json).

Brand rules (code lengths, constraints, slots, native scheduling, hub needs, latency) live here
and are read by the domain layer; no code branches on a brand's name.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import msgspec


class DeviceModel(msgspec.Struct, frozen=True):
    display_name: str
    has_built_in_keypad: bool
    can_connect_accessory_keypad: bool
    remote_lock: bool
    remote_unlock: bool
    requires_hub: bool
    online_access_codes: bool
    offline_access_codes: bool
    native_scheduling: bool
    supported_code_lengths: list[int]
    code_constraints: list[dict[str, Any]]
    max_active_codes_supported: int
    code_slots: int
    supports_backup_access_code_pool: bool
    has_native_entry_events: bool
    door_sensor: bool
    auto_lock: bool
    latency_ms: int
    can_simulate: list[str]
    notes: str = ""


class Brand(msgspec.Struct, frozen=True):
    key: str
    display_name: str
    manufacturer: str
    device_type: str
    provider_categories: list[str]
    image_url: str
    metadata_key: str
    credentials: str
    models: dict[str, DeviceModel]
    # The warning a device of this brand shows when remote unlock is switched off in its app.
    remote_unlock_disabled_warning: str = "provider_issue"


_PATH = Path(__file__).with_name("brands.json")


@cache
def brands() -> dict[str, Brand]:
    raw = json.loads(_PATH.read_text())["brands"]
    return {key: msgspec.convert({**value, "key": key}, Brand) for key, value in raw.items()}


def brand(key: str) -> Brand:
    return brands()[key]


def model(brand_key: str, model_key: str) -> DeviceModel:
    return brands()[brand_key].models[model_key]
