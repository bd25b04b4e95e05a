"""TTLock Open Platform (cloud) provider."""

from lockhub.providers.ttlock.provider import TTLockProvider

__all__ = ["TTLockProvider"]
