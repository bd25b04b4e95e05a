"""Guards the brand catalogue and the sandbox accounts against drift from the Seam spec.

The data files are plain JSON read by the domain layer; these tests keep them honest: enum
values must exist in Seam's OpenAPI document, provider metadata must use the spec's field names
and types, and the sandbox seed must cover the documented test users and scenarios.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.spec import SPEC_PATH

REPO = Path(__file__).parents[1]
BRANDS_PATH = REPO / "src" / "lockhub" / "catalogue" / "brands.json"
ACCOUNTS_PATH = REPO / "src" / "lockhub" / "providers" / "sandbox" / "accounts.json"

BRAND_KEYS = {
    "capabilities", "logo",
    "display_name", "manufacturer", "device_type", "provider_categories",
    "metadata_key", "credentials", "models",
}
# Read by lockhub.catalogue.Brand: the warning a device shows when remote unlock is off in its app.
OPTIONAL_BRAND_KEYS = {"remote_unlock_disabled_warning", "lockhub_provider",
                       "production_credentials", "connection"}
MODEL_KEYS = {
    "display_name", "has_built_in_keypad", "can_connect_accessory_keypad", "remote_lock",
    "remote_unlock", "requires_hub", "online_access_codes", "offline_access_codes",
    "native_scheduling", "supported_code_lengths", "code_constraints",
    "max_active_codes_supported", "code_slots", "supports_backup_access_code_pool",
    "has_native_entry_events", "door_sensor", "auto_lock", "latency_ms", "can_simulate",
}
OPTIONAL_MODEL_KEYS = {"notes", "offline_code_rules"}
# Thermostats and noise sensors name their kind and carry their own block instead of lock facts.
KIND_MODEL_KEYS = {
    "thermostat": {"display_name", "kind", "latency_ms", "can_simulate", "thermostat"},
    "noise_sensor": {"display_name", "kind", "latency_ms", "can_simulate", "noise_sensor"},
}
THERMOSTAT_KEYS = {"temperature_unit", "set_point_step", "hvac_modes", "fan_modes"}
OPTIONAL_THERMOSTAT_KEYS = {
    "climate_preset_modes", "min_heating_set_point", "max_heating_set_point",
    "min_cooling_set_point", "max_cooling_set_point", "min_heating_cooling_delta",
    "eco_heating_set_point", "eco_cooling_set_point", "has_humidity_sensor", "has_direct_power",
}
SIMULATIONS = {
    "connection", "disconnection", "removal", "hub_connection", "hub_disconnection",
    "paid_subscription",
}
HUB_SIMULATIONS = {"hub_connection", "hub_disconnection"}
NAME_CONSTRAINTS = {"name_length", "name_must_be_unique"}

# The sign-in form of each credential kind, i.e. the exact login fields a sandbox account gives.
LOGIN_FIELDS = {
    "email_password": {"email", "password"},
    "email_password_2fa": {"email", "password", "two_factor_code"},
    "api_key": {"api_key_id", "api_key", "email", "password"},
    "username_password": {"username", "password"},
    "api_key_email_password": {"api_key", "email", "password"},
    "lockly_api_keys": {
        "email", "team_id", "access_key_id", "access_key_secret", "token_id", "token_secret",
    },
    "username_site": {"username", "site_name", "time_zone"},
    "zwave_js_server": {"url"},
    "mqtt_broker": {"broker_url", "username", "password", "base_topic"},
    "ttlock_open_platform": {"client_id", "client_secret", "username", "password"},
    "smartthings_oauth": set(),  # the brand's own page signs in (OAuth)
    "igloohome_api_key": {"client_id", "client_secret"},
    "nuki_api_token": {"api_token"},
}

# Test users Seam documents per provider (behaviour.md section 13).
DOCUMENTED_USERS = {
    "august": {"jane", "john", "sam", "frodo"},
    "yale": {"jane", "john", "sam", "frodo"},
    "schlage": {"jane", "john", "andrew", "sam", "frodo"},
    "smartthings": {"jane", "sam", "frodo"},
    "genie": {"john"},
}


def _load(path: Path) -> Any:
    with path.open(encoding="utf-8") as f:
        return json.load(f)


CATALOGUE = _load(BRANDS_PATH)
ALL_BRANDS: dict[str, dict[str, Any]] = CATALOGUE["brands"]
# Brands of Seam's spec (the sandbox offers each); lockhub's own radio providers (Z-Wave JS,
# Zigbee2MQTT) have keys, types and metadata of their own and no sandbox accounts.
BRANDS = {k: b for k, b in ALL_BRANDS.items() if not b.get("lockhub_provider")}
OWN_BRANDS = {k: b for k, b in ALL_BRANDS.items() if b.get("lockhub_provider")}
ACCOUNTS: dict[str, list[dict[str, Any]]] = _load(ACCOUNTS_PATH)["accounts"]
ALL_MODELS = [(b, m, model) for b, brand in ALL_BRANDS.items()
              for m, model in brand["models"].items()]
MODELS = [item for item in ALL_MODELS if item[2].get("kind", "lock") == "lock"]
THERMOSTAT_MODELS = [item for item in ALL_MODELS if item[2].get("kind") == "thermostat"]
NOISE_MODELS = [item for item in ALL_MODELS if item[2].get("kind") == "noise_sensor"]
DEVICES = [
    (b, device)
    for b, accounts in ACCOUNTS.items()
    for account in accounts
    for device in account["devices"]
]


def _ids(items: list[tuple[Any, ...]]) -> list[str]:
    return [f"{item[0]}:{item[1] if isinstance(item[1], str) else item[1]['key']}" for item in items]


# ------------------------------------------------------------------------------------ spec access


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    if not SPEC_PATH.exists():
        pytest.skip(f"Seam OpenAPI document not found at {SPEC_PATH}")
    return _load(SPEC_PATH)


def _merged_properties(schema: dict[str, Any]) -> dict[str, Any]:
    """Properties of a schema built from nested allOf/anyOf/oneOf parts."""
    out = dict(schema.get("properties", {}))
    for key in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(key, []):
            out.update(_merged_properties(part))
    return out


def _device_properties(spec: dict[str, Any]) -> dict[str, Any]:
    device = spec["components"]["schemas"]["device"]
    return _merged_properties(device["properties"]["properties"])


def _request_params(spec: dict[str, Any], path: str) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for operation in spec["paths"][path].values():
        for param in operation.get("parameters", []):
            params[param["name"]] = param.get("schema", {})
        body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
        params.update(body.get("schema", {}).get("properties", {}))
    return params


def _enum(schema: dict[str, Any]) -> set[str]:
    values = set(schema.get("enum", []))
    for key in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(key, []):
            values |= _enum(part)
    return values


def _lock_like_device_types(spec: dict[str, Any]) -> set[str]:
    """The spec's lock device types plus keys (objects.md section 2.6)."""
    device_type = _request_params(spec, "/devices/list")["device_type"]
    lock_like: set[str] = set()
    for part in device_type["oneOf"]:
        description = part.get("description", "").lower()
        if "smartlock" in description or "keys" in description:
            lock_like |= set(part["enum"])
    return lock_like


