"""A fake of the TTLock Open Platform cloud (euopen.ttlock.com), served on loopback."""

from tests.fakes.ttlock.server import TTLockCloud

__all__ = ["TTLockCloud"]
