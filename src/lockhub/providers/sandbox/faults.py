"""What an injected failure means: the failure a test asks for, reported as a real provider
would report it (`/_lockhub/sandbox/devices/inject_failure`).

An injected fault is consumed before the virtual lock does anything, so it stands for a command
that never took effect. Whether it is worth sending again depends on its type, as it does for
a real brand: a lock that refused, jammed or is offline refuses again, a packet lost on the way
may arrive the second time.
"""

from __future__ import annotations

from typing import Any

from lockhub.providers.base import ProviderError

# Remote commands: the action attempts of lock_door, unlock_door and auto-lock configuration.
COMMANDS = frozenset({"lock", "unlock", "configure_auto_lock"})

# The injected types a real provider sends a command again after, and how many tries it makes
# in all; the engine makes them (with backoff) and the settled attempt says how many it took.
# Every other type fails the command's attempt at its first try.
COMMAND_TRIES: dict[str, int] = {
    "device_communication_timeout": 2,  # no answer: the command is sent once more
}

DEFAULT_MESSAGE = "Injected failure (sandbox)."


def injected_error(failure: dict[str, Any], operation: str) -> ProviderError:
    """The error one injected failure raises for `operation`. PIN operations stay retryable:
    the access-code engine shows each failure on the code and itself decides what to retry
    (`engine/access_codes.PERMANENT`), as it does for every provider."""
    error_type = failure["error_type"]
    message = failure.get("message") or DEFAULT_MESSAGE
    if operation in COMMANDS:
        tries = COMMAND_TRIES.get(error_type)
        return ProviderError(error_type, message, retryable=tries is not None, tries=tries)
    return ProviderError(error_type, message, retryable=failure.get("retryable", True))
