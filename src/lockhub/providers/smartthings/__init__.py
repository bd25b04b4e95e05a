"""SmartThings locks through the SmartThings cloud API (OAuth sign-in, polling)."""

from lockhub.providers.smartthings.provider import SmartThingsProvider

__all__ = ["SmartThingsProvider"]
