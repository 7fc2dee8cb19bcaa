"""A corpus of hostile inputs, thrown at every list route, every add/edit form and
every API resource (on SQLite and PostgreSQL alike): never a 500, nothing stored
that the rules refuse, and what answers is in Chinese.

The routes are read from the app itself (``app.appbuilder.baseviews``): a model
view's ``route_base`` gives ``/list/``, ``/export.xlsx``, ``/show/<id>``,
``/edit/<id>``, ``/delete/<id>``, ``/action/<name>/<id>`` and ``/action_post``
wherever the view registers them, a ``ModelRestApi`` gives ``/api/v1/<resource>/``;
a view added later is covered without touching this file (for a model the
``targets`` fixture makes no row of, the first row of its table is the one edited,
and put back afterwards).

One test per route, each looping over its hostile values and collecting every
failure into one readable report (route, value, status, the traceback's last lines
or the stored value), so the corpus stays fast: the users, their logins and the API
token are made once per module, the business rows once per test.

Forms are probed efficiently: a hostile value is posted in *every* field of the
form at once; the fields the page marks as refused are put back to valid values and
the form is posted again, until it is saved (then the saved row is read back and
checked column by column) or refused for a reason no field shows (then each
remaining field is tried alone). The REST API is probed the same way through its
``{"message": {field: [...]}}`` answers. A list's export and the Accountant's pass
get the arguments the Admin's list let through to the view, and one refused argument
of each kind (the others are refused by one check that runs before any view, for
every route and user alike).

Run it on both databases::

    python -m pytest tests/security/test_hostile_input.py -q
    AGENCYDESK_TEST_DB=postgresql python -m pytest tests/security/test_hostile_input.py -q
"""
from __future__ import annotations

import datetime
import decimal
import functools
import io
import itertools
import json
import re
import traceback
import uuid
import zipfile
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from sqlalchemy import func, inspect as sa_inspect, select, text

from ..conftest import BUSINESS_TABLES, PASSWORD, WebClient, valid_code
from ..web.test_chinese_pages import PageChecker, english_words, menu_pages, visible_text

CJK = re.compile(r"[\u3400-\u9fff]")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
TWENTY_FIVE = "1234567890123456789012345"   # a 25-digit number
BIG_ID = "9" * 25                           # a 25-digit relation id
MISSING_ID = "999999999"                    # a relation id no row has
BEYOND_INT32 = "99999999999"                # a whole number no INTEGER column holds
MAX_MONEY = decimal.Decimal("9999999999.99")
INT32 = 2 ** 31 - 1

#: what a hostile GET may answer (200: harmless, e.g. an unknown argument ignored)
GET_OK = {200, 302, 400, 404, 405, 409}
#: what a hostile form post may answer (422: the form again, with its errors)
FORM_OK = {200, 302, 400, 404, 409, 422}
#: error pages that must be the product's own, in Chinese
ERROR_PAGES = {400, 403, 404, 405, 409, 413, 422}
#: technical tokens a Chinese message may quote: the control character it refuses and
#: the two values of a sort direction
TECHNICAL = {"NUL", "asc", "desc"}

#: the values typed into every field of every form
FORM_VALUES = ["a\x00b", "x" * 10_000, "NaN", "Infinity", "-5", "99999999999", "1e5",
               "9999-12-31", "0000-00-00", TWENTY_FIVE, "bogus", MISSING_ID, BIG_ID]
#: money must never be stored from these, dates never from these
MONEY_NEVER = {"NaN", "Infinity", "-5"}
DATE_NEVER = {"9999-12-31", "0000-00-00"}
#: the same and JSON's own types, for every writable field of every API resource
JSON_VALUES = FORM_VALUES + [float("nan"), float("inf"), float("-inf"), 1e5, -5, 10 ** 24,
                             2 ** 63, -1, 0, [], [1], {}, {"id": 1}, True, None]


# ---- the routes, read from the app ---------------------------------------------------
@functools.lru_cache(maxsize=None)
def catalogue():
    """Names of the app's model views (list, add, edit routes), simple forms and REST
    resources, from an app built only to be looked at (it never opens its database)."""
    from flask_appbuilder import ModelView, SimpleFormView
    from flask_appbuilder.api import ModelRestApi

    from app import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "catalogue-only-" + "x" * 32,
                      "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    lists, forms, simple, apis = [], [], [], []
    for view in app.appbuilder.baseviews:
        name = type(view).__name__
        endpoint = getattr(view, "endpoint", name)
        if isinstance(view, ModelRestApi):
            apis.append(name)
        elif isinstance(view, ModelView) and getattr(view, "datamodel", None) is not None:
            if f"{endpoint}.list" in app.view_functions:
                lists.append(name)
            for kind in ("add", "edit"):
                if f"{endpoint}.{kind}" in app.view_functions:
                    forms.append(f"{name}-{kind}")
        elif isinstance(view, SimpleFormView) and name not in PASSWORD_FORMS:
            simple.append(name)
    return {"lists": lists, "forms": forms, "simple": simple, "apis": apis}


#: forms that change the logged-in user's (or anyone's) password: posting them would
#: end the module's session; the password rules have tests of their own
PASSWORD_FORMS = {"ResetMyPasswordView", "ResetPasswordView"}


def live_view(app, name):
    for view in app.appbuilder.baseviews:
        if type(view).__name__ == name:
            return view
    raise LookupError(name)


def has_route(app, view, method: str) -> bool:
    return f"{getattr(view, 'endpoint', type(view).__name__)}.{method}" in app.view_functions


# ---- users, logins and clean-up, once per module -------------------------------------
#: tables that keep their rows between tests: what the corpus adds to them is removed
#: after each test (the business tables are emptied by tests/conftest.py)
KEPT_TABLES = ["ab_user", "ab_role", "ab_group", "dict_item", "obligation_type",
               "hidden_field", "job_run", "calendar_day", "business_type", "service_item"]
_seq = itertools.count(1)


def _staff(app, role: str):
    from werkzeug.security import generate_password_hash

    from app.extensions import db
    from app.models import Staff

    with app.app_context():
        n = next(_seq)
        user = Staff(username=f"hostile_{role.lower()}_{uuid.uuid4().hex[:6]}",
                     first_name=f"测{n}", last_name="敌",
                     email=f"hostile{n}_{uuid.uuid4().hex[:6]}@test.cn", active=True,
                     password=generate_password_hash(PASSWORD),
                     roles=[app.appbuilder.sm.find_role(role)])
        db.session.add(user)
        db.session.commit()
        db.session.refresh(user)
        db.session.expunge(user)
        db.session.remove()
        return user


def _max_ids(app) -> dict:
    from app.extensions import db

    with app.app_context():
        found = {t: db.session.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {t}")).scalar()
                 for t in KEPT_TABLES}
        db.session.remove()
        return found


def _remove_new_rows(app, before: dict) -> None:
    """Delete what the corpus added to the kept tables (and their link rows)."""
    from app.extensions import db

    statements = [f"DELETE FROM {t}" for t in BUSINESS_TABLES] + [
        "DELETE FROM job_run WHERE id > :job_run",
        "DELETE FROM hidden_field WHERE id > :hidden_field OR role_id > :ab_role",
        "DELETE FROM calendar_day WHERE id > :calendar_day",
        "DELETE FROM client_tax_kind WHERE type_id > :obligation_type",
        "DELETE FROM obligation_type WHERE id > :obligation_type",
        "DELETE FROM dict_item WHERE id > :dict_item",
        "DELETE FROM business_type WHERE id > :business_type",
        "DELETE FROM service_item WHERE id > :service_item",
        "DELETE FROM client_group_manager WHERE staff_group_id > :ab_group",
        "DELETE FROM ab_user_group WHERE user_id > :ab_user OR group_id > :ab_group",
        "DELETE FROM ab_group_role WHERE group_id > :ab_group OR role_id > :ab_role",
        "DELETE FROM ab_user_role WHERE user_id > :ab_user OR role_id > :ab_role",
        "DELETE FROM ab_permission_view_role WHERE role_id > :ab_role",
        "UPDATE ab_user SET superior_id = NULL WHERE superior_id > :ab_user",
        "UPDATE ab_user SET created_by_fk = NULL WHERE created_by_fk > :ab_user",
        "UPDATE ab_user SET changed_by_fk = NULL WHERE changed_by_fk > :ab_user",
        "DELETE FROM ab_user WHERE id > :ab_user",
        "DELETE FROM ab_group WHERE id > :ab_group",
        "DELETE FROM ab_role WHERE id > :ab_role",
    ]
    with app.app_context():
        db.session.rollback()
        for sql in statements:
            params = {k: v for k, v in before.items() if f":{k}" in sql}
            db.session.execute(text(sql), params)
        db.session.commit()
        db.session.remove()


