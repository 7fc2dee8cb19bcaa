"""客户账号密码: secrets encrypted at rest, masked everywhere, 显示 with a reason and an
audit row, scoped like every client record; key rotation; no key, no start."""
from __future__ import annotations

import io
import json
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

SECRET = "Tax-Pa55_机密"


def _add(client, client_id, secret=SECRET, account="91110105MA00TEST"):
    return client.post_form("/credentials/add", {
        "client": str(client_id), "system": "etax", "account": account,
        "new_secret": secret, "note": "法人实名"})


def _only_credential(app):
    from app.extensions import db
    from app.models import ClientCredential

    with app.app_context():
        rows = db.session.query(ClientCredential).all()
        assert len(rows) == 1
        return rows[0].id


_since = {"id": 0}


@pytest.fixture(autouse=True)
def _audit_from_here(app):
    """The audit log outlives each test: read only the rows this test wrote."""
    from app.extensions import db

    with app.app_context():
        _since["id"] = db.session.execute(text("SELECT COALESCE(MAX(id), 0) FROM audit_log"))\
            .scalar()


def _audit(app, action):
    from app.extensions import db

    with app.app_context():
        return db.session.execute(text(
            "SELECT username, row_id, changes FROM audit_log WHERE action = :a "
            "AND table_name = 'client_credential' AND id > :since ORDER BY id"),
            {"a": action, "since": _since["id"]}).all()


@pytest.fixture
def acct(make_user):
    return make_user("Accountant")


@pytest.fixture
def stored(app, client, acct, make_client):
    cid = make_client(bookkeeper=acct)
    client.login(acct)
    resp = _add(client, cid)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    return _only_credential(app)


def test_the_database_holds_only_ciphertext(app, stored):
    from app.extensions import db
    from app.models import ClientCredential

    with app.app_context():
        raw = db.session.execute(text("SELECT secret_enc FROM client_credential")).scalar()
        assert raw and SECRET not in raw and "Tax-Pa55" not in raw
        assert db.session.get(ClientCredential, stored).secret == SECRET


def test_lists_pages_export_and_audit_never_show_it(app, client, stored, admin):
    pages = [client.get("/credentials/list/"), client.get(f"/credentials/show/{stored}"),
             client.get(f"/credentials/edit/{stored}")]
    for resp in pages:
        assert resp.status_code == 200
        assert SECRET not in resp.get_data(as_text=True)
    assert "******" in pages[0].get_data(as_text=True)
    client.login(admin)  # a Manager's or Admin's export
    export = client.get("/credentials/export.xlsx")
    assert export.status_code == 200
    cells = [str(c) for row in load_workbook(io.BytesIO(export.data)).active.iter_rows(
        values_only=True) for c in row if c is not None]
    assert "91110105MA00TEST" in cells and not any(SECRET in c for c in cells)
    for _, _, changes in _audit(app, "insert"):
        assert SECRET not in changes and json.loads(changes)["secret_enc"][1] == "******"


def test_an_edit_with_an_empty_password_keeps_it_and_a_new_one_replaces_it(app, client,
                                                                          stored):
    from app.extensions import db
    from app.models import ClientCredential

    form = {"client": "", "system": "bank", "account": "6222-0001", "new_secret": "",
            "note": ""}
    with app.app_context():
        form["client"] = str(db.session.get(ClientCredential, stored).client_id)
    assert client.post_form(f"/credentials/edit/{stored}", form).status_code == 302
    with app.app_context():
        assert db.session.get(ClientCredential, stored).secret == SECRET
    form["new_secret"] = "换了的密码"
    assert client.post_form(f"/credentials/edit/{stored}", form).status_code == 302
    with app.app_context():
        db.session.expire_all()
        assert db.session.get(ClientCredential, stored).secret == "换了的密码"
    changes = [json.loads(c) for _, _, c in _audit(app, "update")]
    assert changes[-1]["secret_enc"] == ["******", "******"]


