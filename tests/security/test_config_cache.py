"""Each worker keeps permissions, hidden fields, settings, the menu's obligation types
and the scope's team and groups between requests (app.data.config_cache): a change
made anywhere else — another worker, the CLI, raw SQL — must show on the very next
request here, never after a restart.

"Another worker" is a second engine on the same database: its writes pass none of
this process's ORM events, only the database's triggers.
"""
import pytest
from sqlalchemy import create_engine, text


@pytest.fixture
def elsewhere(app):
    """Run SQL as another worker would: its own engine, committed at once."""
    from app.extensions import db

    with app.app_context():
        engine = create_engine(db.engine.url)

    def run(sql, **params):
        with engine.begin() as conn:
            return conn.execute(text(sql), params)

    yield run
    engine.dispose()


def _role_id(app, name):
    with app.app_context():
        return app.appbuilder.sm.find_role(name).id


def test_permission_taken_from_a_role_elsewhere_is_gone_on_the_next_request(
        app, client, make_user, elsewhere):
    sm = app.appbuilder.sm
    with app.app_context():
        role = sm.add_role("缓存测试角色")
        for perm in ("can_list", "menu_access"):
            pvm = sm.find_permission_view_menu(perm, "ClientModelView")
            if pvm is not None:
                sm.add_permission_role(role, pvm)
        pvm_id = sm.find_permission_view_menu("can_list", "ClientModelView").id
        role_id = role.id
    try:
        user = make_user("缓存测试角色")
        client.login(user)
        assert client.get("/clients/list/").status_code == 200
        assert client.get("/clients/list/").status_code == 200  # kept now
        elsewhere("DELETE FROM ab_permission_view_role WHERE role_id = :r "
                  "AND permission_view_id = :p", r=role_id, p=pvm_id)
        assert client.get("/clients/list/").status_code != 200
        elsewhere("INSERT INTO ab_permission_view_role (id, permission_view_id, role_id) "
                  "SELECT COALESCE(MAX(id), 0) + 1, :p, :r FROM ab_permission_view_role",
                  r=role_id, p=pvm_id)
        assert client.get("/clients/list/").status_code == 200
    finally:
        with app.app_context():
            from app.extensions import db
            from app.models import Staff

            db.session.query(Staff).filter(Staff.username == user.username).delete()
            db.session.commit()
            sm.delete_role(role_id)


def test_field_hidden_elsewhere_is_hidden_on_the_next_request(
        app, client, make_user, make_client, elsewhere):
    agent = make_user("FieldAgent")
    cid = make_client(name="缓存隐藏字段有限公司", legal_rep_phone="13912340001",
                      field_agent=agent)
    client.login(agent)
    assert "13912340001" in client.get(f"/clients/show/{cid}").get_data(as_text=True)
    elsewhere("INSERT INTO hidden_field (role_id, model, field) VALUES (:r, 'client', "
              "'legal_rep_phone')", r=_role_id(app, "FieldAgent"))
    try:
        page = client.get(f"/clients/show/{cid}").get_data(as_text=True)
        assert "缓存隐藏字段有限公司" in page and "13912340001" not in page
        assert "13912340001" not in client.get("/clients/list/").get_data(as_text=True)
    finally:
        elsewhere("DELETE FROM hidden_field")
    assert "13912340001" in client.get(f"/clients/show/{cid}").get_data(as_text=True)


def test_subordinate_moved_elsewhere_takes_his_clients_out_of_the_managers_scope(
        app, client, make_user, make_client, elsewhere):
    boss = make_user("Accountant")  # a team lead: sees his team's clients, not all
    clerk = make_user("Accountant", superior_id=boss.id)
    cid = make_client(name="缓存团队客户有限公司", bookkeeper=clerk)
    client.login(boss)
    assert client.get(f"/clients/show/{cid}").status_code == 200
    assert "缓存团队客户有限公司" in client.get("/clients/list/").get_data(as_text=True)
    elsewhere("UPDATE ab_user SET superior_id = NULL WHERE id = :u", u=clerk.id)
    assert client.get(f"/clients/show/{cid}").status_code == 404
    assert "缓存团队客户有限公司" not in client.get("/clients/list/").get_data(as_text=True)
    elsewhere("UPDATE ab_user SET superior_id = :b WHERE id = :u", b=boss.id, u=clerk.id)
    assert client.get(f"/clients/show/{cid}").status_code == 200


def test_group_management_taken_back_elsewhere_closes_the_groups_clients(
        app, client, make_user, make_client, elsewhere):
    from app.extensions import db
    from app.models import ClientGroup

    lead = make_user("Accountant")
    with app.app_context():
        sm = app.appbuilder.sm
        staff_group = sm.add_group("缓存测试员工组", "", "", "")
        group = ClientGroup(name="缓存测试客户组")
        group.staff_groups.append(db.session.merge(staff_group))
        db.session.add(group)
        db.session.commit()
        staff_group_id, group_id = staff_group.id, group.id
    elsewhere("INSERT INTO ab_user_group (id, user_id, group_id) SELECT "
              "COALESCE(MAX(id), 0) + 1, :u, :g FROM ab_user_group", u=lead.id, g=staff_group_id)
    try:
        cid = make_client(name="缓存客户组客户有限公司", client_group_id=group_id)
        client.login(lead)
        assert client.get(f"/clients/show/{cid}").status_code == 200
        elsewhere("DELETE FROM client_group_manager WHERE staff_group_id = :g", g=staff_group_id)
        assert client.get(f"/clients/show/{cid}").status_code == 404
    finally:
        elsewhere("DELETE FROM ab_user_group WHERE group_id = :g", g=staff_group_id)
        elsewhere("DELETE FROM client_group_manager WHERE staff_group_id = :g", g=staff_group_id)
        elsewhere("DELETE FROM ab_group WHERE id = :g", g=staff_group_id)


def test_company_name_and_obligation_type_changed_elsewhere_show_at_once(
        app, admin_client, elsewhere):
    admin_client.get("/clients/list/")
    elsewhere("INSERT INTO setting (key, value) VALUES ('company_name', '缓存测试代账公司')")
    assert "缓存测试代账公司" in admin_client.get("/clients/list/").get_data(as_text=True)
    elsewhere("UPDATE setting SET value = '改名后的代账公司' WHERE key = 'company_name'")
    page = admin_client.get("/clients/list/").get_data(as_text=True)
    assert "改名后的代账公司" in page and "缓存测试代账公司" not in page

    elsewhere("INSERT INTO obligation_type (name, category, active, sort_order) "
              "VALUES ('缓存测试申报', 'filing', :t, 0)", t=True)
    try:
        assert "缓存测试申报" in admin_client.get("/clients/list/").get_data(as_text=True)
        elsewhere("UPDATE obligation_type SET active = :f WHERE name = '缓存测试申报'", f=False)
        assert "缓存测试申报" not in admin_client.get("/clients/list/").get_data(as_text=True)
    finally:
        elsewhere("DELETE FROM obligation_type WHERE name = '缓存测试申报'")


def test_a_request_that_changes_a_setting_reads_its_own_change(app, admin_client):
    """The same worker, the same request: what it committed is what it renders next."""
    from app.extensions import db
    from app.services import settings

    with app.test_request_context("/"):
        assert settings.get("cache_probe", "unset") == "unset"
        settings.put("cache_probe", "已保存")
        db.session.commit()
        assert settings.get("cache_probe", "unset") == "已保存"
