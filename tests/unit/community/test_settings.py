import pytest

from bot.launcher import tracker_store_config
from community.settings import Settings


def test_defaults_are_loopback_and_sqlite():
    settings = Settings.from_env({})
    assert settings.host == "127.0.0.1"
    assert (settings.rasa_port, settings.action_port, settings.web_port) == (5005, 5055, 8000)
    assert settings.store_url.startswith("sqlite:///") and settings.store_url.endswith("var/community.db")
    assert tracker_store_config(settings)["dialect"] == "sqlite"


def test_binding_off_loopback_requires_an_auth_token():
    with pytest.raises(ValueError, match="RASA_AUTH_TOKEN"):
        Settings.from_env({"HOST": "0.0.0.0"})
    assert Settings.from_env({"HOST": "0.0.0.0", "RASA_AUTH_TOKEN": "s3cret"}).host == "0.0.0.0"


@pytest.mark.parametrize("value", ["abc", "0", "70000"])
def test_bad_ports_are_refused_with_the_variable_named(value):
    with pytest.raises(ValueError, match="RASA_PORT"):
        Settings.from_env({"RASA_PORT": value})


def test_database_url_becomes_rasas_tracker_store():
    settings = Settings.from_env({"DATABASE_URL": "postgresql://ana:p%40ss@127.0.0.1:5433/community"})
    config = tracker_store_config(settings)
    assert config["dialect"] == "postgresql" and config["db"] == "community"
    assert config["url"] == "127.0.0.1" and config["port"] == 5433
    assert config["username"] == "ana" and config["password"] == "p@ss"
    assert settings.store_url == "postgresql://ana:p%40ss@127.0.0.1:5433/community"


def test_tracker_can_stay_local_while_requests_go_to_postgresql():
    settings = Settings.from_env(
        {"DATABASE_URL": "postgresql://127.0.0.1/community", "TRACKER_DATABASE_URL": "sqlite:///var/t.db"}
    )
    assert tracker_store_config(settings)["dialect"] == "sqlite"
    assert settings.store_url.startswith("postgresql://")


def test_absolute_sqlite_tracker_path_stays_absolute():
    settings = Settings.from_env({"TRACKER_DATABASE_URL": "sqlite:////srv/assistant/tracker.db"})
    assert tracker_store_config(settings)["db"] == "/srv/assistant/tracker.db"


def test_rasas_api_token_is_made_once_and_read_by_every_process(tmp_path):
    import os
    import stat

    from community.settings import with_api_token

    settings = with_api_token(Settings.from_env({"VAR_DIR": str(tmp_path)}))
    token_file = tmp_path / "rasa_auth_token"
    assert len(settings.rasa_auth_token) >= 32
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    # Another process (the web chat, a tool, a test) reads the same token...
    assert Settings.from_env({"VAR_DIR": str(tmp_path)}).rasa_auth_token == settings.rasa_auth_token
    # ...and a second start keeps it.
    assert with_api_token(Settings.from_env({"VAR_DIR": str(tmp_path)})) == settings
    # RASA_AUTH_TOKEN wins over the file.
    chosen = Settings.from_env({"VAR_DIR": str(tmp_path), "RASA_AUTH_TOKEN": "t0ken"})
    assert chosen.rasa_auth_token == "t0ken"
    # Off loopback the made token is not enough: the operator sets one.
    with pytest.raises(ValueError, match="RASA_AUTH_TOKEN"):
        Settings.from_env({"VAR_DIR": str(tmp_path), "HOST": "0.0.0.0"})
