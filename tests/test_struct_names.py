"""Every Struct that reaches /openapi.json has a unique name, so no schema shadows another."""

from collections import Counter

import lockhub.api.app  # noqa: F401  (registers every route)
from lockhub.api.routing import ROUTES


def test_parameter_and_response_structs_have_unique_names() -> None:
    types = {r.params for r in ROUTES if r.params is not None}
    names = Counter(t.__name__ for t in types)
    assert [n for n, count in names.items() if count > 1] == []
