"""报税管理 (one list per obligation type, and all together), 查询管理 (the history),
报税类型 (types are data), 征期日历 (the calendar the deadlines follow) and 定时任务
(scheduled jobs)."""
from __future__ import annotations

import datetime

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access, permission_name
from flask_appbuilder.actions import action
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_babel import gettext, lazy_gettext as _l

from .. import clock, guards
from ..domain.validation import parse_id
from ..extensions import db
from ..models import (CalendarDay, DeadlineOverride, JobRun, Obligation, ObligationRecord,
                      ObligationType, ScheduledJob)
from ..services import calendar as calendar_service
from ..services import obligations as obligation_service
from ..domain.validation import Money
from .base import ScopedModelView
from .fields import money_field
from ..data import config_cache
from ..data.interface import ScopedInterface

OBLIGATION_LABELS = {
    "client": _l("Company name"), "client.name": _l("Company name"),
    "client.short_name": _l("Short name"), "client.credit_code": _l("Unified social credit code"),
    "type": _l("Obligation"), "assignee": _l("Assignee"), "deadline": _l("Deadline"),
    "period": _l("Period"), "cycle": _l("Cycle"),
    "last_done_on": _l("Last done"), "last_period": _l("Last period"),
    "rule_override": _l("Own rule for this client"), "overdue": _l("Overdue"),
    "active": _l("Active"),
}

class ReportForm(FlaskForm):
    version = HiddenField()
    zero_filing = BooleanField(_l("Zero filing (零申报)"))
    tax_amount = money_field(_l("Tax amount"), Money(allow_zero=True))


def _items(items):
    return items if isinstance(items, list) else [items]