def _type_errors(value: Any, schema: dict[str, Any], where: str) -> list[str]:
    """Differences between a JSON value and a (simple) OpenAPI schema."""
    if value is None:
        return [] if schema.get("nullable") else [f"{where}: null but not nullable"]
    if "oneOf" in schema or "anyOf" in schema:
        options = schema.get("oneOf", schema.get("anyOf"))
        if any(not _type_errors(value, option, where) for option in options):
            return []
        return [f"{where}: {value!r} matches none of {options}"]
    kind = schema.get("type")
    if kind == "string":
        ok = isinstance(value, str)
    elif kind in ("number", "integer"):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif kind == "boolean":
        ok = isinstance(value, bool)
    elif kind == "array":
        if not isinstance(value, list):
            return [f"{where}: expected array, got {value!r}"]
        errors: list[str] = []
        for i, item in enumerate(value):
            errors += _type_errors(item, schema.get("items", {}), f"{where}[{i}]")
        return errors
    elif kind == "object":
        if not isinstance(value, dict):
            return [f"{where}: expected object, got {value!r}"]
        return _object_errors(value, schema, where)
    else:
        ok = True
    return [] if ok else [f"{where}: expected {kind}, got {value!r}"]


def _object_errors(value: dict[str, Any], schema: dict[str, Any], where: str) -> list[str]:
    fields = _merged_properties(schema)
    errors = [f"{where}.{key}: not a field of the spec schema" for key in value if key not in fields]
    errors += [
        f"{where}.{key}: required by the spec but missing"
        for key in schema.get("required", [])
        if key not in value
    ]
    for key, item in value.items():
        if key in fields:
            errors += _type_errors(item, fields[key], f"{where}.{key}")
    return errors


