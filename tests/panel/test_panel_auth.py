"""Users, passwords, sessions, CSRF and roles: the pure functions and the app's answers."""

from __future__ import annotations

import pytest

from factory.errors import InvalidField
from factory.panel import PERMISSIONS, ROLES, UserStore, can
from factory.panel.auth import Session, hash_password, read_session, sign_session, verify_password
from panel_world import PASSWORD, csrf_of, login


def test_password_hash_is_salted_scrypt_and_verifies():
    first, second = hash_password("s3cret-pass"), hash_password("s3cret-pass")
    assert first.startswith("scrypt$") and first != second
    assert verify_password("s3cret-pass", first) and verify_password("s3cret-pass", second)
    assert not verify_password("s3cret-pasS", first)
    assert not verify_password("s3cret-pass", "garbage") and not verify_password("x", "scrypt$1$2$3$@@$@@")


def test_session_cookie_is_signed_and_expires():
    secret = b"k" * 32
    cookie = sign_session(Session("王芳", "reviewer", 1000.0, "tok"), secret)
    assert read_session(cookie, secret, now_s=1001.0) == Session("王芳", "reviewer", 1000.0, "tok")
    assert read_session(cookie, b"other" * 8, now_s=1001.0) is None
    payload, signature = cookie.split(".")
    forged = sign_session(Session("王芳", "supervisor", 1000.0, "tok"), secret).split(".")[0] + "." + signature
    assert read_session(forged, secret, now_s=1001.0) is None
    assert read_session(cookie, secret, now_s=1000.0 + 13 * 3600) is None
    assert read_session("not a cookie", secret, now_s=0) is None and read_session(None, secret, now_s=0) is None


def test_only_a_supervisor_changes_settings():
    assert [r for r in ROLES if can(r, "settings.change")] == ["supervisor"]
    assert {r for r in ROLES if can(r, "review.decide")} == {"reviewer", "supervisor"}
    assert not can("reviewer", "line.control") and can("operator", "line.control")
    assert all(set(roles) <= set(ROLES) for roles in PERMISSIONS.values())
    assert not can("operator", "no.such.permission")


def test_user_store_names_the_bad_field(tmp_path):
    with UserStore.open(tmp_path / "l.sqlite") as store:
        store.add("li_na", "operator", PASSWORD, by="test")
        for name, role, password, field in (("li_na", "operator", PASSWORD, "name"), ("x y", "operator", PASSWORD, "name"),
                                            ("bo", "janitor", PASSWORD, "role"), ("bo", "operator", "short", "password")):
            with pytest.raises(InvalidField) as err:
                store.add(name, role, password, by="test")
            assert err.value.field == field
        assert store.verify("li_na", PASSWORD).role == "operator"
        assert store.verify("li_na", "wrong password") is None and store.verify("nobody", PASSWORD) is None
        store.set_disabled("li_na", True)
        assert store.verify("li_na", PASSWORD) is None
        assert "correct" not in (tmp_path / "l.sqlite").read_bytes().decode("latin-1")  # never the password itself
    with UserStore.open(tmp_path / "l.sqlite") as again:  # migrations are idempotent, the secret is kept
        assert [u["name"] for u in again.users()] == ["li_na"]


def test_pages_need_a_login_and_personal_data_is_hidden(client_for, world):
    anonymous = client_for()
    response = anonymous.get("/review", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=%2Freview")
    flagged = world.flagged[0]
    for path in ("/api/line", "/api/review", f"/api/review/{flagged}", f"/api/review/{flagged}/image/enrolled_photo"):
        answer = anonymous.get(path)
        assert answer.status_code == 401, path
        assert world.records[flagged]["surname_cn"] not in answer.text


def test_wrong_password_and_forged_login_are_refused(client_for):
    client = client_for()
    assert login(client, "olga", "not the password").headers["location"] == "/login?failed=1"
    response = client.post("/login", data={"name": "olga", "password": PASSWORD, "csrf_token": "forged", "next": "/"},
                           follow_redirects=False)
    assert response.headers["location"] == "/login?failed=1"
    assert client.get("/api/line").status_code == 401


def test_login_redirect_stays_on_this_site(client_for):
    client = client_for()
    page = client.get("/login?next=//evil.example/x")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post("/login", data={"name": "olga", "password": PASSWORD, "csrf_token": token,
                                           "next": "https://evil.example/"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"


@pytest.mark.parametrize("name, allowed, refused", [
    ("olga", ["/line", "/queue", "/plan", "/green", "/stock"], ["/review", "/settings"]),
    ("rui", ["/line", "/review"], ["/queue", "/plan", "/green", "/stock", "/settings"]),
    ("sam", ["/line", "/queue", "/plan", "/green", "/stock", "/review", "/settings"], []),
])
def test_each_role_opens_its_screens_only(client_for, name, allowed, refused):
    client = client_for(name)
    for path in allowed:
        assert client.get(path).status_code == 200, path
    for path in refused:
        assert client.get(path).status_code == 403, path


def test_state_changes_need_the_csrf_token(client_for, line):
    client = client_for("olga")
    assert client.post("/api/machines/B06/pause").status_code == 403
    assert client.post("/api/machines/B06/pause", headers={"X-CSRF-Token": "wrong"}).status_code == 403
    assert next(m for m in line.machines() if m.id == "B06").state == "idle"
    token = csrf_of(client)
    assert client.post("/api/machines/B06/pause", headers={"X-CSRF-Token": token}).json()["state"] == "paused"
    assert client.post("/api/machines/B06/resume", headers={"X-CSRF-Token": token}).json()["state"] == "idle"


def test_a_reviewer_cannot_steer_the_line_or_change_shifts(client_for, line):
    client = client_for("rui")
    token = csrf_of(client, "/review")
    assert client.post("/api/machines/B06/pause", headers={"X-CSRF-Token": token}).status_code == 403
    assert client.post("/api/settings/shifts", json={"peak": True}, headers={"X-CSRF-Token": token}).status_code == 403
    assert line.peak_shifts() is False


def test_logout_ends_the_session(client_for):
    client = client_for("olga")
    token = csrf_of(client)
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert client.get("/api/line").status_code == 401
