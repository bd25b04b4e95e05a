"""lockhub's brand catalogue as Seam's device database (the `/internal/devicedb/v1/...` routes
Seam Components' supported-devices table reads): one manufacturer per catalogue brand, one
device model per catalogue model, in the shapes of `@seamapi/types/devicedb`.

What a workspace can connect decides what is "supported": a brand lockhub has a provider for
in this workspace (every sandbox brand in a sandbox workspace, the real providers in a
production one; the same set as `/devices/list_device_providers`) is `stable`, any other is
`unsupported` (the table hides those unless asked to show them).

lockhub serves every catalogue device as a lock, so every model is a `smartlock`. The
catalogue does not record physical facts it has no use for: the bolt type is `unknown`, the
connection `unknown` except for the Z-Wave and Zigbee providers, power sources are left empty,
and `has_physical_key`/`has_camera` are false. Images are the brands' logo tiles lockhub serves
itself (`Brand.image_url`). Ids are UUIDv5s of the brand (and model) key, stable across
servers and releases.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from lockhub.catalogue import Brand, DeviceModel, brands
from lockhub.domain import liqe

SupportLevel = Literal["stable", "beta", "planned", "unsupported", "inquire"]
DeviceCategory = Literal["smartlock", "sensor", "thermostat", "relay", "intercom", "accessory"]
ConnectionType = Literal["wifi", "zwave", "zigbee", "unknown"]
LockType = Literal["deadbolt", "lever", "mortise", "lockbox", "cylinder", "padlock", "locker",
                   "unknown"]
PowerSource = Literal["battery", "hardwired", "mechanical_harvesting", "wireless", "ethernet"]

_NAMESPACE = uuid.UUID("6f1c7c52-2a35-4f0e-9a59-3c1d2f5b9e41")  # lockhub's device database
IMAGE_SIZE = 256  # the nominal size of the brand tiles (web/images.py)


class ImageReference(msgspec.Struct, kw_only=True):
    url: str
    width: int
    height: int


class ManufacturerAnnotation(msgspec.Struct, kw_only=True):
    annotation_code: Literal["subscription_required"]
    message: str


class ModelManufacturer(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A manufacturer as a device model names it (without its model count)."""

    manufacturer_id: str
    display_name: str
    logo: ImageReference | UnsetType = UNSET
    integration: SupportLevel  # Seam's deprecated name of integration_support_level
    integration_support_level: SupportLevel
    is_connect_webview_supported: bool
    requires_seam_support_to_add_account: bool
    annotations: list[ManufacturerAnnotation]


class Manufacturer(ModelManufacturer, kw_only=True, omit_defaults=True):
    device_model_count: int


class Hardware(msgspec.Struct, kw_only=True, omit_defaults=True):
    has_physical_key: bool | UnsetType = UNSET


class AestheticVariant(msgspec.Struct, kw_only=True, omit_defaults=True):
    slug: str
    display_name: str
    front_image: ImageReference | UnsetType = UNSET
    images: list[ImageReference]


class SmartlockPhysicalProperties(msgspec.Struct, kw_only=True):
    lock_type: LockType
    has_physical_key: bool
    has_camera: bool


class SmartlockSoftwareFeatures(msgspec.Struct, kw_only=True):
    can_remotely_unlock: bool
    can_program_access_codes: bool
    can_program_access_schedules: bool
    can_program_access_codes_offline: bool


class DeviceModelV1(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A device model: Seam's base model and its smartlock part (the capability flags are
    present only when true, as Seam's schema has them)."""

    device_model_id: str
    manufacturer: ModelManufacturer
    is_device_supported: bool
    display_name: str
    description: str
    main_connection_type: ConnectionType
    hardware: Hardware
    aesthetic_variants: list[AestheticVariant]
    power_sources: list[PowerSource]
    main_category: DeviceCategory
    physical_properties: SmartlockPhysicalProperties
    software_features: SmartlockSoftwareFeatures
    can_remotely_lock: bool | UnsetType = UNSET
    can_remotely_unlock: bool | UnsetType = UNSET
    can_program_online_access_codes: bool | UnsetType = UNSET
    can_program_offline_access_codes: bool | UnsetType = UNSET


def manufacturer_id(brand_key: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"manufacturer:{brand_key}"))


def device_model_id(brand_key: str, model_key: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"device_model:{brand_key}:{model_key}"))


def _image(brand: Brand, base_url: str) -> ImageReference:
    return ImageReference(url=brand.image_url(base_url), width=IMAGE_SIZE, height=IMAGE_SIZE)


def _model_manufacturer(brand: Brand, supported: bool, base_url: str) -> ModelManufacturer:
    level: SupportLevel = "stable" if supported else "unsupported"
    return ModelManufacturer(
        manufacturer_id=manufacturer_id(brand.key), display_name=brand.display_name,
        logo=_image(brand, base_url), integration=level, integration_support_level=level,
        is_connect_webview_supported=supported, requires_seam_support_to_add_account=False,
        annotations=[])


