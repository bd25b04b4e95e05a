"""Every table. Rows that belong to a workspace carry `workspace_id`."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

from lockhub.store.types import Json, UtcDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

workspaces = Table(
    "workspaces",
    metadata,
    Column("workspace_id", String, primary_key=True),
    Column("name", String, nullable=False),
    Column("company_name", String, nullable=False),
    Column("connect_partner_name", String, nullable=True),
    Column("is_sandbox", Boolean, nullable=False),
    Column("is_suspended", Boolean, nullable=False, default=False),
    Column("is_publishable_key_auth_enabled", Boolean, nullable=False, default=False),
    Column("publishable_key", String, nullable=True),
    Column("organization_id", String, nullable=True),
    Column("connect_webview_customization", Json, nullable=False),
    # Name of the sandbox seed that /workspaces/reset_sandbox restores (None: start empty).
    Column("sandbox_seed", String, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    # The sandbox clock: workspace time = frozen instant, or real time + offset.
    Column("clock_offset_seconds", Float, nullable=False, server_default="0"),
    Column("clock_frozen_at", UtcDateTime, nullable=True),
    # Routes answered 503 for this workspace (a simulated outage, sandbox test hook); None: none.
    Column("outage_routes", Json, nullable=True),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("api_key_id", String, primary_key=True),  # the <id> in seam_<id>_<secret>
    Column("workspace_id", String, ForeignKey("workspaces.workspace_id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("name", String, nullable=False),
    Column("secret_digest", String, nullable=False),  # sha256 hex of the secret part only
    Column("created_at", UtcDateTime, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("user_id", String, primary_key=True),
    Column("email", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

personal_access_tokens = Table(
    "personal_access_tokens",
    metadata,
    Column("token_id", String, primary_key=True),  # the lookup part of seam_at<id>_...
    Column("user_id", String, ForeignKey("users.user_id", ondelete="CASCADE"), nullable=False),
    Column("name", String, nullable=False),
    Column("secret_digest", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

workspace_members = Table(
    "workspace_members",
    metadata,
    Column("workspace_id", String, ForeignKey("workspaces.workspace_id", ondelete="CASCADE"),
           primary_key=True),
    Column("user_id", String, ForeignKey("users.user_id", ondelete="CASCADE"), primary_key=True),
)

# A person an integrator gives access to (Seam's user identity): devices are granted to it one by
# one (user_identity_devices) and, through a client session, it sees only those.
user_identities = Table(
    "user_identities",
    metadata,
    Column("user_identity_id", String, primary_key=True),
    Column("workspace_id", String, ForeignKey("workspaces.workspace_id", ondelete="CASCADE"),
           nullable=False),
    Column("user_identity_key", String, nullable=True),
    Column("email_address", String, nullable=True),
    Column("phone_number", String, nullable=True),
    Column("full_name", String, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_user_identities_workspace_created", "workspace_id", "created_at",
          "user_identity_id"),
    # Seam: key, email address and phone number are each unique within a workspace.
    Index("uq_user_identities_key", "workspace_id", "user_identity_key", unique=True),
    Index("uq_user_identities_email", "workspace_id", "email_address", unique=True),
    Index("uq_user_identities_phone", "workspace_id", "phone_number", unique=True),
)

user_identity_devices = Table(
    "user_identity_devices",
    metadata,
    Column("user_identity_id", String,
           ForeignKey("user_identities.user_identity_id", ondelete="CASCADE"), primary_key=True),
    Column("device_id", String, ForeignKey("devices.device_id", ondelete="CASCADE"),
           primary_key=True),
    Column("workspace_id", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_user_identity_devices_device", "device_id"),
)

# A browser's credential (`seam_cst…`): what it was granted is all it sees. The token is
# served back by /client_sessions/get and list, so it is stored sealed (Fernet) and found by
# its sha256 digest.
client_sessions = Table(
    "client_sessions",
    metadata,
    Column("client_session_id", String, primary_key=True),
    Column("workspace_id", String, ForeignKey("workspaces.workspace_id", ondelete="CASCADE"),
           nullable=False),
    Column("token_digest", String, nullable=False, unique=True),
    Column("token_sealed", Text, nullable=False),
    Column("user_identifier_key", String, nullable=True),
    Column("customer_key", String, nullable=True),
    Column("connected_account_ids", Json, nullable=False),
    Column("connect_webview_ids", Json, nullable=False),
    Column("user_identity_ids", Json, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    Index("ix_client_sessions_workspace_created", "workspace_id", "created_at",
          "client_session_id"),
    Index("uq_client_sessions_user_identifier_key", "workspace_id", "user_identifier_key",
          unique=True),
)

connected_accounts = Table(
    "connected_accounts",
    metadata,
    Column("connected_account_id", String, primary_key=True),
    Column("workspace_id", String, ForeignKey("workspaces.workspace_id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("account_type", String, nullable=False),  # the brand, e.g. "august"
    Column("provider", String, nullable=False),  # the adapter that serves it, e.g. "sandbox"
    Column("user_identifier", Json, nullable=False),
    Column("credentials", Json, nullable=False),  # provider-specific; sandbox: the test login
    Column("custom_metadata", Json, nullable=False),
    Column("automatically_manage_new_devices", Boolean, nullable=False, default=True),
    Column("display_name", String, nullable=True),  # set by /connected_accounts/update
    Column("customer_key", String, nullable=True),
    Column("accepted_capabilities", Json, nullable=True),
    Column("errors", Json, nullable=False),
    Column("warnings", Json, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

connect_webviews = Table(
    "connect_webviews",
    metadata,
    Column("connect_webview_id", String, primary_key=True),
    Column("workspace_id", String, ForeignKey("workspaces.workspace_id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("auth_token", String, nullable=False),  # the `auth_token` of the page URL
    Column("status", String, nullable=False),  # pending | failed | authorized
    Column("login_successful", Boolean, nullable=False),
    Column("connected_account_id", String, nullable=True),
    Column("authorized_at", UtcDateTime, nullable=True),
    Column("selected_provider", String, nullable=True),
    Column("accepted_providers", Json, nullable=False),
    Column("any_provider_allowed", Boolean, nullable=False),
    Column("accepted_capabilities", Json, nullable=False),
    Column("device_selection_mode", String, nullable=False),
    Column("custom_redirect_url", String, nullable=True),
    Column("custom_redirect_failure_url", String, nullable=True),
    Column("custom_metadata", Json, nullable=False),
    Column("customer_key", String, nullable=True),
    Column("automatically_manage_new_devices", Boolean, nullable=False),
    Column("wait_for_device_creation", Boolean, nullable=False),
    # A sign-in waiting for its second factor: the first step's form, Fernet-encrypted.
    Column("pending_login", Text, nullable=True),
    Column("failed_attempts", Integer, nullable=False, server_default="0"),
    Column("created_at", UtcDateTime, nullable=False),
)

devices = Table(
    "devices",
    metadata,
    Column("device_id", String, primary_key=True),
    Column("workspace_id", String, ForeignKey("workspaces.workspace_id", ondelete="CASCADE"),
           nullable=False),
    Column("connected_account_id", String,
           ForeignKey("connected_accounts.connected_account_id", ondelete="CASCADE"),
           nullable=False),
    Column("provider_device_id", String, nullable=False),  # the provider's own id
    Column("device_type", String, nullable=False),
    Column("manufacturer", String, nullable=False),
    Column("brand", String, nullable=False),  # catalogue brand key
    Column("model", String, nullable=False),  # catalogue model key within the brand
    Column("nickname", String, nullable=True),
    Column("display_name", String, nullable=False),  # nickname or appearance name, kept in sync
    Column("is_managed", Boolean, nullable=False, default=True),
    Column("custom_metadata", Json, nullable=False),
    Column("state", Json, nullable=False),  # last snapshot reported by the provider
    Column("errors", Json, nullable=False),
    Column("warnings", Json, nullable=False),
    Column("location", Json, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    # Set by /devices/update or the first code that asks for backups.
    Column("backup_pool_enabled", Boolean, nullable=False, server_default="0"),
    # PIN lengths reported with /access_codes/report_device_constraints (None: the model's).
    Column("reported_code_lengths", Json, nullable=True),
    Column("kind", String, nullable=False, server_default="lock"),  # lock | thermostat | noise_sensor
    # What lockhub keeps for a thermostat or noise sensor beyond the provider's reports, and
    # serves inside the device (so it changes with the row the read model watches): climate
    # presets, the fallback preset, the temperature threshold, the active schedule and
    # override; the noise thresholds triggering now. None for locks.
    Column("settings", Json, nullable=True),
    Index("ix_devices_workspace_created", "workspace_id", "created_at", "device_id"),
    Index("ix_devices_workspace_kind_created", "workspace_id", "kind", "created_at", "device_id"),
    Index("ix_devices_account", "connected_account_id"),
)

action_attempts = Table(
    "action_attempts",
    metadata,
    Column("action_attempt_id", String, primary_key=True),
    Column("workspace_id", String, ForeignKey("workspaces.workspace_id", ondelete="CASCADE"),
           nullable=False),
    Column("device_id", String, nullable=True),
    Column("action_type", String, nullable=False),
    Column("status", String, nullable=False),
    Column("result", Json, nullable=True),
    Column("error", Json, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_action_attempts_workspace_created", "workspace_id", "created_at",
          "action_attempt_id"),
    Index("ix_action_attempts_device_created", "device_id", "created_at"),
    # The expiry sweep finds pending attempts past their timeout without scanning settled ones.
    Index("ix_action_attempts_pending", "created_at", sqlite_where=text("status = 'pending'"),
          postgresql_where=text("status = 'pending'")),
)

events = Table(
    "events",
    metadata,
    Column("event_id", String, primary_key=True),
    Column("workspace_id", String, ForeignKey("workspaces.workspace_id", ondelete="CASCADE"),
           nullable=False),
    Column("event_type", String, nullable=False),
    Column("device_id", String, nullable=True),
    Column("connected_account_id", String, nullable=True),
    Column("access_code_id", String, nullable=True),
    Column("connect_webview_id", String, nullable=True),
    Column("action_attempt_id", String, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("body", Json, nullable=False),  # the full event object as served
    Index("ix_events_workspace_created", "workspace_id", "created_at"),
    Index("ix_events_workspace_device", "workspace_id", "device_id", "created_at"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("job_id", String, primary_key=True),
    Column("workspace_id", String, nullable=False),
    Column("kind", String, nullable=False),
    Column("key", String, nullable=False),  # rows with the same key never run concurrently
    Column("payload", Json, nullable=False),
    Column("run_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    # Bumped whenever the job is asked for again while it may be running, so the running copy
    # does not overwrite the new request when it reschedules or finishes.
    Column("generation", Integer, nullable=False, server_default="0"),
    Column("lease_until", UtcDateTime, nullable=True),
    Column("leased_by", String, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_jobs_due", "run_at"),
    Index("ix_jobs_key", "key"),
)

# One row per connected account of a live provider (Z-Wave JS, Zigbee2MQTT): the process that
# holds the lease keeps the account's one live connection open.
provider_connections = Table(
    "provider_connections",
    metadata,
    Column("connected_account_id", String,
           ForeignKey("connected_accounts.connected_account_id", ondelete="CASCADE"),
           primary_key=True),
    Column("holder", String, nullable=True),
    Column("lease_until", UtcDateTime, nullable=True),
    Column("connected", Boolean, nullable=False, server_default="0"),
    Column("last_error", String, nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
)

# One row per running engine (`lockhub serve` or `lockhub worker`), refreshed while it runs.
# `process_key` (boot id, pid namespace, pid, process start time) lets another engine on the same
# machine tell that the holder's process is gone and take its leases at once.
workers = Table(
    "workers",
    metadata,
    Column("worker_id", String, primary_key=True),
    Column("host", String, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("process_key", String, nullable=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("heartbeat_at", UtcDateTime, nullable=False),
)

# The sandbox provider's own persistence: the "physical" virtual locks. lockhub's device rows are
# its view of them, updated only through the provider protocol, as with a real lock.
sandbox_devices = Table(
    "sandbox_devices",
    metadata,
    Column("sandbox_device_id", String, primary_key=True),
    Column("workspace_id", String, ForeignKey("workspaces.workspace_id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("account_login", String, nullable=False),  # brand/login of the test account
    Column("brand", String, nullable=False),
    Column("model", String, nullable=False),
    Column("name", String, nullable=False),
    Column("locked", Boolean, nullable=False),
    Column("online", Boolean, nullable=False),
    Column("door_open", Boolean, nullable=True),
    Column("hub_connected", Boolean, nullable=True),
    Column("battery_level", Float, nullable=True),  # None: mains powered
    Column("settings", Json, nullable=False),  # e.g. remote_unlock_enabled
    Column("metadata", Json, nullable=False),  # the brand's <x>_metadata
    Column("serial_number", String, nullable=True),
    Column("latency_ms", Integer, nullable=True),  # overrides the model's latency
    Column("faults", Json, nullable=False),
    Column("codes", Json, nullable=False),  # slot -> code on the device
    Column("created_at", UtcDateTime, nullable=False),
    # A virtual thermostat's physical state (providers/sandbox/climate.py) and a virtual noise
    # sensor's (providers/sandbox/noise.py); None for locks.
    Column("climate", Json, nullable=True),
    Column("noise", Json, nullable=True),
)

access_codes = Table(
    "access_codes",
    metadata,
    Column("access_code_id", String, primary_key=True),
    Column("workspace_id", String, ForeignKey("workspaces.workspace_id", ondelete="CASCADE"),
           nullable=False),
    Column("device_id", String, ForeignKey("devices.device_id", ondelete="CASCADE"),
           nullable=False),
    Column("is_managed", Boolean, nullable=False),
    Column("name", String, nullable=True),
    Column("code", String, nullable=True),
    Column("common_code_key", String, nullable=True),
    Column("starts_at", UtcDateTime, nullable=True),
    Column("ends_at", UtcDateTime, nullable=True),
    # Lifecycle: unset | setting | set | removing | unknown (managed); set | unset (unmanaged).
    Column("status", String, nullable=False),
    # The user asked for it to be deleted; it goes once it is off the lock.
    Column("deleting", Boolean, nullable=False, server_default="0"),
    Column("is_external_modification_allowed", Boolean, nullable=False, server_default="0"),
    Column("is_one_time_use", Boolean, nullable=False, server_default="0"),
    Column("is_offline_access_code", Boolean, nullable=False, server_default="0"),
    Column("is_backup", Boolean, nullable=False, server_default="0"),
    # For a backup code handed out: the code it stands in for (None while it waits in the pool).
    Column("backup_for_access_code_id", String, nullable=True),
    Column("use_backup_pool", Boolean, nullable=False, server_default="0"),
    Column("pulled_backup_access_code_id", String, nullable=True),
    Column("prefer_native_scheduling", Boolean, nullable=False, server_default="1"),
    Column("is_scheduled_on_device", Boolean, nullable=False, server_default="0"),
    # Where it lives on the lock (the provider's opaque reference: a slot number, a brand's id)
    # and what lockhub last wrote there (to spot outside changes).
    Column("device_ref", String, nullable=True),
    Column("on_device", Json, nullable=True),
    Column("errors", Json, nullable=False),
    Column("warnings", Json, nullable=False),
    Column("pending_mutations", Json, nullable=False),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("created_at", UtcDateTime, nullable=False),
    # A code an access grant's `code` access method made (services/access_grants.py).
    Column("access_method_id", String, nullable=True, index=True),
    Column("access_grant_id", String, nullable=True),
    Index("ix_access_codes_device_created", "workspace_id", "device_id", "is_managed",
          "created_at", "access_code_id"),
    Index("ix_access_codes_common_key", "workspace_id", "common_code_key"),
    # The engine and the checks on a device's other codes look codes up by device alone.
    Index("ix_access_codes_device", "device_id", "device_ref"),
    # PIN uniqueness on a device (services/access_codes._PIN_OWNER).
    Index("ix_access_codes_device_code", "device_id", "code"),
)

# Seam's access grants: a user identity's access to devices (directly or through spaces) for a
# time window, carried out by access methods. A `code` method is one PIN, held by managed
# access codes on every lock of the grant (access_codes.access_method_id).
access_grants = Table(
    "access_grants",
    metadata,
    Column("access_grant_id", String, primary_key=True),
    Column("workspace_id", String, ForeignKey("workspaces.workspace_id", ondelete="CASCADE"),
           nullable=False),
    Column("user_identity_id", String, nullable=False, index=True),
    Column("access_grant_key", String, nullable=True),
    Column("reservation_key", String, nullable=True),
    Column("name", String, nullable=True),
    Column("space_ids", Json, nullable=False),
    Column("device_ids", Json, nullable=False),  # every device of the grant, spaces resolved
    Column("requested_access_methods", Json, nullable=False),
    Column("starts_at", UtcDateTime, nullable=True),
    Column("ends_at", UtcDateTime, nullable=True),
    Column("warnings", Json, nullable=False),
    Column("errors", Json, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_access_grants_workspace_created", "workspace_id", "created_at", "access_grant_id"),
    Index("uq_access_grants_key", "workspace_id", "access_grant_key", unique=True),
)

access_methods = Table(
    "access_methods",
    metadata,
    Column("access_method_id", String, primary_key=True),
    Column("workspace_id", String, nullable=False),
    Column("access_grant_id", String,
           ForeignKey("access_grants.access_grant_id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("mode", String, nullable=False),
    Column("code", String, nullable=True),
    # Set once every code of the method is on its lock (access_method.issued).
    Column("issued_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_access_methods_workspace_created", "workspace_id", "created_at",
          "access_method_id"),
)

# The PINs stored in each virtual lock, one row per slot.
sandbox_codes = Table(
    "sandbox_codes",
    metadata,
    Column("sandbox_device_id", String,
           ForeignKey("sandbox_devices.sandbox_device_id", ondelete="CASCADE"),
           primary_key=True),
    Column("slot", Integer, primary_key=True),
    Column("code", String, nullable=False),
    Column("name", String, nullable=True),
    Column("starts_at", UtcDateTime, nullable=True),
    Column("ends_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("webhook_id", String, primary_key=True),
    Column("workspace_id", String, ForeignKey("workspaces.workspace_id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("url", String, nullable=False),
    Column("event_types", Json, nullable=False),  # ["*"] for every event
    Column("secret_encrypted", String, nullable=False),  # the whsec_ secret, encrypted at rest
    Column("created_at", UtcDateTime, nullable=False),
)

# The outbox: one row per (event, webhook); the engine delivers it at least once.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("delivery_id", String, primary_key=True),
    Column("workspace_id", String, ForeignKey("workspaces.workspace_id", ondelete="CASCADE"),
           nullable=False),
    Column("webhook_id", String, ForeignKey("webhooks.webhook_id", ondelete="CASCADE"),
           nullable=False),
    Column("event_id", String, nullable=False),
    Column("event_type", String, nullable=False),
    Column("payload", Text, nullable=False),  # the exact JSON body sent (and signed)
    Column("status", String, nullable=False),  # pending | delivered | failed
    Column("attempt_count", Integer, nullable=False, server_default="0"),
    Column("attempts", Json, nullable=False),  # [{at, status_code, latency_ms, error}]
    Column("next_attempt_at", UtcDateTime, nullable=True),  # workspace time
    Column("delivered_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_webhook_deliveries_workspace_created", "workspace_id", "created_at"),
    Index("ix_webhook_deliveries_webhook", "webhook_id", "created_at"),
    # A webhook's delivery job finds its pending deliveries without scanning delivered ones.
    Index("ix_webhook_deliveries_pending", "webhook_id", "created_at",
          sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'")),
)

# Rows updated or deleted, logged by SQLite triggers (migration 0010) in the transaction that
# changes them: how every process's read model learns which cached rows are stale.
row_changes = Table(
    "row_changes",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("table_name", String, nullable=False),
    Column("row_key", String, nullable=False),
    sqlite_autoincrement=True,
)

# A counter per table whose inserts change list pages (devices, access codes, events), bumped
# by SQLite triggers (migration 0013) in the inserting transaction: a read model drops its
# remembered pages of a table when the counter moved. One row update per insert, where a
# row_changes entry would cost an insert and an AUTOINCREMENT bump.
table_versions = Table(
    "table_versions",
    metadata,
    Column("table_name", String, primary_key=True),
    Column("version", Integer, nullable=False),
    sqlite_with_rowid=False,
)

# A space groups devices (a unit, a building): devices directly (space_devices) and every device
# of a connected account added to it (space_connected_accounts). A parent space is a site.
spaces = Table(
    "spaces",
    metadata,
    Column("space_id", String, primary_key=True),
    Column("workspace_id", String, ForeignKey("workspaces.workspace_id", ondelete="CASCADE"),
           nullable=False),
    Column("name", String, nullable=False),
    Column("space_key", String, nullable=True),
    Column("customer_key", String, nullable=True),
    Column("parent_space_id", String, ForeignKey("spaces.space_id", ondelete="SET NULL"),
           nullable=True),
    Column("customer_data", Json, nullable=False),  # address, check-in/out times, time zone
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_spaces_workspace_created", "workspace_id", "created_at", "space_id"),
    # Seam: a space key is unique within a workspace.
    Index("uq_spaces_key", "workspace_id", "space_key", unique=True),
    Index("ix_spaces_parent", "parent_space_id"),
)

# Deleting a device, an account or a space deletes its membership rows with it.
space_devices = Table(
    "space_devices",
    metadata,
    Column("space_id", String, ForeignKey("spaces.space_id", ondelete="CASCADE"),
           primary_key=True),
    Column("device_id", String, ForeignKey("devices.device_id", ondelete="CASCADE"),
           primary_key=True),
    Column("workspace_id", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_space_devices_device", "device_id"),
)

space_connected_accounts = Table(
    "space_connected_accounts",
    metadata,
    Column("space_id", String, ForeignKey("spaces.space_id", ondelete="CASCADE"),
           primary_key=True),
    Column("connected_account_id", String,
           ForeignKey("connected_accounts.connected_account_id", ondelete="CASCADE",
                      name="fk_space_connected_accounts_account"),  # the convention's is too long
           primary_key=True),
    Column("workspace_id", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_space_connected_accounts_account", "connected_account_id"),
)

# A person signed in to the console (web/console): the cookie holds a random secret, this row
# its digest and the credential they signed in with, encrypted (secret_box), so signing out or
# expiry ends the session on the server, and a copied database holds no usable credential.
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("session_id", String, primary_key=True),  # sha256 hex of the cookie's secret
    Column("credential_sealed", String, nullable=False),
    # The workspace the console shows (an API key's own; for a PAT, the one chosen).
    Column("workspace_id", String, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False, index=True),
)


thermostat_schedules = Table(
    "thermostat_schedules",
    metadata,
    Column("thermostat_schedule_id", String, primary_key=True),
    Column("workspace_id", String, ForeignKey("workspaces.workspace_id", ondelete="CASCADE"),
           nullable=False),
    Column("device_id", String, ForeignKey("devices.device_id", ondelete="CASCADE"),
           nullable=False),
    Column("name", String, nullable=True),
    Column("climate_preset_key", String, nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=False),
    Column("is_override_allowed", Boolean, nullable=True),
    Column("max_override_period_minutes", Integer, nullable=True),
    Column("errors", Json, nullable=False),
    # The user of the client session that created it (/thermostats/schedules/list filters on it).
    Column("user_identifier_key", String, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_thermostat_schedules_device_starts", "device_id", "starts_at"),
)

noise_thresholds = Table(
    "noise_thresholds",
    metadata,
    Column("noise_threshold_id", String, primary_key=True),
    Column("workspace_id", String, ForeignKey("workspaces.workspace_id", ondelete="CASCADE"),
           nullable=False),
    Column("device_id", String, ForeignKey("devices.device_id", ondelete="CASCADE"),
           nullable=False),
    Column("name", String, nullable=False),
    Column("starts_daily_at", String, nullable=False),  # "HH:MM:SS[Zone]" as given
    Column("ends_daily_at", String, nullable=False),
    Column("noise_threshold_decibels", Float, nullable=False),
    Column("noise_threshold_nrs", Float, nullable=True),
    # False until the sensor has it (the attempt that programs it succeeded).
    Column("is_programmed", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_noise_thresholds_device_created", "device_id", "created_at"),
)
