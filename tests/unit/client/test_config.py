"""Where the client connects and with which key: explicit values, then the environment, then defaults."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from squirrel.client._config import DEFAULT_URL, ClientConfig, read_key_file
from squirrel.client._errors import ConfigurationError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SQUIRREL_URL", raising=False)
    monkeypatch.delenv("SQUIRREL_API_KEY", raising=False)


def test_defaults_without_arguments_or_environment() -> None:
    config = ClientConfig.resolve()
    assert config == ClientConfig(DEFAULT_URL, None)
    assert config.headers() == {}


def test_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SQUIRREL_URL", "http://env:1")
    monkeypatch.setenv("SQUIRREL_API_KEY", "env-key")
    assert ClientConfig.resolve() == ClientConfig("http://env:1", "env-key")
    config = ClientConfig.resolve("https://arg:2/", "arg-key")
    assert config == ClientConfig("https://arg:2", "arg-key")  # trailing slash dropped
    assert config.headers() == {"X-API-Key": "arg-key"}


def test_an_empty_environment_key_is_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SQUIRREL_API_KEY", "")
    assert ClientConfig.resolve().api_key is None


@pytest.mark.parametrize("url", ["ftp://host", "127.0.0.1:8080", "http://", "host"])
def test_only_http_urls_with_a_host(url: str) -> None:
    with pytest.raises(ConfigurationError, match="http"):
        ClientConfig.resolve(url)


def _key_file(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "key"
    path.write_text(text)
    os.chmod(path, mode)
    return path


def test_key_file_is_read_trimmed_and_loses_to_an_explicit_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _key_file(tmp_path, "  file-key\n")
    monkeypatch.setenv("SQUIRREL_API_KEY", "env-key")
    assert ClientConfig.resolve(key_file=path).api_key == "file-key"  # the file before the environment
    assert ClientConfig.resolve(api_key="arg", key_file=path).api_key == "arg"


@pytest.mark.parametrize(
    ("text", "mode", "needle"),
    [
        ("k", 0o640, "accessible by group or others \\(mode 0640\\); run: chmod 600"),
        ("k", 0o604, "mode 0604"),
        ("", 0o600, "exactly one token"),
        ("one two", 0o600, "exactly one token"),
    ],
)
def test_key_file_refusals(tmp_path: Path, text: str, mode: int, needle: str) -> None:
    with pytest.raises(ConfigurationError, match=needle):
        read_key_file(_key_file(tmp_path, text, mode))


def test_missing_or_non_regular_key_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read key file"):
        read_key_file(tmp_path / "absent")
    with pytest.raises(ConfigurationError, match=r"cannot read key file|not a regular file"):
        read_key_file(tmp_path)
