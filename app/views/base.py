"""``ScopedModelView``: the one ModelView every screen derives from.

What it adds to FAB's ModelView, each because FAB leaves it open or slow
(FAB_NOTES):
- rows come only through ``ScopedInterface`` (the visibility scope);
- single and multi-row actions load their targets through the scope and answer 404
  when any is missing (Superset's delete command: scope first, then compare counts);
- a fresh ``Filters`` object per request (FAB issue #2366: the shared one leaks);
- a quick search box (``?q=``) over ``quick_search_columns``, like Django admin's;
- choice columns (``Model.__choices__``) get select boxes and translated labels;
- a model with a workflow (``app.domain.workflows``) gets one action per transition,
  a form page for the steps that ask for a reason or a value, and its locked states
  refuse edit and delete — all read from the declaration;
- a value the field rules refuse (``app.data.integrity``, on every write) is shown
  beside its field, and the page answers 422.
"""
from __future__ import annotations

import datetime
import io

from flask import abort, flash, g, redirect, request, send_file, url_for
from flask_appbuilder import ModelView, expose, has_access, permission_name
from flask_appbuilder.urltools import get_filter_args, get_order_args, get_page_args, \
    get_page_size_args
from flask_appbuilder.fieldwidgets import (BS3TextAreaFieldWidget, BS3TextFieldWidget,
                                           Select2Widget)
from flask_appbuilder.forms import GeneralModelConverter
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import DateTime, Numeric, or_
from wtforms import SelectField
from wtforms.validators import Optional as OptionalValidator

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField

from .. import audit, clock, guards
from ..data import integrity, textsearch
from ..data.interface import current_user_or_none
from ..domain.validation import FieldErrors, Money, parse_id
from ..exports import write_xlsx
from ..i18n import field_messages, message
from ..security.fields import hidden_fields
from ..security.scope import OUT_OF_SCOPE, ScopeError
from ..services import transitions
from .fields import money_field
from .mixins import RuleFormsMixin, SafeActionsMixin
from .widgets import LeanSearchWidget


#: the routes a read-only list leaves out altogether (404, not merely forbidden):
#: every write, and FAB's JSON endpoints
READ_ONLY_ROUTES = frozenset({
    "add", "edit", "delete", "action", "action_post", "download", "api", "api_read",
    "api_get", "api_column_add", "api_column_edit", "api_readvalues", "api_delete",
    "api_update", "api_create"})


class LazyChoices:
    """Choices rendered in the request's language (labels are English msgids)."""

    def __init__(self, mapping, blank=False):
        self.mapping, self.blank = mapping, blank

    def __iter__(self):
        if self.blank:
            yield "", ""
        for code, label in self.mapping.items():
            yield code, gettext(label)


def choice_field(label, mapping, required=True):
    # the domain's Choice rule refuses a forged code (in the words the API uses)
    validators = [] if required else [OptionalValidator()]
    return SelectField(label, choices=LazyChoices(mapping, blank=not required),
                       validators=validators, widget=Select2Widget(), validate_choice=False)


