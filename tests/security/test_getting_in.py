"""Getting in: lockout, rate limits on both logins, idle timeout, password rules,
CSRF on every mutation."""
import pytest

from ..conftest import PASSWORD


def wrong_login(client, username):
    return client.c.post("/login/", data={"username": username, "password": "Wrong-pass-9",
                                          "csrf_token": client.csrf_token()})


def test_account_locks_after_repeated_failures_and_admin_unlocks(app, client, make_user, admin):
    from app.extensions import db
    from app.models import Staff

    user = make_user("Accountant")
    for _ in range(app.config["AUTH_LOCKOUT_THRESHOLD"]):
        wrong_login(client, user.username)
    with app.app_context():
        assert db.session.get(Staff, user.id).locked_at is not None
    # the right password no longer works
    resp = client.c.post("/login/", data={"username": user.username, "password": PASSWORD,
                                          "csrf_token": client.csrf_token()})
    assert client.get("/clients/list/").status_code != 200
    client.login(admin)
    resp = client.post_form(f"/users/action/unlock/{user.id}")
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(Staff, user.id).locked_at is None
    client.login(user)
    assert client.get("/clients/list/").status_code == 200


@pytest.fixture
def limited_app(database_url):
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": database_url, "AUTH_RATE_LIMIT": "3 per minute",
                       "SECRET_KEY": "rate-limit-test-key-long-enough-for-jwt-32"})


def test_login_page_is_rate_limited(limited_app):
    from ..conftest import WebClient

    c = WebClient(limited_app.test_client())
    codes = [c.post_form("/login/", {"username": "x", "password": "y"}).status_code
             for _ in range(5)]
    assert codes[0] != 429 and codes[-1] == 429


def test_api_login_is_rate_limited(limited_app):
    c = limited_app.test_client()
    codes = [c.post("/api/v1/security/login", json={"username": "x", "password": "y",
                                                     "provider": "db"}).status_code
             for _ in range(5)]
    assert codes[:3] != [429] * 3 and 429 in codes


def test_idle_session_ends(app, client, make_user):
    client.login(make_user("Accountant"))
    assert client.get("/clients/list/").status_code == 200
    with client.c.session_transaction() as sess:
        sess["_seen"] = sess.get("_seen", 0) - app.config["AGENCYDESK_IDLE_MINUTES"] * 60 - 5
    resp = client.get("/clients/list/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_session_cookie_is_httponly_and_samesite(app, client, make_user):
    resp = client.login(make_user("Accountant"))
    cookie = resp.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_weak_password_is_refused_in_chinese(app, client, make_user):
    client.login(make_user("Accountant"))
    resp = client.post_form("/resetmypassword/form", {"password": "abc", "conf_password": "abc"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "至少" in html


@pytest.mark.parametrize("path", ["/clients/add", "/dict/client-sources/add",
                                  "/settings/company/form"])
def test_form_posts_without_csrf_token_are_refused(admin_client, path):
    assert admin_client.post(path, data={"name": "x"}).status_code == 400
