"""Settings from COMPTOIR_* variables: defaults that run on a laptop, and refusals that say why."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from comptoir.settings import SettingsError, load_settings


def test_with_nothing_set_comptoir_runs_on_a_sqlite_file_under_var(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings({})
    assert settings.is_sqlite and not settings.is_postgres
    assert settings.database_url == "sqlite:///var/comptoir.db"
    assert settings.sqlite_path == tmp_path / "var" / "comptoir.db"
    assert settings.redis_url is None
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.redis_prefix == "comptoir"
    assert settings.outbox_poll_seconds == 1.0
    assert settings.log_level == "info"
    assert (tmp_path / "var" / "secret_key").read_text().strip() == settings.secret_key


def test_secret_key_is_made_once_kept_private_and_reused(tmp_path: Path) -> None:
    env = {"COMPTOIR_VAR_DIR": str(tmp_path / "state")}
    first = load_settings(env)
    key_file = tmp_path / "state" / "secret_key"
    assert len(first.secret_key) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_settings(env).secret_key == first.secret_key
    assert load_settings({"COMPTOIR_VAR_DIR": str(tmp_path / "other")}).secret_key != (
        first.secret_key)


def test_a_secret_key_given_in_the_environment_is_used_and_not_written(tmp_path: Path) -> None:
    key = "k" * 40
    settings = load_settings({"COMPTOIR_SECRET_KEY": key, "COMPTOIR_VAR_DIR": str(tmp_path)})
    assert settings.secret_key == key
    assert not (tmp_path / "secret_key").exists()


def test_production_settings_are_read_and_typed(tmp_path: Path) -> None:
    settings = load_settings({
        "COMPTOIR_DATABASE_URL": "postgresql://oms:pw@db.internal:5432/comptoir",
        "COMPTOIR_REDIS_URL": "redis://cache.internal:6379/2",
        "COMPTOIR_HOST": "0.0.0.0",
        "COMPTOIR_PORT": "8080",
        "COMPTOIR_PUBLIC_URL": "https://oms.example.fr/",
        "COMPTOIR_VAR_DIR": str(tmp_path),
        "COMPTOIR_REDIS_PREFIX": "shop-a",
        "COMPTOIR_OUTBOX_POLL_SECONDS": "0.25",
        "COMPTOIR_LOG_LEVEL": "warning",
        "COMPTOIR_SECRET_KEY": "s" * 48,
    })
    assert settings.is_postgres
    assert settings.sqlalchemy_url == "postgresql+asyncpg://oms:pw@db.internal:5432/comptoir"
    assert settings.postgres_dsn == "postgresql://oms:pw@db.internal:5432/comptoir"
    assert settings.redis_url == "redis://cache.internal:6379/2"
    assert (settings.host, settings.port) == ("0.0.0.0", 8080)
    assert settings.base_url == "https://oms.example.fr"
    assert settings.redis_prefix == "shop-a"
    assert settings.outbox_poll_seconds == 0.25
    assert settings.log_level == "warning"


def test_an_empty_variable_counts_as_unset(tmp_path: Path) -> None:
    settings = load_settings({"COMPTOIR_PORT": "", "COMPTOIR_REDIS_URL": "",
                              "COMPTOIR_VAR_DIR": str(tmp_path)})
    assert settings.port == 8000
    assert settings.redis_url is None


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("COMPTOIR_PORT", "abc"),
        ("COMPTOIR_PORT", "0"),
        ("COMPTOIR_OUTBOX_POLL_SECONDS", "soon"),
        ("COMPTOIR_DATABASE_URL", "mysql://x"),
        ("COMPTOIR_DATABASE_URL", "sqlite:comptoir.db"),
        ("COMPTOIR_REDIS_URL", "localhost:6379"),
        ("COMPTOIR_PUBLIC_URL", "oms.example.fr"),
        ("COMPTOIR_SECRET_KEY", "short"),
        ("COMPTOIR_LOG_LEVEL", "verbose"),
        ("COMPTOIR_DATABSE_URL", "sqlite:///x.db"),
    ],
)
def test_a_bad_value_is_refused_with_the_variable_named(
    tmp_path: Path, variable: str, value: str
) -> None:
    with pytest.raises(SettingsError, match=variable):
        load_settings({variable: value, "COMPTOIR_VAR_DIR": str(tmp_path)})
    assert not (tmp_path / "secret_key").exists()  # refused before writing anything


def test_stripe_is_configured_by_its_secret_key_and_webhook_secret(tmp_path: Path) -> None:
    settings = load_settings({"COMPTOIR_STRIPE_SECRET_KEY": "sk_test_51Abc",
                              "COMPTOIR_STRIPE_WEBHOOK_SECRET": "whsec_test_secret",
                              "COMPTOIR_VAR_DIR": str(tmp_path)})
    assert settings.stripe_secret_key == "sk_test_51Abc"
    assert settings.stripe_webhook_secret == "whsec_test_secret"
    assert load_settings({"COMPTOIR_VAR_DIR": str(tmp_path)}).stripe_secret_key == ""


@pytest.mark.parametrize(
    ("environment", "named"),
    [
        ({"COMPTOIR_STRIPE_SECRET_KEY": "pk_test_51Abc",
          "COMPTOIR_STRIPE_WEBHOOK_SECRET": "whsec_x"}, "COMPTOIR_STRIPE_SECRET_KEY"),
        ({"COMPTOIR_STRIPE_SECRET_KEY": "sk_test_51Abc",
          "COMPTOIR_STRIPE_WEBHOOK_SECRET": "secret"}, "COMPTOIR_STRIPE_WEBHOOK_SECRET"),
        ({"COMPTOIR_STRIPE_SECRET_KEY": "sk_test_51Abc"}, "COMPTOIR_STRIPE_WEBHOOK_SECRET"),
    ],
)
def test_a_stripe_secret_that_cannot_work_is_refused_without_being_repeated(
    tmp_path: Path, environment: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError, match=named) as refused:
        load_settings({**environment, "COMPTOIR_VAR_DIR": str(tmp_path)})
    assert "51Abc" not in str(refused.value)
