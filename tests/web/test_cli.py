"""flask init and flask demo load, as an operator runs them."""
from sqlalchemy import func, select


def test_init_twice_changes_nothing(app):
    from app.extensions import db
    from app.services.setup import initialise
    from flask_appbuilder.security.sqla.models import Role, assoc_permissionview_role

    with app.app_context():
        report = initialise(app)
        assert "0 role permission(s) added" in report and "0 dictionary" in report
        roles = {r.name for r in db.session.query(Role).all()}
        grants = db.session.execute(select(func.count()).select_from(assoc_permissionview_role)).scalar()
        initialise(app)
        assert {r.name for r in db.session.query(Role).all()} == roles
        assert db.session.execute(select(func.count()).select_from(assoc_permissionview_role)).scalar() == grants
    assert {"Admin", "Manager", "Accountant", "FieldAgent", "Finance", "Sales"} <= roles


def test_init_keeps_what_an_admin_removed_removed_and_added_added(app, grant):
    """Running init again never takes away a grant an Admin gave."""
    from app.services.setup import initialise

    grant("Sales", "can_export", "ClientModelView")
    with app.app_context():
        initialise(app)
        sm = app.appbuilder.sm
        perms = {(p.permission.name, p.view_menu.name) for p in sm.find_role("Sales").permissions}
    assert ("can_export", "ClientModelView") in perms


def test_demo_load_writes_valid_chinese_clients_and_prints_password(app):
    from app.domain.codes import validate_uscc
    from app.extensions import db
    from app.models import Client, Staff

    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "load", "--clients", "300", "--staff", "12",
                                 "--password", "Demo-pass-123"])
    assert result.exit_code == 0, result.output
    assert "password=Demo-pass-123" in result.output
    with app.app_context():
        clients = db.session.query(Client).all()
        assert len(clients) == 300
        for c in clients[:50]:
            validate_uscc(c.credit_code)
            assert any("\u4e00" <= ch <= "\u9fff" for ch in c.name)
        assert db.session.query(Staff).filter_by(username="admin").one().roles[0].name == "Admin"
        accountants = db.session.query(Staff).filter(Staff.username.like("acct%")).count()
        assert accountants >= 3
    # rerun: staff kept, --if-empty adds no clients
    result = runner.invoke(args=["demo", "load", "--clients", "300", "--staff", "12",
                                 "--password", "Demo-pass-123", "--if-empty"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.query(Client).count() == 300


def test_demo_admin_can_log_in_and_see_chinese_list(app, client):
    runner = app.test_cli_runner()
    runner.invoke(args=["demo", "load", "--clients", "30", "--staff", "6", "--password", "Demo-pass-123"])
    client.login("admin", "Demo-pass-123")
    html = client.get("/clients/list/").get_data(as_text=True)
    assert "客户列表" in html and "有限公司" in html


def test_init_fails_loudly_on_a_grant_that_names_no_permission(app, monkeypatch):
    """A renamed view must not silently take a role's rights away: the one grants
    table is checked against the registered views and menus."""
    import pytest

    from app.security import grants
    from app.services.setup import GrantError, initialise

    monkeypatch.setitem(grants.GRANTS, "Accountant", {
        **grants.GRANTS["Accountant"], "RenamedJournalView": ("can_list",)})
    with app.app_context():
        with pytest.raises(GrantError) as failure:
            initialise(app)
    assert "RenamedJournalView" in str(failure.value)


def test_every_shipped_role_holds_its_grants(app):
    from app.security.grants import DEFAULT_ROLES, grants_of

    with app.app_context():
        sm = app.appbuilder.sm
        for role in DEFAULT_ROLES:
            have = {(p.permission.name, p.view_menu.name) for p in sm.find_role(role).permissions}
            wanted = {(perm, view) for view, perms in grants_of(role).items() for perm in perms}
            assert wanted <= have, (role, wanted - have)
