"""操作日志: every change — screen, action, API, CLI/job — with old → new values,
logins and failed logins, exports; written in the same transaction as the change."""
import json
from decimal import Decimal

import pytest

from ..conftest import PASSWORD


def audit_rows(app, after=0, **where):
    """Log rows (after the row id ``after``: ids of deleted clients come back)."""
    from app.extensions import db
    from app.models import AuditLog

    with app.app_context():
        q = db.session.query(AuditLog).filter(AuditLog.id > after)
        for k, v in where.items():
            q = q.filter(getattr(AuditLog, k) == v)
        return [(r.action, r.username, r.ip, r.table_name, r.row_id,
                 json.loads(r.changes) if r.changes else None)
                for r in q.order_by(AuditLog.id).all()]


def last_audit_id(app) -> int:
    from sqlalchemy import func

    from app.extensions import db
    from app.models import AuditLog

    with app.app_context():
        return db.session.query(func.max(AuditLog.id)).scalar() or 0


def test_ui_edit_records_old_and_new_value_with_user_and_ip(app, admin, admin_client, make_client):
    cid = make_client(name="改名前有限公司")
    admin_client.post_form(f"/clients/edit/{cid}", {
        "name": "改名后有限公司", "status": "active", "taxpayer_type": "small",
        "tax_device_type": "none", "billing_cycle": "month", "billing_state": "billed",
        "service_fee": "0"})
    rows = [r for r in audit_rows(app, table_name="client", row_id=str(cid)) if r[0] == "update"]
    assert rows, audit_rows(app, table_name="client")
    action, username, ip, _, _, changes = rows[-1]
    assert username == admin.username and ip == "127.0.0.1"
    assert changes["name"] == ["改名前有限公司", "改名后有限公司"]
    from app.extensions import db
    from app.models import AuditLog

    with app.app_context():  # as the 操作日志 screen reads it: whose id, Chinese as such
        row = (db.session.query(AuditLog).filter_by(table_name="client", row_id=str(cid),
                                                    action="update")
               .order_by(AuditLog.id.desc()).first())
        assert row.user_id == admin.id and "改名后有限公司" in row.changes


def test_action_is_audited(app, admin_client, make_client):
    cid = make_client()
    admin_client.post_form("/clients/action_post", {"action": "soft_delete", "rowid": [cid]})
    changes = [r[5] for r in audit_rows(app, table_name="client", row_id=str(cid)) if r[0] == "update"]
    assert {"status": ["active", "deleted"]} in changes


def test_api_put_is_audited(app, admin, make_client):
    cid = make_client(name="接口改名前")
    c = app.test_client()
    token = c.post("/api/v1/security/login", json={
        "username": admin.username, "password": PASSWORD, "provider": "db"}).json["access_token"]
    c.put(f"/api/v1/clients/{cid}", headers={"Authorization": f"Bearer {token}"},
          json={"name": "接口改名后"})
    rows = [r for r in audit_rows(app, table_name="client", row_id=str(cid)) if r[0] == "update"]
    assert rows[-1][1] == admin.username
    assert rows[-1][5]["name"] == ["接口改名前", "接口改名后"]


def test_cli_or_job_change_is_audited_as_the_system(app, make_client):
    from app.extensions import db
    from app.models import Client
    from app.services import clients as client_service

    cid = make_client()
    with app.app_context():  # no request: the CLI and scheduled jobs run like this
        client_service.restore([db.session.get(Client, cid)])
        client_service.soft_delete([db.session.get(Client, cid)])
    rows = [r for r in audit_rows(app, table_name="client", row_id=str(cid)) if r[0] == "update"]
    assert rows[-1][1].startswith("cli:") and rows[-1][2] is None
    assert rows[-1][5] == {"status": ["active", "deleted"]}