class ObligationModelView(ScopedModelView):
    """报税管理: each row a client and its next due date; red when overdue."""

    route_base = "/obligations"
    datamodel = ScopedInterface(Obligation)
    class_permission_name = "ObligationModelView"
    exclude_route_methods = {"add", "delete", "download"}
    method_permission_name = {"complete": "complete", "zero": "complete", "skip": "skip",
                              "undo": "undo", "report": "complete"}

    list_title = _l("Obligations")
    show_title = _l("Obligation details")
    edit_title = _l("Edit obligation")
    label_columns = OBLIGATION_LABELS
    list_columns = ["client", "type", "period", "deadline", "assignee", "last_done_on"]
    show_columns = ["client", "type", "cycle", "period", "deadline", "assignee",
                    "rule_override", "last_period", "last_done_on", "overdue"]
    edit_columns = ["assignee", "rule_override"]
    order_columns = ["deadline", "period", "last_done_on", "last_period"]
    search_columns = ["type", "assignee", "deadline", "period", "cycle", "last_period",
                      "overdue"]
    quick_search_columns = ["client.name", "client.short_name", "client.credit_code"]
    month_filter_column = "deadline"
    base_filters = [["active", FilterEqual, True]]
    base_order = ("deadline", "asc")
    # 完成 / 跳过 need the due date the clerk saw: without it, a retried post or a
    # script would complete the next period too (409 instead)
    require_versions = True
    description_columns = {"rule_override": _l(
        "Leave empty to follow the obligation type's rule; e.g. 0 0 1 1,4,7,10 * for "
        "quarterly ticket pickup.")}
    _staff = [["active", FilterEqual, True]]
    edit_form_query_rel_fields = {"assignee": _staff}
    search_form_query_rel_fields = {"assignee": _staff, "type": [["active", FilterEqual, True]]}

    def row_class(self, item) -> str:
        today = clock.today()
        if item.deadline < today:
            return "row-overdue"
        if item.deadline <= today + datetime.timedelta(days=item.type.warn_days or 0):
            return "row-due-soon"
        return ""

    def render_template(self, template, **kwargs):
        # /obligations/list/?_flt_0_type=<id> is the list of one type: its own title
        type_id = parse_id(request.args.get("_flt_0_type"))
        if type_id and template == self.list_template:
            otype = db.session.get(ObligationType, type_id)
            if otype is not None:
                kwargs["title"] = otype.name
        return super().render_template(template, **kwargs)

    def row_version(self, item) -> str:
        return item.deadline.isoformat()

    def _seen(self) -> dict:
        """The deadline the clerk saw of each row (``id@YYYY-MM-DD``, ``?v=``)."""
        seen = {}
        for pk, text in (g.get("seen_versions") or {}).items():
            try:
                seen[pk] = datetime.date.fromisoformat(text)
            except ValueError:
                raise guards.UserError(409, gettext(
                    "This page is out of date: reload it and try again (the action was "
                    "not done)."))
        return seen

    def _record(self, items, kind, **extra):
        result = obligation_service.record(_items(items), kind, g.user.id, clock.tz_name(),
                                           seen=self._seen(), **extra)
        flash(gettext("%(n)d done, %(m)d skipped (already handled by someone else).",
                      n=result.done, m=result.stale),
              "success" if result.done else "warning")
        return redirect(self.get_redirect())

    @action("complete", _l("Complete"), _l("Mark the selected obligations as done for "
                                           "their current period?"), "fa-check",
            multiple=True, single=True)
    def complete(self, items):
        return self._record(items, "complete")

    @action("zero", _l("Zero filing"), _l("Record a zero filing (零申报) for the current "
                                          "period of the selected obligations?"),
            "fa-circle-o", multiple=True, single=True)
    def zero(self, items):
        return self._record(items, "complete", zero_filing=True)

    @action("report", _l("Complete with tax amount"), "", "fa-pencil-square-o",
            multiple=False, single=True)
    def report(self, item):
        return redirect(url_for(".report_form", pk=item.id,
                                v=(g.get("seen_versions") or {}).get(item.id)))

    @expose("/report/<pk>", methods=["GET", "POST"])
    def report_form(self, pk):
        """完成 with 零申报 or the tax amount, for one obligation's open period; its
        permission is 完成's, and it needs the deadline the clerk saw (``?v=``)."""
        if not getattr(g.user, "is_authenticated", False):
            return redirect(self.appbuilder.get_url_for_login)
        if not self._action_allowed("complete"):
            abort(403)
        seen = (request.form.get("version") if request.method == "POST"
                else request.args.get("v")) or ""
        item = self.load_scoped([f"{pk}@{seen}" if seen else pk])[0]
        form = ReportForm(request.form if request.method == "POST" else None)
        if request.method == "GET":
            form.version.data = seen
        if request.method == "POST" and form.validate():
            self.load_scoped([f"{pk}@{form.version.data}"])
            return self._record([item], "complete", zero_filing=form.zero_filing.data,
                                tax_amount=form.tax_amount.data)
        if request.method == "POST":
            guards.mark_form_invalid()
        return self.render_template(
            "agencydesk/obligation_report.html", form=form, item=item,
            title=gettext("Complete with tax amount"), appbuilder=self.appbuilder,
            cancel_url=self.get_redirect())

    @action("skip", _l("Skip"), _l("Skip the current period of the selected obligations?"),
            "fa-forward", multiple=True, single=True)
    def skip(self, items):
        return self._record(items, "skip")

    @action("undo", _l("Undo last"), _l("Undo the last completion or skip of this obligation?"),
            "fa-undo", multiple=False, single=True)
    def undo(self, item):
        try:
            record = obligation_service.undo_last(item, clock.tz_name())
        except obligation_service.ObligationError as exc:
            flash(gettext("Nothing to undo.") if exc.reason == "no_record" else
                  gettext("Not undone: the obligation has moved on since."), "warning")
        else:
            flash(gettext("Undone: due again on %(date)s.", date=record.due_date.isoformat()),
                  "success")
        return redirect(self.get_redirect())


class ObligationRecordView(ScopedModelView):
    """查询管理: every 完成 / 跳过, by company, type, period, user."""

    route_base = "/obligation-records"
    datamodel = ScopedInterface(ObligationRecord)
    class_permission_name = "ObligationRecordView"
    base_permissions = ["can_list", "can_show", "can_export"]
    exclude_route_methods = {"add", "edit", "delete", "action", "action_post", "download"}
    list_title = show_title = _l("Obligation history")
    label_columns = {"client": _l("Company name"), "client.name": _l("Company name"),
                     "client.credit_code": _l("Unified social credit code"),
                     "type": _l("Obligation"),
                     "period": _l("Period"), "due_date": _l("Deadline"), "kind": _l("Result"),
                     "zero_filing": _l("Zero filing"), "tax_amount": _l("Tax amount"),
                     "by": _l("Done by"), "at": _l("Recorded at"), "note": _l("Note")}
    list_columns = ["client", "type", "period", "due_date", "kind", "zero_filing",
                    "tax_amount", "by", "at"]
    show_columns = ["client", "type", "period", "due_date", "kind", "zero_filing",
                    "tax_amount", "by", "at", "note"]
    search_columns = ["type", "period", "kind", "zero_filing", "tax_amount", "by",
                      "due_date", "at"]
    quick_search_columns = ["client.name", "client.credit_code", "period"]
    order_columns = ["period", "due_date", "at"]
    month_filter_column = "due_date"
    base_order = ("id", "desc")
    _staff = [["active", FilterEqual, True]]
    search_form_query_rel_fields = {"by": _staff}


