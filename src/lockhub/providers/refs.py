"""Handles a provider call is given: the device or account, with its credentials opened."""

from __future__ import annotations

from typing import Any

from lockhub.config import Settings
from lockhub.providers.base import AccountRef, DeviceRef
from lockhub.secret_box import open_credentials


def account_ref(settings: Settings, account: Any) -> AccountRef:
    return AccountRef(workspace_id=account.workspace_id,
                      connected_account_id=account.connected_account_id,
                      account_type=account.account_type,
                      credentials=open_credentials(settings, account.credentials))


def device_ref(settings: Settings, device: Any, account: Any) -> DeviceRef:
    return DeviceRef(workspace_id=device.workspace_id, device_id=device.device_id,
                     provider_device_id=device.provider_device_id, brand=device.brand,
                     model=device.model, connected_account_id=account.connected_account_id,
                     credentials=open_credentials(settings, account.credentials))