# ------------------------------------------------------------------------------- catalogue shape


def test_catalogue_lists_at_least_twenty_brands() -> None:
    assert len(BRANDS) >= 20


def test_catalogue_includes_the_core_lock_brands() -> None:
    core = {
        "ttlock", "wyze", "august", "yale", "schlage", "kwikset", "igloohome", "nuki",
        "smartthings",
    }
    assert core <= set(BRANDS)


@pytest.mark.parametrize("brand_key", sorted(ALL_BRANDS))
def test_brand_has_exactly_the_documented_keys(brand_key: str) -> None:
    brand = ALL_BRANDS[brand_key]
    assert BRAND_KEYS <= set(brand) <= BRAND_KEYS | OPTIONAL_BRAND_KEYS
    assert brand["models"], "a brand needs at least one model"
    assert brand["metadata_key"].endswith("_metadata")
    assert set(brand["capabilities"]) <= {"lock", "thermostat", "noise_sensor", "access_control",
                                          "camera"}
    kinds = {model.get("kind", "lock") for model in brand["models"].values()}
    assert kinds <= set(brand["capabilities"]), "each kind of model is a capability"
    assert re.fullmatch(r"#[0-9A-Fa-f]{6}", brand["logo"]["color"])
    assert 1 <= len(brand["logo"]["mark"]) <= 3


@pytest.mark.parametrize("brand_key", sorted(BRANDS))
def test_brand_credential_kind_is_documented(brand_key: str) -> None:
    kinds = CATALOGUE["credential_kinds"]
    kind = kinds[BRANDS[brand_key]["credentials"]]
    assert isinstance(kind["description"], str) and kind["description"]
    assert set(kinds) <= set(LOGIN_FIELDS), "describe the login fields of new kinds in this test"
    # The sign-in form asks for exactly the fields a login checks, over one or two steps.
    asked = [f["name"] for f in kind["fields"] + kind.get("second_factor", [])]
    assert len(asked) == len(set(asked))
    assert set(asked) == LOGIN_FIELDS[BRANDS[brand_key]["credentials"]]


@pytest.mark.parametrize(("brand_key", "model_key", "model"), MODELS, ids=_ids(MODELS))
def test_model_has_exactly_the_documented_keys(
    brand_key: str, model_key: str, model: dict[str, Any]
) -> None:
    assert MODEL_KEYS <= set(model) <= MODEL_KEYS | OPTIONAL_MODEL_KEYS
    if "notes" in model:
        assert isinstance(model["notes"], str) and model["notes"]


@pytest.mark.parametrize(("brand_key", "model_key", "model"), THERMOSTAT_MODELS + NOISE_MODELS,
                         ids=_ids(THERMOSTAT_MODELS + NOISE_MODELS))
def test_other_kinds_of_model_have_exactly_their_keys(
    brand_key: str, model_key: str, model: dict[str, Any]
) -> None:
    assert KIND_MODEL_KEYS[model["kind"]] <= set(model) <= KIND_MODEL_KEYS[model["kind"]] | {
        "notes"}
    assert 0 < model["latency_ms"] <= 1500 and model["can_simulate"] == []


@pytest.mark.parametrize(("brand_key", "model_key", "model"), THERMOSTAT_MODELS,
                         ids=_ids(THERMOSTAT_MODELS))
