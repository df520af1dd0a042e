"""Bearer tokens, lockout without user enumeration, and the audit of every sign-in."""

import hashlib
from datetime import timedelta

from callcenter.extensions import db
from callcenter.models import ApiToken, SignInThrottle, User
from callcenter.services import clock
from tests.helpers import PASSWORD


def sign_in(client, username, password):
    return client.post("/api/v1/auth/tokens", json={"username": username, "password": password})


def test_token_sign_in_use_and_revoke(client, factory, app):
    user = factory.user("dispatcher", username="budi")
    response = sign_in(client, "Budi", PASSWORD)
    assert response.status_code == 201
    body = response.get_json()
    assert body["user"] == {
        "id": user["id"],
        "username": "budi",
        "full_name": None,
        "role": "dispatcher",
        "unit_id": None,
        "locale": None,
        "active": True,
    }
    assert body["expires_at"].endswith("+00:00")
    headers = {"Authorization": f"Bearer {body['token']}"}
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    assert "Set-Cookie" not in client.get("/api/v1/categories", headers=headers).headers

    with app.app_context():
        stored = db.session.scalars(db.select(ApiToken.token_hash)).one()
        db.session.remove()
    assert stored == hashlib.sha256(body["token"].encode()).hexdigest()
    assert body["token"] not in stored

    assert client.delete("/api/v1/auth/tokens/current", headers=headers).status_code == 204
    after = client.get("/api/v1/auth/me", headers=headers)
    assert after.status_code == 401
    assert after.get_json()["error"]["code"] == "unauthorized"
    types = [e.type for e in factory.events()]
    assert types.count("auth.signed_in") == 1 and "auth.token_revoked" in types


def test_expired_token_is_refused(client, factory, app):
    user = factory.user("dispatcher")
    token = factory.token(user)
    with app.app_context():
        row = db.session.scalars(db.select(ApiToken)).one()
        row.expires_at = clock.now() - timedelta(seconds=1)
        db.session.commit()
        db.session.remove()
    response = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_wrong_password_and_unknown_user_look_the_same(client, factory):
    factory.user("dispatcher", username="sari")
    wrong = sign_in(client, "sari", "not-the-password")
    unknown = sign_in(client, "nobody-here", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()
    assert wrong.get_json()["error"]["code"] == "invalid_credentials"


def test_lockout_after_five_failures_for_ten_minutes(client, factory, app):
    factory.user("dispatcher", username="andi")
    for _ in range(4):
        assert sign_in(client, "andi", "wrong-password").status_code == 401
    fifth = sign_in(client, "andi", "wrong-password")
    assert fifth.status_code == 429
    assert fifth.get_json()["error"]["code"] == "locked"
    # Locked: even the right password is refused.
    locked = sign_in(client, "andi", PASSWORD)
    assert locked.status_code == 429
    with app.app_context():
        throttle = db.session.get(SignInThrottle, ("andi", "127.0.0.1"))
        remaining = (throttle.locked_until - clock.now()).total_seconds()
        assert 590 < remaining <= 600
        # Ten minutes later the right password works again.
        throttle.locked_until = clock.now() - timedelta(seconds=1)
        db.session.commit()
        db.session.remove()
    assert sign_in(client, "andi", PASSWORD).status_code == 201
    types = [e.type for e in factory.events()]
    assert types.count("auth.sign_in_failed") == 6
    assert types.count("auth.locked_out") == 1
    assert types.count("auth.signed_in") == 1


def test_lockout_does_not_reveal_whether_the_user_exists(client, factory):
    factory.user("dispatcher", username="real")
    answers = {}
    for name in ("real", "invented"):
        answers[name] = [sign_in(client, name, "wrong-password") for _ in range(6)]
    for a, b in zip(answers["real"], answers["invented"], strict=True):
        assert a.status_code == b.status_code
        assert a.get_json() == b.get_json()
    assert answers["real"][-1].status_code == 429


def test_failed_sign_in_is_audited_with_the_name_tried(client, factory):
    sign_in(client, "ghost", "whatever-password")
    failed = factory.events("auth.sign_in_failed")
    assert len(failed) == 1
    assert failed[0].data["username"] == "ghost"
    assert failed[0].data["reason"] == "credentials"


def test_inactive_user_cannot_sign_in(client, factory, app):
    user = factory.user("dispatcher", username="gone")
    with app.app_context():
        db.session.get(User, user["id"]).is_active_flag = False
        db.session.commit()
        db.session.remove()
    assert sign_in(client, "gone", PASSWORD).status_code == 401


def test_token_request_validation(client):
    response = client.post("/api/v1/auth/tokens", json={"username": "x", "extra": 1})
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert set(fields) == {"password", "extra"}
    response = client.post("/api/v1/auth/tokens", data="not json", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_json"


def _stored_hash(app) -> str:
    with app.app_context():
        stored = db.session.scalars(db.select(User.password_hash)).one()
        db.session.remove()
    return stored


def test_passwords_are_argon2id_with_rfc_9106_parameters_by_default(factory, app, monkeypatch):
    # The suite hashes with the cheapest parameters (tests.conftest); a center runs the
    # default, RFC 9106's low-memory set.
    monkeypatch.setitem(app.config, "CALLCENTER_ARGON2_PROFILE", "rfc9106-low-memory")
    factory.user("dispatcher", username="hashcheck")
    stored = _stored_hash(app)
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PASSWORD not in stored


def test_a_hash_made_with_other_parameters_is_made_again_at_sign_in(
    client, factory, app, monkeypatch
):
    factory.user("dispatcher", username="rehash")  # the suite's cheapest parameters
    assert _stored_hash(app).startswith("$argon2id$v=19$m=8,t=1,p=1$")
    monkeypatch.setitem(app.config, "CALLCENTER_ARGON2_PROFILE", "rfc9106-low-memory")
    assert sign_in(client, "rehash", PASSWORD).status_code == 201
    assert _stored_hash(app).startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert sign_in(client, "rehash", PASSWORD).status_code == 201
    assert sign_in(client, "rehash", "wrong-password-1").status_code == 401


def test_token_endpoint_is_rate_limited(client, factory, app):
    app.config["CALLCENTER_LOGIN_RATE"] = "3/minute"
    try:
        codes = [sign_in(client, f"someone{i}", "pw-pw-pw-pw").status_code for i in range(4)]
    finally:
        app.config["CALLCENTER_LOGIN_RATE"] = "10000/minute"
    assert codes[:3] == [401, 401, 401]
    assert codes[3] == 429
