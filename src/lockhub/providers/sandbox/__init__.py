"""The sandbox provider: persisted virtual locks of every catalogue brand."""

from lockhub.providers.sandbox.provider import SandboxProvider

__all__ = ["SandboxProvider"]