def test_thermostat_models_accept_what_seam_describes(
    spec: dict[str, Any], brand_key: str, model_key: str, model: dict[str, Any]
) -> None:
    t = model["thermostat"]
    assert THERMOSTAT_KEYS <= set(t) <= THERMOSTAT_KEYS | OPTIONAL_THERMOSTAT_KEYS
    properties = _device_properties(spec)
    assert set(t["hvac_modes"]) <= _enum(properties["available_hvac_mode_settings"]["items"])
    assert set(t["fan_modes"]) <= _enum(properties["available_fan_mode_settings"]["items"])
    assert t["temperature_unit"] in ("celsius", "fahrenheit")
    for kind, mode in (("heating", "heat"), ("cooling", "cool")):
        # A model with the mode has a range for it, low below high.
        if mode in t["hvac_modes"]:
            assert t[f"min_{kind}_set_point"] < t[f"max_{kind}_set_point"]
    if "heat_cool" in t["hvac_modes"]:
        assert t["min_heating_cooling_delta"] > 0
    if "eco" in t["hvac_modes"]:
        assert t["eco_heating_set_point"] < t["eco_cooling_set_point"]


@pytest.mark.parametrize(("brand_key", "model_key", "model"), MODELS, ids=_ids(MODELS))
def test_model_supported_code_lengths_are_nonempty_sorted_digits(
    brand_key: str, model_key: str, model: dict[str, Any]
) -> None:
    lengths = model["supported_code_lengths"]
    assert lengths, "supported_code_lengths must not be empty"
    assert all(type(n) is int for n in lengths)
    assert lengths == sorted(set(lengths))
    # /access_codes/report_device_constraints accepts lengths 4-20.
    assert 4 <= lengths[0] and lengths[-1] <= 20


@pytest.mark.parametrize(("brand_key", "model_key", "model"), MODELS, ids=_ids(MODELS))
def test_model_latency_stays_within_the_sdk_wait(
    brand_key: str, model_key: str, model: dict[str, Any]
) -> None:
    # The Python SDK waits 5 s for an action attempt; sandbox latency stays well below.
    assert type(model["latency_ms"]) is int
    assert 0 < model["latency_ms"] <= 1500


@pytest.mark.parametrize(("brand_key", "model_key", "model"), MODELS, ids=_ids(MODELS))
def test_model_simulations_match_its_hardware(
    brand_key: str, model_key: str, model: dict[str, Any]
) -> None:
    simulate = set(model["can_simulate"])
    assert simulate <= SIMULATIONS
    assert len(simulate) == len(model["can_simulate"])
    if not model["requires_hub"]:
        assert not simulate & HUB_SIMULATIONS, "hub simulations need a hub"
    if brand_key != "nuki":
        assert "paid_subscription" not in simulate, "only Nuki has a paid subscription"


@pytest.mark.parametrize(("brand_key", "model_key", "model"), MODELS, ids=_ids(MODELS))
def test_model_code_capacity_is_consistent(
    brand_key: str, model_key: str, model: dict[str, Any]
) -> None:
    takes_codes = model["online_access_codes"] or model["offline_access_codes"]
    assert 0 <= model["max_active_codes_supported"] <= model["code_slots"]
    if takes_codes:
        assert model["max_active_codes_supported"] > 0
    if not model["online_access_codes"]:
        assert not model["supports_backup_access_code_pool"], "backup codes are programmed online"
    assert not (model["native_scheduling"] and not takes_codes)


@pytest.mark.parametrize(("brand_key", "model_key", "model"), MODELS, ids=_ids(MODELS))
def test_model_code_constraints_have_the_spec_shapes(
    brand_key: str, model_key: str, model: dict[str, Any]
) -> None:
    for constraint in model["code_constraints"]:
        extra = set(constraint) - {"constraint_type"}
        if constraint["constraint_type"] in NAME_CONSTRAINTS:
            assert extra <= {"min_length", "max_length"}
            for key in extra:
                assert type(constraint[key]) is int and constraint[key] > 0
        else:
            assert not extra, f"{constraint['constraint_type']} takes no extra fields"


# ----------------------------------------------------------------- facts from the reference docs


def test_nuki_models_use_the_sandbox_code_rules() -> None:
    for model in BRANDS["nuki"]["models"].values():
        assert model["supported_code_lengths"] == [6]
        types = {c["constraint_type"] for c in model["code_constraints"]}
        assert {"no_zeros", "cannot_start_with_12", "name_length"} <= types
        name = next(c for c in model["code_constraints"] if c["constraint_type"] == "name_length")
        assert name["max_length"] == 20


