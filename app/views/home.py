"""工作台: the home page — what is due for me today, what is overdue, what waits for
my approval, what is about to expire. Every count goes through the same scope as the
lists (``ScopedInterface.scope_condition``), one grouped query per card."""
from __future__ import annotations

import datetime

from flask import g, url_for
from flask_appbuilder import IndexView, expose
from flask_babel import gettext
from sqlalchemy import func, select

from .. import clock
from ..domain.choices import CLIENT_STATUS
from ..extensions import db
from ..models import (AddressService, Client, Contract, Obligation, ObligationType,
                      ServiceRequest, Todo)
from ..data.interface import ScopedInterface
from ..services import ledger, transitions


def _scoped_count(model, *conditions) -> int:
    query = select(func.count()).select_from(model).where(*conditions)
    cond = ScopedInterface(model).scope_condition()
    if cond is not None:
        query = query.where(cond)
    return db.session.execute(query).scalar()


class HomeView(IndexView):
    index_template = "agencydesk/index.html"

    @expose("/")
    def index(self):
        user = g.user
        if user is None or not user.is_authenticated:
            return self.render_template(self.index_template, appbuilder=self.appbuilder,
                                        cards=[], work=[])
        sm = self.appbuilder.sm
        counts = {}
        cond = ScopedInterface(Client).scope_condition()
        query = select(Client.status, func.count()).group_by(Client.status)
        if cond is not None:
            query = query.where(cond)
        counts = dict(db.session.execute(query).all())
        cards = [(code, gettext(label), counts.get(code, 0))
                 for code, label in CLIENT_STATUS.items()]

        today = clock.today()
        soon = today + datetime.timedelta(days=30)
        work = []

        def add(label, n, endpoint, args="", level="default"):
            try:
                url = url_for(endpoint) + args
            except Exception:  # a module this build does not register
                return
            work.append((label, n, url, level))

        if sm.has_access("can_list", "ObligationModelView"):
            mine = Obligation.assignee_id == user.id
            add(gettext("My obligations due today"),
                _scoped_count(Obligation, Obligation.active.is_(True), mine,
                              Obligation.deadline == today),
                "ObligationModelView.list", f"?_flt_0_assignee={user.id}", "warning")
            add(gettext("Overdue obligations"),
                _scoped_count(Obligation, Obligation.active.is_(True),
                              Obligation.deadline < today),
                "ObligationModelView.list", f"?_flt_2_deadline={today.isoformat()}", "danger")
        if sm.has_access("can_list", "TodoModelView"):
            add(gettext("My open todos"),
                _scoped_count(Todo, Todo.assignee_id == user.id, Todo.done_at.is_(None)),
                "TodoModelView.list", "", "info")
        # documents waiting for a step this user may take (the workflows' inboxes)
        for box in transitions.inbox(user, lambda perm, view: sm.has_access(perm, view),
                                     lambda model: ScopedInterface(model).scope_condition()):
            add(gettext(box.step.inbox_label), box.count, f"{box.workflow.permission_view}.list",
                f"?_flt_0_{box.workflow.status_column}=" + box.step.sources[0], "warning")
        if sm.has_access("can_list", "ServiceRequestModelView"):
            from ..services.service_requests import late_counts

            late, pool = late_counts(user.id, ScopedInterface(ServiceRequest).scope_condition(),
                                     today)
            add(gettext("My service requests overdue"), late, "ServiceRequestModelView.list",
                f"?_flt_0_assignee={user.id}", "danger" if late else "default")
            if sm.has_access("can_dispatch", "ServiceRequestModelView"):
                add(gettext("Service requests waiting for dispatch"), pool,
                    "ServiceRequestModelView.list", "?_flt_0_status=new",
                    "warning" if pool else "default")
        if sm.has_access("can_list", "ContractModelView"):
            add(gettext("Contracts expiring within 30 days"),
                _scoped_count(Contract, Contract.end_date >= today, Contract.end_date <= soon),
                "ContractModelView.list", "", "warning")
        if sm.has_access("can_list", "AddressServiceModelView"):
            add(gettext("Addresses expiring within 30 days"),
                _scoped_count(AddressService, AddressService.expiry_date >= today,
                              AddressService.expiry_date <= soon),
                "AddressServiceModelView.list", "", "warning")
        # money from the ledger (应收), through the same client scope as every figure
        client_scope = ScopedInterface(Client).scope_condition()
        if sm.has_access("can_monthly", "StatsView") or sm.has_access("can_list",
                                                                       "ArrearsView"):
            owed = ledger.owed_past_due(today, client_scope)
            endpoint = ("ArrearsView.list" if sm.has_access("can_list", "ArrearsView")
                        else "ClientModelView.list")
            add(gettext("Owed (open charges past due)"), f"{owed:,.2f}", endpoint, "",
                "danger" if owed else "default")
        if sm.has_access("can_monthly", "StatsView") or sm.has_access("can_list",
                                                                       "ReceiptModelView"):
            received = ledger.received_between(today.replace(day=1), today, client_scope)
            add(gettext("Received this month (approved receipts less refunds)"),
                f"{received:,.2f}", "ReceiptModelView.list", "",
                "success" if received else "default")
        if sm.has_access("can_list", "ScheduledJobView"):
            from .. import scheduler

            late = scheduler.late_jobs()
            if late:  # red: a job has not succeeded within its expected interval
                add(gettext("Scheduled jobs late: %(names)s",
                            names="、".join(gettext(job.name) for job in late)),
                    len(late), "ScheduledJobView.list", "", "danger")
        if sm.has_access("can_list", "CalendarDayView"):
            from ..services.calendar import years_entered

            year = today.year + (1 if today.month >= 11 else 0)  # next year's, from November
            missing = [y for y in range(today.year, year + 1) if y not in years_entered()]
            if missing:
                add(gettext("Holidays not entered for %(year)d: deadlines count weekends only",
                            year=missing[0]), missing[0], "FilingCalendarView.year_view",
                    f"?year={missing[0]}", "danger")
        visits = self._visits(user, today) if sm.has_access("can_list",
                                                             "ObligationModelView") else []
        sales_desk = self._sales_desk(today) if sm.has_access("can_list",
                                                              "LeadModelView") else None
        from ..security.fields import hidden_fields

        return self.render_template(self.index_template, appbuilder=self.appbuilder,
                                    cards=cards, work=work, visits=visits, today=today,
                                    sales_desk=sales_desk,
                                    hidden=hidden_fields(user, "client", db.session))

    @staticmethod
    def _sales_desk(today):
        """销售工作台: today's follow-ups, missed 1-3-7 ones, leads by stage (the funnel
        of his team for a manager), the pool, contracts waiting, this month's signed
        amount — of the leads the user sees."""
        from ..domain.choices import LEAD_STAGE
        from ..models import Lead
        from ..services import sales

        desk = sales.desk(ScopedInterface(Lead).scope_condition(), today)
        stages = [(code, gettext(label), desk.by_stage.get(code, 0))
                  for code, label in LEAD_STAGE.items() if code != "pool"]
        return {"desk": desk, "stages": stages,
                "top": max([n for _, _, n in stages] + [1])}

    @staticmethod
    def _visits(user, today):
        """This week's visits of a field agent: the obligations of the field agent's
        kinds (上门取票, 税控托管 …) assigned to him, due by Sunday (overdue included),
        with the client's address and contact."""
        from ..services.obligations import ASSIGNEE_COLUMN

        sunday = today + datetime.timedelta(days=6 - today.weekday())
        query = (select(Obligation, ObligationType.name, Client)
                 .join(ObligationType, ObligationType.id == Obligation.type_id)
                 .join(Client, Client.id == Obligation.client_id)
                 .where(Obligation.active.is_(True), Obligation.assignee_id == user.id,
                        ObligationType.applies_to.in_(tuple(ASSIGNEE_COLUMN)),
                        Obligation.deadline <= sunday)
                 .order_by(Obligation.deadline, Client.name).limit(50))
        cond = ScopedInterface(Obligation).scope_condition()
        if cond is not None:
            query = query.where(cond)
        return db.session.execute(query).all()
