"""Configuration: embedded defaults, the environment, and production's refusals."""

import pytest

from callcenter import create_app
from callcenter.config import DEFAULT_SECRET_KEY, normalise_database_url


def test_embedded_defaults_need_no_server(monkeypatch, tmp_path):
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "CALLCENTER_ENV"):
        monkeypatch.delenv(name, raising=False)
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("instance/callcenter.sqlite")
    assert app.config["CALLCENTER_BROKER_URL"].startswith("sqla+sqlite:///")
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"


def test_environment_overrides_with_types(monkeypatch):
    monkeypatch.setenv("CALLCENTER_OFFER_TIMEOUT_S", "30")
    monkeypatch.setenv("CALLCENTER_SEARCH_RADIUS_KM", "12.5")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    monkeypatch.setenv("DATABASE_URL", "postgresql://cc@db:5432/cc")
    app = create_app()
    assert app.config["CALLCENTER_OFFER_TIMEOUT_S"] == 30
    assert app.config["CALLCENTER_SEARCH_RADIUS_KM"] == 12.5
    assert app.config["CALLCENTER_BROKER_URL"] == "redis://127.0.0.1:6379/3"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://cc@db:5432/cc"


def test_override_beats_environment(monkeypatch):
    monkeypatch.setenv("CALLCENTER_MAX_OFFERS", "9")
    app = create_app({"CALLCENTER_MAX_OFFERS": 2})
    assert app.config["CALLCENTER_MAX_OFFERS"] == 2


@pytest.mark.parametrize(
    "url,expected",
    [
        ("postgresql://u@h:5432/d", "postgresql+psycopg://u@h:5432/d"),
        ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:////tmp/x.sqlite", "sqlite:////tmp/x.sqlite"),
    ],
)
def test_database_url_forms(url, expected):
    assert normalise_database_url(url) == expected


def test_production_refuses_the_default_secret_key(monkeypatch):
    monkeypatch.setenv("CALLCENTER_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()
    monkeypatch.setenv("SECRET_KEY", DEFAULT_SECRET_KEY)
    with pytest.raises(RuntimeError):
        create_app()
    monkeypatch.setenv("SECRET_KEY", "a-real-secret-from-the-vault")
    assert create_app().config["CALLCENTER_ENV"] == "production"


def test_password_profile_is_checked_and_cheapest_is_refused_in_production(monkeypatch):
    monkeypatch.setenv("CALLCENTER_ARGON2_PROFILE", "md5")
    with pytest.raises(RuntimeError, match="CALLCENTER_ARGON2_PROFILE must be one of"):
        create_app()
    monkeypatch.setenv("CALLCENTER_ARGON2_PROFILE", "cheapest")
    assert create_app().config["CALLCENTER_ARGON2_PROFILE"] == "cheapest"
    monkeypatch.setenv("CALLCENTER_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-real-secret-from-the-vault")
    with pytest.raises(RuntimeError, match="cheapest is for tests"):
        create_app()
    monkeypatch.setenv("CALLCENTER_ARGON2_PROFILE", "rfc9106-high-memory")
    assert create_app().config["CALLCENTER_ARGON2_PROFILE"] == "rfc9106-high-memory"


def test_session_cookie_settings():
    app = create_app({"CALLCENTER_SESSION_IDLE_MIN": 15})
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() == 15 * 60