def test_ttlock_models_hold_150_passcodes_and_gateway_ones_need_a_hub() -> None:
    models = BRANDS["ttlock"]["models"]
    assert all(m["max_active_codes_supported"] == 150 for m in models.values())
    assert models["keypad_deadbolt"]["supported_code_lengths"] == [4, 6, 8]
    restricted = {
        c["constraint_type"] for m in models.values() for c in m["code_constraints"]
    }
    assert {"cannot_contain_089", "cannot_contain_0789"} <= restricted


def test_igloohome_models_hold_199_pins_and_issue_offline_codes() -> None:
    for model in BRANDS["igloohome"]["models"].values():
        assert model["max_active_codes_supported"] == 199
        assert model["offline_access_codes"]


def test_wyze_lock_bolt_cannot_be_operated_remotely() -> None:
    bolt = BRANDS["wyze"]["models"]["lock_bolt"]
    assert not (bolt["remote_lock"] or bolt["remote_unlock"] or bolt["online_access_codes"])
    assert BRANDS["wyze"]["models"]["lock"]["requires_hub"]


def test_just_in_time_brands_do_not_schedule_natively() -> None:
    for brand_key in ("smartthings", "lockly", "dormakaba_oracode"):
        for model in BRANDS[brand_key]["models"].values():
            assert not model["native_scheduling"], brand_key


# ------------------------------------------------------------------------------ spec conformance


def test_own_providers_use_keys_outside_the_spec(spec: dict[str, Any]) -> None:
    provider = spec["components"]["schemas"]["device_provider"]
    names = set(provider["properties"]["device_provider_name"]["enum"])
    assert set(OWN_BRANDS) == {"zwave_js", "zigbee2mqtt"}
    assert not set(OWN_BRANDS) & names
    for key, brand in OWN_BRANDS.items():
        assert brand["models"].keys() == ({"lock", "thermostat"} if key == "zwave_js" else {"lock"})


def test_brand_keys_are_spec_device_provider_names(spec: dict[str, Any]) -> None:
    provider = spec["components"]["schemas"]["device_provider"]
    names = set(provider["properties"]["device_provider_name"]["enum"])
    assert set(BRANDS) <= names, sorted(set(BRANDS) - names)


def test_provider_categories_are_in_the_spec_enum(spec: dict[str, Any]) -> None:
    categories = _enum(_request_params(spec, "/devices/list_device_providers")["provider_category"])
    for brand_key, brand in BRANDS.items():
        assert brand["provider_categories"], brand_key
        assert set(brand["provider_categories"]) <= categories, brand_key


def test_device_types_are_lock_like_values_of_the_spec_enum(spec: dict[str, Any]) -> None:
    all_types = _enum(_request_params(spec, "/devices/list")["device_type"])
    lock_like = _lock_like_device_types(spec)
    assert lock_like < all_types
    for brand_key, brand in BRANDS.items():
        if "lock" in brand["capabilities"]:
            assert brand["device_type"] in lock_like, brand_key


def test_thermostat_and_noise_sensor_types_are_those_their_lists_filter_on(
        spec: dict[str, Any]) -> None:
    for path, capability in (("/thermostats/list", "thermostat"),
                             ("/noise_sensors/list", "noise_sensor")):
        params = _request_params(spec, path)
        brands = [b for b in BRANDS.values() if capability in b["capabilities"]]
        assert brands, capability
        for brand in brands:
            assert brand["device_type"] in _enum(params["device_type"]), brand["display_name"]
            assert brand["manufacturer"] in _enum(params["manufacturer"]), brand["display_name"]


def test_manufacturers_are_in_the_devices_list_enum(spec: dict[str, Any]) -> None:
    manufacturers = _enum(_request_params(spec, "/devices/list")["manufacturer"])
    for brand_key, brand in BRANDS.items():
        assert brand["manufacturer"] in manufacturers, brand_key


def test_metadata_keys_name_provider_metadata_objects_of_the_spec(spec: dict[str, Any]) -> None:
    properties = _device_properties(spec)
    for brand_key, brand in BRANDS.items():
        schema = properties.get(brand["metadata_key"])
        assert schema is not None, f"{brand_key}: {brand['metadata_key']} not in the spec"
        assert schema.get("type") == "object"


