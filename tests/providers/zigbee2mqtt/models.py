"""Lock definitions as Zigbee2MQTT publishes them in `bridge/devices`.

The exposes are built with the same presets as zigbee-herdsman-converters
(`src/lib/exposes.ts`) and the per-model lists from `src/devices/<vendor>.ts`, so the JSON a
test sees is the JSON a real bridge sends (reference §2). Behavioural facts that Z2M never
publishes (`pinCodeCount`, which converters a model has) live beside them in `LockModel`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STATE, SET, GET = 1, 2, 4
ALL = STATE | SET | GET

Expose = dict[str, Any]


def _label(name: str) -> str:
    """zhc `getLabelFromName`: underscores become spaces, first letter upper-cased."""
    text = name.replace("_", " ")
    return text[:1].upper() + text[1:]


def _generic(kind: str, name: str, access: int, description: str | None,
             category: str | None = None, label: str | None = None, **extra: Any) -> Expose:
    expose: Expose = {"type": kind, "name": name, "label": label or _label(name),
                      "property": name, "access": access, **extra}
    if description is not None:
        expose["description"] = description
    if category is not None:
        expose["category"] = category
    return expose


def binary(name: str, access: int, on: Any, off: Any, description: str | None = None,
           category: str | None = None) -> Expose:
    return _generic("binary", name, access, description, category, value_on=on, value_off=off)


def numeric(name: str, access: int, description: str | None = None, *, unit: str | None = None,
            value_min: int | None = None, value_max: int | None = None,
            category: str | None = None, label: str | None = None) -> Expose:
    extra = {k: v for k, v in (("unit", unit), ("value_min", value_min),
                               ("value_max", value_max)) if v is not None}
    return _generic("numeric", name, access, description, category, label, **extra)


def enum(name: str, access: int, values: list[str], description: str | None = None) -> Expose:
    return _generic("enum", name, access, description, values=list(values))


def text(name: str, access: int, description: str | None = None) -> Expose:
    return _generic("text", name, access, description)


# --- presets (zhc src/lib/exposes.ts) -----------------------------------------------------

def e_lock() -> Expose:
    # The specific `lock` type has no name, label or access, only its features.
    return {"type": "lock", "features": [
        binary("state", ALL, "LOCK", "UNLOCK", "State of the lock"),
        enum("lock_state", STATE, ["not_fully_locked", "locked", "unlocked"],
             "Actual state of the lock"),
    ]}


def e_battery() -> Expose:
    return numeric("battery", STATE, "Remaining battery in %, can take up to 24 hours before reported",
                   unit="%", value_min=0, value_max=100, category="diagnostic")


def e_battery_low() -> Expose:
    return binary("battery_low", STATE, True, False,
                  "Indicates if the battery of this device is almost empty", "diagnostic")


def e_voltage() -> Expose:
    return numeric("voltage", STATE, "Measured electrical potential value", unit="V")


def e_pincode() -> Expose:
    composite = _generic("composite", "pin_code", ALL, None, features=[
        numeric("user", SET, "User ID to set or clear the pincode for"),
        enum("user_type", SET, ["unrestricted", "year_day_schedule", "week_day_schedule", "master",
                                "non_access"],
             "Type of user, unrestricted: owner (default), (year|week)_day_schedule: user has "
             "ability to open lock based on specific time period, master: user has ability to "
             "both program and operate the door lock, non_access: user is recognized by the lock "
             "but does not have the ability to open the lock"),
        binary("user_enabled", SET, True, False, "Whether the user is enabled/disabled"),
        numeric("pin_code", SET, "Pincode to set, set pincode to null to clear", label="PIN code"),
    ])
    composite["label"] = "Pin code"
    return composite


LOCK_ACTIONS = [
    "unknown", "lock", "unlock", "lock_failure_invalid_pin_or_id", "lock_failure_invalid_schedule",
    "unlock_failure_invalid_pin_or_id", "unlock_failure_invalid_schedule", "one_touch_lock",
    "key_lock", "key_unlock", "auto_lock", "schedule_lock", "schedule_unlock", "manual_lock",
    "manual_unlock", "non_access_user_operational_event",
]
"""ZCL operation event codes 0..15 (zhc `fz.lock_operation_event`)."""

PROGRAMMING_ACTIONS = [
    "unknown", "master_code_changed", "pin_code_added", "pin_code_deleted", "pin_code_changed",
    "rfid_code_added", "rfid_code_deleted",
]
"""ZCL programming event codes 0..6 (zhc `fz.lock_programming_event`)."""

SOURCE_NAMES = {0: "keypad", 1: "rf", 2: "manual", 3: "rfid", 4: "fingerprint"}
"""zhc `constants.lockSourceName`."""

SOUND_VOLUMES = ["silent_mode", "low_volume", "high_volume"]


def e_lock_action() -> Expose:
    return enum("action", STATE, LOCK_ACTIONS, "Triggered action on the lock")


def e_lock_action_source_name() -> Expose:
    return enum("action_source_name", STATE, ["keypad", "rfid", "manual", "rf"],
                "Source of the triggered action on the lock")


def e_lock_action_user() -> Expose:
    return numeric("action_user", STATE, "ID of user that triggered the action on the lock")


def e_auto_relock_time() -> Expose:
    return numeric("auto_relock_time", ALL,
                   "The number of seconds to wait after unlocking a lock before it automatically "
                   "locks again. 0=disabled", unit="s", value_min=0, value_max=3600)


def e_sound_volume() -> Expose:
    return enum("sound_volume", ALL, SOUND_VOLUMES, "Sound volume of the lock")


def e_door_state() -> Expose:
    return enum("door_state", STATE, ["open", "closed", "error_jammed", "error_forced_open",
                                      "error_unspecified", "undefined"], "State of the door")


def e_linkquality() -> Expose:
    """Z2M appends this to every definition's exposes (`lib/model/device.ts`)."""
    return numeric("linkquality", STATE, "Link quality (signal strength)", unit="lqi",
                   value_min=0, value_max=255, category="diagnostic")


