"""One app per database. ``AGENCYDESK_TEST_DB=postgresql`` runs the same suite on a
throwaway PostgreSQL database (created and dropped here); the default is SQLite.

Fixtures read like the product: ``app``, ``client``, ``make_user``, ``make_client``,
``login``. CSRF stays ON as in production; ``client.post_form`` sends the token
the way a browser would (read from the page's form).
"""
from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import uuid

import pytest
from sqlalchemy import text

PASSWORD = "Passw0rd!x"
# One vault key for the test run (every create_app here and in the subprocesses the
# tests start reads it), so a checkout without instance/vault.key can run the tests.
if not os.environ.get("AGENCYDESK_VAULT_KEY"):
    from cryptography.fernet import Fernet

    os.environ["AGENCYDESK_VAULT_KEY"] = Fernet.generate_key().decode()
#: an initialised SQLite database to start from (the mutation run sets it: a fresh
#: pytest per mutant would otherwise migrate an empty database each time, ~15 s);
#: ``initialise`` still runs on the copy, so a stale template is brought up to date
SQLITE_TEMPLATE = os.environ.get("AGENCYDESK_TEST_SQLITE_TEMPLATE")
PG_ADMIN_URL = os.environ.get("AGENCYDESK_PG_ADMIN_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _pg_database():
    import psycopg

    name = f"agencydesk_test_{uuid.uuid4().hex[:10]}"
    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]

    def drop():
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{base}/{name}", drop


@pytest.fixture(scope="session")
def database_url():
    kind = os.environ.get("AGENCYDESK_TEST_DB", "sqlite")
    if kind == "postgresql":
        url, drop = _pg_database()
        yield url
        drop()
    else:
        folder = tempfile.mkdtemp(prefix="agencydesk-test-")
        path = os.path.join(folder, "test.db")
        if SQLITE_TEMPLATE and os.path.exists(SQLITE_TEMPLATE):
            shutil.copyfile(SQLITE_TEMPLATE, path)
        yield "sqlite:///" + path


@pytest.fixture(scope="session")
def app(database_url):
    from app import create_app
    from app.services.setup import initialise

    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-for-jwt",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": True,
        "SERVER_NAME": None,
        "AUTH_RATE_LIMIT": "10000 per minute",
        "AGENCYDESK_ATTACHMENT_DIR": tempfile.mkdtemp(prefix="agencydesk-files-"),
    })
    with app.app_context():
        initialise(app)
    if SQLITE_TEMPLATE and database_url.startswith("sqlite") and not os.path.exists(SQLITE_TEMPLATE):
        shutil.copyfile(database_url.removeprefix("sqlite:///"), SQLITE_TEMPLATE)
    yield app
    with app.app_context():
        from app.extensions import db

        db.session.remove()
        db.engine.dispose()


BUSINESS_TABLES = ["refund", "allocation", "receipt", "charge", "fee_schedule", "receipt_counter",
                   "notice", "complaint", "service_rating", "service_attachment", "service_note", "service_request", "portal_membership", "contact_key", "sales_contract_line", "sales_contract", "follow_up", "contact",
                   "lead_business_type", "lead", "journal_entry", "invoice", "obligation_record", "obligation", "todo", "contract_term", "contract",
                   "client_tax_kind", "deadline_override",
                   "address_service", "client_credential", "client", "client_group", "setting"]


@pytest.fixture(autouse=True)
def clean_business_rows(request):
    """Each test starts with no clients; roles, dictionaries and users persist.
    A test that uses no app (tests/unit) builds none: the mutation run starts a
    fresh pytest per mutant, and building the app is most of its time."""
    app = request.getfixturevalue("app") if "app" in request.fixturenames else None
    yield
    if app is None:
        return
    from app.extensions import db

    with app.app_context():
        db.session.rollback()
        for table in BUSINESS_TABLES:
            db.session.execute(text(f"DELETE FROM {table}"))
        db.session.commit()
        db.session.remove()


_seq = itertools.count(1)


