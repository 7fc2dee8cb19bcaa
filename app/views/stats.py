"""财务管理 → 月度统计 / 年度统计: income and expense by month or year and by
category, as tables and as charts.

The charts are Apache ECharts, served by the app itself from
``app/static/vendor/echarts.min.js`` (put there by ``scripts/vendor_assets.sh``
from the npm package; nothing loads from another host). Without that file the
pages still show their tables, and a Chinese note where the charts would be.
"""
from __future__ import annotations

import os

from flask import current_app, request
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext

from .. import clock
from ..services import stats as stats_service
from ..data.interface import ScopedInterface
from ..models import JournalEntry, ObligationRecord

ECHARTS_FILE = "vendor/echarts.min.js"


def money(value) -> str:
    """A Decimal amount as the pages show it: 1,280.00."""
    return f"{value:,.2f}"


def year_arg() -> int:
    """``?year=`` (1900–2100), else the firm's current year; anything else is 400."""
    from ..guards import year_arg as parse_year

    return parse_year(request.args.get("year"), clock.today().year)


def echarts_available() -> bool:
    """Whether the vendored ECharts file is there to be served."""
    return os.path.isfile(os.path.join(current_app.static_folder, ECHARTS_FILE))


def _category_name(row) -> str:
    if row.name:
        return row.name
    return gettext("No category") if row.category_id is None else gettext("Removed category")


def _chart_series(periods, by_period) -> dict:
    """The data one bar chart needs: labels, and income/expense/net per label (as
    strings: JSON has no Decimal; the page's script turns them into numbers)."""
    return {"income": [str(by_period[p].income) for p in periods],
            "expense": [str(by_period[p].expense) for p in periods],
            "net": [str(by_period[p].net) for p in periods]}


class StatsView(BaseView):
    """月度统计 (``/stats/monthly/?year=``) and 年度统计 (``/stats/yearly/``)."""

    route_base = "/stats"
    default_view = "monthly"

    def _scope(self):
        # the journal's visibility scope (see app/services/stats.py for what it means
        # for entries without a client)
        return ScopedInterface(JournalEntry).scope_condition()

    def _render(self, template, report, **kwargs):
        labels = {"income": gettext("Income"), "expense": gettext("Expense"),
                  "net": gettext("Net")}
        categories = [(_category_name(row), row) for row in report.by_category]
        return self.render_template(
            template, report=report, categories=categories, money=money,
            series_names=labels, echarts=echarts_available(),
            echarts_file=ECHARTS_FILE,
            category_chart={
                "labels": [name for name, _ in categories],
                "income": [str(row.total.income) for _, row in categories],
                "expense": [str(row.total.expense) for _, row in categories]},
            **kwargs)

    @expose("/monthly/")
    @has_access
    def monthly(self):
        """月度统计: the twelve months of ``?year=`` and the year's categories."""
        year = year_arg()
        report = stats_service.monthly(year, self._scope())
        month_labels = [gettext("Month %(month)d", month=m) for m in report.periods]
        taxes = stats_service.tax_by_kind(
            year, ScopedInterface(ObligationRecord).scope_condition())
        return self._render(
            "stats/monthly.html", report, year=year, title=gettext(
                "Monthly statistics %(year)d", year=year), taxes=taxes,
            period_labels=month_labels,
            period_chart={"labels": month_labels,
                          **_chart_series(report.periods, report.by_period)})

    @expose("/yearly/")
    @has_access
    def yearly(self):
        """年度统计: each year with approved entries, and each category per year."""
        report = stats_service.yearly(self._scope())
        year_labels = [str(y) for y in report.periods]
        return self._render(
            "stats/yearly.html", report, title=gettext("Yearly statistics"),
            period_labels=year_labels,
            period_chart={"labels": year_labels,
                          **_chart_series(report.periods, report.by_period)})