class ScopedModelView(SafeActionsMixin, RuleFormsMixin, ModelView):
    """Base for every screen: scoped, safe actions, translated, fast lists."""

    list_template = "agencydesk/list.html"
    search_widget = LeanSearchWidget
    page_size = 20
    # FAB's download route serves any uploaded file by name, whatever its row: no
    # view has it (views that exclude more routes list it again)
    exclude_route_methods = {"download"}
    #: columns the quick-search box looks in (OR, case-insensitive contains);
    #: "relation.column" searches the related row
    quick_search_columns: list[str] = []
    #: a date column the list can be narrowed to one month of (``?month=YYYY-MM``)
    month_filter_column: str | None = None

    #: the rows' actions need the version the user saw (``id@version`` in lists,
    #: ``?v=`` from the show page): posted without it, an action answers 409. On by
    #: default for models with a workflow; views with their own versions say so.
    require_versions: bool | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        datamodel = cls.__dict__.get("datamodel")
        wf = transitions.workflow_of(datamodel.obj) if datamodel is not None else None
        if wf is None:
            return
        # one action per transition, fired by the one service (a view may still
        # define an action of the same name itself)
        names = dict(cls.method_permission_name or {})
        for step in wf.transitions:
            names.setdefault(step.name, step.permission.removeprefix("can_"))
            if step.name not in cls.__dict__:
                setattr(cls, step.name, _transition_action(step))
        cls.method_permission_name = names
        if cls.require_versions is None:
            cls.require_versions = True

    def __init__(self, *args, **kwargs):
        self._apply_choice_fields()
        super().__init__(*args, **kwargs)

    @property
    def workflow(self):
        return transitions.workflow_of(self.datamodel.obj)

    def _init_forms(self):
        # FAB's own forms, built by a converter whose relation dropdowns read their
        # rows through ``ScopedInterface.relation_choices`` (scoped, no COUNT, no
        # eager loads, one query per request for equal lists) instead of a full
        # ``query()`` each. Forms a view declares itself are left alone.
        conv = _ChoicesConverter(self.datamodel)
        if not self.search_form:
            self.search_form = conv.create_form(
                self.label_columns, self.search_columns,
                extra_fields=self.search_form_extra_fields,
                filter_rel_fields=self.search_form_query_rel_fields)
        for form, columns, extra, rel in (
                ("add_form", self.add_columns, self.add_form_extra_fields,
                 self.add_form_query_rel_fields),
                ("edit_form", self.edit_columns, self.edit_form_extra_fields,
                 self.edit_form_query_rel_fields)):
            if not getattr(self, form):
                setattr(self, form, conv.create_form(
                    self.label_columns, columns, self.description_columns,
                    self.validators_columns, extra, rel))
        super()._init_forms()

    def _apply_choice_fields(self):
        choices = getattr(self.datamodel.obj, "__choices__", {})
        self.add_form_extra_fields = dict(self.add_form_extra_fields or {})
        self.edit_form_extra_fields = dict(self.edit_form_extra_fields or {})
        self.search_form_extra_fields = dict(self.search_form_extra_fields or {})
        # Money is typed as text and parsed by the column's domain rule: the form
        # refuses what the API and the import refuse, in the same words.
        rules = integrity.rules_of(self.datamodel.obj)
        for col in self.datamodel.obj.__table__.columns:
            if isinstance(col.type, Numeric) and isinstance(rules.get(col.name), Money):
                label = (self.label_columns or {}).get(col.name, col.name)
                for extra in (self.add_form_extra_fields, self.edit_form_extra_fields):
                    extra.setdefault(col.name, money_field(
                        label, rules[col.name], required=rules[col.name].required,
                        description=(self.description_columns or {}).get(col.name, "")))
        columns = self.datamodel.obj.__table__.columns
        for col, mapping in choices.items():
            label = (self.label_columns or {}).get(col, col)
            required = col in columns and not columns[col].nullable
            self.add_form_extra_fields.setdefault(col, choice_field(label, mapping, required))
            self.edit_form_extra_fields.setdefault(col, choice_field(label, mapping, required))
            self.search_form_extra_fields.setdefault(col, choice_field(label, mapping))

    def render_template(self, template, **kwargs):
        kwargs.setdefault("can_export", "export_xlsx" not in self.exclude_route_methods and
                          self.appbuilder.sm.has_access("can_export", self.class_permission_name))
        kwargs.setdefault("quick_search_columns", self.quick_search_columns)
        kwargs.setdefault("month_filter", self.month_filter_column)
        kwargs.setdefault("quick_search_placeholder", ", ".join(
            str(self.label_columns.get(c, c)) for c in self.quick_search_columns))
        return super().render_template(template, **kwargs)

    # ---- list: fresh filters per request, quick search ----------------------
    def _list(self, **kwargs):
        name = self.__class__.__name__
        order_column, order_direction = get_order_args().get(name, ("", ""))
        if order_column in self.hidden():
            order_column, order_direction = "", ""
        filters = self.datamodel.get_filters(self.visible(self.search_columns))
        get_filter_args(filters)
        widgets = self._get_list_widget(
            filters=filters,
            order_column=order_column,
            order_direction=order_direction,
            page=get_page_args().get(name),
            page_size=get_page_size_args().get(name),
            quick_search=request.args.get("q", ""),
            **kwargs,
        )
        self.update_redirect()
        # the search form is built only when the widget needs it (LeanSearchWidget)
        return self._get_search_widget(form_factory=self.search_form.refresh,
                                       widgets=widgets, filters=filters)

    def _get_search_widget(self, form=None, exclude_cols=None, widgets=None, filters=None,
                           form_factory=None):
        # FAB renders the active filters from the view's shared ``self._filters``;
        # this request's own filters are passed instead (FAB issue #2366).
        widgets = widgets or {}
        if form is None and form_factory is None:
            form = self.search_form.refresh()
        widgets["search"] = self.search_widget(
            route_base=self.route_base,
            form=form,
            form_factory=form_factory,
            include_cols=self.visible(self.search_columns),
            exclude_cols=exclude_cols or [],
            filters=filters if filters is not None else self.datamodel.get_filters(
                self.visible(self.search_columns)),
        )
        return widgets

    def query_filters(self, filters):
        """The filters a list (and its export) runs: the user's search filters, the
        view's base filters and the quick search. Views extend it with defaults."""
        joined = filters.get_joined_filters(self._base_filters)
        month = (request.args.get("month") or "").strip()
        if month and self.month_filter_column:
            joined.add_filter(self.month_filter_column, MonthFilter, month)
        q = (request.args.get("q") or "").strip()
        columns = self.visible(self.quick_search_columns)
        if q and columns:
            joined.add_filter("id", QuickSearch, (columns, q))
        if "client" in request.args:  # the client page's "all of his …" links
            client_id = parse_id(request.args["client"])
            if client_id is None or not self.filter_to_client(joined, client_id):
                abort(404)
        return joined

    def filter_to_client(self, filters, client_id: int) -> bool:
        """Narrow ``filters`` to one client's rows (``?client=<id>`` on a list, the
        client page's panels); False when this list has no client."""
        if "client_id" not in self.datamodel.obj.__table__.columns:
            return False
        filters.add_filter("client_id", FilterEqual, client_id)
        return True

    def _get_list_widget(self, filters, actions=None, order_column="", order_direction="",
                         page=None, page_size=None, widgets=None, **kwargs):
        widgets = widgets or {}
        actions = actions or self.actions
        page_size = page_size or self.page_size
        if not order_column and self.base_order:
            order_column, order_direction = self.base_order
        columns = self.visible(self.list_columns)
        count, lst = self.datamodel.query(self.query_filters(filters), order_column,
                                          order_direction, page=page, page_size=page_size,
                                          load_columns=columns)
        widgets["list"] = self.list_widget(
            label_columns=self.label_columns,
            include_columns=columns,
            value_columns=self.datamodel.get_values(lst, columns),
            order_columns=self.order_columns,
            formatters_columns=self.formatters_columns,
            page=page,
            page_size=page_size,
            count=count,
            pks=self.datamodel.get_keys(lst),
            row_classes=[self.row_class(item) for item in lst],
            row_versions=[self.row_version(item) for item in lst],
            actions=actions,
            filters=filters,
            modelview_name=self.__class__.__name__,
            **kwargs,
        )
        return widgets

    def row_version(self, item) -> str | None:
        """What the user saw of a row, sent back with an action on it (``id@version``
        in lists, ``?v=`` from the show page), so an action on a page that is out of
        date — a double click, a second clerk — can be told apart: a document's
        version number (``app.services.transitions``). None: not used."""
        if self.workflow is not None:
            return transitions.version_of(item)
        return None

    def row_class(self, item) -> str:
        """CSS class of a list row: "row-overdue" (red), "row-due-soon" (amber) or ""."""
        return ""

    # ---- export: the list as it stands, as .xlsx -----------------------------
    #: columns exported (default: the list's); hidden fields are always left out
    export_columns: list[str] | None = None

    @expose("/export.xlsx")
    @has_access
    @permission_name("export")
    def export_xlsx(self):
        """Export exactly the rows and fields of the current list (search, filters,
        quick search, scope), audited with who, which list, which filter, how many."""
        name = self.__class__.__name__
        filters = self.datamodel.get_filters(self.visible(self.search_columns))
        get_filter_args(filters)
        order_column, order_direction = get_order_args().get(name, ("", ""))
        if order_column in self.hidden() or not order_column:
            order_column, order_direction = self.base_order or ("", "")
        columns = self.visible(self.export_columns or self.list_columns)
        items = self.datamodel.iter_all(self.query_filters(filters), order_column,
                                        order_direction, columns=columns)
        rows = (self.datamodel.get_values_item(item, columns) for item in items)
        title = str(self.list_title)
        data, count = write_xlsx(title, [self.label_columns.get(c, c) for c in columns], rows)
        audit.record(self.datamodel.session.connection(), "export",
                     self.datamodel.obj.__tablename__,
                     changes={"view": name, "query": request.query_string.decode("utf-8", "replace"),
                              "rows": count, "columns": columns})
        self.datamodel.session.commit()
        filename = f"{title}-{clock.today():%Y%m%d}.xlsx"
        return send_file(io.BytesIO(data), as_attachment=True, download_name=filename,
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    # ---- field visibility (字段可见性) ----------------------------------------
    def hidden(self) -> frozenset:
        """Fields of this view's model hidden from the current user."""
        user = current_user_or_none()
        return hidden_fields(user, self.datamodel.obj.__tablename__, self.datamodel.session)

    def visible(self, columns) -> list:
        hidden = self.hidden()
        return [c for c in columns if c not in hidden]

    def _get_show_widget(self, pk, item, widgets=None, actions=None, show_fieldsets=None):
        widgets = widgets or {}
        hidden = self.hidden()
        fieldsets = [
            (title, {**spec, "fields": [f for f in spec["fields"] if f not in hidden]})
            for title, spec in (show_fieldsets or self.show_fieldsets or [])
        ]
        columns = self.visible(self.show_columns)
        if actions is None and self.workflow is not None:
            actions = self._actions_for(item)
        widgets["show"] = self.show_widget(
            pk=pk,
            label_columns=self.label_columns,
            include_columns=columns,
            value_columns=self.datamodel.get_values_item(item, columns),
            formatters_columns=self.formatters_columns,
            actions=self.actions if actions is None else actions,
            fieldsets=fieldsets,
            modelview_name=self.__class__.__name__,
            version=self.row_version(item),
        )
        return widgets

    def _actions_for(self, item) -> dict:
        """The actions the details page offers for this row: a workflow step only
        when the row is in a state it starts from (the others would be refused)."""
        wf = self.workflow
        status = getattr(item, wf.status_column)
        steps = {step.name: step for step in wf.transitions}
        return {name: a for name, a in self.actions.items()
                if name not in steps or status in steps[name].sources}

    def _rows_by_ids(self, ids) -> list:
        return self.datamodel.get_many(ids)  # through the scope

    def _strip_hidden(self, form):
        """Remove hidden fields from a form: not shown, and a posted value is ignored."""
        for name in self.hidden():
            if name in form:
                del form[name]
        return form

    def _get_add_widget(self, form, exclude_cols=None, widgets=None):
        widgets = widgets or {}
        widgets["add"] = self.add_widget(form=form, include_cols=self.visible(self.add_columns),
                                         exclude_cols=exclude_cols or [],
                                         fieldsets=self.add_fieldsets)
        return widgets

    def _get_edit_widget(self, form, exclude_cols=None, widgets=None):
        widgets = widgets or {}
        widgets["edit"] = self.edit_widget(form=form, include_cols=self.visible(self.edit_columns),
                                           exclude_cols=exclude_cols or [],
                                           fieldsets=self.edit_fieldsets)
        return widgets

    # ---- writes stay inside the scope; documents keep their workflow -----------
    def pre_add(self, item):
        transitions.prepare_new(item, g.user)
        self._check_scope(item)

    def pre_update(self, item):
        self._refuse_locked(item)
        self._check_scope(item)

    def pre_delete(self, item):
        self._refuse_locked(item)

    def _check_scope(self, item):
        # FAB's _add/_edit flash what a pre_* hook raises and save nothing.
        try:
            self.datamodel.check_write(item)
        except ScopeError:
            raise ValueError(gettext(OUT_OF_SCOPE))

    def _refuse_locked(self, item):
        """:raises ValueError: the document is in a locked state (read again in the
        database, holding the row: a step cannot land before the save)."""
        try:
            transitions.ensure_editable(item)
        except transitions.LockedError as exc:
            self.datamodel.session.rollback()
            raise ValueError(locked_message(exc.workflow, exc.status, exc.reason))

    def prefill_form(self, form, pk):
        item = self.datamodel.get(pk)
        if item is not None and transitions.is_locked(item):
            wf = self.workflow
            flash(locked_message(wf, getattr(item, wf.status_column)), "warning")

    def _delete(self, pk):
        # FAB's _delete, with a row other rows still point at refused in Chinese
        # (FAB would flash the database's English error).
        from sqlalchemy.exc import SQLAlchemyError
        from flask_appbuilder.exceptions import FABException

        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            abort(404)
        try:
            self.pre_delete(item)
            self.datamodel.delete(item)
            self.post_delete(item)
        except ValueError as exc:
            self.datamodel.session.rollback()
            flash(str(exc), "danger")
        except (SQLAlchemyError, FABException):
            self.datamodel.session.rollback()
            flash(gettext("Not deleted: other records still refer to this one."), "danger")
        else:
            flash(self.delete_row_message, "success")
        self.update_redirect()

    # ---- workflow steps ------------------------------------------------------
    def seen_versions(self) -> dict:
        """``{id: version}`` the user saw of the rows of this action."""
        seen = {}
        for pk, text in (g.get("seen_versions") or {}).items():
            version = transitions.parse_version(text)
            if version is not None:
                seen[pk] = version
        return seen

    def fire_transition(self, name: str, items):
        """Run workflow step ``name`` on rows loaded by the action (scoped, with the
        versions seen); a step that asks for a reason or a value goes to its form."""
        items = items if isinstance(items, list) else [items]
        step = self.workflow.transition(name)
        if step.needs_form:
            if len(items) != 1:
                abort(400)
            item = items[0]
            return redirect(url_for(".transition_form", name=name, pk=item.id,
                                    v=(g.get("seen_versions") or {}).get(item.id)))
        result = transitions.fire(self.datamodel.obj, items, name, g.user, clock.now(),
                                  seen=self.seen_versions())
        self.flash_outcome(step, result)
        return redirect(self.get_redirect())

    def flash_outcome(self, step, result) -> None:
        label = gettext(step.label)
        for key, level in (("changed", "success"), ("refused", "danger"),
                           ("held", "danger"), ("skipped", "warning")):
            n = getattr(result, key)
            if n or (key == "changed" and not (result.refused or result.skipped
                                               or result.held)):
                flash(message(transitions.OUTCOME[key], step=label, n=n), level)
        for key, n in result.notes.items():
            flash(message(transitions.OUTCOME[key], n=n), "info")

    @expose("/step/<string:name>/<pk>", methods=["GET", "POST"])
    def transition_form(self, name, pk):
        """The form of a step that asks for a reason or typed values (开票's invoice
        number, 作废's and 解锁's reason), for one row; its permission is the
        step's."""
        if not getattr(g.user, "is_authenticated", False):
            return redirect(self.appbuilder.get_url_for_login)
        wf = self.workflow
        if wf is None or name not in wf.names():
            abort(404)
        if not self._action_allowed(name):
            abort(403)
        step = wf.transition(name)
        # the version the user saw: from the action's redirect (?v=), then the form
        seen = (request.form.get("version") if request.method == "POST"
                else request.args.get("v")) or ""
        item = self.load_scoped([f"{pk}@{seen}" if seen else pk])[0]
        form = _step_form(step, self.label_columns, self.step_input_choices(step))(
            request.form if request.method == "POST" else None)
        if request.method == "GET":
            form.version.data = seen
        status = getattr(item, wf.status_column)
        if request.method == "POST" and form.validate():
            version = transitions.parse_version(form.version.data)
            values = {column: form[column].data for column in step.inputs}
            try:
                result = transitions.fire(
                    self.datamodel.obj, [item], name, g.user, clock.now(),
                    seen={item.id: version} if version is not None else {},
                    values=values, reason=form.reason.data if step.needs_reason else None)
            except FieldErrors as exc:
                for column, texts in field_messages(exc).items():
                    if column in form:
                        form[column].errors = list(form[column].errors or []) + texts
                guards.mark_form_invalid()
            else:
                self.flash_outcome(step, result)
                return self._after_step(item)
        elif request.method == "POST":
            guards.mark_form_invalid()
        elif status not in step.sources:
            flash(gettext("%(step)s is not possible: this %(document)s is %(status)s.",
                          step=gettext(step.label), document=gettext(wf.label),
                          status=gettext(wf.states.get(status, status))), "warning")
            return self._after_step(item)
        columns = self.visible(self.show_columns)
        return self.render_template(
            "agencydesk/transition.html", form=form, step=step, item=item,
            title=gettext(step.label), status=gettext(wf.states.get(status, status)),
            fields=[(self.label_columns.get(c, c),
                     self._formatted(item, c)) for c in columns[:8]],
            cancel_url=self._back_url(item), appbuilder=self.appbuilder)

    def step_input_choices(self, step) -> dict:
        """column → [(value, label)] for a step's typed values chosen from a list (an
        assignee); the others are typed."""
        return {}

    def _formatted(self, item, column):
        value = self.datamodel.get_values_item(item, [column])[0]
        formatter = (self.formatters_columns or {}).get(column)
        return formatter(value) if formatter else value

    def _back_url(self, item) -> str:
        if self.appbuilder.sm.has_access("can_show", self.class_permission_name):
            return url_for(".show", pk=item.id)
        return url_for(".list")

    def _after_step(self, item):
        return redirect(self._back_url(item))


def locked_message(workflow, status, reason: str | None = None) -> str:
    """"This invoice is 已开票 and locked: …" in the user's language (``reason``: a
    msgid saying more, as ``LockedError`` carries it)."""
    if reason:
        return message(reason)
    return message(transitions.OUTCOME["locked"], document=gettext(workflow.label),
                   status=gettext(workflow.states.get(status, status or "")))


def _transition_action(step):
    """A FAB action running workflow step ``step`` (see ``fire_transition``)."""

    def run(self, items):
        return self.fire_transition(step.name, items)

    run.__name__ = step.name
    # FAB's @action stores (name, text, confirmation, icon, multiple, single)
    run._action = (step.name, step.label, step.confirm or None, step.icon,
                   step.multiple, True)
    return run


def _step_form(step, labels, choices=None):
    """The form of a step: its typed columns (a list to choose from where the view
    offers ``choices``), a reason when it needs one, and the version the user saw
    (hidden)."""
    from flask_appbuilder.fieldwidgets import Select2Widget
    from wtforms import SelectField

    class StepForm(FlaskForm):
        version = HiddenField()

    for column in step.inputs:
        if choices and column in choices:
            # a value not offered (a forged id) fails the form's own check
            setattr(StepForm, column, SelectField(labels.get(column, column),
                                                  choices=choices[column],
                                                  widget=Select2Widget()))
            continue
        setattr(StepForm, column, StringField(labels.get(column, column),
                                              widget=BS3TextFieldWidget()))
    if step.needs_reason:
        setattr(StepForm, "reason", TextAreaField(_l("Reason"),
                                                  widget=BS3TextAreaFieldWidget()))
    return StepForm


class _ChoicesConverter(GeneralModelConverter):
    """FAB's form converter; relation dropdowns list ``relation_choices``."""

    def _get_related_query_func(self, col_name, filter_rel_fields):
        rel_filters = (filter_rel_fields or {}).get(col_name)
        return lambda: self.datamodel.relation_choices(col_name, rel_filters)


class QuickSearch:
    """A filter object FAB's ``Filters`` can carry: OR of contains over columns."""

    arg_name = "quick"
    name = _l("Search")

    def __init__(self, column_name, datamodel, is_related_view=False):
        self.column_name = column_name
        self.datamodel = datamodel
        self.model = datamodel.obj
        self.is_related_view = is_related_view

    #: a fragment shorter than the text index takes (3 characters) is looked for
    #: row by row; its list is counted only up to this many matches ("1000+"), so a
    #: common one (科技) costs a few thousand rows rather than the whole table
    SHORT_COUNT_CAP = 1000

    def count_cap(self, value):
        """The cap on the list's count for this search (see ``SHORT_COUNT_CAP``)."""
        _columns, text = value
        return self.SHORT_COUNT_CAP if len(text) < textsearch.MIN_CHARS else None

    def apply(self, query, value):
        columns, text = value
        fragment = text
        # Plain LIKE where it gives the same rows as ILIKE, at a third to a quarter
        # of the cost: on
        # SQLite, whose LIKE already ignores case for the letters its lower() folds
        # (ASCII), and for a text with no cased letter (Chinese names, phone
        # numbers). The ESCAPE clause is only added when the text needs it.
        escape = "\\" if any(ch in text for ch in "\\%_") else None
        if escape:
            text = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = "%" + text + "%"
        caseless = text.lower() == text.upper()
        plain = caseless or self.datamodel.session.get_bind().dialect.name == "sqlite"
        def match(col):
            if "." in col:
                # "client.name": EXISTS on the related row (no join to multiply rows)
                relation, attr = col.split(".", 1)
                rel = getattr(self.model, relation)
                column = getattr(rel.property.mapper.class_, attr)
            else:
                rel, column = None, getattr(self.model, col)
            cond = (column.like(pattern, escape=escape) if plain
                    else column.ilike(pattern, escape=escape))
            return rel.has(cond) if rel is not None else cond

        cond = or_(*[match(col) for col in columns])
        # the text index narrows to candidate rows first where it can (SQLite FTS5;
        # PostgreSQL's trigram indexes serve the LIKE itself): app.data.textsearch
        ids = textsearch.candidates(self.datamodel.session, self.model, columns, fragment)
        return query.filter(ids, cond) if ids is not None else query.filter(cond)


class MonthFilter:
    """``?month=YYYY-MM`` on a Date or DateTime column: that calendar month
    (``start <= column < first of next month``; on a DateTime column the bounds are
    midnights, so the whole last day counts). A malformed value answers 400."""

    arg_name = "month"
    name = _l("Month")

    def __init__(self, column_name, datamodel, is_related_view=False):
        self.column_name = column_name
        self.model = datamodel.obj

    def apply(self, query, value):
        start = guards.month_arg(value)  # 400 for a malformed or far-off month
        if start is None:
            return query
        end = (start.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
        column = getattr(self.model, self.column_name)
        if isinstance(column.type, DateTime):
            start = datetime.datetime.combine(start, datetime.time())
            end = datetime.datetime.combine(end, datetime.time())
        return query.filter(column >= start, column < end)
