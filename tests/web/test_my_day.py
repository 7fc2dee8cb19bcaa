"""我的今日: a field agent's visits of this week and open todos as cards with 完成."""
from __future__ import annotations

import datetime
import re


def test_my_day_lists_visits_and_todos_and_completes_once(app, client, make_user,
                                                           make_client):
    from app import clock
    from app.extensions import db
    from app.models import Obligation, ObligationRecord, ObligationType, Todo
    from app.services.obligations import sync_client

    agent = make_user("FieldAgent")
    mine = make_client(field_agent=agent, name="外勤卡片有限公司", ticket_pickup="month",
                       business_address="卡片路8号", contact_name="赵六",
                       contact_phone="13800138000")
    theirs = make_client(field_agent=make_user("FieldAgent"), name="别人的外勤有限公司",
                         ticket_pickup="month")
    today = clock.today()
    with app.app_context():
        for cid in (mine, theirs):
            sync_client(cid, today, clock.tz_name())
        ob = db.session.query(Obligation).join(ObligationType).filter(
            Obligation.client_id == mine, ObligationType.code == "ticket_pickup").one()
        ob.deadline = today
        db.session.add(Todo(title="带回银行回单", client_id=mine, assignee_id=agent.id,
                            created_by_id=agent.id, expected_date=today))
        db.session.commit()
        ob_id = ob.id
    client.login(agent)
    html = client.get("/my-day/").get_data(as_text=True)
    assert "外勤卡片有限公司" in html and "卡片路8号" in html and 'href="tel:13800138000"' in html
    assert "带回银行回单" in html and "别人的外勤有限公司" not in html
    action = re.search(r'action="(/obligations/action/complete/%d\?v=[\d-]+)"' % ob_id,
                       html).group(1)
    for _ in range(2):  # a double tap
        assert client.post_form(action).status_code == 302
    todo_action = re.search(r'action="(/todos/action/complete/\d+)"', html).group(1)
    assert client.post_form(todo_action).status_code == 302
    with app.app_context():
        assert db.session.query(ObligationRecord).filter_by(obligation_id=ob_id).count() == 1
        assert db.session.query(Todo).filter_by(title="带回银行回单").one().done_at is not None
    after = client.get("/my-day/").get_data(as_text=True)
    assert "带回银行回单" not in after
    _ = datetime
