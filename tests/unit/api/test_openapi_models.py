"""squirrel.api.openapi_models: the documented live-cache shapes take what the live cache really sends."""

from __future__ import annotations

import msgspec

from squirrel.api.openapi_models import LiveCache, LiveEntry, LiveValues


def test_an_unmonitored_address_is_connected_false_with_an_error() -> None:
    entry = msgspec.json.decode(b'{"connected": false, "error": "not monitored"}', type=LiveEntry)
    assert entry == LiveEntry(connected=False, error="not monitored")
    assert entry.value is None and entry.enum_strings is None


def test_a_full_entry_and_the_cache_decode() -> None:
    raw = (
        b'{"values": {"X:1": {"connected": true, "value": [1.5, 2], "type": "DBR_DOUBLE", "updated_at": 1.0,'
        b' "status": "NO_ALARM", "severity": 0, "timestamp": 2.0, "units": "mm", "precision": 3,'
        b' "enum_index": null, "enum_strings": null}}, "count": 1}'
    )
    cache = msgspec.json.decode(raw, type=LiveCache)
    assert cache.count == 1
    entry = cache.values["X:1"]
    assert (entry.connected, entry.value, entry.units, entry.precision) == (True, [1.5, 2], "mm", 3)
    values = msgspec.json.decode(b'{"A": {"connected": false}}', type=LiveValues)
    assert values == {"A": LiveEntry(connected=False)}


def test_a_wrong_shape_is_refused() -> None:
    for raw in (b'{"value": 1}', b'{"connected": "yes"}', b'{"connected": true, "severity": "MAJOR"}'):
        try:
            msgspec.json.decode(raw, type=LiveEntry)
        except msgspec.ValidationError:
            continue
        raise AssertionError(f"accepted {raw!r}")


def test_the_documented_entry_names_every_member_the_cache_encodes() -> None:
    from squirrel.live.entries import LiveEntry as WireEntry

    assert set(LiveEntry.__struct_fields__) == set(WireEntry.__struct_fields__)
