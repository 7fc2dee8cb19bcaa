"""工作台: the home page. Counts come through the same scope as every list."""
from __future__ import annotations

from flask import g
from flask_appbuilder import IndexView, expose
from flask_babel import gettext
from sqlalchemy import func

from ..domain.choices import CLIENT_STATUS
from ..models import Client
from .datamodel import ScopedInterface


class HomeView(IndexView):
    index_template = "agencydesk/index.html"

    @expose("/")
    def index(self):
        counts = {}
        if g.user is not None and g.user.is_authenticated:
            datamodel = ScopedInterface(Client)
            query = datamodel.session.query(Client.status, func.count())
            cond = datamodel.scope_condition()
            if cond is not None:
                query = query.filter(cond)
            counts = dict(query.group_by(Client.status).all())
        cards = [(code, gettext(label), counts.get(code, 0))
                 for code, label in CLIENT_STATUS.items()]
        return self.render_template(self.index_template, appbuilder=self.appbuilder,
                                    cards=cards)