@pytest.fixture(scope="module")
def actors(app):
    """An Admin (sees everything, every permission) and an Accountant, each logged
    in once for the module, and the Admin's API token.

    The user form hashes the password of every post that passes its checks: for the
    module, with one round of PBKDF2 instead of scrypt (the users it makes are
    deleted after each test; logging in checks any method)."""
    saved_method = app.config.get("FAB_PASSWORD_HASH_METHOD")
    app.config["FAB_PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:1"
    before = _max_ids(app)
    admin = _staff(app, "Admin")
    accountant = _staff(app, "Accountant")
    web = WebClient(app.test_client())
    web.login(admin)
    web_accountant = WebClient(app.test_client())
    web_accountant.login(accountant)
    resp = app.test_client().post("/api/v1/security/login", json={
        "username": admin.username, "password": PASSWORD, "provider": "db"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    token = resp.json["access_token"]
    # the module's own users stay until the end of the module
    kept = dict(before, ab_user=max(before["ab_user"], accountant.id, admin.id))
    yield type("Actors", (), {"admin": admin, "accountant": accountant, "web": web,
                              "web_accountant": web_accountant, "token": token,
                              "kept": kept})
    _remove_new_rows(app, before)
    if saved_method is None:
        app.config.pop("FAB_PASSWORD_HASH_METHOD", None)
    else:
        app.config["FAB_PASSWORD_HASH_METHOD"] = saved_method


@pytest.fixture(autouse=True)
def _remove_what_the_test_added(request, app):
    yield
    if "actors" in request.fixturenames:
        _remove_new_rows(app, request.getfixturevalue("actors").kept)


# ---- one row of each model, per test -------------------------------------------------
@pytest.fixture
def targets(app, actors):
    """One row of every model a screen shows (so show/edit/action have a target):
    model name → list of ids."""
    from flask_appbuilder.security.sqla.models import Group, Role

    from app.extensions import db
    from app.models import (AddressService, CalendarDay, Client, ClientCredential,
                            ClientGroup, Contract,
                            DeadlineOverride, DictItem,
                            HiddenField, Invoice, JobRun, JournalEntry, Obligation,
                            ObligationRecord, ObligationType, ScheduledJob, Staff, Todo)

    today = datetime.date(2026, 1, 15)
    rows: dict[str, list[int]] = {}
    with app.app_context():
        s = db.session
        n = next(_seq)

        def add(obj):
            s.add(obj)
            s.flush()
            rows.setdefault(type(obj).__name__, []).append(obj.id)
            return obj

        role = add(Role(name=f"敌对测试角色{n}"))
        add(Group(name=f"敌对测试组{n}", label="测试组"))
        add(Staff(username=f"hostile_target_{uuid.uuid4().hex[:8]}", first_name="靶",
                          last_name="王", email=f"target{n}_{uuid.uuid4().hex[:6]}@test.cn",
                          active=True, password="x", roles=[s.get(Role, role.id)]))
        dicts = {kind: add(DictItem(kind=kind, name=f"敌对测试{kind}{n}", sort_order=99))
                 for kind in ("client_source", "journal_category", "payment_method", "tax_kind")}
        cgroup = add(ClientGroup(name=f"敌对客户组{n}", note="备注"))
        client = add(Client(
            name=f"敌对测试科技有限公司{n}", short_name="敌测", credit_code=valid_code(),
            legal_rep="王伟", legal_rep_phone="13800138000", contact_name="李娜",
            contact_phone="010-12345678", source_id=dicts["client_source"].id,
            taxpayer_type="general", tax_device_type="ukey", tax_device_no="661234567890",
            tax_device_custody=True, provides_address=True, registered_address="北京市朝阳区1号",
            business_address="北京市朝阳区2号", onsite_bookkeeping=True,
            bookkeeper_id=actors.accountant.id, field_agent_id=None,
            client_group_id=cgroup.id, billing_cycle="quarter",
            service_fee=decimal.Decimal("600.00"), billing_state="billed",
            next_fee_date=datetime.date(2025, 6, 1), contract_start=datetime.date(2025, 1, 1),
            contract_end=datetime.date(2026, 12, 31), status="active", note="每季度初上门取票"))
        add(Todo(title="敌对测试待办", client_id=client.id, assignee_id=actors.accountant.id,
                 created_by_id=actors.admin.id, expected_date=today, note="备注"))
        add(Contract(client_id=client.id, number=f"HT-{n}", start_date=datetime.date(2025, 1, 1),
                     end_date=datetime.date(2026, 12, 31), fee=decimal.Decimal("1200.00"),
                     billing_cycle="year", created_by_id=actors.accountant.id, note="备注"))
        add(AddressService(client_id=client.id, address="北京市海淀区3号", fee_type="yearly",
                           fee=decimal.Decimal("800.00"), start_date=datetime.date(2025, 1, 1),
                           expiry_date=datetime.date(2026, 12, 31), note="备注"))
        login = ClientCredential(client_id=client.id, system="etax", account="敌测税务账号",
                                 note="备注")
        login.secret = "敌测密码"
        add(login)
        add(JournalEntry(entry_date=today, client_id=client.id, direction="expense",
                         category_id=dicts["journal_category"].id,
                         method_id=dicts["payment_method"].id, amount=decimal.Decimal("600.00"),
                         period_start=datetime.date(2026, 1, 1),
                         period_end=datetime.date(2026, 3, 31),
                         created_by_id=actors.accountant.id, note="备注"))
        add(Invoice(client_id=client.id, title=client.name, tax_id=client.credit_code,
                    amount=decimal.Decimal("600.00"), content="代理记账费", invoice_type="normal",
                    created_by_id=actors.accountant.id))
        # 应收: a one-off charge nothing is paid on, and a receipt waiting for 审核
        from app.models import Charge, Receipt

        add(Charge(client_id=client.id, kind="one_off", description="工商变更费",
                   amount=decimal.Decimal("300.00"), due_date=today, state="open",
                   paid=0, written_off=0, created_by_id=actors.accountant.id))
        add(Receipt(client_id=client.id, amount=decimal.Decimal("600.00"), received_on=today,
                    method_id=dicts["payment_method"].id, payer="王伟", note="备注",
                    status="pending", version=1, created_by_id=actors.accountant.id))
        otype = add(ObligationType(name=f"敌对测试报税{n}", rule="0 0 15 * *",
                                   applies_to="all_active", warn_days=5, active=True,
                                   sort_order=99))
        obligation = add(Obligation(client_id=client.id, type_id=otype.id,
                                    deadline=datetime.date(2026, 2, 15),
                                    assignee_id=actors.accountant.id, active=True))
        add(ObligationRecord(obligation_id=obligation.id, client_id=client.id,
                             type_id=otype.id, due_date=datetime.date(2026, 1, 15),
                             period="2026-01", kind="complete", by_id=actors.accountant.id))
        add(HiddenField(role_id=role.id, model="client", field="note"))
        # the 征期 calendar, far from any period a test files
        add(CalendarDay(day=datetime.date(2090, 5, 1) + datetime.timedelta(days=n),
                        kind="holiday", name="敌对测试节日"))
        add(DeadlineOverride(year=2090, month=1 + n % 12, deadline=datetime.date(2090, 1, 16),
                             note="敌对测试公告"))
        # 销售: a lead of the Admin with a contact, a follow-up, and a draft contract
        from app.models import (BusinessType, Contact, FollowUp, Lead, SalesContract,
                                SalesContractLine)

        btype = add(BusinessType(name=f"敌对测试业务{n}", unit_price=decimal.Decimal("300.00"),
                                 cycle="month", sort_order=99))
        lead = add(Lead(name=f"敌对测试意向客户{n}", contact_name="张总",
                        mobile=f"139{n:08d}"[:11], owner_id=actors.admin.id, stage="new",
                        source_id=dicts["client_source"].id, industry="餐饮", region="北京",
                        assigned_on=today, note="备注"))
        add(Contact(lead_id=lead.id, name="出纳", role="出纳", qq=f"{10000 + n}"))
        add(FollowUp(lead_id=lead.id, due_date=today, cadence_day=1, way="phone"))
        contract = add(SalesContract(lead_id=lead.id, number=f"XS-{n}", start_date=today,
                                     end_date=datetime.date(2026, 12, 31),
                                     created_by_id=actors.accountant.id, status="draft"))
        add(SalesContractLine(contract_id=contract.id, business_type_id=btype.id,
                              unit_price=decimal.Decimal("300.00"), cycle="month", quantity=12,
                              discount=decimal.Decimal("0.00"),
                              amount=decimal.Decimal("3600.00")))
        # 客户服务: a request of the client with a note, a rating and a complaint
        from app.models import Complaint, ServiceItem, ServiceNote, ServiceRating, ServiceRequest

        item = s.execute(select(ServiceItem).order_by(ServiceItem.id)).scalars().first()
        request = add(ServiceRequest(client_id=client.id, item_id=item.id, title="敌对测试请求",
                                     description="描述", urgency="normal", status="new",
                                     created_by_id=actors.admin.id))
        add(ServiceNote(request_id=request.id, client_id=client.id, text="进度", public=True))
        done = add(ServiceRequest(client_id=client.id, item_id=item.id, title="敌对已完成",
                                  urgency="normal", status="done", assignee_id=actors.accountant.id))
        add(ServiceRating(request_id=done.id, client_id=client.id, staff_id=actors.accountant.id,
                          overall="good", attitude=5, speed=4, comment="好"))
        add(Complaint(client_id=client.id, request_id=done.id, staff_id=actors.accountant.id,
                      text="敌对测试投诉", status="open"))
        job = s.execute(select(ScheduledJob).order_by(ScheduledJob.id)).scalars().first()
        if job is not None:
            add(JobRun(job_id=job.id, tick=datetime.datetime(2026, 1, 15, 1, 0),
                       finished_at=datetime.datetime(2026, 1, 15, 1, 1), rows=3,
                       host="test", manual=True))
        s.commit()
        s.remove()
    return rows


def target_id(app, view, targets) -> int | None:
    """The row of ``targets`` this view shows (its base filters hold for it); for a
    model no factory makes, the first row of the table."""
    from app.extensions import db

    model = view.datamodel.obj
    with app.app_context():
        try:
            for pk in targets.get(model.__name__, []):
                row = db.session.get(model, pk)
                if row is not None and _passes_base_filters(view, row):
                    return pk
            pk_col = getattr(model, view.datamodel.get_pk_name())
            return db.session.execute(select(pk_col).order_by(pk_col).limit(1)).scalar()
        finally:
            db.session.remove()


def _passes_base_filters(view, row) -> bool:
    from flask_appbuilder.models.sqla.filters import FilterEqual, FilterNotEqual

    for column, flt, value in getattr(view, "base_filters", None) or []:
        if flt is FilterEqual and getattr(row, column, value) != value:
            return False
        if flt is FilterNotEqual and getattr(row, column, None) == value:
            return False
    return True


# ---- what is wrong, collected --------------------------------------------------------
def _tail(limit: int = 3) -> str:
    lines = [line for line in traceback.format_exc().strip().splitlines() if line.strip()]
    return " | ".join(line.strip() for line in lines[-limit:])


def _fields(names) -> str:
    return ",".join(sorted(names)) if len(names) <= 3 else f"{len(names)} fields"


def _short(value) -> str:
    if isinstance(value, str) and len(value) > 24:
        return repr(value[:12] + f"…({len(value)} chars)")
    return repr(value)


class Probe:
    """Sends requests as one user, checks each answer, collects the failures."""

    def __init__(self, app, web, who: str):
        self.app, self.web, self.who = app, web, who
        self.failures: list[str] = []
        self.checker = PageChecker(app, web)
        self._read: set = set()
        #: what the requests typed (shown again on a form, or saved as a name the menu
        #: shows): data, not product text
        self.echo: list[str] = []

    def fail(self, text_: str) -> None:
        self.failures.append(f"[{self.who}] {text_}")

    def send(self, method: str, url: str, allowed: set, label: str | None = None, **kw):
        """One request; None when it raised (recorded as a 500 with its traceback)."""
        label = label or f"{method.upper()} {url}"
        try:
            if method == "post_form":
                resp = self.web.post_form(url, kw.pop("data", {}), **kw)
            else:
                resp = getattr(self.web, method)(url, **kw)
        except Exception:  # a 500 that TESTING propagates
            self.fail(f"{label} → 500 (exception) {_tail()}")
            _rollback(self.app)
            return None
        status = resp.status_code
        if status not in allowed:
            self.fail(f"{label} → {status} (allowed {sorted(allowed)})"
                      + (f" {_page_message(resp)}" if status >= 500 else ""))
        elif status in ERROR_PAGES and resp.mimetype == "text/html":
            self.check_chinese_error_page(label, resp)
        return resp

    def check_chinese_error_page(self, label, resp) -> None:
        """The product's error page (or the form again, for 422), with a Chinese
        message and no English word; each distinct message is read once per test."""
        html = resp.get_data(as_text=True)
        status = resp.status_code
        message = _page_message(resp)
        if status != 422 and f"<small>{status}</small>" not in html:
            self.fail(f"{label} → {status}: not the product's error page: {message}")
            return
        if (status, message) in self._read:
            return
        self._read.add((status, message))
        if status != 422 and not CJK.search(message or ""):
            self.fail(f"{label} → {status}: message not in Chinese: {message!r}")
        parts, _ = visible_text(html)
        data = sorted(set(self.checker._data) | set(self.echo), key=len, reverse=True)
        words = [(w, c) for w, c in english_words(parts, data) if w not in TECHNICAL]
        if words:
            self.fail(f"{label} → {status}: English on the page: "
                      + "; ".join(f"{w!r} in {c!r}" for w, c in dict(words).items()))

    def assert_clean(self, title: str) -> None:
        assert not self.failures, report(title, self.failures)


def report(title: str, failures: list[str]) -> str:
    shown = failures[:80]
    more = f"\n  … and {len(failures) - 80} more" if len(failures) > 80 else ""
    return f"{title}: {len(failures)} failure(s)\n  " + "\n  ".join(shown) + more


def _page_message(resp) -> str:
    """The error page's heading and message, the errors a form shows, or the start
    of the body."""
    html = resp.get_data(as_text=True)
    match = re.search(r"<h3>(.*?)</h3>\s*<p>(.*?)</p>", html, re.S)
    if match:
        return _plain(match.group(1) + " " + match.group(2))
    alerts = re.findall(r'<div class="alert alert-danger[^"]*">(.*?)</div>', html, re.S)
    if alerts:
        return " / ".join(_plain(a) for a in alerts)
    return _plain(html[:200])


def _plain(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>|&times;", " ", html)).strip()


def _rollback(app) -> None:
    from app.extensions import db

    with app.app_context():
        db.session.rollback()
        db.session.remove()


# ---- forms: fields, values and the errors a page shows -------------------------------
class FormPage(HTMLParser):
    """The post form of a page (the one with a CSRF token): its fields and values as a
    browser would send them, each select's options, and the fields shown with an
    error."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.fields: list[str] = []           # in page order, without csrf_token
        self.values: dict[str, object] = {}   # str, or list for a multiple select
        self.options: dict[str, list[str]] = {}
        self.errors: set[str] = set()
        self._form = 0
        self._select = None
        self._selected: list[str] = []
        self._multiple = False
        self._textarea = None
        self._last = None
        self.feed(html)
        self.close()

    def _field(self, name):
        if name and name != "csrf_token" and name not in self.fields:
            self.fields.append(name)
        self._last = name

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self._form += 1
        if not self._form:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "reset", "file"):
                return
            self._field(name)
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.values[name] = a.get("value") or "y"
            else:
                self.values[name] = a.get("value") or ""
        elif tag == "select" and name:
            self._field(name)
            self._select, self._selected, self._multiple = name, [], "multiple" in a
            self.options[name] = []
        elif tag == "option" and self._select:
            value = a.get("value", "")
            self.options[self._select].append(value)
            if "selected" in a:
                self._selected.append(value)
        elif tag == "textarea" and name:
            self._field(name)
            self._textarea = name
            self.values[name] = ""
        elif tag == "div" and "alert-danger" in (a.get("class") or "") and self._last:
            self.errors.add(self._last)

    def handle_endtag(self, tag):
        if tag == "form" and self._form:
            self._form -= 1
        elif tag == "select" and self._select:
            name, opts = self._select, self.options[self._select]
            if self._multiple:
                self.values[name] = list(self._selected)
            elif self._selected:
                self.values[name] = self._selected[0]
            elif opts:
                self.values[name] = opts[0]
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data


# ---- what a stored row may hold ------------------------------------------------------
def row_values(app, model, pk) -> dict | None:
    """Every column of a row as stored (attribute name → value), None if absent."""
    from app.extensions import db

    with app.app_context():
        try:
            row = db.session.get(model, pk)
            if row is None:
                return None
            return {attr.key: getattr(row, attr.key) for attr in sa_inspect(model).column_attrs}
        finally:
            db.session.remove()


def count_rows(app, model) -> int:
    from app.extensions import db

    with app.app_context():
        try:
            return db.session.execute(select(func.count()).select_from(model)).scalar()
        finally:
            db.session.remove()


def max_id(app, model) -> int:
    from app.extensions import db

    with app.app_context():
        try:
            return db.session.execute(select(func.coalesce(func.max(model.id), 0))).scalar()
        finally:
            db.session.remove()


def insane(model, values: dict) -> list[str]:
    """What is wrong with a stored row, column by column: text with a control
    character or longer than its column, money that is not a finite amount of
    NUMERIC(12, 2) from 0, a date outside 1900–2100, an integer outside its column, an
    unknown choice code."""
    from sqlalchemy import BigInteger, Integer, Numeric, String

    problems = []
    choices = getattr(model, "__choices__", {})
    for attr in sa_inspect(model).column_attrs:
        key, column = attr.key, attr.columns[0]
        value = values.get(key)
        if value is None:
            continue
        kind = column.type
        if isinstance(value, str):
            if CONTROL.search(value):
                problems.append(f"{key}={_short(value)} holds a control character")
            length = getattr(kind, "length", None) if isinstance(kind, String) else None
            if length and len(value) > length:
                problems.append(f"{key} has {len(value)} characters (column: {length})")
        if isinstance(value, (decimal.Decimal, float)) and not isinstance(value, bool):
            amount = decimal.Decimal(str(value)) if isinstance(value, float) else value
            if not amount.is_finite():
                problems.append(f"{key}={value} is not a number")
            elif isinstance(kind, Numeric) and not (0 <= amount <= MAX_MONEY):
                problems.append(f"{key}={value} is no amount of NUMERIC(12, 2) from 0")
        if isinstance(value, (datetime.date, datetime.datetime)):
            if not 1900 <= value.year <= 2100:
                problems.append(f"{key}={value} lies outside 1900–2100")
        if isinstance(value, int) and not isinstance(value, bool) \
                and isinstance(kind, Integer) and not isinstance(kind, BigInteger) \
                and not -INT32 - 1 <= value <= INT32:
            problems.append(f"{key}={value} does not fit its INTEGER column")
        if key in choices and value not in choices[key]:
            problems.append(f"{key}={_short(value)} is not one of its codes")
    return problems


def hostile_stored(model, values: dict, fields, value) -> list[str]:
    """A money or date field that took one of the values it must never take."""
    from sqlalchemy import Date, DateTime, Numeric

    problems = []
    columns = {attr.key: attr.columns[0] for attr in sa_inspect(model).column_attrs}
    for name in fields:
        column = columns.get(name)
        if column is None or values.get(name) is None:
            continue
        stored = values[name]
        if isinstance(column.type, Numeric) and value in MONEY_NEVER:
            problems.append(f"money field {name} stored {stored!r} from {value!r}")
        if isinstance(column.type, (Date, DateTime)) and value in DATE_NEVER:
            problems.append(f"date field {name} stored {stored!r} from {value!r}")
    return problems


# ---- 2. hostile list arguments -------------------------------------------------------
def _date_columns(view) -> set:
    dm = view.datamodel
    found = set()
    for col in view.search_columns or []:
        try:
            if dm.is_date(col) or dm.is_datetime(col):
                found.add(col)
        except Exception:
            pass
    return found


def list_arguments(view) -> list[str]:
    """The hostile query strings of one list (or export) route."""
    name = type(view).__name__
    args = [f"page_{name}={v}" for v in ("abc", "-1", TWENTY_FIVE, "1e9")]
    args += [f"psize_{name}={v}" for v in ("abc", "-1", "0")]
    args += [f"_oc_{name}=nosuchcol", f"_oc_{name}=bookkeeper.password",
             f"_od_{name}=sideways"]
    dates = _date_columns(view)
    for col in view.search_columns or []:
        args += [f"_flt_0_{col}=a%00b", f"_flt_0_{col}={TWENTY_FIVE}", f"_flt_9_{col}=x"]
        if col in dates:
            args.append(f"_flt_0_{col}=not-a-date")
    args += ["_flt_0_nosuchcol=x", "month=9999-12", "month=abc", "month=2026-13",
             "q=a%00b", "q=" + "x" * 500]
    return args


_KIND = re.compile(r"page_|psize_|_oc_|_od_|_flt_|month=|q=")


def _samples(refused: list[str]) -> list[str]:
    """One refused argument of each kind (page, size, sort, filter, month, search)."""
    kinds: dict[str, str] = {}
    for arg in refused:
        match = _KIND.match(arg)
        kinds.setdefault(match.group() if match else arg, arg)
    return list(kinds.values())


LIST_VIEWS = catalogue()["lists"]


@pytest.mark.parametrize("view_name", LIST_VIEWS)
def test_hostile_list_arguments(app, actors, targets, view_name):
    """Every hostile page/size/sort/filter/month/search argument of a list: 200
    (harmless), 302, 400, 404, 405 or 409 — never a 500 — with the product's Chinese
    error page; a page size of 100000 is cut to 100 rows. A 25-digit id on every route
    that takes one answers 404.

    The export and the Accountant get the arguments the Admin's list let through to
    the view (the others are refused by one check before any view runs, whatever the
    route and the user) and one refused argument of each kind, to show that check
    stands in front of them too."""
    view = live_view(app, view_name)
    base = view.route_base
    probe = Probe(app, actors.web, "Admin")
    passed, refused = [], []
    for arg in list_arguments(view):
        resp = probe.send("get", f"{base}/list/?{arg}", GET_OK)
        (refused if resp is not None and resp.status_code == 400 else passed).append(arg)
    resp = probe.send("get", f"{base}/list/?psize_{view_name}=100000", {200})
    if resp is not None and resp.status_code == 200:
        rows = count_list_rows(resp.get_data(as_text=True))
        if rows > 100:
            probe.fail(f"GET {base}/list/?psize_{view_name}=100000 shows {rows} rows")
    again = passed + _samples(refused) + [f"psize_{view_name}=100000"]
    export = probe.send("get", f"{base}/export.xlsx", {200, 403}) \
        if has_route(app, view, "export_xlsx") else None
    # 403: a view without the export permission (its route is there all the same)
    if export is not None and export.status_code == 200:
        for arg in again:
            probe.send("get", f"{base}/export.xlsx?{arg}", GET_OK)
    # ids no row can have: 25 digits, and beyond a 32-bit INTEGER column
    for route in ("show", "edit", "delete"):
        if has_route(app, view, route):
            for bad in (TWENTY_FIVE, BEYOND_INT32):
                probe.send("get", f"{base}/{route}/{bad}", GET_OK)
                if route != "show":
                    probe.send("post_form", f"{base}/{route}/{bad}", GET_OK)
    actions = list(getattr(view, "actions", {}) or {})
    if has_route(app, view, "action"):
        for action in actions + ["nosuchaction"]:
            probe.send("post_form", f"{base}/action/{action}/{TWENTY_FIVE}", GET_OK)
    if has_route(app, view, "action_post"):
        for action in actions + ["nosuchaction"]:
            for rowid in (TWENTY_FIVE, f"{TWENTY_FIVE}@1", BEYOND_INT32):
                probe.send("post_form", f"{base}/action_post", GET_OK,
                           label=f"POST {base}/action_post action={action} rowid={rowid}",
                           data={"action": action, "rowid": rowid})
    # a version that is no version, on a row that exists (last: the action may run)
    pk = target_id(app, view, targets)
    if pk is not None and has_route(app, view, "action"):
        for action in actions:
            probe.send("post_form", f"{base}/action/{action}/{pk}?v=abc", GET_OK)
    # the list arguments as an Accountant (scoped rows, fewer permissions)
    accountant = Probe(app, actors.web_accountant, "Accountant")
    first = accountant.send("get", f"{base}/list/", GET_OK | {403})
    if first is not None and first.status_code == 200:
        for arg in again:
            accountant.send("get", f"{base}/list/?{arg}", GET_OK)
    probe.failures += accountant.failures
    probe.assert_clean(f"hostile list arguments on {base}")


def count_list_rows(html: str) -> int:
    """Data rows of a list page's table."""
    start = html.find("</thead>")
    if start < 0:
        return 0
    end = html.find("</table>", start)
    return html[start:end].count("<tr")


def test_page_size_is_capped_at_100_rows(app, actors):
    """With 105 clients, every client list asked for 100000 rows shows 100."""
    from app.extensions import db
    from app.models import Client

    with app.app_context():
        db.session.execute(Client.__table__.insert(), [dict(
            name=f"分页测试有限公司{i}", credit_code=valid_code(), status="active",
            onsite_bookkeeping=True, billing_state="billed", billing_cycle="month",
            service_fee=decimal.Decimal("100.00"), next_fee_date=datetime.date(2025, 1, 1),
            bookkeeper_id=actors.accountant.id, taxpayer_type="small", tax_device_type="none",
            tax_device_custody=False, provides_address=False, ticket_pickup="none",
            created_on=datetime.datetime(2026, 1, 1), changed_on=datetime.datetime(2026, 1, 1))
            for i in range(105)])
        db.session.commit()
        # 欠费客户 lists what the ledger holds: the charge run charges them
        from app.services.ledger import generate_charges

        generate_charges(datetime.date(2026, 1, 15))
        db.session.remove()
    probe = Probe(app, actors.web, "Admin")
    client_views = [n for n in LIST_VIEWS if live_view(app, n).datamodel.obj is Client]
    assert client_views
    for name in client_views:
        base = live_view(app, name).route_base
        resp = probe.send("get", f"{base}/list/?psize_{name}=100000", {200})
        if resp is not None and resp.status_code == 200:
            rows = count_list_rows(resp.get_data(as_text=True))
            if rows != 100:
                probe.fail(f"{base}/list/?psize_{name}=100000 shows {rows} rows, not 100")
    probe.assert_clean("page size cap")


# ---- 3. hostile form values ----------------------------------------------------------
#: fields a form's valid baseline needs that no edit page shows
FILL = {"password": PASSWORD, "conf_password": PASSWORD}


class FormRun:
    """Posts hostile values into one add or edit form (see the module docstring)."""

    def __init__(self, app, actors, view, kind: str, pk):
        self.app, self.view, self.kind, self.pk = app, view, kind, pk
        self.model = view.datamodel.obj
        self.probe = Probe(app, actors.web, "Admin")
        self.probe.echo = [v for v in FORM_VALUES if isinstance(v, str)]
        base = view.route_base
        self.url = f"{base}/add" if kind == "add" else f"{base}/edit/{pk}"
        self.fields: list[str] = []
        self.baseline: dict = {}
        self.options: dict = {}
        #: fields whose value was refused without an error beside them
        self.silent: set = set()
        self._n = itertools.count(1)

    def load(self) -> bool:
        resp = self.probe.send("get", self.url, {200})
        if resp is None or resp.status_code != 200:
            return False
        page = FormPage(resp.get_data(as_text=True))
        self.fields, self.baseline, self.options = page.fields, dict(page.values), page.options
        self.baseline.pop("csrf_token", None)
        if self.kind == "add" and self.pk is not None:
            # the values of an existing row make a valid new one (unique ones renewed)
            edit = self.probe.web.get(f"{self.view.route_base}/edit/{self.pk}")
            if edit.status_code == 200:
                shown = FormPage(edit.get_data(as_text=True))
                for name in self.fields:
                    if name in shown.values:
                        self.baseline[name] = shown.values[name]
                    elif name in shown.fields:
                        self.baseline.pop(name, None)  # an unticked box
        for name, value in FILL.items():
            if name in self.fields:
                self.baseline[name] = value
        return bool(self.fields)

    def unique_fields(self) -> list[tuple[str, ...]]:
        """Form fields whose values must be unique (alone or together)."""
        table = self.model.__table__
        specs = [(c.name,) for c in table.columns if c.unique]
        for constraint in table.constraints:
            cols = tuple(c.name for c in getattr(constraint, "columns", []))
            if type(constraint).__name__ == "UniqueConstraint" and cols:
                specs.append(cols)
        from app.domain import rules

        for spec in getattr(rules.TABLES.get(table.name), "unique", ()) or ():
            specs.append((spec,) if isinstance(spec, str) else tuple(spec))
        keyed = {}
        for spec in specs:
            named = tuple(self._field_of(c) for c in spec)
            if any(n in self.fields for n in named):  # the others the view sets itself
                keyed[named] = True
        return list(keyed)

    def _field_of(self, column: str) -> str:
        if column.endswith("_id") and column[:-3] in self.fields:
            return column[:-3]
        return column

    def fresh(self, data: dict, keep: set) -> dict:
        """``data`` with new values in the unique fields a new row needs (not in
        ``keep``, the fields carrying the hostile value)."""
        if self.kind != "add":
            return data
        from app.data import integrity
        from app.domain import validation as v

        rules = integrity.rules_of(self.model)
        n = next(self._n)
        for spec in self.unique_fields():
            # one new value makes the combination new: the last field that may change
            # (every date and whole number of it: one alone has few values)
            free = [f for f in spec if f in self.fields and f not in keep]
            numbers = [f for f in free if isinstance(rules.get(f), (v.Date, v.Integer))]
            for name in numbers or free[-1:]:
                if name in self.options and self.options[name]:
                    opts = [o for o in self.options[name] if o]
                    data[name] = opts[n % len(opts)]
                elif isinstance(rules.get(name), v.CreditCode):
                    data[name] = valid_code()
                elif isinstance(rules.get(name), v.Date):
                    data[name] = (datetime.date(2091, 1, 1) + datetime.timedelta(
                        days=int(uuid.uuid4().int % 3000))).isoformat()
                elif isinstance(rules.get(name), v.Integer):
                    rule = rules[name]
                    span = min(rule.maximum - rule.minimum + 1, 10 ** 6)
                    data[name] = str(rule.minimum + uuid.uuid4().int % span)
                elif "email" in name:
                    data[name] = f"hostile{n}_{uuid.uuid4().hex[:6]}@test.cn"
                else:
                    data[name] = f"唯一{n}{str(uuid.uuid4().int)[:6]}"
        return data

    # ---- one post and what it left behind --------------------------------------------
    def post(self, data: dict, label: str, hostile: set, value):
        """Post ``data``; check the answer and the database. The fields the page shows
        with an error (empty: refused for a reason no field shows, such as a flashed
        message), or None when saved or refused whole (400, 404, 409)."""
        before_count = count_rows(self.app, self.model) if self.kind == "add" else None
        before_max = max_id(self.app, self.model) if self.kind == "add" else None
        before_row = row_values(self.app, self.model, self.pk) if self.kind == "edit" else None
        resp = self.probe.send("post_form", self.url, FORM_OK, label=label, data=data)
        if resp is None:
            return None
        status = resp.status_code
        if status == 302:
            if "/login" in (resp.location or ""):
                self.probe.fail(f"{label} → 302 to the login page (session lost)")
                return None
            saved = self.check_saved(label, hostile, value, before_count, before_max,
                                     before_row)
            return None if saved else set()
        self.check_not_saved(label, before_count, before_row)
        if status in (200, 422) and resp.mimetype == "text/html":
            return FormPage(resp.get_data(as_text=True)).errors
        return None

    def check_saved(self, label, hostile, value, before_count, before_max,
                    before_row) -> bool:
        """A 302: the row is saved, and sane. False: it was not saved."""
        if self.kind == "add":
            after = count_rows(self.app, self.model)
            if after != before_count + 1:
                self.probe.fail(f"{label} → 302 but {after - before_count} rows added; "
                                f"the next page says: {self.flashed_errors()!r}")
                return False
            from app.extensions import db

            with self.app.app_context():
                pk = db.session.execute(select(func.max(self.model.id))).scalar()
                db.session.remove()
            if pk is None or pk <= before_max:
                return True
        else:
            pk = self.pk
            if hostile and row_values(self.app, self.model, pk) == before_row:
                said = self.flashed_errors()
                if said != "(none)":  # "saved", yet refused
                    self.probe.fail(f"{label} → 302 but not saved; the next page says: {said!r}")
                    return False
        values = row_values(self.app, self.model, pk) or {}
        for problem in insane(self.model, values) + hostile_stored(self.model, values,
                                                                   hostile, value):
            self.probe.fail(f"{label} → 302, stored: {problem}")
        return True

    def flashed_errors(self) -> str:
        """The messages other than "saved" the page after a redirect shows, with
        their kind ("(none)" if there is none)."""
        html = self.probe.web.get(f"{self.view.route_base}/list/").get_data(as_text=True)
        alerts = re.findall(r'<div class="alert alert-([a-z]+)[^"]*">(.*?)</div>', html, re.S)
        shown = [f"[{kind}] {_plain(text) or '(empty)'}" for kind, text in alerts
                 if kind != "success"]
        return " / ".join(shown) or "(none)"

    def check_not_saved(self, label, before_count, before_row) -> None:
        if self.kind == "add":
            after = count_rows(self.app, self.model)
            if after != before_count:
                self.probe.fail(f"{label} → refused, yet {after - before_count} rows added")
        else:
            after = row_values(self.app, self.model, self.pk)
            if after != before_row:
                changed = sorted(k for k in (before_row or {}) if (after or {}).get(k)
                                 != before_row.get(k))
                self.probe.fail(f"{label} → refused, yet the row changed: {changed}")

    # ---- the corpus ------------------------------------------------------------------------
    def run_baseline(self) -> None:
        """The form as a browser would send it saves (else the corpus proves nothing).
        Refused, it is tried again with its unticked boxes ticked (the failure is
        reported all the same)."""
        label = f"POST {self.url} (valid values as the page shows them)"
        errors = self.post(self.fresh(dict(self.baseline), set()), label, set(), None)
        if errors is None:
            return
        self.probe.fail(f"{label} was not saved; fields with errors: {sorted(errors)}")
        unticked = {name for name in errors if name not in self.baseline
                    and name not in self.options}
        if unticked:
            self.baseline.update({name: "y" for name in unticked})
            errors = self.post(self.fresh(dict(self.baseline), set()),
                               f"POST {self.url} (boxes {sorted(unticked)} ticked)", set(), None)
            if errors is not None:
                self.probe.fail(f"POST {self.url} still not saved: {sorted(errors)}")

    def run_value(self, value) -> None:
        hostile = set(self.fields)
        for _ in range(len(self.fields) + 1):
            data = self.fresh({**self.baseline, **{f: value for f in hostile}}, hostile)
            label = f"POST {self.url} {_short(value)} in {_fields(hostile)}"
            errors = self.post(data, label, hostile, value)
            if errors is None:
                return
            refused = errors & hostile
            if not refused:
                # refused for a reason no field shows: the fields that did so before
                # alone first, the others again together; else each field alone
                if len(hostile) <= 1:
                    return
                suspects = hostile & self.silent
                if not suspects or suspects == hostile:
                    for name in sorted(hostile):
                        self.run_single(name, value)
                    return
                for name in sorted(suspects):
                    self.run_single(name, value)
                refused = suspects
            hostile -= refused
            if not hostile:
                return

    def run_single(self, name, value) -> None:
        data = self.fresh({**self.baseline, name: value}, {name})
        if self.post(data, f"POST {self.url} {_short(value)} in {name}", {name}, value) == set():
            self.silent.add(name)


FORM_CASES = catalogue()["forms"]


@pytest.mark.parametrize("case", FORM_CASES)
def test_hostile_form_values(app, actors, targets, case):
    """Every hostile value in every field of the form: 200/302/400/404/409/422, never
    a 500; a saved row holds only sane values (no NaN, Infinity or negative money, no
    date beyond 2100, no NUL, no unknown code); a refused post stores nothing."""
    view_name, kind = case.rsplit("-", 1)
    view = live_view(app, view_name)
    pk = target_id(app, view, targets)
    run = FormRun(app, actors, view, kind, pk)
    if kind == "edit" and pk is None:
        pytest.fail(f"no row to edit on {view.route_base}: add a factory to the targets fixture")
    snapshot = row_values(app, view.datamodel.obj, pk) if kind == "edit" else None
    try:
        if run.load():
            run.run_baseline()
            for value in FORM_VALUES:
                run.run_value(value)
        else:
            run.probe.fail(f"GET {run.url}: no form fields found")
    finally:
        if snapshot is not None and not _made_here(view, pk, targets):
            _restore(app, view.datamodel.obj, pk, snapshot)
    run.probe.assert_clean(f"hostile values in {run.url}")


def _made_here(view, pk, targets) -> bool:
    return pk in targets.get(view.datamodel.obj.__name__, [])


def _restore(app, model, pk, values: dict) -> None:
    """Put back a row the module did not make (a shipped scheduled job)."""
    from app.extensions import db

    with app.app_context():
        row = db.session.get(model, pk)
        for key, value in values.items():
            setattr(row, key, value)
        db.session.commit()
        db.session.remove()


SIMPLE_FORMS = catalogue()["simple"]


@pytest.mark.parametrize("view_name", SIMPLE_FORMS)
def test_hostile_settings_form_values(app, actors, view_name):
    """The other forms (公司设置, 催费通知, the user's own details …), every hostile
    value in each field: never a 500, and neither a setting nor the user's row is
    stored with a value the rules refuse."""
    from app.models import Setting, Staff

    view = live_view(app, view_name)
    url = f"{view.route_base}/form"
    probe = Probe(app, actors.web, "Admin")
    probe.echo = [v for v in FORM_VALUES if isinstance(v, str)]
    resp = probe.send("get", url, {200})
    assert resp is not None and resp.status_code == 200, probe.failures
    page = FormPage(resp.get_data(as_text=True))
    baseline = {k: v for k, v in page.values.items() if k != "csrf_token"}
    for value in FORM_VALUES:
        for name in page.fields:
            label = f"POST {url} {_short(value)} in {name}"
            probe.send("post_form", url, FORM_OK, label=label, data={**baseline, name: value})
            for key, stored in _settings(app, Setting).items():
                if CONTROL.search(stored or "") or len(stored or "") > 20_000:
                    probe.fail(f"{label}: setting {key} stored as {_short(stored)}")
            me = row_values(app, Staff, actors.admin.id) or {}
            for problem in insane(Staff, me):
                probe.fail(f"{label}: the user's row stored {problem}")
    probe.assert_clean(f"hostile values in {url}")


def _settings(app, model) -> dict:
    from app.extensions import db

    with app.app_context():
        try:
            return {s.key: s.value for s in db.session.execute(select(model)).scalars()}
        finally:
            db.session.remove()


# ---- 4. the REST API -----------------------------------------------------------------
API_RESOURCES = catalogue()["apis"]


def _bearer(actors) -> dict:
    return {"Authorization": f"Bearer {actors.token}"}


class ApiProbe(Probe):
    """Requests with the bearer token; 4xx answers carry ``{"message": …}`` in Chinese."""

    def __init__(self, app, actors):
        super().__init__(app, app.test_client(), "API")
        self.headers = _bearer(actors)

    def call(self, method: str, url: str, allowed: set, label: str | None = None,
             body=..., raw: bytes | str | None = None, content_type="application/json"):
        label = label or f"{method.upper()} {url}"
        kw = {"headers": self.headers}
        if body is not ...:
            kw["data"] = json.dumps(body)
            kw["content_type"] = content_type
        elif raw is not None:
            kw["data"] = raw
            kw["content_type"] = content_type
        try:
            resp = getattr(self.web, method)(url, **kw)
        except Exception:
            self.fail(f"{label} → 500 (exception) {_tail()}")
            _rollback(self.app)
            return None
        if resp.status_code not in allowed:
            self.fail(f"{label} → {resp.status_code} (allowed {sorted(allowed)}) "
                      f"{resp.get_data(as_text=True)[:300]}")
        elif resp.status_code >= 400:
            self.check_message(label, resp)
        return resp

    def check_message(self, label, resp) -> None:
        data = resp.get_json(silent=True)
        if not isinstance(data, dict) or "message" not in data:
            self.fail(f"{label} → {resp.status_code} without a JSON message: "
                      f"{resp.get_data(as_text=True)[:200]}")
            return
        texts = list(_leaves(data["message"]))
        english = [t for t in texts if not CJK.search(t)]
        if not texts or english:
            self.fail(f"{label} → {resp.status_code}: message not in Chinese: {english or texts}")


def _leaves(message):
    if isinstance(message, dict):
        for value in message.values():
            yield from _leaves(value)
    elif isinstance(message, (list, tuple)):
        for value in message:
            yield from _leaves(value)
    else:
        yield str(message)


def api_of(app, name):
    api = live_view(app, name)
    return api, f"/api/v1/{api.resource_name}"


def api_target(app, api, targets) -> int:
    ids = targets.get(api.datamodel.obj.__name__)
    assert ids, f"no {api.datamodel.obj.__name__} row for {api.resource_name}"
    return ids[0]


def api_baseline(probe, api, url, pk) -> dict:
    """A row's writable values as the API gives them (relations as ids)."""
    resp = probe.call("get", f"{url}/{pk}", {200})
    result = resp.get_json()["result"]
    body = {}
    for name in api.add_columns:
        value = result.get(name)
        if isinstance(value, dict):
            value = value.get("id")
        if name not in result and any(k.startswith(name + ".") for k in result):
            value = result.get(f"{name}.id")
        if value is not None:
            body[name] = value
    return body


def _api_fresh(api, body: dict, keep: set) -> dict:
    from app.data import integrity
    from app.domain import validation as v

    rules = integrity.rules_of(api.datamodel.obj)
    for column in api.datamodel.obj.__table__.columns:
        if column.unique and column.name in body and column.name not in keep:
            if isinstance(rules.get(column.name), v.CreditCode):
                body[column.name] = valid_code()
            else:
                body[column.name] = f"唯一{str(uuid.uuid4().int)[:8]}"
    return body


API_WRITE_OK = {200, 201, 400, 404, 405, 409, 422}


def _api_write_round(app, probe, api, url, method, pk, baseline, columns, value) -> None:
    model = api.datamodel.obj
    hostile = set(columns)
    for _ in range(len(columns) + 1):
        body = {**baseline, **{f: value for f in hostile}}
        if method == "post":
            body = _api_fresh(api, body, hostile)
        label = (f"{method.upper()} {url}/{'' if method == 'post' else pk} {_short(value)} "
                 f"in {_fields(hostile)}")
        before_count = count_rows(app, model)
        before_row = row_values(app, model, pk)
        resp = probe.call(method, f"{url}/" if method == "post" else f"{url}/{pk}",
                          API_WRITE_OK, label=label, body=body)
        if resp is None:
            return
        if resp.status_code in (200, 201):
            saved = resp.get_json().get("id", pk) if method == "post" else pk
            values = row_values(app, model, saved) or {}
            for problem in insane(model, values) + hostile_stored(model, values, hostile, value):
                probe.fail(f"{label} → {resp.status_code}, stored: {problem}")
            return
        if count_rows(app, model) != before_count:
            probe.fail(f"{label} → {resp.status_code}, yet the row count changed")
        if row_values(app, model, pk) != before_row:
            probe.fail(f"{label} → {resp.status_code}, yet row {pk} changed")
        message = (resp.get_json(silent=True) or {}).get("message")
        if resp.status_code != 422 or not isinstance(message, dict):
            return
        refused = set(message) & hostile
        if not refused:
            if len(hostile) > 1:
                for name in sorted(hostile):
                    _api_write_round(app, probe, api, url, method, pk, baseline, [name], value)
            return
        hostile -= refused
        if not hostile:
            return


@pytest.mark.parametrize("resource", API_RESOURCES)
def test_hostile_api_writes(app, actors, targets, resource):
    """POST and PUT with a hostile value in every writable field: never a 500;
    400/422 answer ``{"message": …}`` in Chinese and store nothing; what is stored is
    sane."""
    api, url = api_of(app, resource)
    probe = ApiProbe(app, actors)
    pk = api_target(app, api, targets)
    baseline = api_baseline(probe, api, url, pk)
    probe.call("post", f"{url}/", {201}, label=f"POST {url}/ (valid values)",
               body=_api_fresh(api, dict(baseline), set()))
    for value in JSON_VALUES:
        _api_write_round(app, probe, api, url, "post", pk, baseline, api.add_columns, value)
        _api_write_round(app, probe, api, url, "put", pk, baseline, api.edit_columns, value)
    probe.assert_clean(f"hostile writes on {url}/")


@pytest.mark.parametrize("resource", API_RESOURCES)
def test_hostile_api_bodies_ids_and_steps(app, actors, targets, resource):
    """Bodies that are no JSON object, unknown fields, null for required ones, ids
    no row has, and workflow steps with versions that are no versions."""
    from app.services import transitions

    api, url = api_of(app, resource)
    model = api.datamodel.obj
    probe = ApiProbe(app, actors)
    pk = api_target(app, api, targets)
    baseline = api_baseline(probe, api, url, pk)
    before_count = count_rows(app, model)
    before_row = row_values(app, model, pk)
    bodies = [([], "[]"), ("x", '"x"'), (1, "1"), (None, "null"), (True, "true")]
    for method, target in (("post", f"{url}/"), ("put", f"{url}/{pk}")):
        for body, shown in bodies:
            probe.call(method, target, {400, 422}, label=f"{method.upper()} {target} body {shown}",
                       body=body)
        for raw, content_type in (("garbage{", "application/json"), ("name=x", "text/plain"),
                                  ("", "application/json"), ("{\"name\": \"a\x00b\"}",
                                                             "application/json"),
                                  (b"\xff\xfe\x00", "application/json")):
            probe.call(method, target, {400, 415, 422},
                       label=f"{method.upper()} {target} raw {raw[:12]!r} as {content_type}",
                       raw=raw, content_type=content_type)
        probe.call(method, target, {400, 422}, label=f"{method.upper()} {target} unknown field",
                   body={**_api_fresh(api, dict(baseline), set()), "nosuchfield": 1,
                         "id": 1, "version": 99, "status": "approved"})
    required = [name for name in api.add_columns if _required(api, name)]
    for name in required:
        probe.call("post", f"{url}/", {400, 422}, label=f"POST {url}/ {name}=null",
                   body={**_api_fresh(api, dict(baseline), set()), name: None})
        body = _api_fresh(api, dict(baseline), set())
        body.pop(name, None)
        probe.call("post", f"{url}/", {400, 422}, label=f"POST {url}/ without {name}", body=body)
    if count_rows(app, model) != before_count:
        probe.fail(f"refused bodies on {url}/ added {count_rows(app, model) - before_count} rows")
    if row_values(app, model, pk) != before_row:
        probe.fail(f"refused bodies on {url}/{pk} changed the row")
    # ids no row can have
    for bad in (TWENTY_FIVE, "9223372036854775808"):
        probe.call("get", f"{url}/{bad}", {404})
        probe.call("put", f"{url}/{bad}", {404}, body=baseline)
        probe.call("delete", f"{url}/{bad}", {404})
    for bad in (BEYOND_INT32, "0", "-1", "abc", "1e5", "%00", "1.5"):
        for method in ("get", "put", "delete"):
            probe.call(method, f"{url}/{bad}", {400, 404, 405},
                       **({"body": baseline} if method == "put" else {}))
    # workflow steps
    wf = transitions.workflow_of(model)
    steps = (wf.names() if wf is not None else []) + ["nosuchstep"]
    step_bodies = [({}, "{}"), ({"version": "abc"}, "version abc"),
                   ({"version": 2 ** 40}, "version 2**40"), ({"version": None}, "version null"),
                   ({"version": [1]}, "version [1]"), ({"version": float("nan")}, "version NaN"),
                   ({"version": -1}, "version -1"), ({"version": TWENTY_FIVE}, "version 25 digits"),
                   ({"version": {"a": 1}}, "version {}"), ([], "[]"), ("x", '"x"')]
    step_before = row_values(app, model, pk)
    for step in steps:
        for id_ in (pk, TWENTY_FIVE, BEYOND_INT32):
            for body, shown in step_bodies:
                probe.call("post", f"{url}/{id_}/{step}", {400, 403, 404, 409, 422},
                           label=f"POST {url}/{id_}/{step} {shown}", body=body)
            probe.call("post", f"{url}/{id_}/{step}", {400, 403, 404, 409, 422},
                       label=f"POST {url}/{id_}/{step} no body")
            probe.call("post", f"{url}/{id_}/{step}", {400, 403, 404, 409, 422},
                       label=f"POST {url}/{id_}/{step} non-JSON", raw="version=1",
                       content_type="application/x-www-form-urlencoded")
    if row_values(app, model, pk) != step_before:
        probe.fail(f"hostile steps on {url}/{pk} changed the row")
    probe.assert_clean(f"hostile bodies, ids and steps on {url}/")


def _required(api, name) -> bool:
    from app.data import integrity

    rules = integrity.rules_of(api.datamodel.obj)
    rule = rules.get(name) or rules.get(name + "_id")
    return bool(rule is not None and rule.required)


def _rison_queries(api) -> list[str]:
    """Hostile ``q`` arguments: pages, sizes, sort columns, malformed rison, and per
    search column filters whose values are no values of that column."""
    qs = ["(page:-1)", "(page:abc)", f"(page:{TWENTY_FIVE})", "(page_size:100000)",
          "(page_size:-1)", "(page_size:0)", "(order_column:password)",
          "(order_column:bookkeeper.password)", "(order_column:nosuchcol)",
          "(order_column:id,order_direction:sideways)", "(filters:x)", "(filters:!(x))",
          "(filters:!((col:nosuchcol,opr:eq,value:x)))", "(filters:!((col:id,opr:nosuch,value:1)))",
          "(columns:!(password))", "(select_columns:!(bookkeeper.password))",
          "(keys:!(nosuch))", "garbage", "((", "!(", "(page:0,page_size:100000)"]
    dm = api.datamodel
    for col in api.search_columns:
        opr = ("rel_o_m" if dm.is_relation(col) else
               "gt" if dm.is_date(col) or dm.is_datetime(col) else "ct")
        values = ["'a\x00b'", "'abc'", TWENTY_FIVE, "!(1,2)", "(a:b)", "-1",
                  "'" + "x" * 300 + "'"]
        if opr == "gt":
            values.append("'not-a-date'")
        for value in values:
            qs.append(f"(filters:!((col:{col},opr:eq,value:{value})))")
            qs.append(f"(filters:!((col:{col},opr:{opr},value:{value})))")
    return qs


@pytest.mark.parametrize("resource", API_RESOURCES)
def test_hostile_api_list_queries(app, actors, targets, resource):
    """GET /api/v1/<resource>/ with hostile rison ``q``: never a 500; a page holds at
    most 100 rows and never a password."""
    api, url = api_of(app, resource)
    probe = ApiProbe(app, actors)
    for q in _rison_queries(api):
        resp = probe.call("get", f"{url}/?q={quote(q, safe='(),:!')}", {200, 400, 404, 422},
                          label=f"GET {url}/?q={q[:80]}".replace("\x00", "<NUL>"))
        if resp is not None and resp.status_code == 200:
            data = resp.get_json(silent=True) or {}
            if len(data.get("result", [])) > 100:
                probe.fail(f"GET {url}/?q={q}: {len(data['result'])} rows")
            if "password" in json.dumps(data):
                probe.fail(f"GET {url}/?q={q}: a password in the answer")
    pk = api_target(app, api, targets)
    for path in ("_info?q=garbage", "_info?q=(keys:!(nosuch))", f"{pk}?q=garbage",
                 f"{pk}?q=(columns:!(password))"):
        resp = probe.call("get", f"{url}/{path}", {200, 400, 404, 422})
        if resp is not None and resp.status_code == 200 \
                and "password" in resp.get_data(as_text=True):
            probe.fail(f"GET {url}/{path}: a password in the answer")
    probe.assert_clean(f"hostile list queries on {url}/")


# ---- 5. uploads ----------------------------------------------------------------------
def _openpyxl_workbook(rows) -> bytes:
    import openpyxl

    from app.imports import HEADERS

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADERS)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


_BOMB = ('<!DOCTYPE lolz [<!ENTITY a "' + "a" * 100 + '">'
         + "".join(f'<!ENTITY {chr(98 + i)} "' + f"&{chr(97 + i)};" * 10 + '">' for i in range(8))
         + "]>")   # &i; is 10**8 × 100 characters
_EXTERNAL = '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
_SST = ("<?xml version='1.0' encoding='UTF-8'?>{doctype}<sst xmlns="
        '"http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
        "<si><t>{text}</t></si></sst>")


def _xlsx_with(sheet_doctype: str = "", sheet_entity: str = "", shared: str | None = None,
               rows=(("炸弹测试有限公司", "炸弹"),)) -> bytes:
    """A client register made with openpyxl, then rewritten: a DOCTYPE (and an
    entity in its first data cell) in the sheet, or the first data cell moved to a
    sharedStrings part with ``shared`` as its DOCTYPE and ``&i;``/``&e;`` as its text."""
    good = _openpyxl_workbook([list(r) for r in rows])
    src = zipfile.ZipFile(io.BytesIO(good))
    out = io.BytesIO()
    first_cell = re.compile(r'<c r="A2" t="inlineStr"><is><t>[^<]*</t></is></c>')
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename).decode("utf-8")
            if info.filename == "xl/worksheets/sheet1.xml":
                if shared is not None:
                    data = first_cell.sub('<c r="A2" t="s"><v>0</v></c>', data)
                if sheet_doctype:
                    data = sheet_doctype + first_cell.sub(
                        f'<c r="A2" t="inlineStr"><is><t>{sheet_entity}</t></is></c>', data)
            elif info.filename == "[Content_Types].xml" and shared is not None:
                data = data.replace("</Types>", '<Override PartName="/xl/sharedStrings.xml" '
                                    'ContentType="application/vnd.openxmlformats-officedocument.'
                                    'spreadsheetml.sharedStrings+xml"/></Types>')
            elif info.filename == "xl/_rels/workbook.xml.rels" and shared is not None:
                data = data.replace("</Relationships>", '<Relationship Id="rIdShared" Type="'
                                    "http://schemas.openxmlformats.org/officeDocument/2006/"
                                    'relationships/sharedStrings" Target="sharedStrings.xml"/>'
                                    "</Relationships>")
            dst.writestr(info.filename, data)
        if shared is not None:
            doctype, text_ = shared
            dst.writestr("xl/sharedStrings.xml", _SST.format(doctype=doctype, text=text_))
    return out.getvalue()


def _zeros_member(archive: zipfile.ZipFile, name: str, megabytes: int = 200) -> None:
    with archive.open(name, "w", force_zip64=True) as member:
        chunk = b"\0" * (1024 * 1024)
        for _ in range(megabytes):
            member.write(chunk)


@functools.lru_cache(maxsize=None)
def upload_cases() -> dict[str, bytes]:
    """name → content of each hostile upload, and ``control``: the same register
    without anything hostile (it imports, so the hostile ones are refused for what
    they carry, not for a mistake in how they are built)."""
    zip_not_xlsx = io.BytesIO()
    with zipfile.ZipFile(zip_not_xlsx, "w") as z:
        z.writestr("readme.txt", "这不是表格")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        _zeros_member(z, "xl/worksheets/sheet1.xml")
    padded = io.BytesIO()
    with zipfile.ZipFile(padded, "w", zipfile.ZIP_DEFLATED) as z:
        src = zipfile.ZipFile(io.BytesIO(_xlsx_with()))
        for info in src.infolist():
            z.writestr(info.filename, src.read(info.filename))
        _zeros_member(z, "xl/media/zeros.bin")
    return {
        "not a zip": "公司名称,统一社会信用代码\n炸弹,1\n".encode("utf-8") * 10,
        "empty file": b"",
        "zip that is not xlsx": zip_not_xlsx.getvalue(),
        "entity bomb in sharedStrings": _xlsx_with(shared=(_BOMB, "&i;")),
        "entity bomb in the sheet": _xlsx_with(sheet_doctype=_BOMB, sheet_entity="&i;"),
        "external entity in sharedStrings": _xlsx_with(shared=(_EXTERNAL, "&e;")),
        "external entity in the sheet": _xlsx_with(sheet_doctype=_EXTERNAL, sheet_entity="&e;"),
        "zip bomb (a 200 MB member of zeros)": bomb.getvalue(),
        "xlsx with a 200 MB member of zeros": padded.getvalue(),
        "file over 20 MB": b"PK\x03\x04" + b"\0" * (20 * 1024 * 1024 + 10),
        "control": _xlsx_with(shared=("", "对照测试有限公司")),
    }


def test_hostile_uploads(app, actors):
    """POST /clients/import/ with files that are no workbook, bombs and oversize:
    never a 500, nothing imported, a Chinese message on the page."""
    from app.models import Client

    probe = Probe(app, actors.web, "Admin")
    before = count_rows(app, Client)
    cases = dict(upload_cases())
    control = cases.pop("control")
    for name, content in cases.items():
        label = f"POST /clients/import/ ({name})"
        resp = probe.send("post_form", "/clients/import/", {200, 400, 413, 422}, label=label,
                          data={"file": (io.BytesIO(content), "客户.xlsx")},
                          content_type="multipart/form-data")
        if count_rows(app, Client) != before:
            probe.fail(f"{label}: {count_rows(app, Client) - before} clients imported")
            before = count_rows(app, Client)
        if resp is None or resp.status_code != 200:
            continue
        html = resp.get_data(as_text=True)
        match = re.search(r'<div class="alert alert-danger[^"]*">(.*?)</div>', html, re.S)
        message = re.sub(r"<[^>]+>|\s+", " ", match.group(1)).strip() if match else ""
        if not CJK.search(message):
            probe.fail(f"{label} → 200 without a Chinese error message ({message!r})")
        probe.checker.findings.clear()
        probe.checker.check_html(label, html)
        if probe.checker.findings:
            probe.fail(f"{label}: English on the page: "
                       + probe.checker.report().split("\n", 1)[1].strip())
    probe.send("post_form", "/clients/import/", {302}, label="POST /clients/import/ (control)",
                      data={"file": (io.BytesIO(control), "客户.xlsx")},
                      content_type="multipart/form-data")
    if count_rows(app, Client) != before + 1:
        probe.fail("the control register (the hostile ones without their payload) was not "
                   "imported: the corpus does not build its files right")
    probe.assert_clean("hostile uploads")


# ---- 6. the home page and every menu page --------------------------------------------
def test_menu_pages_with_hostile_arguments(app, actors, targets):
    """"/" and every menu page with ?month=9999-12, ?year=abc, ?days=-1: never a 500."""
    probe = Probe(app, actors.web, "Admin")
    home = probe.send("get", "/", {200})
    pages = ["/"] + menu_pages(home.get_data(as_text=True))
    assert len(pages) > 10, pages
    for page in pages:
        for arg in ("month=9999-12", "year=abc", "days=-1"):
            joiner = "&" if "?" in page else "?"
            probe.send("get", f"{page}{joiner}{arg}", GET_OK)
    probe.assert_clean("menu pages with hostile arguments")
