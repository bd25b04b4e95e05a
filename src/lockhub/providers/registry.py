"""Provider instances by name (the `provider` column of connected accounts)."""

from __future__ import annotations

from lockhub.providers.base import Provider


class ProviderRegistry:
    def __init__(self, providers: list[Provider]) -> None:
        self._providers = {p.name: p for p in providers}

    def get(self, name: str) -> Provider:
        return self._providers[name]
