"""/workspaces/* through the official SDK: API keys, personal access tokens, sandbox reset.

The reset runs against a server of its own, so the session server's state is never wiped.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from seam import (
    Seam,
    SeamHttpApiError,
    SeamHttpUnauthorizedError,
    SeamWithoutWorkspace,
)

from tests.conformance.helpers import (
    EPOCH,
    OTHER_WORKSPACE,
    PAT,
    SANDBOX_KEY,
    SANDBOX_WORKSPACE,
    seed_ids,
)
from tests.server import LockhubServer, start_server


def test_get_returns_the_keys_workspace(seam: Seam, other_seam: Seam) -> None:
    workspace = seam.workspaces.get()
    assert workspace.workspace_id == SANDBOX_WORKSPACE
    assert workspace.name == "lockhub Demo"
    assert workspace.is_sandbox is True
    assert workspace.is_suspended is False
    other = other_seam.workspaces.get()
    assert other.workspace_id == OTHER_WORKSPACE
    assert other.is_sandbox is False


def test_list_with_an_api_key_returns_only_its_workspace(seam: Seam) -> None:
    workspaces = seam.workspaces.list()
    assert [w.workspace_id for w in workspaces] == [SANDBOX_WORKSPACE]


def test_list_with_a_personal_access_token_returns_the_users_workspaces(
    server: LockhubServer,
) -> None:
    user = SeamWithoutWorkspace(personal_access_token=PAT, endpoint=server.url)
    ids = [w.workspace_id for w in user.workspaces.list()]
    assert SANDBOX_WORKSPACE in ids
    assert OTHER_WORKSPACE not in ids, "john is not a member of the empty workspace"


def test_personal_access_token_creates_a_workspace_it_can_then_use(
    server: LockhubServer,
) -> None:
    user = SeamWithoutWorkspace.from_personal_access_token(PAT, endpoint=server.url)
    created = user.workspaces.create(name="Conformance Workspace", is_sandbox=True,
                                     connect_partner_name="Conformance Partner")
    assert created.name == "Conformance Workspace"
    assert created.is_sandbox is True
    assert created.connect_partner_name == "Conformance Partner"
    assert created.workspace_id not in (SANDBOX_WORKSPACE, OTHER_WORKSPACE)
    assert created.workspace_id in [w.workspace_id for w in user.workspaces.list()]

    inside = Seam.from_personal_access_token(PAT, created.workspace_id, endpoint=server.url)
    assert inside.workspaces.get().workspace_id == created.workspace_id
    assert inside.devices.list() == []

    own_workspace = Seam.from_personal_access_token(PAT, SANDBOX_WORKSPACE, endpoint=server.url)
    assert own_workspace.workspaces.get().workspace_id == SANDBOX_WORKSPACE
    assert own_workspace.devices.list(), "the PAT reaches the seeded devices through the header"


def test_update_changes_only_the_given_fields_of_the_credentials_workspace(
    server: LockhubServer, seam: Seam,
) -> None:
    user = SeamWithoutWorkspace.from_personal_access_token(PAT, endpoint=server.url)
    created = user.workspaces.create(
        name="Before", is_sandbox=True, connect_partner_name="Partner",
        connect_webview_customization={"primary_button_color": "#000000",
                                       "success_message": "Done"})
    inside = Seam.from_personal_access_token(PAT, created.workspace_id, endpoint=server.url)
    inside.workspaces.update(name="After", connect_webview_customization={
        "logo_shape": "square", "success_message": None})
    updated = inside.workspaces.get()
    assert (updated.name, updated.connect_partner_name) == ("After", "Partner")
    custom = updated.connect_webview_customization
    assert (custom.logo_shape, custom.primary_button_color) == ("square", "#000000")
    assert getattr(custom, "success_message", None) is None
    assert seam.workspaces.get().name == "lockhub Demo", "another workspace is untouched"

    with pytest.raises(SeamHttpApiError) as invalid:
        inside.workspaces.update(connect_webview_customization={"logo_shape": "triangle"})
    assert invalid.value.code == "invalid_input"
    assert inside.workspaces.get().connect_webview_customization.logo_shape == "square"


def test_a_workspace_suspended_through_update_refuses_its_next_request(
    server: LockhubServer,
) -> None:
    user = SeamWithoutWorkspace.from_personal_access_token(PAT, endpoint=server.url)
    created = user.workspaces.create(name="Suspend me", is_sandbox=True)
    inside = Seam.from_personal_access_token(PAT, created.workspace_id, endpoint=server.url)
    inside.workspaces.update(is_suspended=True)
    with pytest.raises(SeamHttpApiError) as refused:
        inside.devices.list()
    assert (refused.value.status_code, refused.value.code) == (403, "workspace_suspended")


def test_an_api_key_cannot_create_workspaces(seam: Seam) -> None:
    with pytest.raises(SeamHttpUnauthorizedError):
        seam.workspaces.create(name="Not allowed")


def test_pat_cannot_use_a_workspace_its_user_is_not_a_member_of(server: LockhubServer) -> None:
    outsider = Seam.from_personal_access_token(PAT, OTHER_WORKSPACE, endpoint=server.url)
    with pytest.raises(SeamHttpUnauthorizedError):
        outsider.devices.list()


def test_reset_of_a_non_sandbox_workspace_is_rejected(other_seam: Seam) -> None:
    with pytest.raises(SeamHttpApiError) as exc:
        other_seam.workspaces.reset_sandbox()
    assert exc.value.status_code == 400
    assert other_seam.workspaces.get().workspace_id == OTHER_WORKSPACE


# --------------------------------------------------------------------------- sandbox reset


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[LockhubServer]:
    server = start_server(tmp_path, name="reset")
    yield server
    server.stop()


def test_reset_sandbox_restores_the_seed_and_keeps_the_key(own_server: LockhubServer) -> None:
    seam = Seam(api_key=SANDBOX_KEY, endpoint=own_server.url)
    ids = seed_ids(own_server)
    seeded = {d.device_id: (d.display_name, d.properties.locked) for d in seam.devices.list()}

    renamed_id = ids["august_device_1"]
    seam.devices.update(device_id=renamed_id, name="Renamed Before Reset",
                        custom_metadata={"conformance": "before reset"})
    unlocked_id = ids["yale_device_2"]
    unlock = seam.locks.unlock_door(device_id=unlocked_id)
    assert seam.devices.get(device_id=unlocked_id).properties.locked is False
    unmanaged_id = ids["nuki_device_1"]
    seam.devices.update(device_id=unmanaged_id, is_managed=False)
    guest = seam.user_identities.create(user_identity_key="kept-across-reset")
    seam.user_identities.grant_access_to_device(user_identity_id=guest.user_identity_id,
                                                device_id=renamed_id)
    session = seam.client_sessions.create(user_identifier_key="gone-after-reset",
                                          user_identity_ids=[guest.user_identity_id])
    reset_started = max(e.created_at for e in seam.events.list(since=EPOCH))

    attempt = seam.workspaces.reset_sandbox()
    assert attempt.status == "success"
    assert attempt.action_type == "RESET_SANDBOX_WORKSPACE"

    # The same key keeps working (Seam's fake deletes it; lockhub must not).
    assert seam.workspaces.get().workspace_id == SANDBOX_WORKSPACE
    after = {d.device_id: (d.display_name, d.properties.locked) for d in seam.devices.list()}
    assert after == seeded
    assert dict(seam.devices.get(device_id=renamed_id).custom_metadata) == {}
    assert seam.devices.unmanaged.list() == []

    events = seam.events.list(since=EPOCH)
    assert all(e.created_at > reset_started for e in events), "events before the reset are gone"
    assert not {"lock.unlocked", "device.name_changed", "device.converted_to_unmanaged"} & {
        e.event_type for e in events}
    with pytest.raises(SeamHttpApiError) as exc:
        seam.action_attempts.get(action_attempt_id=unlock.action_attempt_id)
    assert exc.value.code == "action_attempt_not_found"
    assert seam.action_attempts.get(action_attempt_id=attempt.action_attempt_id).status \
        == "success"
    assert seed_ids(own_server) == ids
    # People stay; what they were granted and the sessions made for them do not.
    assert seam.user_identities.get(user_identity_id=guest.user_identity_id) == guest
    assert seam.user_identities.list_accessible_devices(
        user_identity_id=guest.user_identity_id) == []
    assert session.client_session_id not in {
        s.client_session_id for s in seam.client_sessions.list()}