def test_a_set_based_change_is_audited_with_its_row(app, make_user, make_client):
    """完成 advances the obligation with an UPDATE the session does not see: the
    service writes the log row itself — which obligation, its old and new deadline."""
    import datetime

    from app.extensions import db
    from app.models import Obligation
    from app.services import obligations

    acct = make_user("Accountant")
    cid = make_client(name="审计完成测试有限公司", bookkeeper=acct)
    start = last_audit_id(app)
    with app.app_context():
        obligations.sync_client(cid, datetime.date(2026, 11, 23), "Asia/Shanghai")
        ob = (db.session.query(Obligation).filter_by(client_id=cid)
              .order_by(Obligation.deadline, Obligation.id).first())
        oid, due = ob.id, ob.deadline
        result = obligations.record([ob], "complete", acct.id, "Asia/Shanghai",
                                    seen={oid: due}, tax_amount=Decimal("1234.50"))
        assert result.done == 1
        new_due = db.session.get(Obligation, oid).deadline
    rows = [r for r in audit_rows(app, start, table_name="obligation") if r[0] == "update"]
    assert [r[4] for r in rows] == [str(oid)]
    assert rows[0][5]["deadline"] == [due.isoformat(), new_due.isoformat()]
    # the record it inserted: money and dates as the text a person reads
    inserted = audit_rows(app, start, table_name="obligation_record", action="insert")[-1][5]
    assert inserted["tax_amount"] == [None, "1234.50"]
    assert inserted["due_date"] == [None, due.isoformat()]


def test_the_log_keeps_chinese_money_and_dates_readable(app):
    """What the 操作日志 screen shows is the stored text: Chinese as Chinese (not
    \\u escapes), amounts and dates as text; an event without changes stores none."""
    import datetime

    from app import audit
    from app.extensions import db
    from app.models import AuditLog

    with app.app_context():
        conn = db.session.connection()
        audit.record(conn, "unlock", "journal_entry", 7,
                     changes={"reason": "更正金额", "amount": Decimal("12.50"),
                              "day": datetime.date(2026, 11, 23)})
        audit.record(conn, "login_failed", username="某人")
        db.session.commit()
        rows = db.session.query(AuditLog).order_by(AuditLog.id.desc()).limit(2).all()
        bare, changed = rows
        assert "更正金额" in changed.changes
        assert json.loads(changed.changes) == {"reason": "更正金额", "amount": "12.50",
                                               "day": "2026-11-23"}
        assert changed.row_id == "7"
        assert bare.changes is None and bare.row_id is None and bare.username == "某人"
        db.session.query(AuditLog).filter(AuditLog.id.in_([bare.id, changed.id])).delete()
        db.session.commit()


def test_insert_and_password_are_recorded_without_the_hash(app, make_user):
    user = make_user("Accountant")
    rows = audit_rows(app, table_name="ab_user", row_id=str(user.id))
    assert rows[0][0] == "insert"
    assert rows[0][5]["password"] == [None, "******"]
    assert "scrypt" not in json.dumps(rows)


def test_a_deletion_is_recorded_with_what_was_deleted(app, make_user, make_client):
    """A deleted row's last values are in the log (nothing else keeps them); empty
    fields are left out and a password never appears, not even as a hash."""
    from app.extensions import db
    from app.models import Client, Staff

    cid = make_client(name="将被删除有限公司", note=None)
    user = make_user("Accountant")
    with app.app_context():
        db.session.delete(db.session.get(Client, cid))
        db.session.delete(db.session.get(Staff, user.id))
        db.session.commit()
    gone = audit_rows(app, table_name="client", row_id=str(cid), action="delete")[-1][5]
    assert gone["name"] == ["将被删除有限公司", None] and "note" not in gone
    staff = audit_rows(app, table_name="ab_user", row_id=str(user.id), action="delete")[-1][5]
    assert staff["username"] == [user.username, None]
    assert staff["password"] == ["******", None]


def test_a_password_change_is_logged_without_either_password(app, make_user):
    from app.extensions import db
    from app.models import Staff

    user = make_user("Accountant")
    start = last_audit_id(app)
    with app.app_context():
        db.session.get(Staff, user.id).password = "another-hash"
        db.session.commit()
    changes = [r[5] for r in audit_rows(app, start, table_name="ab_user", row_id=str(user.id))
               if r[0] == "update"]
    assert changes == [{"password": ["******", "******"]}]


