"""squirrel.api.openapi_models: the documented live-cache shapes take what the live cache really sends."""

from __future__ import annotations

import msgspec
import pytest

from squirrel.api.openapi_models import LiveCache, LiveEntry, LiveValues
from squirrel.live import entries
from squirrel.pv import PVState


def _full_state() -> PVState:
    return PVState(
        address="X:1", value=[1.5, float("nan")], type="double[]", connected=True, status="NO_ALARM", severity=0,
        timestamp=2.0, updated_at=1.0, units="mm", precision=3, error=None,
    )  # fmt: skip


def test_an_unmonitored_address_is_connected_false_with_an_error() -> None:
    for raw in (entries.encode_entry(None), entries.encode_unknown("a PVA address asked over CA")):
        entry = msgspec.json.decode(raw, type=LiveEntry)
        assert msgspec.structs.asdict(entry)["connected"] is False
        assert msgspec.json.decode(msgspec.json.encode(entry)) == msgspec.json.decode(raw) | {
            f: None for f in LiveEntry.__struct_fields__ if f not in ("connected", "error")
        }
    assert msgspec.structs.asdict(msgspec.json.decode(entries.encode_entry(None), type=LiveEntry))["error"] == (
        entries.NOT_MONITORED
    )


def test_a_full_entry_and_the_cache_decode() -> None:
    state = _full_state()
    values = b'{"X:1": ' + entries.encode_entry(state) + b', "Y": ' + entries.encode_entry(None) + b"}"
    raw = b'{"values": ' + values + b', "count": 2}'
    cache = msgspec.structs.asdict(msgspec.json.decode(raw, type=LiveCache))
    assert cache["count"] == 2
    entry = msgspec.structs.asdict(cache["values"]["X:1"])
    assert entry == msgspec.structs.asdict(entries.to_entry(state))  # every member the cache sent, as sent
    assert (entry["connected"], entry["value"], entry["units"], entry["precision"]) == (True, [1.5, "NaN"], "mm", 3)
    only = msgspec.json.decode(b'{"A": {"connected": false}}', type=LiveValues)
    assert msgspec.structs.asdict(only["A"])["connected"] is False


@pytest.mark.parametrize(
    "raw",
    [b'{"value": 1}', b'{"connected": "yes"}', b'{"connected": true, "severity": "MAJOR"}',
     b'{"connected": true, "status": null}', b'{"connected": true, "enum_strings": "a"}'],
)  # fmt: skip
def test_a_wrong_shape_is_refused(raw: bytes) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(raw, type=LiveEntry)


def test_the_documented_entry_is_the_encoded_one_with_only_connected_required() -> None:
    documented = {f.name: f for f in msgspec.structs.fields(LiveEntry)}
    encoded = {f.name: f for f in msgspec.structs.fields(entries.LiveEntry)}
    assert {n: f.type for n, f in documented.items()} == {n: f.type for n, f in encoded.items()}
    assert [n for n, f in documented.items() if f.required] == ["connected"]
