"""Revoking a key, suspending or deleting a workspace takes effect on the very next request.

The changes are made by the `lockhub` CLI, a process other than the server, as an administrator
would make them; each key is used first, so a server that remembered it would still accept it.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from seam import Seam, SeamHttpApiError, SeamHttpUnauthorizedError, SeamWithoutWorkspace

from tests.conformance.helpers import PAT, raw
from tests.server import LockhubServer


def lockhub(server: LockhubServer, *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "lockhub.cli", *args, "--database-url",
                             server.database_url], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip()


def new_workspace(server: LockhubServer) -> tuple[str, str]:
    """A sandbox workspace john belongs to, and an API key for it."""
    john = SeamWithoutWorkspace(personal_access_token=PAT, endpoint=server.url)
    workspace_id = john.workspaces.create(name="Administered", is_sandbox=True).workspace_id
    return workspace_id, lockhub(server, "keys", "create", "--workspace", workspace_id)


def test_a_revoked_key_is_refused_at_once(own_server: LockhubServer) -> None:
    workspace_id, key = new_workspace(own_server)
    seam = Seam(api_key=key, endpoint=own_server.url)
    assert seam.workspaces.get().workspace_id == workspace_id

    lockhub(own_server, "keys", "revoke", key)
    with pytest.raises(SeamHttpUnauthorizedError):
        seam.workspaces.get()
    with raw(own_server, key) as http:
        refused = http.post("/devices/list")
    assert refused.status_code == 401
    assert refused.json()["error"] == {**refused.json()["error"], "type": "unauthorized",
                                       "message": "API Key not found"}


def test_a_suspended_workspace_is_refused_until_restored(own_server: LockhubServer) -> None:
    workspace_id, key = new_workspace(own_server)
    seam = Seam(api_key=key, endpoint=own_server.url)
    assert seam.devices.list() == []

    lockhub(own_server, "workspaces", "suspend", workspace_id)
    with pytest.raises(SeamHttpApiError) as exc:
        seam.devices.list()
    assert (exc.value.status_code, exc.value.code) == (403, "workspace_suspended")
    with raw(own_server, PAT, {"seam-workspace": workspace_id}) as http:
        as_member = http.post("/workspaces/get")
    assert as_member.status_code == 403
    assert as_member.json()["error"]["type"] == "workspace_suspended"
    # The user still sees the workspace, marked suspended, in their own list.
    john = SeamWithoutWorkspace(personal_access_token=PAT, endpoint=own_server.url)
    listed = {w.workspace_id: w.is_suspended for w in john.workspaces.list()}
    assert listed[workspace_id] is True

    lockhub(own_server, "workspaces", "suspend", workspace_id, "--undo")
    assert seam.workspaces.get().is_suspended is False


def test_a_deleted_workspaces_key_is_unauthorized_at_once(own_server: LockhubServer) -> None:
    workspace_id, key = new_workspace(own_server)
    seam = Seam(api_key=key, endpoint=own_server.url)
    webhook = seam.webhooks.create(url="http://127.0.0.1:9/hook")
    assert seam.workspaces.get().workspace_id == workspace_id

    lockhub(own_server, "workspaces", "delete", workspace_id)
    for call in (seam.workspaces.get, seam.devices.list, seam.webhooks.list,
                 lambda: seam.webhooks.get(webhook_id=webhook.webhook_id),
                 lambda: seam.connect_webviews.create()):
        with pytest.raises(SeamHttpUnauthorizedError):
            call()
    john = SeamWithoutWorkspace(personal_access_token=PAT, endpoint=own_server.url)
    assert workspace_id not in {w.workspace_id for w in john.workspaces.list()}