def option_expose_pin() -> Expose:
    return binary("expose_pin", SET, True, False,
                  "Expose pin of this lock in the published payload (default false).")


# --- models -------------------------------------------------------------------------------

@dataclass(frozen=True)
class LockModel:
    """One zhc definition plus the converter facts the simulator needs to behave like it."""

    model: str
    vendor: str
    description: str
    zigbee_model: str
    manufacturer: str
    exposes: tuple[Expose, ...]
    pin_code_count: int
    endpoint: int = 1
    has_pincode: bool = True  # tz.pincode_lock
    answers_pin_reads: bool = True  # fz.lock_pin_code_response
    has_user_status: bool = False  # tz.lock_userstatus (key `user_status`, not exposed)
    operation_events: bool = True  # the lock sends commandOperationEventNotification
    rf_programming_events: bool = True  # sends pin_code_added/deleted for RF-made changes
    rereads_pin_after_keypad_programming: bool = False  # Datek onEvent getPinCode
    nimly: bool = False  # Onesti raw `easycodetouch_action` + last_*_user attributes
    min_pin_length: int = 4
    max_pin_length: int = 8
    options: tuple[Expose, ...] = field(default=())
    supports_ota: bool = False

    @property
    def writable_keys(self) -> set[str]:
        """Keys with a toZigbee converter (`tz.read`/`tz.write` exist on every definition)."""
        names = {"state", "read", "write"}
        for expose in self.exposes:
            if expose.get("name") in ("sound_volume", "auto_relock_time") and expose["access"] & SET:
                names.add(expose["name"])
        if self.has_pincode:
            names.add("pin_code")
        if self.has_user_status:
            names.add("user_status")
        return names

    def exposes_with_linkquality(self) -> list[Expose]:
        return [*self.exposes, e_linkquality()]

    def has_expose(self, name: str) -> bool:
        return any(x.get("name") == name for x in self.exposes)


def _yale(model: str, zigbee_model: str, description: str) -> LockModel:
    # yale.ts lockExtend(): m.lock({pinCodeCount: 250}) + battery(lowStatus) + relock/volume.
    return LockModel(
        model=model, vendor="Yale", description=description, zigbee_model=zigbee_model,
        manufacturer="Yale",
        exposes=(e_lock(), e_battery(), e_pincode(), e_lock_action(), e_lock_action_source_name(),
                 e_lock_action_user(), e_auto_relock_time(), e_sound_volume(), e_battery_low()),
        pin_code_count=250, has_user_status=True, options=(option_expose_pin(),),
    )


