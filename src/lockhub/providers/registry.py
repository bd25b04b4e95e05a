"""Provider instances by name (the `provider` column of connected accounts)."""

from __future__ import annotations

from lockhub.metrics import instrument_provider
from lockhub.providers.base import Provider


class ProviderRegistry:
    def __init__(self, providers: list[Provider]) -> None:
        self._providers = {p.name: p for p in providers}
        for provider in providers:  # call latency and errors (lockhub_provider_call_*)
            instrument_provider(provider)

    def get(self, name: str) -> Provider:
        return self._providers[name]

    def items(self) -> list[tuple[str, Provider]]:
        return list(self._providers.items())

    def for_workspace(self, is_sandbox: bool) -> dict[str, Provider]:
        """Brand -> provider for a workspace: sandbox workspaces reach only virtual devices,
        production workspaces only real providers."""
        return {brand: provider for provider in self._providers.values()
                if provider.sandbox == is_sandbox for brand in provider.account_types()}
