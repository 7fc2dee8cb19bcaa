"""The one client picker, on every form that chooses a client: it offers only the
clients the user may see, and never shows, searches or matches a credit code hidden
from him (字段可见性). The views are found from the app, so a new form with a client
box is covered without touching this file."""
import pytest

from ..conftest import valid_code


def picker_routes(app) -> list[str]:
    """The ``client-search`` endpoint of every registered view that has one."""
    routes = []
    for view in app.appbuilder.baseviews:
        if hasattr(view, "client_search") and getattr(view, "route_base", None):
            routes.append(view.route_base)
    return sorted(routes)


@pytest.fixture
def hidden_code(app):
    """统一社会信用代码 hidden from Accountants."""
    from app.extensions import db
    from app.models import HiddenField

    with app.app_context():
        role = app.appbuilder.sm.find_role("Accountant")
        db.session.add(HiddenField(role_id=role.id, model="client", field="credit_code"))
        db.session.commit()
    yield
    with app.app_context():
        db.session.query(HiddenField).delete()
        db.session.commit()


@pytest.fixture
def two_clients(make_user, make_client, grant):
    me = make_user("Accountant")
    for view in ("TodoModelView", "ContractModelView", "AddressServiceModelView",
                 "JournalModelView", "InvoiceModelView", "ContactModelView",
                 "ChargeModelView", "ReceiptModelView"):
        grant("Accountant", "can_add", view)
    mine_code, theirs_code = valid_code(), valid_code()
    mine = make_client(name="选择器自己的客户有限公司", credit_code=mine_code, bookkeeper=me)
    theirs = make_client(name="选择器别人的客户有限公司", credit_code=theirs_code,
                         bookkeeper=make_user("Accountant"))
    return me, (mine, mine_code), (theirs, theirs_code)


def test_every_form_with_a_client_uses_the_one_picker(app):
    """Todos, contracts, addresses, journal and invoices (and later leads) share it."""
    routes = picker_routes(app)
    assert {"/todos", "/contracts", "/addresses", "/journal", "/invoices"} <= set(routes)


def test_the_picker_offers_only_visible_clients_everywhere(app, client, two_clients):
    me, (mine, code), (theirs, _) = two_clients
    client.login(me)
    for route in picker_routes(app):
        results = client.get(f"{route}/client-search?q=选择器").get_json()["results"]
        assert [r["id"] for r in results] == [mine], route
        assert results[0]["credit_code"] == code and code in results[0]["text"], route


def test_a_hidden_credit_code_is_not_shown_searched_or_matched(app, client, two_clients,
                                                               hidden_code):
    me, (mine, code), _ = two_clients
    client.login(me)
    for route in picker_routes(app):
        results = client.get(f"{route}/client-search?q=选择器").get_json()["results"]
        assert [r["id"] for r in results] == [mine], route
        assert results[0]["credit_code"] == "" and code not in str(results), route
        # the code cannot be used to find the client either
        assert client.get(f"{route}/client-search?q={code[:10]}").get_json()["results"] == []
    # typed into a form, the hidden code names no client
    from app.extensions import db
    from app.models import Todo

    resp = client.post_form("/todos/add", {"title": "按代码选客户", "client": code})
    assert resp.status_code == 422
    with app.app_context():
        assert db.session.query(Todo).filter_by(title="按代码选客户").count() == 0


def test_a_visible_code_may_be_typed(app, client, two_clients):
    from app.extensions import db
    from app.models import Todo

    me, (mine, code), _ = two_clients
    client.login(me)
    assert client.post_form("/todos/add", {"title": "按代码选客户", "client": code.lower()}
                            ).status_code == 302
    with app.app_context():
        assert db.session.query(Todo).filter_by(title="按代码选客户").one().client_id == mine


def test_the_picker_answers_only_those_who_may_fill_the_form(app, client, make_user):
    client.login(make_user("FieldAgent"))
    for route in ("/journal", "/invoices", "/contracts"):
        assert client.get(f"{route}/client-search?q=a").status_code in (302, 403), route
    assert app.test_client().get("/todos/client-search?q=a").status_code in (302, 401)