YRD226 = _yale("YRD226HA2619", "YRD226 TSDB", "Assure lock")
YRD256 = _yale("YRD256HA20BP", "YRD256 TSDB", "Assure lock SL")

ID_LOCK_150 = LockModel(
    model="0402946", vendor="Datek", description="Zigbee module for ID lock",
    zigbee_model="ID Lock 150", manufacturer="Datek",
    exposes=(
        e_lock(), e_battery(), e_pincode(), e_door_state(), e_lock_action(),
        e_lock_action_source_name(), e_lock_action_user(),
        enum("sound_volume", ALL, SOUND_VOLUMES, "Sound volume of the lock"),
        binary("master_pin_mode", ALL, True, False, "Allow Master PIN Unlock"),
        binary("rfid_enable", ALL, True, False, "Allow RFID to Unlock"),
        binary("relock_enabled", ALL, True, False, "Allow Auto Re-Lock"),
        enum("lock_mode", ALL, ["auto_off_away_off", "auto_on_away_off", "auto_off_away_on",
                                "auto_on_away_on"], "Lock-Mode of the Lock"),
        enum("service_mode", ALL, ["deactivated", "random_pin_1x_use", "random_pin_24_hours"],
             "Service Mode of the Lock"),
    ),
    pin_code_count=109, rereads_pin_after_keypad_programming=True, options=(option_expose_pin(),),
)

DANALOCK_V3 = LockModel(
    model="V3-BTZB/V3-BTZBE", vendor="Danalock", description="BT/ZB smartlock",
    zigbee_model="V3-BTZB", manufacturer="Danalock",
    exposes=(e_lock(), e_battery(), e_pincode(), e_lock_action(), e_lock_action_source_name(),
             e_lock_action_user()),
    pin_code_count=20, has_user_status=True, options=(option_expose_pin(),), supports_ota=True,
)

KWIKSET_99140_002 = LockModel(
    model="99140-002", vendor="Kwikset", description="SmartCode traditional electronic deadbolt",
    zigbee_model="SMARTCODE_DEADBOLT_10_L", manufacturer="Kwikset",
    exposes=(e_lock(), e_battery(), e_pincode(), e_lock_action(), e_lock_action_source_name(),
             e_lock_action_user()),
    pin_code_count=30, endpoint=2, options=(option_expose_pin(),),
)

KWIKSET_66492_001 = LockModel(
    model="66492-001", vendor="Kwikset", description="Home connect smart lock conversion kit",
    zigbee_model="SMARTCODE_CONVERT_GEN1", manufacturer="Kwikset",
    exposes=(e_lock(), e_battery(), e_lock_action(), e_lock_action_source_name(),
             e_lock_action_user()),
    pin_code_count=0, endpoint=2, has_pincode=False, answers_pin_reads=False,
)

_NIMLY_SOURCES = ["zigbee", "keypad", "fingerprintsensor", "rfid", "unattributed", "self", "unknown"]

NIMLY = LockModel(
    model="Nimly", vendor="Onesti Products AS", description="Zigbee module for Nimly Doorlock series",
    zigbee_model="NimlyPRO", manufacturer="Onesti Products AS",
    exposes=(
        e_lock(), e_battery(), e_sound_volume(), e_voltage(),
        enum("last_unlock_source", STATE, _NIMLY_SOURCES, "Last unlock source"),
        text("last_unlock_user", STATE, "Last unlock user (slot number)"),
        enum("last_lock_source", STATE, _NIMLY_SOURCES, "Last lock source"),
        text("last_lock_user", STATE, "Last lock user (slot number)"),
        text("last_used_pin_code", STATE, "Last used pin code (actual digits)"),
        binary("auto_relock", STATE | SET, True, False, "Auto relock after 7 seconds."),
        numeric("auto_relock_time", STATE, "Auto relock delay in seconds", unit="s"),
        numeric("num_pin_users", STATE, "Number of PIN code users supported"),
        numeric("min_pin_length", STATE, "Minimum PIN code length"),
        numeric("max_pin_length", STATE, "Maximum PIN code length"),
        e_pincode(),
    ),
    pin_code_count=1000, endpoint=11, answers_pin_reads=False, nimly=True,
)

MODELS: dict[str, LockModel] = {m.model: m for m in (
    YRD226, YRD256, ID_LOCK_150, DANALOCK_V3, KWIKSET_99140_002, KWIKSET_66492_001, NIMLY)}