class ObligationTypeView(ScopedModelView):
    """报税类型: an Admin adds a type (name, rule, which clients) and its list
    appears in the menu with the clients' obligations, no restart."""

    route_base = "/obligation-types"
    datamodel = ScopedInterface(ObligationType)
    list_title = show_title = add_title = edit_title = _l("Obligation types")
    label_columns = {"name": _l("Name"), "rule": _l("Rule (croniter)"),
                     "category": _l("Kind of obligation"),
                     "cycle_small": _l("Default cycle, small-scale taxpayers"),
                     "cycle_general": _l("Default cycle, general taxpayers"),
                     "annual_month": _l("Yearly filing due: month"),
                     "annual_day": _l("Yearly filing due: day"),
                     "applies_to": _l("Applies to"), "warn_days": _l("Warn days before due"),
                     "active": _l("Active"), "sort_order": _l("Sort order"), "code": _l("Code")}
    list_columns = ["name", "category", "rule", "cycle_small", "cycle_general", "applies_to",
                    "warn_days", "active", "sort_order"]
    add_columns = edit_columns = ["name", "category", "rule", "applies_to", "cycle_small",
                                  "cycle_general", "annual_month", "annual_day", "warn_days",
                                  "active", "sort_order"]
    show_columns = ["name", "category", "rule", "applies_to", "cycle_small", "cycle_general",
                    "annual_month", "annual_day", "warn_days", "active", "sort_order"]
    search_columns = ["name", "category", "applies_to", "active"]
    base_order = ("sort_order", "asc")
    description_columns = {
        "rule": _l("Recurring work only. Five fields: minute hour day month weekday, in the "
                   "firm's time zone. 0 0 1 * * = the 1st of every month; 0 0 1 1,4,7,10 * = "
                   "quarterly; 0 0 30 6 * = every 30 June."),
        "category": _l("A tax filing is filed per period (month, quarter or year) by the "
                       "legal deadline of the filing calendar; recurring work follows its "
                       "rule."),
        "cycle_small": _l("Tax filings: how often a new client files it (he may be "
                          "changed on his form)."),
        "annual_month": _l("Yearly filings with a day of their own (企业所得税汇算清缴: 5 / "
                           "31); without it a yearly filing is due by January's deadline."),
    }

    def pre_delete(self, item):
        raise ValueError(gettext("Obligation types are not deleted (their history stays): "
                                 "set the type inactive instead."))

    def post_add(self, item):
        obligation_service.sync_obligations(clock.today(), clock.tz_name())

    def post_update(self, item):
        obligation_service.sync_obligations(clock.today(), clock.tz_name())


