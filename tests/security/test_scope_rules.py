"""Who sees what: subordinates (transitive), staff groups managing client groups,
仅限分配的客户, see-all roles; and the SQL and object forms of the rule agree."""
import pytest
from sqlalchemy import select


def visible_names(app, user):
    """Client names the SQL form gives ``user``."""
    from app.extensions import db
    from app.models import Client, Staff
    from app.security import scope

    with app.app_context():
        u = db.session.get(Staff, user.id)
        sm = app.appbuilder.sm
        cond = scope.condition(u, Client, lambda p, v: sm.user_has(u, p, v))
        query = select(Client.name)
        if cond is not None:
            query = query.where(cond)
        return set(db.session.execute(query).scalars())


def allowed_names(app, user):
    """Client names the object form allows ``user`` (must equal the SQL form)."""
    from app.extensions import db
    from app.models import Client, Staff
    from app.security import scope

    with app.app_context():
        u = db.session.get(Staff, user.id)
        sm = app.appbuilder.sm
        return {c.name for c in db.session.query(Client).all()
                if scope.allows(u, c, lambda p, v: sm.user_has(u, p, v), db.session)}


def set_superior(app, user, boss):
    from app.extensions import db
    from app.models import Staff

    with app.app_context():
        db.session.get(Staff, user.id).superior_id = boss.id
        db.session.commit()


@pytest.fixture
def org(app, make_user, make_client):
    """boss → mid → leaf (上级 chain); a stranger; a group of clients managed by a
    staff group that only ``grouped`` belongs to."""
    from app.extensions import db
    from app.models import ClientGroup
    from flask_appbuilder.security.sqla.models import Group

    boss, mid, leaf = make_user("Accountant"), make_user("Accountant"), make_user("Accountant")
    stranger, grouped = make_user("Accountant"), make_user("FieldAgent")
    set_superior(app, mid, boss)
    set_superior(app, leaf, mid)
    with app.app_context():
        staff_group = Group(name=f"一组{grouped.id}")
        staff_group.users = [db.session.get(type(grouped), grouped.id)]
        client_group = ClientGroup(name=f"北京组{grouped.id}", staff_groups=[staff_group])
        db.session.add_all([staff_group, client_group])
        db.session.commit()
        cg_id = client_group.id
    make_client(name="老板的客户", bookkeeper=boss)
    make_client(name="中层的客户", bookkeeper=mid)
    make_client(name="基层的客户", field_agent=leaf)
    make_client(name="陌生人的客户", bookkeeper=stranger)
    make_client(name="组内客户", bookkeeper=stranger, client_group_id=cg_id)
    return type("Org", (), dict(boss=boss, mid=mid, leaf=leaf, stranger=stranger,
                                grouped=grouped))


def test_superior_sees_subordinates_clients_transitively(app, org):
    assert visible_names(app, org.boss) == {"老板的客户", "中层的客户", "基层的客户"}
    assert visible_names(app, org.mid) == {"中层的客户", "基层的客户"}
    assert visible_names(app, org.leaf) == {"基层的客户"}


def test_staff_group_sees_the_client_groups_it_manages(app, org):
    assert visible_names(app, org.grouped) == {"组内客户"}
    assert visible_names(app, org.stranger) == {"陌生人的客户", "组内客户"}


def test_assigned_only_switch_turns_off_group_and_subordinate_visibility(app, org):
    from app.extensions import db
    from app.models import Staff

    with app.app_context():
        for u in (org.boss, org.grouped):
            db.session.get(Staff, u.id).assigned_only = True
        db.session.commit()
    assert visible_names(app, org.boss) == {"老板的客户"}
    assert visible_names(app, org.grouped) == set()


@pytest.mark.parametrize("role", ["Admin", "Manager", "Finance"])
def test_see_all_roles_see_every_client(app, org, make_user, role):
    assert len(visible_names(app, make_user(role))) == 5


def test_object_form_agrees_with_sql_form_for_everyone(app, org, make_user):
    from app.extensions import db
    from app.models import Staff

    people = [org.boss, org.mid, org.leaf, org.stranger, org.grouped, make_user("Manager")]
    for person in people:
        assert allowed_names(app, person) == visible_names(app, person), person.username
    with app.app_context():
        db.session.get(Staff, org.boss.id).assigned_only = True
        db.session.commit()
    assert allowed_names(app, org.boss) == visible_names(app, org.boss)


def test_superior_sees_subordinates_client_on_screen(app, org, client):
    client.login(org.boss)
    html = client.get("/clients/list/").get_data(as_text=True)
    assert "基层的客户" in html and "陌生人的客户" not in html


def test_scoped_list_counts_only_visible_rows(app, org, client):
    client.login(org.mid)
    html = client.get("/clients/list/").get_data(as_text=True)
    assert "中层的客户" in html and "基层的客户" in html
    assert "老板的客户" not in html


def test_literal_id_form_used_by_lists_agrees_with_subquery_form(app, org, make_user):
    """Lists resolve the team and groups once per request into id lists; the result
    must be the rows of the recursive-subquery form."""
    from app.extensions import db
    from app.models import Client, Staff
    from app.security import scope

    for person in [org.boss, org.mid, org.leaf, org.stranger, org.grouped]:
        with app.app_context():
            u = db.session.get(Staff, person.id)
            sm = app.appbuilder.sm
            perm = lambda p, v: sm.user_has(u, p, v)  # noqa: E731
            literal = scope.condition(u, Client, perm, db.session)
            names = set(db.session.execute(select(Client.name).where(literal)).scalars())
        assert names == visible_names(app, person), person.username
