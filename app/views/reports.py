"""经营报表 (``/reports/?year=&period=``): clients per accountant and field agent,
filing completion per accountant for a period, new and lost clients per month,
revenue by client source and from new vs old clients — tables and ECharts charts,
within the user's client scope, exportable as xlsx."""
from __future__ import annotations

import io

from flask import request, send_file
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext

from .. import clock
from ..data.interface import ScopedInterface
from ..domain.deadlines import previous_period
from ..exports import write_xlsx
from ..guards import UserError
from ..models import Client
from ..services import reports
from .stats import ECHARTS_FILE, echarts_available, money, year_arg


def period_arg() -> str:
    """``?period=YYYY-MM`` (or a quarter ``YYYY-Qn``), else last month; else 400."""
    from ..domain.deadlines import parse_period

    text = (request.args.get("period") or "").strip()
    if not text:
        return previous_period(f"{clock.today():%Y-%m}")
    try:
        parse_period(text)
    except (ValueError, TypeError):
        raise UserError(400, gettext("Enter the period as 2026-11 or 2026-Q3."))
    return text


class ManagementReportView(BaseView):
    route_base = "/reports"
    default_view = "index"

    def _data(self):
        year, period = year_arg(), period_arg()
        scope = ScopedInterface(Client).scope_condition()
        new, lost = reports.churn(year, scope)
        sources, fresh, old = reports.revenue(year, scope)
        return dict(year=year, period=period, load=reports.staff_load(scope),
                    completion=reports.completion(period, scope), new=new, lost=lost,
                    sources=sources, fresh=fresh, old=old)

    @expose("/")
    @has_access
    def index(self):
        data = self._data()
        months = [gettext("Month %(month)d", month=m) for m in range(1, 13)]
        charts = {
            "load-chart": {"labels": [s.name for s in data["load"][:20]], "series": [
                {"name": gettext("Bookkeeping clients"),
                 "data": [s.bookkeeping for s in data["load"][:20]]},
                {"name": gettext("Field clients"), "data": [s.field for s in data["load"][:20]]}]},
            "completion-chart": {"labels": [c.name for c in data["completion"][:20]], "series": [
                {"name": gettext("Completion %"), "data": [c.percent for c in data["completion"][:20]]}]},
            "churn-chart": {"labels": months, "series": [
                {"name": gettext("New clients"), "data": data["new"]},
                {"name": gettext("Lost clients"), "data": data["lost"]}]},
            "source-chart": {"labels": [n or gettext("No source") for n, _ in data["sources"]],
                             "series": [{"name": gettext("Income"),
                                         "data": [str(a) for _, a in data["sources"]]}]},
        }
        return self.render_template("reports/management.html", title=gettext(
            "Management reports %(year)d", year=data["year"]), money=money, charts=charts,
            echarts=echarts_available(), echarts_file=ECHARTS_FILE, months=months, **data)

    @expose("/export.xlsx")
    @has_access
    def export(self):
        data = self._data()
        rows = [[gettext("Clients per staff member")]]
        rows += [[s.name, s.bookkeeping, s.field] for s in data["load"]]
        rows += [[], [gettext("Filing completion %(period)s", period=data["period"])]]
        rows += [[c.name, c.done, c.total, f"{c.percent}%"] for c in data["completion"]]
        rows += [[], [gettext("New and lost clients %(year)d", year=data["year"])]]
        rows += [[gettext("Month %(month)d", month=m), data["new"][m - 1], data["lost"][m - 1]]
                 for m in range(1, 13)]
        rows += [[], [gettext("Income by client source")]]
        rows += [[n or gettext("No source"), str(a)] for n, a in data["sources"]]
        rows += [[gettext("New clients"), str(data["fresh"])],
                 [gettext("Old clients"), str(data["old"])]]
        title = gettext("Management reports %(year)d", year=data["year"])
        content, count = write_xlsx(title, [gettext("Item"), gettext("Value"), "", ""], rows)
        from .. import audit
        from ..extensions import db

        audit.record(db.session.connection(), "export", "client", changes={
            "view": "ManagementReportView", "year": data["year"], "period": data["period"],
            "rows": count})
        db.session.commit()
        return send_file(io.BytesIO(content), as_attachment=True,
                         download_name=f"{title}.xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