def test_changes_flushed_with_unlogged_bookkeeping_are_still_logged(app, make_user,
                                                                    make_client):
    """One flush holding logins' bookkeeping (not logged) and real changes: every
    change is logged (a flush's rows come in no fixed order, hence five of each)."""
    import datetime

    from app.extensions import db
    from app.models import Client, Staff

    users = [make_user("Accountant") for _ in range(5)]
    cids = [make_client(name=f"同批改名前有限公司{n}") for n in range(5)]
    start = last_audit_id(app)
    with app.app_context():
        # loaded first: a query between the changes would flush them one by one
        staff = [db.session.get(Staff, user.id) for user in users]
        clients = [db.session.get(Client, cid) for cid in cids]
        for person in staff:
            person.last_login = datetime.datetime(2026, 11, 30, 9)
        for n, row in enumerate(clients):
            row.name = f"同批改名后有限公司{n}"
        db.session.commit()
    assert not [r for r in audit_rows(app, start, table_name="ab_user", action="update")
                if r[4] in {str(u.id) for u in users}]
    for n, cid in enumerate(cids):
        changes = [r[5] for r in audit_rows(app, start, table_name="client", row_id=str(cid))
                   if r[0] == "update"]
        assert changes == [{"name": [f"同批改名前有限公司{n}", f"同批改名后有限公司{n}"]}]


def test_a_failed_write_leaves_no_audit_row(app, make_client):
    """The audit rows are written in the change's own transaction: a change that is
    flushed (its audit row with it) and then rolled back leaves neither."""
    from app.extensions import db
    from app.models import Client

    make_client()
    with app.app_context():
        before = len(audit_rows(app, table_name="client"))
        db.session.add(Client(name="回滚的客户"))
        db.session.flush()  # the INSERT and its audit row are in the transaction
        db.session.rollback()
    assert len(audit_rows(app, table_name="client")) == before


def test_a_refused_write_leaves_no_audit_row(app, make_client):
    from app.domain.validation import FieldErrors
    from app.extensions import db
    from app.models import Client

    make_client(credit_code="91350100M000100Y43")
    with app.app_context():
        before = len(audit_rows(app, table_name="client"))
        db.session.add(Client(name="重复代码", credit_code="91350100m000100y43"))
        with pytest.raises(FieldErrors) as refused:
            db.session.commit()
        db.session.rollback()
    assert "credit_code" in refused.value.errors
    assert len(audit_rows(app, table_name="client")) == before


def test_logins_and_failed_logins_are_audited(app, client, make_user):
    user = make_user("Accountant")
    start = last_audit_id(app)
    client.c.post("/login/", data={"username": user.username, "password": "wrong-pass1",
                                   "csrf_token": client.csrf_token()})
    client.login(user)
    actions = [r[0] for r in audit_rows(app, table_name="ab_user") if r[0].startswith("login")]
    assert "login_failed" in actions and "login" in actions
    # the login bookkeeping on the user row (last login, counts) is no "change" of him
    assert not [r for r in audit_rows(app, start, table_name="ab_user", row_id=str(user.id))
                if r[0] == "update"]


def test_export_is_audited_with_filter_and_row_count(app, admin_client, make_client):
    make_client(name="导出甲有限公司")
    make_client(name="导出乙有限公司")
    resp = admin_client.get("/clients/export.xlsx?q=导出甲")
    assert resp.status_code == 200
    rows = audit_rows(app, action="export")
    assert rows[-1][5]["rows"] == 1 and "q=" in rows[-1][5]["query"]
    assert rows[-1][3:5] == ("client", None)  # a list, not one row


def test_audit_screen_is_admin_only_and_chinese(app, admin_client, client, make_user, make_client):
    make_client(name="日志界面测试")
    html = admin_client.get("/audit/list/").get_data(as_text=True)
    assert "公司名称" in html and "新增" in html or "创建" in html
    other = make_user("Manager")
    client.login(other)
    assert client.get("/audit/list/").status_code in (302, 403)
