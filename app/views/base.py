"""``ScopedModelView``: the one ModelView every screen derives from.

What it adds to FAB's ModelView, each because FAB leaves it open or slow
(FAB_NOTES):
- rows come only through ``ScopedInterface`` (the visibility scope);
- single and multi-row actions load their targets through the scope and answer 404
  when any is missing (Superset's delete command: scope first, then compare counts);
- a fresh ``Filters`` object per request (FAB issue #2366: the shared one leaks);
- a quick search box (``?q=``) over ``quick_search_columns``, like Django admin's;
- choice columns (``Model.__choices__``) get select boxes and translated labels.
"""
from __future__ import annotations

import datetime
import io

from flask import abort, flash, g, redirect, request, send_file
from flask_appbuilder import ModelView, expose, has_access, permission_name
from flask_appbuilder.const import FLAMSG_ERR_SEC_ACCESS_DENIED
from flask_appbuilder.urltools import get_filter_args, get_order_args, get_page_args, \
    get_page_size_args
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.forms import GeneralModelConverter
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import Boolean, DateTime, or_
from wtforms import BooleanField, SelectField
from wtforms.validators import Optional as OptionalValidator

from ..security.scope import ScopeError
from .. import audit, clock
from ..exports import write_xlsx
from ..security.fields import hidden_fields
from .datamodel import ScopedInterface, current_user_or_none

OUT_OF_SCOPE_MESSAGE = _l("Not saved: the client would be outside the clients you may "
                          "see (you can only assign or choose clients within your scope).")


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
    validators = [] if required else [OptionalValidator()]
    return SelectField(label, choices=LazyChoices(mapping, blank=not required),
                       validators=validators, widget=Select2Widget())