def test_reveal_asks_why_and_writes_who_when_which_why(app, client, acct, stored):
    page = client.get(f"/credentials/reveal/{stored}")
    assert page.status_code == 200 and SECRET not in page.get_data(as_text=True)
    no_reason = client.post_form(f"/credentials/reveal/{stored}", {"reason": "  "})
    assert no_reason.status_code == 422 and SECRET not in no_reason.get_data(as_text=True)
    assert _audit(app, "reveal") == []
    shown = client.post_form(f"/credentials/reveal/{stored}", {"reason": "本月申报增值税"})
    body = shown.get_data(as_text=True)
    assert shown.status_code == 200 and SECRET in body
    assert shown.headers["Cache-Control"] == "no-store"
    [(username, row_id, changes)] = _audit(app, "reveal")
    assert username == acct.username and row_id == str(stored)
    assert json.loads(changes)["reason"] == "本月申报增值税" and SECRET not in changes


def test_reveal_without_the_permission_is_403(app, client, make_user, make_client, grant):
    agent = make_user("FieldAgent")
    grant("FieldAgent", "can_list", "ClientCredentialView")
    grant("FieldAgent", "can_show", "ClientCredentialView")
    cid = make_client(field_agent=agent)
    from app.extensions import db
    from app.models import ClientCredential

    with app.app_context():
        row = ClientCredential(client_id=cid, system="social", account="sb-001")
        row.secret = SECRET
        db.session.add(row)
        db.session.commit()
        pk = row.id
    client.login(agent)
    assert client.get(f"/credentials/show/{pk}").status_code == 200
    assert client.get(f"/credentials/reveal/{pk}").status_code == 403
    resp = client.post_form(f"/credentials/reveal/{pk}", {"reason": "想看看"})
    assert resp.status_code == 403 and SECRET not in resp.get_data(as_text=True)
    assert _audit(app, "reveal") == []


def test_another_accountants_login_is_404_everywhere(app, client, make_user, stored):
    other = make_user("Accountant")
    client.login(other)
    for path in (f"/credentials/show/{stored}", f"/credentials/edit/{stored}",
                 f"/credentials/reveal/{stored}"):
        assert client.get(path).status_code == 404, path
    resp = client.post_form(f"/credentials/reveal/{stored}", {"reason": "好奇"})
    assert resp.status_code == 404 and SECRET not in resp.get_data(as_text=True)
    assert client.post_form(f"/credentials/action/reveal/{stored}").status_code == 404
    assert "91110105MA00TEST" not in client.get("/credentials/list/").get_data(as_text=True)
    assert _audit(app, "reveal") == []


def test_rotation_reencrypts_every_secret(app, stored):
    from cryptography.fernet import Fernet, InvalidToken

    from app.extensions import db
    from app.models import ClientCredential
    from app.security import vault

    with app.app_context():
        old_key = vault.current().key
        before = db.session.execute(text("SELECT secret_enc FROM client_credential")).scalar()
    result = app.test_cli_runner().invoke(args=["vault", "rotate"])
    try:
        assert result.exit_code == 0, result.output
        new_key = re.search(r"^([A-Za-z0-9_\-]{43}=)$", result.output, re.M).group(1)
        with app.app_context():
            after = db.session.execute(text("SELECT secret_enc FROM client_credential")).scalar()
            assert after != before
            assert Fernet(new_key.encode()).decrypt(after.encode()).decode() == SECRET
            with pytest.raises(InvalidToken):
                Fernet(old_key).decrypt(after.encode())
            assert db.session.get(ClientCredential, stored).secret == SECRET
    finally:  # the session app keeps its key for the other tests
        with app.app_context():
            app.extensions[vault.EXTENSION] = vault.Vault(old_key, "env")


def test_no_key_is_a_startup_error(monkeypatch, tmp_path, database_url):
    from app import create_app
    from app.security.vault import VaultKeyMissing

    monkeypatch.delenv("AGENCYDESK_VAULT_KEY", raising=False)
    with pytest.raises(VaultKeyMissing, match="密钥缺失"):
        create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True,
                    "VAULT_KEY_PATH": str(tmp_path / "absent.key")})
    (tmp_path / "bad.key").write_text("not-a-key")
    with pytest.raises(VaultKeyMissing, match="无效"):
        create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True,
                    "VAULT_KEY_PATH": str(tmp_path / "bad.key")})
