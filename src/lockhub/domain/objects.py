"""The objects lockhub serves, in Seam's shapes (reference/objects.md).

Optional fields default to UNSET and are left out of the JSON, as Seam does.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

ActionStatus = Literal["pending", "success", "error"]


class Object(msgspec.Struct, omit_defaults=True):
    """Base for served objects: omits fields left UNSET."""


class ActionAttemptError(Object):
    type: str
    message: str


class ActionAttempt(Object):
    action_attempt_id: str
    action_type: str
    status: ActionStatus
    result: dict[str, Any] | None
    error: ActionAttemptError | None


class DeviceManufacturer(Object):
    manufacturer: str
    display_name: str
    image_url: str | UnsetType = UNSET


class DeviceProviderRef(Object):
    device_provider_name: str
    display_name: str
    provider_category: str
    image_url: str | UnsetType = UNSET


class Device(Object):
    device_id: str
    device_type: str
    display_name: str
    capabilities_supported: list[str]
    properties: dict[str, Any]
    connected_account_id: str
    workspace_id: str
    space_ids: list[str]
    errors: list[dict[str, Any]]
    warnings: list[dict[str, Any]]
    created_at: str
    is_managed: bool
    custom_metadata: dict[str, str | bool]
    nickname: str | UnsetType = UNSET
    location: dict[str, Any] | UnsetType = UNSET
    device_manufacturer: DeviceManufacturer | UnsetType = UNSET
    device_provider: DeviceProviderRef | UnsetType = UNSET
    can_remotely_lock: bool | UnsetType = UNSET
    can_remotely_unlock: bool | UnsetType = UNSET
    can_program_online_access_codes: bool | UnsetType = UNSET
    can_program_offline_access_codes: bool | UnsetType = UNSET
    can_unlock_with_code: bool | UnsetType = UNSET
    can_configure_auto_lock: bool | UnsetType = UNSET
    can_simulate_connection: bool | UnsetType = UNSET
    can_simulate_disconnection: bool | UnsetType = UNSET
    can_simulate_removal: bool | UnsetType = UNSET
    can_simulate_hub_connection: bool | UnsetType = UNSET
    can_simulate_hub_disconnection: bool | UnsetType = UNSET
    can_simulate_paid_subscription: bool | UnsetType = UNSET
    can_hvac_heat: bool | UnsetType = UNSET
    can_hvac_cool: bool | UnsetType = UNSET
    can_hvac_heat_cool: bool | UnsetType = UNSET
    can_turn_off_hvac: bool | UnsetType = UNSET
    can_run_thermostat_programs: bool | UnsetType = UNSET
    can_program_thermostat_programs_as_same_each_day: bool | UnsetType = UNSET
    can_program_thermostat_programs_as_weekday_weekend: bool | UnsetType = UNSET
    can_program_thermostat_programs_as_different_each_day: bool | UnsetType = UNSET


class DeviceProvider(Object):
    device_provider_name: str
    display_name: str
    image_url: str
    provider_categories: list[str]
    can_remotely_lock: bool | UnsetType = UNSET
    can_remotely_unlock: bool | UnsetType = UNSET
    can_program_online_access_codes: bool | UnsetType = UNSET
    can_program_offline_access_codes: bool | UnsetType = UNSET
    can_unlock_with_code: bool | UnsetType = UNSET
    can_configure_auto_lock: bool | UnsetType = UNSET
    can_hvac_heat: bool | UnsetType = UNSET
    can_hvac_cool: bool | UnsetType = UNSET
    can_hvac_heat_cool: bool | UnsetType = UNSET
    can_turn_off_hvac: bool | UnsetType = UNSET
    can_run_thermostat_programs: bool | UnsetType = UNSET
    can_program_thermostat_programs_as_same_each_day: bool | UnsetType = UNSET
    can_program_thermostat_programs_as_weekday_weekend: bool | UnsetType = UNSET
    can_program_thermostat_programs_as_different_each_day: bool | UnsetType = UNSET


class ConnectWebviewCustomization(Object):
    inviter_logo_url: str | UnsetType = UNSET
    logo_shape: Literal["circle", "square"] | UnsetType = UNSET
    primary_button_color: str | UnsetType = UNSET
    primary_button_text_color: str | UnsetType = UNSET
    success_message: str | UnsetType = UNSET


class Workspace(Object):
    workspace_id: str
    name: str
    company_name: str
    connect_partner_name: str | None
    is_sandbox: bool
    is_suspended: bool
    is_publishable_key_auth_enabled: bool
    organization_id: str | None
    connect_webview_customization: ConnectWebviewCustomization
    publishable_key: str | UnsetType = UNSET


class Event(msgspec.Struct, omit_defaults=True):
    """Schema of an event as documented: common fields; type-specific fields ride along.

    Events are stored and served as the exact JSON object recorded (see services.events);
    this Struct documents the common part in /openapi.json.
    """

    event_id: str
    event_type: str
    workspace_id: str
    created_at: str
    occurred_at: str
    device_id: str | UnsetType = UNSET
    connected_account_id: str | UnsetType = UNSET
    action_attempt_id: str | UnsetType = UNSET
    access_code_id: str | UnsetType = UNSET
    connect_webview_id: str | UnsetType = UNSET
    event_description: str | UnsetType = UNSET


class Pagination(msgspec.Struct):
    has_next_page: bool
    next_page_cursor: str | None
    next_page_url: str | None


class AccessCode(Object):
    access_code_id: str
    device_id: str
    workspace_id: str
    name: str | None
    code: str | None
    common_code_key: str | None
    type: Literal["time_bound", "ongoing"]
    status: Literal["setting", "set", "unset", "removing", "unknown"]
    created_at: str
    errors: list[dict[str, Any]]
    warnings: list[dict[str, Any]]
    pending_mutations: list[dict[str, Any]]
    is_managed: bool
    is_backup_access_code_available: bool
    is_external_modification_allowed: bool
    is_one_time_use: bool
    is_offline_access_code: bool
    starts_at: str | None | UnsetType = UNSET
    ends_at: str | None | UnsetType = UNSET
    is_backup: bool | UnsetType = UNSET
    pulled_backup_access_code_id: str | None | UnsetType = UNSET
    is_scheduled_on_device: bool | UnsetType = UNSET
    is_waiting_for_code_assignment: bool | UnsetType = UNSET


class UnmanagedAccessCode(Object):
    access_code_id: str
    device_id: str
    workspace_id: str
    name: str | None
    code: str | None
    type: Literal["time_bound", "ongoing"]
    status: Literal["set", "unset"]
    created_at: str
    errors: list[dict[str, Any]]
    warnings: list[dict[str, Any]]
    is_managed: bool
    starts_at: str | None | UnsetType = UNSET
    ends_at: str | None | UnsetType = UNSET


class GeneratedCode(Object):
    device_id: str
    code: str


class ConnectWebview(Object):
    connect_webview_id: str
    workspace_id: str
    created_at: str
    connected_account_id: str | None
    url: str
    device_selection_mode: str
    accepted_providers: list[str]
    accepted_capabilities: list[str]
    accepted_devices: list[str]
    any_device_allowed: bool
    any_provider_allowed: bool
    login_successful: bool
    status: str
    custom_redirect_url: str | None
    custom_redirect_failure_url: str | None
    custom_metadata: dict[str, str | bool]
    automatically_manage_new_devices: bool
    wait_for_device_creation: bool
    authorized_at: str | None
    selected_provider: str | None
    customer_key: str | UnsetType = UNSET


class ConnectedAccount(Object):
    connected_account_id: str
    account_type_display_name: str
    display_name: str
    errors: list[dict[str, Any]]
    warnings: list[dict[str, Any]]
    custom_metadata: dict[str, str | bool]
    automatically_manage_new_devices: bool
    accepted_capabilities: list[str]
    account_type: str | UnsetType = UNSET
    created_at: str | UnsetType = UNSET
    image_url: str | UnsetType = UNSET
    customer_key: str | UnsetType = UNSET
    user_identifier: dict[str, Any] | UnsetType = UNSET


class UserIdentity(Object):
    user_identity_id: str
    workspace_id: str
    user_identity_key: str | None
    email_address: str | None
    phone_number: str | None
    display_name: str
    full_name: str | None
    created_at: str
    acs_user_ids: list[str]
    merged_user_identity_ids: list[str]
    merged_user_identity_keys: list[str]
    errors: list[dict[str, Any]]
    warnings: list[dict[str, Any]]


class ClientSession(Object):
    client_session_id: str
    workspace_id: str
    token: str
    created_at: str
    expires_at: str
    user_identifier_key: str | None
    device_count: int
    connected_account_ids: list[str]
    connect_webview_ids: list[str]
    user_identity_ids: list[str]
    user_identity_id: str | UnsetType = UNSET
    customer_key: str | UnsetType = UNSET


class SpaceGeolocation(Object):
    latitude: float
    longitude: float


class Space(Object):
    space_id: str
    workspace_id: str
    name: str
    display_name: str
    created_at: str
    device_count: int
    acs_entrance_count: int
    # address, default_checkin_time, default_checkout_time, time_zone: the keys that were given.
    customer_data: dict[str, str | None]
    geolocation: SpaceGeolocation | None  # nothing sets it in lockhub: always null
    space_key: str | UnsetType = UNSET
    customer_key: str | UnsetType = UNSET
    parent_space_id: str | UnsetType = UNSET
    parent_space_key: str | UnsetType = UNSET


class SpaceBatch(Object):
    """/spaces/get_related: the spaces and what they hold (the kinds `include` names, less those
    `exclude` names), with the access methods of grants made for them. lockhub has no
    access-control systems: the ACS kinds are empty."""

    spaces: list[Space] | UnsetType = UNSET
    devices: list[Device] | UnsetType = UNSET
    connected_accounts: list[ConnectedAccount] | UnsetType = UNSET
    acs_entrances: list[dict[str, Any]] | UnsetType = UNSET
    acs_systems: list[dict[str, Any]] | UnsetType = UNSET
    access_methods: list[AccessMethod] | UnsetType = UNSET


class RequestedAccessMethod(Object):
    display_name: str
    mode: str
    created_at: str
    created_access_method_ids: list[str]
    code: str | UnsetType = UNSET


class AccessGrant(Object):
    workspace_id: str
    access_grant_id: str
    user_identity_id: str
    location_ids: list[str]
    space_ids: list[str]
    requested_access_methods: list[RequestedAccessMethod]
    access_method_ids: list[str]
    name: str | None
    display_name: str
    created_at: str
    starts_at: str | None
    ends_at: str | None
    display_status: str
    warnings: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    pending_mutations: list[dict[str, Any]]
    access_grant_key: str | UnsetType = UNSET
    reservation_key: str | UnsetType = UNSET


class AccessMethod(Object):
    workspace_id: str
    access_method_id: str
    display_name: str
    mode: str
    created_at: str
    issued_at: str | None
    is_issued: bool
    display_status: str
    warnings: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    pending_mutations: list[dict[str, Any]]
    code: str | UnsetType = UNSET


class AccessGrantBatch(Object):
    """/access_grants/get_related: what the grants reach (the kinds `include` names, less those
    `exclude` names); the ACS kinds are empty in lockhub."""

    access_methods: list[AccessMethod] | UnsetType = UNSET
    devices: list[Device] | UnsetType = UNSET
    spaces: list[Space] | UnsetType = UNSET
    user_identities: list[UserIdentity] | UnsetType = UNSET
    connected_accounts: list[ConnectedAccount] | UnsetType = UNSET
    acs_entrances: list[dict[str, Any]] | UnsetType = UNSET
    acs_systems: list[dict[str, Any]] | UnsetType = UNSET
    acs_access_groups: list[dict[str, Any]] | UnsetType = UNSET


class AccessMethodBatch(Object):
    """/access_methods/get_related: the methods, their grants and what they reach."""

    access_methods: list[AccessMethod] | UnsetType = UNSET
    access_grants: list[AccessGrant] | UnsetType = UNSET
    devices: list[Device] | UnsetType = UNSET
    spaces: list[Space] | UnsetType = UNSET
    client_sessions: list[dict[str, Any]] | UnsetType = UNSET
    instant_keys: list[dict[str, Any]] | UnsetType = UNSET
    acs_entrances: list[dict[str, Any]] | UnsetType = UNSET
    acs_credentials: list[dict[str, Any]] | UnsetType = UNSET