class ScopedModelView(ModelView):
    """Base for every screen: scoped, safe actions, translated, fast lists."""

    list_template = "agencydesk/list.html"
    page_size = 20
    #: columns the quick-search box looks in (OR, case-insensitive contains);
    #: "relation.column" searches the related row
    quick_search_columns: list[str] = []
    #: a date column the list can be narrowed to one month of (``?month=YYYY-MM``)
    month_filter_column: str | None = None

    def __init__(self, *args, **kwargs):
        self._apply_choice_fields()
        super().__init__(*args, **kwargs)

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
        # FAB puts DataRequired on NOT NULL booleans, so an unticked box ("no") could
        # never be saved; a checkbox always has a value.
        for col in self.datamodel.obj.__table__.columns:
            if isinstance(col.type, Boolean) and not col.nullable:
                label = (self.label_columns or {}).get(col.name, col.name)
                for extra in (self.add_form_extra_fields, self.edit_form_extra_fields):
                    extra.setdefault(col.name, BooleanField(label))
        for col, mapping in choices.items():
            label = (self.label_columns or {}).get(col, col)
            self.add_form_extra_fields.setdefault(col, choice_field(label, mapping))
            self.edit_form_extra_fields.setdefault(col, choice_field(label, mapping))
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
        form = self.search_form.refresh()
        self.update_redirect()
        return self._get_search_widget(form=form, widgets=widgets, filters=filters)

    def _get_search_widget(self, form=None, exclude_cols=None, widgets=None, filters=None):
        # FAB renders the active filters from the view's shared ``self._filters``;
        # this request's own filters are passed instead (FAB issue #2366).
        widgets = widgets or {}
        widgets["search"] = self.search_widget(
            route_base=self.route_base,
            form=form,
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
        return joined

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
        date — a double click, a second clerk — can be told apart. None: not used."""
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
                                        order_direction)
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

    def _add(self):
        # FAB's _add, with hidden fields stripped before validation and the error
        # of a refused save kept beside the form instead of a redirect.
        get_filter_args(self._filters, disallow_if_not_in_search=False)
        form = self._strip_hidden(self.add_form.refresh())
        if request.method == "POST":
            if form.validate():
                self.process_form(form, True)
                item = self.datamodel.obj()
                try:
                    form.populate_obj(item)
                    self.pre_add(item)
                    self.datamodel.add(item)
                    self.post_add(item)
                except ValueError as exc:
                    self.datamodel.session.rollback()
                    flash(str(exc), "danger")
                else:
                    flash(self.add_row_message, "success")
                    return None
        self.update_redirect()
        return self._get_add_widget(form=form)

    def _edit(self, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            abort(404)
        pk = self.datamodel.get_pk_value(item)
        if request.method == "POST":
            form = self._strip_hidden(self.edit_form.refresh(request.form))
            form._id = pk
            if form.validate():
                self.process_form(form, False)
                try:
                    form.populate_obj(item)
                    self.pre_update(item)
                    self.datamodel.edit(item)
                    self.post_update(item)
                except ValueError as exc:
                    self.datamodel.session.rollback()
                    flash(str(exc), "danger")
                else:
                    flash(self.edit_row_message, "success")
                    return None
        else:
            form = self._strip_hidden(self.edit_form.refresh(obj=item))
            self.prefill_form(form, pk)
        self.update_redirect()
        return self._get_edit_widget(form=form)

    # ---- writes stay inside the scope ----------------------------------------
    def pre_add(self, item):
        self._check_scope(item)

    def pre_update(self, item):
        self._check_scope(item)

    def _check_scope(self, item):
        # FAB's _add/_edit flash what a pre_* hook raises and save nothing.
        try:
            self.datamodel.check_write(item)
        except ScopeError:
            raise ValueError(gettext(OUT_OF_SCOPE_MESSAGE))

    # ---- actions: scope first, then compare counts ---------------------------
    def _action_allowed(self, name: str) -> bool:
        if name not in self.actions:
            abort(404)
        return self.appbuilder.sm.has_access(self.get_action_permission_name(name),
                                             self.class_permission_name)

    def load_scoped(self, pks) -> list:
        """Rows for these ids through the scope; 404 if any id is not visible.

        :raises werkzeug.exceptions.NotFound: an id is missing or outside the scope.
        """
        versions = {}
        try:
            ids = set()
            for token in pks:
                pk, _, version = str(token).partition("@")
                ids.add(int(pk))
                if version:
                    versions[int(pk)] = version
        except (TypeError, ValueError):
            abort(404)
        if request.args.get("v") and len(ids) == 1:
            versions[next(iter(ids))] = request.args["v"]
        g.seen_versions = versions
        items = self.datamodel.get_many(ids)
        if not ids or len(items) != len(ids):
            abort(404)
        return items

    @expose("/action/<string:name>/<pk>", methods=["GET", "POST"])
    def action(self, name, pk):
        # FAB runs single actions on datamodel.get(pk) without base filters and
        # allows them on GET; here only POST (CSRF-checked) and scoped rows.
        if request.method != "POST":
            abort(405)
        if not self._action_allowed(name):
            flash(FLAMSG_ERR_SEC_ACCESS_DENIED, "danger")
            return redirect(self.get_redirect())
        item = self.load_scoped([pk])[0]
        return self.actions[name].func(item)

    @expose("/action_post", methods=["POST"])
    def action_post(self):
        name = request.form.get("action", "")
        if not self._action_allowed(name):
            flash(FLAMSG_ERR_SEC_ACCESS_DENIED, "danger")
            return redirect(self.get_redirect())
        items = self.load_scoped(request.form.getlist("rowid"))
        return self.actions[name].func(items)


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

    def apply(self, query, value):
        columns, text = value
        # Speed (every row is read: contains cannot use an index). Plain LIKE where
        # it gives the same rows as ILIKE, at a third to a quarter of the cost: on
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

        return query.filter(or_(*[match(col) for col in columns]))


class MonthFilter:
    """``?month=YYYY-MM`` on a Date or DateTime column: that calendar month
    (``start <= column < first of next month``; on a DateTime column the bounds are
    midnights, so the whole last day counts). A malformed value filters nothing out
    rather than failing."""

    arg_name = "month"
    name = _l("Month")

    def __init__(self, column_name, datamodel, is_related_view=False):
        self.column_name = column_name
        self.model = datamodel.obj

    def apply(self, query, value):
        try:
            start = datetime.date.fromisoformat(value + "-01")
        except ValueError:
            return query
        end = (start.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
        column = getattr(self.model, self.column_name)
        if isinstance(column.type, DateTime):
            start = datetime.datetime.combine(start, datetime.time())
            end = datetime.datetime.combine(end, datetime.time())
        return query.filter(column >= start, column < end)
