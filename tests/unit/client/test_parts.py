"""The client's pure parts: settings and the key file check, query building, the SSE parser, problem parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from squirrel.client import ClientConfig, ConfigurationError, NotFoundError, ServerError, read_key_file
from squirrel.client._calls import query, seg
from squirrel.client._errors import ConflictError, error_for
from squirrel.client._sse import Event, EventParser


def test_key_file_must_be_private(tmp_path: Path) -> None:
    key = tmp_path / "key"
    key.write_text("sq_secret\n")
    key.chmod(0o640)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        read_key_file(key)
    key.chmod(0o604)
    with pytest.raises(ConfigurationError, match="mode 0604"):
        read_key_file(key)
    key.chmod(0o600)
    assert read_key_file(key) == "sq_secret"
    key.write_text("two tokens\n")
    with pytest.raises(ConfigurationError, match="exactly one token"):
        read_key_file(key)
    with pytest.raises(ConfigurationError, match="cannot read"):
        read_key_file(tmp_path / "absent")


def test_settings_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SQUIRREL_URL", raising=False)
    monkeypatch.delenv("SQUIRREL_API_KEY", raising=False)
    assert ClientConfig.resolve() == ClientConfig("http://127.0.0.1:8080", None)
    monkeypatch.setenv("SQUIRREL_URL", "http://ops:9000/")
    monkeypatch.setenv("SQUIRREL_API_KEY", "sq_env")
    assert ClientConfig.resolve() == ClientConfig("http://ops:9000", "sq_env")
    key = tmp_path / "key"
    key.write_text("sq_file")
    key.chmod(0o600)
    assert ClientConfig.resolve(key_file=key).api_key == "sq_file"  # the file wins over the environment
    assert ClientConfig.resolve("http://x:1", "sq_arg", key_file=key) == ClientConfig("http://x:1", "sq_arg")
    assert ClientConfig.resolve().headers() == {"X-API-Key": "sq_env"}
    with pytest.raises(ConfigurationError, match="http"):
        ClientConfig.resolve("ops:9000")


def test_query_uses_true_false_repeats_lists_and_drops_none() -> None:
    assert query(dryRun=True, skip=False, tags=["a", "b"], limit=5, q=None) == (
        ("dryRun", "true"),
        ("skip", "false"),
        ("tags", "a"),
        ("tags", "b"),
        ("limit", "5"),
    )
    assert seg("a/b c") == "a%2Fb%20c"


def test_sse_parser_events_comments_and_multiline_data() -> None:
    parser = EventParser()
    lines = [": keep-alive", "", "id: 1", "event: progress", 'data: {"a":', "data: 1}", "", "data: x", ""]
    events = [e for line in lines if (e := parser.feed(line)) is not None]
    assert events == [Event("progress", '{"a":\n1}', "1"), Event("message", "x", "1")]


def test_problem_bodies_become_typed_errors() -> None:
    body = {"type": "https://squirrel.dev/problems/conflict", "title": "Conflict", "status": 409,
            "detail": "a restore is running", "jobId": "j1"}  # fmt: skip
    err = error_for(409, body, "")
    assert isinstance(err, ConflictError) and err.slug == "conflict" and err.extra == {"jobId": "j1"}
    assert (err.status, err.detail, err.title) == (409, "a restore is running", "Conflict")
    plain = error_for(502, None, "<html>bad gateway</html>")
    assert isinstance(plain, ServerError) and plain.detail == "<html>bad gateway</html>"
    assert isinstance(error_for(404, {"detail": "no such PV"}, ""), NotFoundError)
