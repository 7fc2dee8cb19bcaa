"""Another user's client, typed into every surface, is neither shown nor changed.

The matrix is roles × surfaces: for each role that does not see all clients, a user
with one assigned client tries the other client's id everywhere.
"""
import pytest

from ..conftest import PASSWORD

SCOPED_ROLES = ["Accountant", "FieldAgent", "Sales"]


def status_of(app, cid):
    from app.extensions import db
    from app.models import Client

    with app.app_context():
        db.session.expire_all()
        c = db.session.get(Client, cid)
        return c.status, c.name, c.bookkeeper_id


@pytest.fixture(params=SCOPED_ROLES)
def intruder(request, app, make_user, make_client, client):
    """A logged-in user of the role, his own client, and someone else's client."""
    user = make_user(request.param)
    owner = make_user("Accountant")
    own = make_client(name="自己的客户有限公司", bookkeeper=user)
    foreign = make_client(name="别人的客户有限公司", bookkeeper=owner, status="stopped")
    client.login(user)
    return type("I", (), {"user": user, "own": own, "foreign": foreign, "web": client,
                          "role": request.param})


READ_PATHS = ["/clients/show/{id}", "/clients/edit/{id}", "/clients-basic/show/{id}",
              "/clients/panels/{id}", "/clients/show/{id}?panels=inline"]


@pytest.mark.parametrize("path", READ_PATHS)
def test_reading_another_users_client_by_id_is_404_or_forbidden(app, intruder, path):
    resp = intruder.web.get(path.format(id=intruder.foreign))
    assert resp.status_code in (404, 302, 403)
    assert "别人的客户有限公司" not in resp.get_data(as_text=True)


def test_show_of_own_client_works(intruder):
    resp = intruder.web.get(f"/clients/show/{intruder.own}")
    assert resp.status_code == 200
    assert "自己的客户有限公司" in resp.get_data(as_text=True)


def test_list_shows_only_own_clients(intruder):
    html = intruder.web.get("/clients/list/").get_data(as_text=True)
    assert "自己的客户有限公司" in html
    assert "别人的客户有限公司" not in html
    html = intruder.web.get("/clients/list/?q=别人").get_data(as_text=True)
    assert "别人的客户有限公司" not in html


@pytest.mark.parametrize("method, path, data", [
    ("post", "/clients/edit/{id}", {"name": "被篡改有限公司", "status": "active"}),
    ("post", "/clients/delete/{id}", {}),
    ("post", "/clients/action/restore/{id}", {}),
    ("post", "/clients/action/soft_delete/{id}", {}),
    ("post", "/clients/action_post", {"action": "restore", "rowid": ["{id}"]}),
    ("post", "/clients/action_post", {"action": "soft_delete", "rowid": ["{own}", "{id}"]}),
    ("post", "/clients/action_post", {"action": "assign", "rowid": ["{id}"]}),
    ("get", "/clients/assign/?ids={id}", None),
    ("post", "/clients/assign/", {"ids": "{id}", "bookkeeper_id": "{me}"}),
])
def test_changing_another_users_client_changes_nothing(app, intruder, method, path, data):
    before = status_of(app, intruder.foreign)
    own_before = status_of(app, intruder.own)
    fmt = {"id": intruder.foreign, "own": intruder.own, "me": intruder.user.id}
    url = path.format(**fmt)
    if method == "get":
        resp = intruder.web.get(url)
    else:
        form = {k: ([x.format(**fmt) for x in v] if isinstance(v, list) else v.format(**fmt))
                for k, v in data.items()}
        resp = intruder.web.post_form(url, form)
    assert resp.status_code in (404, 302, 403, 405), resp.status_code
    if resp.status_code == 302:
        follow = intruder.web.get(resp.headers["Location"]).get_data(as_text=True)
        assert "别人的客户有限公司" not in follow
    assert status_of(app, intruder.foreign) == before
    # all or nothing: a batch that names one foreign id changes none of them
    assert status_of(app, intruder.own) == own_before


def test_export_contains_only_own_clients(app, intruder):
    resp = intruder.web.get("/clients/export.xlsx")
    if intruder.role in ("FieldAgent", "Sales"):
        assert resp.status_code in (302, 403)  # no export grant by default
        return
    assert resp.status_code == 200
    import io

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(resp.data), read_only=True).active
    names = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert names == ["自己的客户有限公司"]


@pytest.fixture
def api_token(app, intruder):
    resp = app.test_client().post("/api/v1/security/login", json={
        "username": intruder.user.username, "password": PASSWORD, "provider": "db"})
    assert resp.status_code == 200
    return {"Authorization": "Bearer " + resp.json["access_token"]}


def test_api_list_has_only_own_clients(app, intruder, api_token):
    data = app.test_client().get("/api/v1/clients/", headers=api_token).json
    assert [r["name"] for r in data["result"]] == ["自己的客户有限公司"]
    assert data["count"] == 1


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_api_another_users_client_by_id(app, intruder, api_token, method):
    c = app.test_client()
    url = f"/api/v1/clients/{intruder.foreign}"
    kwargs = {"json": {"name": "被篡改有限公司"}} if method == "put" else {}
    resp = getattr(c, method)(url, headers=api_token, **kwargs)
    assert resp.status_code in (404, 403, 401)
    assert "别人的客户有限公司" not in resp.get_data(as_text=True)
    assert status_of(app, intruder.foreign)[1] == "别人的客户有限公司"
