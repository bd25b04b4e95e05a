"""Time-ordered ids keep events in the order they happened."""

import uuid

from lockhub.ids import new_ordered_id


def test_time_ordered_ids_sort_in_creation_order_and_are_uuid7() -> None:
    ids = [new_ordered_id() for _ in range(5000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(i).version == 7 for i in ids)
