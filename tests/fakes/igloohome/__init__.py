"""A fake igloohome cloud (iglooaccess API): OAuth token host, device API, bridge job queue,
algoPIN generator, and the locks, bridges and keypads behind it."""

from tests.fakes.igloohome.server import IgloohomeCloud
from tests.fakes.igloohome.world import Bridge, Keypad, Lock, World

__all__ = ["Bridge", "IgloohomeCloud", "Keypad", "Lock", "World"]
