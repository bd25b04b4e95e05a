"""Z-Wave locks through a Z-Wave JS server."""

from lockhub.providers.zwave_js.provider import ZWaveJSProvider

__all__ = ["ZWaveJSProvider"]
