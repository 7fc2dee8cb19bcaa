"""我的今日 (``/my-day/``): a field agent's (or anyone's) visits of this week and open
todos as cards for a phone — the client's address and contact on each, a tap to call,
and one-tap 完成 posting to the same actions as the lists (CSRF, the version the card
showed, exactly once). Built for 390-px-wide screens: one column, no table."""
from __future__ import annotations

from flask import g
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext
from sqlalchemy import or_, select

from .. import clock
from ..data.interface import ScopedInterface
from ..extensions import db
from ..models import Client, Todo
from ..security.fields import hidden_fields
from .home import HomeView


class MyDayView(BaseView):
    route_base = "/my-day"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        user, today = g.user, clock.today()
        sm = self.appbuilder.sm
        visits = HomeView._visits(user, today) if sm.has_access(
            "can_list", "ObligationModelView") else []
        todos = []
        if sm.has_access("can_list", "TodoModelView"):
            query = (select(Todo, Client).outerjoin(Client, Client.id == Todo.client_id)
                     .where(Todo.assignee_id == user.id, Todo.done_at.is_(None),
                            or_(Todo.expected_date.is_(None), Todo.expected_date <= today))
                     .order_by(Todo.expected_date, Todo.id).limit(50))
            cond = ScopedInterface(Todo).scope_condition()
            if cond is not None:
                query = query.where(cond)
            todos = db.session.execute(query).all()
        self.update_redirect()
        return self.render_template(
            "agencydesk/my_day.html", title=gettext("My day"), visits=visits, todos=todos,
            today=today, hidden=hidden_fields(user, "client", db.session),
            can_complete_visit=sm.has_access("can_complete", "ObligationModelView"),
            can_complete_todo=sm.has_access("can_complete", "TodoModelView"),
            appbuilder=self.appbuilder)