def manufacturers(available: set[str], base_url: str) -> list[Manufacturer]:
    """Every catalogue brand as a manufacturer, by display name; `available` holds the brands
    the workspace can connect."""
    found = []
    for brand in brands().values():
        inner = _model_manufacturer(brand, brand.key in available, base_url)
        found.append(Manufacturer(**msgspec.structs.asdict(inner),
                                  device_model_count=len(brand.models)))
    return sorted(found, key=lambda m: (m.display_name.casefold(), m.manufacturer_id))


def _description(model: DeviceModel) -> str:
    features = []
    if model.remote_lock or model.remote_unlock:
        features.append("remote " + " and ".join(
            word for word, able in (("lock", model.remote_lock), ("unlock", model.remote_unlock))
            if able))
    kinds = [kind for kind, able in (("online", model.online_access_codes),
                                     ("offline", model.offline_access_codes)) if able]
    if kinds:
        features.append(f"{' and '.join(kinds)} access codes")
    if model.requires_hub:
        features.append("needs a hub")
    return (", ".join(features) or "no remote features").capitalize() + "."


def _device_model(brand: Brand, model_key: str, model: DeviceModel, supported: bool,
                  base_url: str) -> DeviceModelV1:
    image = _image(brand, base_url)
    codes = model.online_access_codes or model.offline_access_codes
    return DeviceModelV1(
        device_model_id=device_model_id(brand.key, model_key),
        manufacturer=_model_manufacturer(brand, supported, base_url),
        is_device_supported=supported,
        display_name=model.display_name,
        description=_description(model),
        main_connection_type=brand.connection or "unknown",
        hardware=Hardware(),
        aesthetic_variants=[AestheticVariant(slug="default", display_name="Default",
                                             front_image=image, images=[image])],
        power_sources=[],
        main_category="smartlock",
        physical_properties=SmartlockPhysicalProperties(
            lock_type="unknown", has_physical_key=False, has_camera=False),
        software_features=SmartlockSoftwareFeatures(
            can_remotely_unlock=model.remote_unlock, can_program_access_codes=codes,
            can_program_access_schedules=model.native_scheduling,
            can_program_access_codes_offline=model.offline_access_codes),
        can_remotely_lock=model.remote_lock or UNSET,
        can_remotely_unlock=model.remote_unlock or UNSET,
        can_program_online_access_codes=model.online_access_codes or UNSET,
        can_program_offline_access_codes=model.offline_access_codes or UNSET,
    )


def device_models(available: set[str], base_url: str) -> list[DeviceModelV1]:
    """Every catalogue model, brand by brand (brands by display name)."""
    ordered = sorted(brands().values(), key=lambda b: (b.display_name.casefold(), b.key))
    return [_device_model(brand, key, model, brand.key in available, base_url)
            for brand in ordered for key, model in brand.models.items()]


# --------------------------------------------------------------------------- filters


def filter_manufacturers(items: Iterable[Manufacturer], *, levels: list[str] | None,
                         liqe_query: str | None) -> list[Manufacturer]:
    """Raises liqe.LiqeError for a query this server does not read."""
    matches = liqe.parse(liqe_query or "")
    return [m for m in items
            if (levels is None or m.integration_support_level in levels)
            and matches(msgspec.to_builtins(m))]


def _at(document: Any, dot_path: str) -> Any:
    for part in dot_path.split("."):
        if not isinstance(document, dict):
            return None
        document = document.get(part)
    return document


def filter_device_models(items: Iterable[DeviceModelV1], *, main_category: str | None,
                         manufacturer_ids: list[str] | None, levels: list[str] | None,
                         text_search: str | None, include_if: list[str] | None,
                         exclude_if: list[str] | None) -> list[DeviceModelV1]:
    """`include_if`: only models for which every dot path is true; `exclude_if`: no model for
    which any is; `text_search`: the model's or its manufacturer's name contains it (any
    case)."""
    needle = (text_search or "").strip().casefold()
    found = []
    for model in items:
        if main_category is not None and model.main_category != main_category:
            continue
        if manufacturer_ids is not None and (
                model.manufacturer.manufacturer_id not in manufacturer_ids):
            continue
        if levels is not None and model.manufacturer.integration_support_level not in levels:
            continue
        if needle and needle not in model.display_name.casefold() and (
                needle not in model.manufacturer.display_name.casefold()):
            continue
        if include_if or exclude_if:
            document = msgspec.to_builtins(model)
            if include_if and not all(_at(document, p) is True for p in include_if):
                continue
            if exclude_if and any(_at(document, p) is True for p in exclude_if):
                continue
        found.append(model)
    return found
