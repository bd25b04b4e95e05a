"""When the engine sends a failed lock command again: the rule (engine/actions.tries_left) and
what the sandbox's injected failures ask of it (providers/sandbox/faults.py)."""

from __future__ import annotations

import pytest

from lockhub.engine.actions import tries_left
from lockhub.providers.base import ProviderError
from lockhub.providers.sandbox.faults import COMMAND_TRIES, injected_error


def test_a_failure_its_provider_does_not_call_transient_is_never_tried_again() -> None:
    assert not tries_left(ProviderError("lock_operation_failed", "refused"), 1)


def test_a_transient_failure_without_a_limit_is_tried_until_the_attempt_times_out() -> None:
    # What real providers' retryable errors get (unchanged): the attempt's deadline ends it.
    error = ProviderError("provider_error", "503", retryable=True)
    assert all(tries_left(error, tries) for tries in range(1, 50))


def test_a_transient_failure_with_a_limit_is_tried_that_many_times_in_all() -> None:
    error = ProviderError("device_communication_timeout", "no answer", retryable=True, tries=2)
    assert tries_left(error, 1)
    assert not tries_left(error, 2)


@pytest.mark.parametrize("operation", ["lock", "unlock", "configure_auto_lock"])
def test_an_injected_command_failure_is_retried_only_for_the_types_in_the_table(
        operation: str) -> None:
    for error_type in ("device_offline", "hub_disconnected", "lock_operation_failed",
                       "lock_jammed", "anything_else"):
        error = injected_error({"error_type": error_type, "message": "m"}, operation)
        assert (error.error_type, error.message, error.retryable) == (error_type, "m", False)
    timeout = injected_error({"error_type": "device_communication_timeout"}, operation)
    assert timeout.retryable and timeout.tries == COMMAND_TRIES["device_communication_timeout"]
    assert timeout.message == "Injected failure (sandbox)."


def test_an_injected_pin_failure_is_left_to_the_code_engine() -> None:
    # The code engine shows it on the code and decides from its type whether to retry.
    error = injected_error({"error_type": "device_offline"}, "set_code")
    assert error.retryable and error.tries is None
