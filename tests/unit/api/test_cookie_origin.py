"""Which Origin may open a cookie-authenticated WebSocket."""

from __future__ import annotations

import pytest

from squirrel.api.cookie_auth import origin_allowed

LISTED = ("https://console.example", "*")


@pytest.mark.parametrize(
    ("origin", "host", "allowed"),
    [
        ("http://squirrel.lab:8080", "squirrel.lab:8080", True),  # same host and port
        ("HTTP://Squirrel.LAB:8080", "squirrel.lab:8080", True),  # case does not matter
        ("http://squirrel.lab:9090", "squirrel.lab:8080", False),  # another port is another site
        ("http://squirrel.lab.evil.example:8080", "squirrel.lab:8080", False),
        ("https://console.example", "squirrel.lab:8080", True),  # listed explicitly
        ("https://console.example/", "squirrel.lab:8080", True),
        ("https://evil.example", "squirrel.lab:8080", False),  # `*` in the list allows no one
        ("null", "squirrel.lab:8080", False),
        ("file://", "squirrel.lab:8080", False),
        ("http://squirrel.lab:8080", "", False),  # no Host header: nothing to compare with
    ],
)
def test_origin_allowed(origin: str, host: str, allowed: bool) -> None:
    assert origin_allowed(origin, host, LISTED) is allowed