def format_duration(delta: datetime.timedelta | None) -> str:
    """1小时 2分 / 3分 4秒, in the request's language."""
    if delta is None:
        return ""
    seconds = max(0, int(delta.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return gettext("%(hours)d h %(minutes)d min", hours=hours, minutes=minutes)
    return gettext("%(minutes)d min %(seconds)d s", minutes=minutes, seconds=seconds)


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def job_status_rows(statuses) -> list[dict]:
    """The /jobs/ status panel: one row per job, every text translated."""
    rows = []
    for st in statuses:
        if not st.enabled:
            state, level = gettext("Disabled"), "default"
        elif st.late:
            state, level = gettext("Late: the run due at %(time)s has not succeeded",
                                   time=st.late_since.strftime("%Y-%m-%d %H:%M")), "danger"
        elif st.running_since is not None:
            state, level = gettext("Running"), "info"
        elif st.retry_at is not None:
            state, level = gettext("Waiting to retry"), "warning"
        else:
            state, level = gettext("On time"), "success"
        running = ""
        if st.running_since is not None:
            running = gettext("since %(start)s, for %(duration)s (attempt %(attempt)d, "
                              "%(rows)d rows so far, machine %(host)s, process %(pid)s)",
                              start=_when(st.running_since),
                              duration=format_duration(st.running_for),
                              attempt=st.running_attempt or 1, rows=st.running_rows or 0,
                              host=st.running_host or "", pid=st.running_pid or "")
        stale = ""
        if st.stale:
            stale = gettext("Stale claim: no sign of life since %(time)s; the next tick takes "
                            "it over once its process is gone",
                            time=_when(st.heartbeat_at or st.running_since))
        retry = ""
        if st.retry_at is not None:
            retry = gettext("%(n)d failed attempt(s); next retry at %(time)s",
                            n=st.failures, time=_when(st.retry_at))
        rows.append({"name": gettext(st.name), "state": state, "level": level,
                     "last_success": _when(st.last_success_at),
                     "last_failure": _when(st.last_failure_at),
                     "last_failure_run": st.last_failure_run,
                     "running": running, "stale": stale, "retry": retry})
    return rows


class ScheduledJobView(ScopedModelView):
    """定时任务: the jobs, their rules, and above the list each job's health (last
    success, last failure, a run in progress and for how long, a stale claim, a retry
    waiting, late); 立即运行."""

    route_base = "/jobs"
    datamodel = ScopedInterface(ScheduledJob)
    exclude_route_methods = {"add", "delete", "download"}
    method_permission_name = {"run_now": "run_now"}
    list_template = "agencydesk/jobs_list.html"
    list_title = show_title = edit_title = _l("Scheduled jobs")
    label_columns = {"name": _l("Job"), "code": _l("Code"), "rule": _l("Rule (croniter)"),
                     "enabled": _l("Enabled"), "last_run_at": _l("Last run"),
                     "last_tick": _l("Last scheduled time"),
                     "last_success_at": _l("Last success"), "last_failure_at": _l("Last failure")}
    list_columns = ["name", "rule", "enabled", "last_success_at", "last_failure_at", "last_tick"]
    show_columns = ["name", "rule", "enabled", "last_run_at", "last_success_at",
                    "last_failure_at", "last_tick"]
    edit_columns = ["rule", "enabled"]
    search_columns = ["enabled"]
    formatters_columns = {"name": lambda name: gettext(name)}

    def render_template(self, template, **kwargs):
        if template == self.list_template:
            from .. import scheduler

            kwargs["job_status"] = job_status_rows(scheduler.status())
        return super().render_template(template, **kwargs)

    @action("run_now", _l("Run now"), _l("Run the selected job now?"), "fa-play",
            multiple=False, single=True)
    def run_now(self, item):
        from .. import scheduler

        outcome = scheduler.run_now(item)
        if outcome.status == "ran":
            flash(gettext("Job finished: %(n)d rows.", n=outcome.rows), "success")
        elif outcome.status in ("busy", "lost"):
            flash(gettext("The job is running elsewhere right now."), "warning")
        else:
            flash(gettext("The job failed; see its runs."), "danger")
        return redirect(self.get_redirect())


class JobRunView(ScopedModelView):
    """执行记录: every attempt of every job — its number, outcome, progress, error."""

    route_base = "/job-runs"
    datamodel = ScopedInterface(JobRun)
    base_permissions = ["can_list", "can_show"]
    exclude_route_methods = {"add", "edit", "delete", "action", "action_post", "download",
                             "export_xlsx"}
    list_title = show_title = _l("Job runs")
    label_columns = {"job": _l("Job"), "tick": _l("Scheduled time"), "started_at": _l("Started"),
                     "finished_at": _l("Finished"), "rows": _l("Rows"), "error": _l("Error"),
                     "host": _l("Machine"), "manual": _l("Run by hand"),
                     "attempt": _l("Attempt"), "status": _l("Result"),
                     "heartbeat_at": _l("Last sign of life"), "cursor": _l("Resumes after"),
                     "pid": _l("Process")}
    list_columns = ["job", "tick", "attempt", "status", "started_at", "finished_at", "rows",
                    "manual", "host"]
    show_columns = ["job", "tick", "attempt", "status", "started_at", "heartbeat_at",
                    "finished_at", "rows", "cursor", "manual", "host", "pid", "error"]
    search_columns = ["job", "status", "manual"]
    base_order = ("id", "desc")
    formatters_columns = {"job": lambda job: gettext(job.name) if job else ""}

    def row_class(self, item) -> str:
        return "row-overdue" if item.status in ("failed", "abandoned") else ""


def obligation_menu_items() -> list[tuple[str, str]]:
    """(name, url) of each active obligation type: the per-type lists in the menu,
    kept per config token, so a type added by an Admin appears at once in every worker."""
    from flask import url_for

    types = config_cache.cached("obligation_menu", lambda: tuple(
        (tid, name) for tid, name in db.session.query(ObligationType.id, ObligationType.name)
        .filter(ObligationType.active.is_(True))
        .order_by(ObligationType.sort_order, ObligationType.id)))
    base = url_for("ObligationModelView.list")
    return [(name, f"{base}?_flt_0_type={tid}") for tid, name in types]


def register(appbuilder) -> None:
    from .board import FilingBoardView

    label = _l("Tax obligations")
    appbuilder.add_view(ObligationModelView, "AllObligations", label=_l("All obligations"),
                        icon="fa-calendar-check-o", category="Obligations",
                        category_label=label, category_icon="fa-calendar")
    appbuilder.add_view(FilingBoardView, "FilingBoard", label=_l("Filing progress"),
                        icon="fa-th", category="Obligations")
    appbuilder.add_view(ObligationRecordView, "ObligationHistory",
                        label=_l("Obligation history"), icon="fa-history",
                        category="Obligations")


# ---- 征期日历 ---------------------------------------------------------------------------
class _CalendarEdits:
    """Every change to the calendar moves the open filings' deadlines at once."""

    def post_add(self, item):
        calendar_service.refresh_deadlines()

    def post_update(self, item):
        calendar_service.refresh_deadlines()

    def post_delete(self, item):
        calendar_service.refresh_deadlines()


class CalendarDayView(_CalendarEdits, ScopedModelView):
    """放假与调休: the legal holidays and the weekend days worked by 调休."""

    route_base = "/calendar-days"
    datamodel = ScopedInterface(CalendarDay)
    list_title = show_title = add_title = edit_title = _l("Holidays and working weekends")
    label_columns = {"day": _l("Day"), "kind": _l("Kind of day"), "name": _l("Holiday")}
    list_columns = show_columns = add_columns = edit_columns = ["day", "kind", "name"]
    search_columns = ["day", "kind", "name"]
    order_columns = ["day"]
    base_order = ("day", "asc")
    month_filter_column = "day"
    page_size = 50


class DeadlineOverrideView(_CalendarEdits, ScopedModelView):
    """公告的申报期限: a month's deadline as the tax administration announced it."""

    route_base = "/announced-deadlines"
    datamodel = ScopedInterface(DeadlineOverride)
    list_title = show_title = add_title = edit_title = _l("Announced deadlines")
    label_columns = {"year": _l("Year"), "month": _l("Month"), "deadline": _l("Deadline"),
                     "note": _l("Announcement")}
    list_columns = show_columns = add_columns = edit_columns = ["year", "month", "deadline",
                                                                "note"]
    search_columns = ["year", "month"]
    order_columns = ["year", "month"]
    base_order = ("year", "desc")
    description_columns = {"note": _l("E.g. 税总办征科函〔2025〕64号.")}


class FilingCalendarView(BaseView):
    """征期日历: the twelve deadlines of a year and where each comes from."""

    route_base = "/filing-calendar"
    default_view = "year_view"
    list_title = _l("Filing calendar")

    @expose("/")
    @has_access
    @permission_name("year_view")
    def year_view(self):
        from ..guards import year_arg

        year = year_arg(request.args.get("year"), clock.today().year)
        cal = calendar_service.Calendar.load()
        months = [(m, due, gettext("Announced") if source == calendar_service.ANNOUNCED
                   else gettext("Computed")) for m, due, source in cal.year(year)]
        return self.render_template(
            "agencydesk/filing_calendar.html", title=gettext("Filing calendar %(year)d",
                                                              year=year),
            year=year, months=months, entered=cal.has_holidays(year),
            appbuilder=self.appbuilder)


def register_admin(appbuilder) -> None:
    """The obligation screens under 系统管理 (after that category exists)."""
    appbuilder.add_view(ObligationTypeView, "ObligationTypes", label=_l("Obligation types"),
                        icon="fa-list", category="Administration")
    appbuilder.add_view(FilingCalendarView, "FilingCalendar", label=_l("Filing calendar"),
                        icon="fa-calendar", category="Administration")
    appbuilder.add_view(CalendarDayView, "CalendarDays",
                        label=_l("Holidays and working weekends"), icon="fa-calendar-o",
                        category="Administration")
    appbuilder.add_view(DeadlineOverrideView, "AnnouncedDeadlines",
                        label=_l("Announced deadlines"), icon="fa-bullhorn",
                        category="Administration")
    appbuilder.add_view(ScheduledJobView, "ScheduledJobs", label=_l("Scheduled jobs"),
                        icon="fa-clock-o", category="Administration")
    appbuilder.add_view(JobRunView, "JobRuns", label=_l("Job runs"), icon="fa-list-ol",
                        category="Administration")
