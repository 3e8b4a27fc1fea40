"""Protocol-prefixed PV addresses: how a written address becomes the channel key everything else uses."""

from __future__ import annotations

import pytest

from squirrel import addresses
from squirrel.addresses import AddressError, by_protocol, channel_key, protocol_of, pva_name, split


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("FOO:BAR", (None, "FOO:BAR")),
        ("ca://FOO", ("ca", "FOO")),
        ("CA://FOO", ("ca", "FOO")),  # the prefix in any case
        ("pva://a:b", ("pva", "a:b")),
        ("PvA://X", ("pva", "X")),
    ],
)
def test_split_gives_the_written_protocol_and_the_bare_name(address: str, expected: tuple[str | None, str]) -> None:
    assert split(address) == expected


@pytest.mark.parametrize(
    ("address", "needle"),
    [("http://X", "unknown protocol prefix 'http://'"), ("ca://", "no PV name"), ("pva://  ", "no PV name")],
)
def test_split_refuses_unknown_prefixes_and_empty_names(address: str, needle: str) -> None:
    with pytest.raises(AddressError, match=needle):
        split(address)


@pytest.mark.parametrize(
    ("address", "default", "key"),
    [
        ("FOO", "ca", "FOO"),
        ("FOO", "pva", "pva://FOO"),  # a bare name takes the default
        ("ca://FOO", "pva", "FOO"),  # a written protocol beats the default
        ("pva://FOO", "ca", "pva://FOO"),
        ("PVA://FOO", "ca", "pva://FOO"),  # keys are normalised: one key however the prefix was written
    ],
)
def test_channel_key_is_bare_for_ca_and_prefixed_for_pva(address: str, default: addresses.Protocol, key: str) -> None:
    assert channel_key(address, default) == key
    assert protocol_of(key) == ("pva" if key.startswith("pva://") else "ca")


def test_the_same_name_written_two_ways_is_one_key() -> None:
    assert channel_key("FOO") == channel_key("ca://FOO")
    assert channel_key("FOO", "pva") == channel_key("pva://FOO")
    assert channel_key("FOO") != channel_key("pva://FOO")


def test_pva_name_strips_the_prefix_of_a_key() -> None:
    assert pva_name(channel_key("pva://A:B")) == "A:B"
    assert protocol_of("A:B") == "ca"


def test_keys_are_grouped_by_protocol_in_their_order() -> None:
    keys = ["B", "pva://X", "A", "pva://W", "pva:/not-a-prefix"]
    assert by_protocol(keys) == {"ca": ["B", "A", "pva:/not-a-prefix"], "pva": ["pva://X", "pva://W"]}
    assert all(protocol_of(k) == p for p, group in by_protocol(keys).items() for k in group)
    assert by_protocol([]) == {"ca": [], "pva": []}
