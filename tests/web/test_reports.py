"""经营报表: clients per staff member, filing completion per accountant, new and lost
clients per month, revenue by source and new vs old clients — scoped, exported."""
from __future__ import annotations

import datetime
import io
import re
from decimal import Decimal

from openpyxl import load_workbook


def _cell_row(html, css, label):
    table = html[html.index(css):]
    table = table[:table.index("</table>")]
    m = re.search(rf"<td>{re.escape(label)}</td>(.*?)</tr>", table, re.S)
    return re.findall(r">([^<]*)</td>", m.group(1)) if m else None


def test_reports_count_what_happened(app, client, make_user, make_client):
    from app import clock
    from app.extensions import db
    from app.models import Client, Obligation, ObligationRecord, Receipt
    from app.services import transitions
    from app.services.obligations import sync_client

    manager = make_user("Manager")
    acct = make_user("Accountant", last_name="钱", first_name="报表")
    year = clock.today().year
    ids = [make_client(bookkeeper=acct) for _ in range(3)]
    lost = make_client(bookkeeper=acct, status="stopped")
    with app.app_context():
        for cid in ids:
            sync_client(cid, clock.today(), clock.tz_name())
        db.session.get(Client, ids[0]).created_on = datetime.datetime(year - 1, 5, 1)
        # revenue is the clients' receipts: approved ones post their journal entries
        receipts = [Receipt(received_on=datetime.date(year, 3, day), client_id=cid,
                            amount=Decimal(amount), status="pending", version=1)
                    for day, cid, amount in ((1, ids[0], "500.00"), (2, ids[1], "200.00"),
                                             (3, ids[1], "999.00"))]  # the last: pending
        db.session.add_all(receipts)
        db.session.commit()
        transitions.fire(Receipt, receipts[:2], "approve", manager,
                         datetime.datetime(year, 3, 3, 10), seen={r.id: 1 for r in receipts})
        # the 个税 of one client done for its open period: 1 of 3 done
        ob = db.session.query(Obligation).filter(Obligation.client_id.in_(ids),
                                                 Obligation.period.like("%-__")) \
            .order_by(Obligation.client_id).first()
        period = ob.period
        db.session.add(ObligationRecord(obligation_id=ob.id, client_id=ob.client_id,
                                        type_id=ob.type_id, due_date=ob.deadline,
                                        period=period, kind="complete"))
        ob.period = "2099-01"
        db.session.commit()
    client.login(manager)
    html = client.get(f"/reports/?year={year}&period={period}").get_data(as_text=True)
    assert _cell_row(html, "report-load", "钱报表") == ["3", "0"]
    done = _cell_row(html, "report-completion", "钱报表")
    assert done[0] == "1" and int(done[1]) >= 3
    month = clock.today().month
    new_row = _cell_row(html, "report-churn", "新客户")
    assert int(new_row[month - 1]) >= 3
    assert int(_cell_row(html, "report-churn", "流失客户")[month - 1]) >= 1
    assert "500.00" in html.split("report-old")[1][:40]   # the client of last year
    assert "200.00" in html.split("report-new")[1][:40]   # pending 999 not counted
    export = client.get(f"/reports/export.xlsx?year={year}&period={period}")
    cells = [c for row in load_workbook(io.BytesIO(export.data)).active.iter_rows(
        values_only=True) for c in row if c is not None]
    assert "钱报表" in cells and "500.00" in cells
    assert client.get("/reports/?period=abc").status_code == 400
    assert client.get("/reports/?year=99999").status_code == 400
    _ = lost


def test_an_accountant_has_no_management_reports(client, make_user):
    client.login(make_user("Accountant"))
    assert client.get("/reports/").status_code in (302, 403)
