"""A fake of the Nuki Web API (api.nuki.io): accounts, smart locks, keypad codes, logs, webhooks.

`world.py` is the device-side world (locks, what the lock has applied, the log), `app.py` the
HTTP surface with Nuki's paths, shapes and error bodies, `webhooks.py` the decentral webhooks and
their signatures, `server.py` runs it under uvicorn on 127.0.0.1 with the switches tests use.
"""

from tests.fakes.nuki.server import NukiCloud

__all__ = ["NukiCloud"]
