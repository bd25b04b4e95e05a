"""The subset of Liqe lockhub reads for the device database's `liqe_query`: the forms Seam
Components build, Liqe's matching rules for them, and a refusal for everything else."""

from __future__ import annotations

import pytest

from lockhub.domain.liqe import LiqeError, parse

DOCS = [
    {"display_name": "August", "manufacturer_id": "aa-1", "is_connect_webview_supported": True},
    {"display_name": "Yale", "manufacturer_id": "bb-2", "is_connect_webview_supported": False},
    {"display_name": "Yale Home", "manufacturer_id": "cc-3", "is_connect_webview_supported": True},
]


def matching(query: str) -> list[str]:
    matches = parse(query)
    return [d["display_name"] for d in DOCS if matches(d)]


@pytest.mark.parametrize(("query", "expected"), [
    # What the supported-devices table sends for its manufacturers / excluded attributes.
    ('(display_name:"August" OR manufacturer_id:"bb-2")', ["August", "Yale"]),
    ('NOT (display_name:"Home")', ["August", "Yale"]),
    ('(display_name:"Yale") AND NOT (manufacturer_id:"cc-3")', ["Yale"]),
    ("manufacturer_id:none", []),
    ("", ["August", "Yale", "Yale Home"]),
    # Liqe's rules: a bare word is a substring in any case, a quoted one in its own case.
    ("display_name:yale", ["Yale", "Yale Home"]),
    ('display_name:"yale"', []),
    ("display_name:=yale", ["Yale"]),
    ('display_name:="Yale"', ["Yale"]),
    ("is_connect_webview_supported:true", ["August", "Yale Home"]),
    ("missing:null", ["August", "Yale", "Yale Home"]),
    # AND binds tighter than OR; side by side is AND; - is NOT.
    ("display_name:august OR display_name:yale AND manufacturer_id:cc", ["August", "Yale Home"]),
    ("display_name:yale -display_name:home", ["Yale"]),
    ("NOT NOT display_name:august", ["August"]),
])
def test_queries_match_as_liqe_does(query: str, expected: list[str]) -> None:
    assert matching(query) == expected


@pytest.mark.parametrize("query", [
    "august", "display_name:/aug/", "display_name:aug*", "height:>3", "height:[1 TO 2]",
    "(display_name:a", "display_name:a)", "display_name:", ":a", "display_name:a AND",
    "'full name':a",
])
def test_anything_else_is_refused(query: str) -> None:
    with pytest.raises(LiqeError):
        parse(query)
