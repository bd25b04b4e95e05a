"""Nuki Web API (cloud) provider."""

from lockhub.providers.nuki.provider import NukiProvider

__all__ = ["NukiProvider"]