@pytest.fixture
def make_user(app):
    """``make_user("Accountant", superior=boss)`` → a Staff row, password PASSWORD."""
    from werkzeug.security import generate_password_hash

    from app.extensions import db
    from app.models import Staff

    hashed = generate_password_hash(PASSWORD)

    def make(role: str = "Accountant", **fields):
        n = next(_seq)
        with app.app_context():
            sm = app.appbuilder.sm
            user = Staff(username=fields.pop("username", f"{role.lower()}{n}_{uuid.uuid4().hex[:4]}"),
                         first_name=fields.pop("first_name", f"名{n}"),
                         last_name=fields.pop("last_name", "张"),
                         email=f"u{n}_{uuid.uuid4().hex[:6]}@test.cn", active=True,
                         password=hashed, roles=[sm.find_role(role)])
            for key, value in fields.items():
                setattr(user, key, value)
            db.session.add(user)
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
            return user

    return make


_code_seq = itertools.count(10000000)


def valid_code() -> str:
    from app.domain.codes import make_uscc

    return make_uscc("91", "110105", str(next(_code_seq)))


@pytest.fixture
def make_client(app):
    """``make_client(bookkeeper=user, name=...)`` → a Client id."""
    from app.extensions import db
    from app.models import Client

    def make(**fields):
        with app.app_context():
            for rel in ("bookkeeper", "field_agent"):
                if rel in fields:
                    user = fields.pop(rel)
                    fields[rel + "_id"] = user.id if user is not None else None
            client = Client(name=fields.pop("name", f"测试科技有限公司{next(_seq)}"),
                            credit_code=fields.pop("credit_code", valid_code()), **fields)
            db.session.add(client)
            db.session.commit()
            return client.id

    return make


class WebClient:
    """A test client that logs in and posts forms with their CSRF token."""

    def __init__(self, flask_client):
        self.c = flask_client

    def get(self, *args, **kwargs):
        return self.c.get(*args, **kwargs)

    def csrf_token(self) -> str:
        """This session's CSRF token, signed as Flask-WTF's ``generate_csrf`` does
        (what a browser would find in the page's form)."""
        import hashlib
        import os as _os

        from itsdangerous import URLSafeTimedSerializer

        app = self.c.application
        with self.c.session_transaction() as sess:
            raw = sess.get("csrf_token")
            if raw is None:
                raw = hashlib.sha1(_os.urandom(64)).hexdigest()
                sess["csrf_token"] = raw
        return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)

    def post_form(self, path, data=None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        return self.c.post(path, data=data, **kwargs)

    def post(self, *args, **kwargs):
        return self.c.post(*args, **kwargs)

    def login(self, user_or_name, password=PASSWORD):
        username = getattr(user_or_name, "username", user_or_name)
        self.c.get("/logout/")
        resp = self.post_form("/login/", {"username": username, "password": password})
        assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
        return resp


@pytest.fixture
def client(app):
    return WebClient(app.test_client())


@pytest.fixture
def admin(make_user):
    return make_user("Admin")


@pytest.fixture
def admin_client(client, admin):
    client.login(admin)
    return client


@pytest.fixture
def grant(app):
    """``grant("FieldAgent", "can_edit", "ClientModelView")`` for one test only."""
    granted = []

    def do(role_name, perm, view):
        with app.app_context():
            sm = app.appbuilder.sm
            role = sm.find_role(role_name)
            pvm = sm.find_permission_view_menu(perm, view)
            assert pvm is not None, (perm, view)
            if pvm in role.permissions:
                return  # the role has it anyway: nothing to take back afterwards
            sm.add_permission_role(role, pvm)
        granted.append((role_name, perm, view))

    yield do
    with app.app_context():
        sm = app.appbuilder.sm
        for role_name, perm, view in granted:
            sm.del_permission_role(sm.find_role(role_name), sm.find_permission_view_menu(perm, view))


def seen(app, model_name: str, pk) -> str:
    """The version a page shows of a document (what a step posts back): ``"id@n"``
    for a list's ``rowid``; ``?v=`` takes the part after the ``@``."""
    from app import models
    from app.extensions import db

    with app.app_context():
        row = db.session.get(getattr(models, model_name), int(pk))
        return f"{pk}@{row.version}"


def v(app, model_name: str, pk) -> str:
    """``?v=<version>`` for a single-row action from a document's details page."""
    return "?v=" + seen(app, model_name, pk).split("@", 1)[1]
