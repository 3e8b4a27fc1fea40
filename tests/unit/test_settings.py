from __future__ import annotations

import pytest

from squirrel.errors import ConfigError
from squirrel.settings import apply_ca_environment, load_settings


def test_defaults_and_env() -> None:
    s = load_settings({"SQUIRREL_PORT": "9000", "SQUIRREL_ROLES": "api, worker", "SQUIRREL_API_ENVELOPE": "true"})
    assert s.port == 9000 and s.roles == ("api", "worker") and s.api_envelope is True
    assert s.anonymous == "none" and s.cors_origins == ()


def test_snapshot_warmup_defaults_to_10_s_and_0_turns_it_off() -> None:
    assert load_settings({}).snapshot_warmup == 10.0
    assert load_settings({"SQUIRREL_SNAPSHOT_WARMUP": "0"}).snapshot_warmup == 0.0


def test_overrides_win_over_env() -> None:
    assert load_settings({"SQUIRREL_PORT": "9000"}, port=9100).port == 9100


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"SQUIRREL_PORT": "abc"}, "SQUIRREL_PORT"),
        ({"SQUIRREL_PORT": "70000"}, "SQUIRREL_PORT"),
        ({"SQUIRREL_ROLES": "api,cook"}, "SQUIRREL_ROLES"),
        ({"SQUIRREL_ANONYMOUS": "write"}, "SQUIRREL_ANONYMOUS"),
        ({"SQUIRREL_CA_TIMEOUT": "0"}, "SQUIRREL_CA_TIMEOUT"),
        ({"SQUIRREL_SNAPSHOT_WARMUP": "-1"}, "SQUIRREL_SNAPSHOT_WARMUP"),
        ({"SQUIRREL_SNAPSHOT_WARMUP": "soon"}, "SQUIRREL_SNAPSHOT_WARMUP"),
        ({"SQUIRREL_CA_PUT_WINDOW": "0"}, "SQUIRREL_CA_PUT_WINDOW"),
        ({"SQUIRREL_CA_PUT_WINDOW": "many"}, "SQUIRREL_CA_PUT_WINDOW"),
    ],
)
def test_invalid_values_name_the_variable(env: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(env)
    assert needle in err.value.detail


def test_masked_hides_passwords() -> None:
    s = load_settings({"SQUIRREL_DATABASE_URL": "postgresql://sq:secret@db:5432/squirrel"})
    assert "secret" not in str(s.masked()) and "sq:***@db" in s.masked()["database_url"]


def test_ca_conn_tmo_defaults_to_10_s_and_goes_to_libca_unless_the_site_set_it() -> None:
    assert load_settings({}).ca_conn_tmo == 10.0
    env: dict[str, str] = {}
    apply_ca_environment(load_settings({"SQUIRREL_CA_CONN_TMO": "7.5"}), env)
    assert env == {"EPICS_CA_CONN_TMO": "7.5"}
    site = {"EPICS_CA_CONN_TMO": "45"}
    apply_ca_environment(load_settings({}), site)
    assert site == {"EPICS_CA_CONN_TMO": "45"}
    with pytest.raises(ConfigError, match="SQUIRREL_CA_CONN_TMO must be > 0"):
        load_settings({"SQUIRREL_CA_CONN_TMO": "0"})


def test_ca_put_window_defaults_to_500_per_ioc() -> None:
    assert load_settings({}).ca_put_window == 500
    assert load_settings({"SQUIRREL_CA_PUT_WINDOW": "200"}).ca_put_window == 200