def test_remote_unlock_disabled_warnings_are_spec_warning_codes(spec: dict[str, Any]) -> None:
    warnings = spec["components"]["schemas"]["device"]["properties"]["warnings"]["items"]
    codes = _enum({"oneOf": [o["properties"]["warning_code"] for o in warnings["oneOf"]]})
    assert BRANDS["ttlock"].get("remote_unlock_disabled_warning") == (
        "ttlock_lock_gateway_unlocking_not_enabled"
    )
    for brand_key, brand in BRANDS.items():
        if "remote_unlock_disabled_warning" in brand:
            assert brand["remote_unlock_disabled_warning"] in codes, brand_key


def test_code_constraint_types_are_in_the_spec_enum(spec: dict[str, Any]) -> None:
    items = _device_properties(spec)["code_constraints"]["items"]
    allowed = _enum({"oneOf": [o["properties"]["constraint_type"] for o in items["oneOf"]]})
    for brand_key, model_key, model in MODELS:
        for constraint in model["code_constraints"]:
            assert constraint["constraint_type"] in allowed, f"{brand_key}.{model_key}"


@pytest.mark.parametrize(("brand_key", "device"), DEVICES, ids=_ids(DEVICES))
def test_sandbox_metadata_matches_the_brand_metadata_schema(
    spec: dict[str, Any], brand_key: str, device: dict[str, Any]
) -> None:
    schema = _device_properties(spec)[BRANDS[brand_key]["metadata_key"]]
    errors = _object_errors(device["metadata"], schema, BRANDS[brand_key]["metadata_key"])
    assert not errors, errors


@pytest.mark.parametrize(("brand_key", "device"), DEVICES, ids=_ids(DEVICES))
def test_sandbox_metadata_fills_every_field_of_its_schema(
    spec: dict[str, Any], brand_key: str, device: dict[str, Any]
) -> None:
    schema = _device_properties(spec)[BRANDS[brand_key]["metadata_key"]]
    fields = {
        key for key, field in _merged_properties(schema).items() if not field.get("deprecated")
    }
    assert fields <= set(device["metadata"]), sorted(fields - set(device["metadata"]))


# ------------------------------------------------------------------------------- sandbox seed


def test_every_brand_has_sandbox_accounts_and_no_account_lacks_a_brand() -> None:
    assert set(ACCOUNTS) == set(BRANDS)
    assert all(ACCOUNTS[brand_key] for brand_key in ACCOUNTS)


@pytest.mark.parametrize("brand_key", sorted(ACCOUNTS))
def test_account_logins_ask_exactly_the_brand_form_fields(brand_key: str) -> None:
    fields = LOGIN_FIELDS[BRANDS[brand_key]["credentials"]]
    for account in ACCOUNTS[brand_key]:
        assert set(account) == {"login", "any_example_com_email", "devices"}
        assert set(account["login"]) == fields
        assert all(isinstance(v, str) and v for v in account["login"].values())
        assert isinstance(account["any_example_com_email"], bool)
        assert 1 <= len(account["devices"]) <= 3


@pytest.mark.parametrize("brand_key", sorted(ACCOUNTS))
def test_sandbox_logins_use_documented_test_values(brand_key: str) -> None:
    for account in ACCOUNTS[brand_key]:
        login = account["login"]
        if "email" in login:
            assert login["email"].endswith("@example.com")
        if "password" in login:
            assert login["password"] == "1234"
        if "two_factor_code" in login:
            assert login["two_factor_code"] == "123456"
        if "api_key_id" in login:
            assert login["api_key_id"] == login["api_key"] == "ABC123ABC"
    logins = [json.dumps(a["login"], sort_keys=True) for a in ACCOUNTS[brand_key]]
    assert len(logins) == len(set(logins)), "two accounts of a brand share a login"


@pytest.mark.parametrize("brand_key", sorted(DOCUMENTED_USERS))
def test_every_documented_test_user_has_an_account(brand_key: str) -> None:
    users = {a["login"]["email"].split("@")[0] for a in ACCOUNTS[brand_key]}
    assert DOCUMENTED_USERS[brand_key] <= users


