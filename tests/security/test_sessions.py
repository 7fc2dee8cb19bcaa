"""Sessions end when they should: a copy of the session cookie or a token kept from
before a logout, a password change or reset, or a lockout gets nobody in; the REST
API takes bearer tokens, not the cookie; responses keep the pages out of frames."""
import pytest

from ..conftest import PASSWORD, WebClient


def cookie_of(web) -> str:
    """The session cookie as a browser holds it (what an attacker would copy)."""
    cookie = web.c.get_cookie("session")
    return cookie.value if cookie else ""


def with_cookie(app, value: str) -> WebClient:
    """Another browser that was handed a copy of a session cookie."""
    other = WebClient(app.test_client())
    other.c.set_cookie("session", value)
    return other


def token_of(app, user, refresh=False) -> dict:
    resp = app.test_client().post("/api/v1/security/login", json={
        "username": user.username, "password": PASSWORD, "provider": "db",
        "refresh": refresh})
    assert resp.status_code == 200
    return resp.json


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_a_copied_cookie_works_until_logout_and_never_after(app, client, make_user):
    client.login(make_user("Accountant"))
    copied = cookie_of(client)
    assert with_cookie(app, copied).get("/clients/list/").status_code == 200
    client.get("/logout/")
    resp = with_cookie(app, copied).get("/clients/list/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_logout_ends_tokens_and_refresh_tokens_too(app, client, make_user):
    user = make_user("Accountant")
    tokens = token_of(app, user, refresh=True)
    api = app.test_client()
    assert api.get("/api/v1/clients/", headers=bearer(tokens["access_token"])).status_code == 200
    client.login(user)
    client.get("/logout/")
    resp = api.get("/api/v1/clients/", headers=bearer(tokens["access_token"]))
    assert resp.status_code == 401 and "登录" in resp.json["message"]
    refreshed = api.post("/api/v1/security/refresh", headers=bearer(tokens["refresh_token"]))
    assert refreshed.status_code == 401


def test_a_revoked_cookie_cannot_create_through_the_api(app, client, make_user):
    """The finding: after /logout/, the old cookie created a client over the API."""
    from app.extensions import db
    from app.models import Client

    client.login(make_user("Manager"))
    copied = with_cookie(app, cookie_of(client))
    client.get("/logout/")
    resp = copied.c.post("/api/v1/clients/", json={"name": "登出后创建的客户"})
    assert resp.status_code == 401
    with app.app_context():
        assert db.session.query(Client).filter_by(name="登出后创建的客户").count() == 0


def test_the_api_does_not_take_the_session_cookie(app, client, make_user):
    """Only bearer tokens: a page on another site cannot make the browser's cookie
    act on the API (no CSRF token there)."""
    from app.extensions import db
    from app.models import Client

    client.login(make_user("Manager"))
    assert client.get("/clients/list/").status_code == 200
    assert client.get("/api/v1/clients/").status_code == 401
    assert client.c.post("/api/v1/clients/", json={"name": "跨站创建"}).status_code == 401
    with app.app_context():
        assert db.session.query(Client).filter_by(name="跨站创建").count() == 0


def test_changing_ones_password_ends_the_other_sessions_but_not_this_one(app, client,
                                                                        make_user):
    user = make_user("Accountant")
    client.login(user)
    elsewhere = WebClient(app.test_client())
    elsewhere.login(user)
    token = token_of(app, user)["access_token"]
    resp = client.post_form("/resetmypassword/form", {"password": "Neues-Passw0rd",
                                                      "conf_password": "Neues-Passw0rd"})
    assert resp.status_code == 302
    assert client.get("/clients/list/").status_code == 200  # this browser stays in
    assert elsewhere.get("/clients/list/").status_code == 302
    assert app.test_client().get("/api/v1/clients/", headers=bearer(token)).status_code == 401


def test_an_admin_reset_ends_the_users_sessions(app, client, admin, make_user):
    user = make_user("Accountant")
    victim = WebClient(app.test_client())
    victim.login(user)
    client.login(admin)
    resp = client.post_form(f"/resetpassword/form?pk={user.id}",
                            {"password": "Reset-Passw0rd", "conf_password": "Reset-Passw0rd"})
    assert resp.status_code == 302
    assert victim.get("/clients/list/").status_code == 302


def test_a_lockout_ends_the_open_sessions(app, client, make_user):
    user = make_user("Accountant")
    client.login(user)
    copied = cookie_of(client)
    attacker = WebClient(app.test_client())
    for _ in range(app.config["AUTH_LOCKOUT_THRESHOLD"]):
        attacker.c.post("/login/", data={"username": user.username, "password": "Wrong-pass-9",
                                         "csrf_token": attacker.csrf_token()})
    assert with_cookie(app, copied).get("/clients/list/").status_code == 302


def test_logout_is_in_the_audit_log(app, client, make_user):
    from app.extensions import db
    from app.models import AuditLog

    user = make_user("Accountant")
    client.login(user)
    client.get("/logout/")
    with app.app_context():
        assert db.session.query(AuditLog).filter_by(action="logout", user_id=user.id).count() == 1


@pytest.mark.parametrize("path", ["/", "/login/", "/clients/list/", "/api/v1/clients/"])
def test_every_answer_keeps_the_page_out_of_frames_and_sniffers(admin_client, path):
    resp = admin_client.get(path)
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"]
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
