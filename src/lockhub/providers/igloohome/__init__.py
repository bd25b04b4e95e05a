"""igloohome (iglooaccess API)."""

from lockhub.providers.igloohome.provider import IgloohomeProvider

__all__ = ["IgloohomeProvider"]
