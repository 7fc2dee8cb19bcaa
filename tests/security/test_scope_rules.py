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


def test_assigned_only_still_sees_the_clients_he_is_field_agent_of(app, org, make_client):
    """仅限分配的客户 means assigned to him as 记账会计 or as 外勤会计."""
    from app.extensions import db
    from app.models import Staff

    make_client(name="外勤分配的客户", field_agent=org.grouped, bookkeeper=org.stranger)
    with app.app_context():
        db.session.get(Staff, org.grouped.id).assigned_only = True
        db.session.commit()
    assert visible_names(app, org.grouped) == {"外勤分配的客户"}
    assert allowed_names(app, org.grouped) == {"外勤分配的客户"}


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


def visible_ids(app, user, model):
    """Ids of ``model`` rows the SQL form gives ``user``."""
    from app.extensions import db
    from app.models import Staff
    from app.security import scope

    with app.app_context():
        u = db.session.get(Staff, user.id)
        sm = app.appbuilder.sm
        cond = scope.condition(u, model, lambda p, v: sm.user_has(u, p, v), db.session)
        query = select(model.id)
        if cond is not None:
            query = query.where(cond)
        return set(db.session.execute(query).scalars())


def allowed_ids(app, user, model, extra=()):
    """Ids of ``model`` rows (and of the unsaved ``extra`` probes, as -1) the object
    form allows ``user``."""
    from app.extensions import db
    from app.models import Staff
    from app.security import scope

    with app.app_context():
        u = db.session.get(Staff, user.id)
        sm = app.appbuilder.sm
        perm = lambda p, v: sm.user_has(u, p, v)  # noqa: E731
        rows = db.session.query(model).all() + [model(**values) for values in extra]
        return {row.id or -1 for row in rows if scope.allows(u, row, perm, db.session)}


def test_both_forms_agree_on_todos_and_journal_entries(app, org, make_user):
    """The rows that belong to a client or to a person: a todo is its assignee's and
    its creator's, and — with 查看客户待办 — of whoever sees its client; a journal
    entry is of whoever sees its client, one with no client only of see-all roles."""
    import datetime
    from decimal import Decimal

    from app.extensions import db
    from app.models import Client, JournalEntry, Todo

    with app.app_context():
        cid = {c.name: c.id for c in db.session.query(Client)}
        todos = [Todo(title="老板客户的待办", client_id=cid["老板的客户"],
                      created_by_id=org.stranger.id),
                 Todo(title="派给基层的别人客户待办", client_id=cid["陌生人的客户"],
                      assignee_id=org.leaf.id, created_by_id=org.stranger.id),
                 Todo(title="基层自己建的待办", created_by_id=org.leaf.id),
                 Todo(title="组内客户的待办", client_id=cid["组内客户"],
                      created_by_id=org.stranger.id),
                 Todo(title="陌生人无客户的待办", created_by_id=org.stranger.id)]
        entries = [JournalEntry(entry_date=datetime.date(2026, 11, 1), client_id=cid[name],
                                amount=Decimal("300.00"), direction="expense", status="pending")
                   for name in ("中层的客户", "组内客户", "陌生人的客户")]
        entries.append(JournalEntry(entry_date=datetime.date(2026, 11, 1), client_id=None,
                                    amount=Decimal("50.00"), direction="expense",
                                    status="pending"))
        db.session.add_all(todos + entries)
        db.session.commit()
        todo_id = {t.title: t.id for t in todos}
        entry_ids = [e.id for e in entries]
    people = [org.boss, org.mid, org.leaf, org.stranger, org.grouped, make_user("Manager"),
              make_user("FieldAgent")]
    for person in people:
        assert allowed_ids(app, person, Todo) == visible_ids(app, person, Todo), person.username
        assert allowed_ids(app, person, JournalEntry) == \
            visible_ids(app, person, JournalEntry), person.username
    # and what they agree on is the rule
    assert visible_ids(app, org.leaf, Todo) == {todo_id["派给基层的别人客户待办"],
                                                todo_id["基层自己建的待办"]}
    assert todo_id["老板客户的待办"] in visible_ids(app, org.boss, Todo)
    assert visible_ids(app, org.grouped, Todo) == set()  # 外勤: no 查看客户待办
    assert visible_ids(app, org.boss, JournalEntry) == {entry_ids[0]}
    assert visible_ids(app, org.grouped, JournalEntry) == {entry_ids[1]}
    assert entry_ids[3] in visible_ids(app, people[5], JournalEntry)  # the Manager's
    # a dictionary row belongs to no client and no one: both forms let everyone see it
    from app.models import DictItem

    for person in people:
        assert allowed_ids(app, person, DictItem) == visible_ids(app, person, DictItem) != set()


def test_an_import_row_naming_a_client_that_does_not_exist_is_refused(app, org):
    """The import checks its unsaved rows with the object form: a client id that is
    no row is nobody's client (only see-all roles pass)."""
    import datetime
    from decimal import Decimal

    from app.models import JournalEntry, Todo

    probe = [dict(entry_date=datetime.date(2026, 11, 1), client_id=99999999,
                  amount=Decimal("1.00"), direction="income", status="pending")]
    assert -1 not in allowed_ids(app, org.boss, JournalEntry, extra=probe)
    todo = [dict(title="不存在客户的待办", client_id=99999999, created_by_id=org.stranger.id)]
    assert -1 not in allowed_ids(app, org.boss, Todo, extra=todo)


def test_the_system_sees_every_client_and_an_anonymous_user_none(app, org):
    """A scheduled job or the CLI acts as no user and reaches every client; a request
    that is not logged in reaches none, whatever a view forgets."""
    from flask_login import AnonymousUserMixin

    from app.extensions import db
    from app.models import Client
    from app.security import scope

    never = lambda p, v: False  # noqa: E731
    with app.app_context():
        every = set(db.session.execute(select(Client.name)).scalars())
        assert scope.condition(None, Client, never, db.session) is None
        assert len(every) == 5
        cond = scope.condition(AnonymousUserMixin(), Client, never, db.session)
        assert set(db.session.execute(select(Client.name).where(cond)).scalars()) == set()
        assert not any(scope.allows(AnonymousUserMixin(), c, never, db.session)
                       for c in db.session.query(Client))