def test_sandbox_device_keys_are_unique() -> None:
    keys = [device["key"] for _, device in DEVICES]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize(("brand_key", "device"), DEVICES, ids=_ids(DEVICES))
def test_sandbox_device_model_exists_in_its_brand(brand_key: str, device: dict[str, Any]) -> None:
    assert device["model"] in BRANDS[brand_key]["models"]


@pytest.mark.parametrize(("brand_key", "device"), DEVICES, ids=_ids(DEVICES))
def test_sandbox_device_state_fields_follow_its_model(
    brand_key: str, device: dict[str, Any]
) -> None:
    model = BRANDS[brand_key]["models"][device["model"]]
    assert device["key"].startswith(f"{brand_key}_")
    if model.get("kind", "lock") != "lock":
        _check_climate_device(model, device)
        return
    assert isinstance(device["name"], str) and device["name"]
    assert isinstance(device["locked"], bool) and isinstance(device["online"], bool)
    assert isinstance(device["serial_number"], str) and device["serial_number"]
    assert isinstance(device["metadata"], dict)
    battery = device["battery_level"]
    # null means mains-powered: no battery is reported.
    assert battery is None or (isinstance(battery, (int, float)) and 0 <= battery <= 1)
    assert ("door_open" in device) == model["door_sensor"]
    assert ("hub_connected" in device) == model["requires_hub"]
    if "remote_unlock_enabled" in device:
        assert brand_key == "ttlock"
    for flag in ("door_open", "hub_connected", "remote_unlock_enabled"):
        if flag in device:
            assert isinstance(device[flag], bool)
    allowed = {
        "key", "name", "model", "locked", "online", "door_open", "battery_level",
        "hub_connected", "remote_unlock_enabled", "serial_number", "metadata",
    }
    assert set(device) <= allowed


def _check_climate_device(model: dict[str, Any], device: dict[str, Any]) -> None:
    """A virtual thermostat starts in a mode its model has, with points inside its ranges and
    a room temperature; a noise sensor names its time zone."""
    common = {"key", "name", "model", "online", "battery_level", "serial_number", "metadata"}
    if model["kind"] == "noise_sensor":
        assert set(device) == common | {"noise"}
        assert set(device["noise"]) <= {"time_zone", "physics", "level"}
        return
    assert set(device) == common | {"climate"}
    t, climate = model["thermostat"], device["climate"]
    assert climate["hvac_mode"] in t["hvac_modes"] and climate["fan_mode"] in t["fan_modes"]
    for kind in ("heating", "cooling"):
        if f"{kind}_set_point" in climate and f"min_{kind}_set_point" in t:
            assert t[f"min_{kind}_set_point"] <= climate[f"{kind}_set_point"] <= t[
                f"max_{kind}_set_point"]
    assert isinstance(climate["temperature"], (int, float))
    assert isinstance(climate["ambient_celsius"], (int, float))
    for preset in climate.get("presets", []):
        assert preset["hvac_mode_setting"] in t["hvac_modes"]
        assert preset["climate_preset_mode"] in t["climate_preset_modes"]


def test_sandbox_covers_the_scenarios_integrators_test() -> None:
    wyze_models = {d["model"] for b, d in DEVICES if b == "wyze"}
    assert {"lock", "lock_bolt"} <= wyze_models, "a Wyze gateway lock and a Wyze Lock Bolt"
    assert any(
        b == "ttlock" and d.get("remote_unlock_enabled") is False for b, d in DEVICES
    ), "a TTLock with remote unlock disabled"
    assert any(not d["online"] for _, d in DEVICES), "an offline device"
    assert any(d["battery_level"] == 0.15 for _, d in DEVICES), "a low-battery device"


def test_sandbox_uses_the_documented_device_names() -> None:
    names = {(b, d["name"]) for b, d in DEVICES}
    for expected in [
        ("ttlock", "Office Lock"), ("nuki", "Office Lock"), ("igloohome", "Office Lock"),
        ("august", "FRONT DOOR"), ("schlage", "FRONT DOOR"), ("tedee", "Lock PRO"),
        ("kwikset", "Kwikset Halo Touch"), ("my_2n", "Device 0"),
    ]:
        assert expected in names
