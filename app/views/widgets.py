"""Widgets that render less per request than FAB's.

:class:`LeanSearchWidget` — FAB's search widget renders every filter field of the
search form (select boxes of staff, sources, groups, choices: ~130 ``<option>``s on
the client list) through WTForms on every list request, about a third of the page's
time, and the template then JSON-encodes that HTML. The encoded HTML depends only on
the form class, the fields' choices (read from the database as before, so a new
staff member or source shows up at once) and the language: it is rendered once per
such combination and process, and reused.
"""
from __future__ import annotations

import time

from flask import current_app
from flask_appbuilder.widgets import SearchWidget
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup
from sqlalchemy import event
from sqlalchemy.orm import Session

_CACHE_KEY = "agencydesk_search_fields"
_CACHE_SIZE = 512


def _field_key(field) -> tuple:
    """What a field's HTML depends on, besides its form class and the language."""
    if hasattr(field, "iter_choices"):
        choices = tuple((str(c[0]), str(c[1]), bool(c[2])) for c in field.iter_choices())
    else:
        choices = None
    return field.name, type(field).__name__, choices, str(field._value()
                                                          if hasattr(field, "_value") else "")


def _clean(html) -> str:
    # WTForms 3.3 labels an option with its value when the label is empty, so FAB's
    # blank choice of every relation select reads "__None" (see lib.field_html)
    return str(html).replace(">__None</option>", "></option>")


class LeanSearchWidget(SearchWidget):
    """FAB's ``SearchWidget`` with the filter fields' JSON built once per form class,
    choices and language (see the module docstring).

    Reading the choices (staff, sources, groups: three queries and ~60 rows made
    objects) costs more than the rest of the widget, so what a user was shown is
    also kept for ``RECENT_SECONDS``: within that time, and while no row of a
    related table was written in this process, the form is not even built. A
    change made through another process shows after at most that long; one made
    here at once."""

    RECENT_SECONDS = 60.0

    def __call__(self, **kwargs):
        from flask import g
        from flask_babel import get_locale

        cols = tuple(self.template_args["include_cols"])
        form = self.template_args.get("form")
        factory = self.template_args.get("form_factory")
        locale = str(get_locale())
        user = getattr(g.get("user"), "id", None)
        recent = current_app.extensions.setdefault(_RECENT_KEY, {})
        # the form class (``refresh`` is its classmethod): one per view
        rkey = (getattr(factory, "__self__", factory) if factory else type(form), locale,
                user, cols)
        now = time.monotonic()
        hit = recent.get(rkey)
        if hit is not None and hit[1] == _generation[0] and now - hit[0] < self.RECENT_SECONDS:
            static = hit[2]
        else:
            generation = _generation[0]
            if form is None:
                form = factory()
            _watch_related(self.filters.datamodel, cols)
            key = (type(form), locale, tuple(_field_key(form[c]) for c in cols))
            cache = current_app.extensions.setdefault(_CACHE_KEY, {})
            static = cache.get(key)
            if static is None:
                static = self._render_static(form, cols)
                if len(cache) >= _CACHE_SIZE:
                    cache.clear()
                cache[key] = static
            if len(recent) >= _CACHE_SIZE:
                recent.clear()
            recent[rkey] = (now, generation, static)
        kwargs.update(static)
        kwargs["active_filters_json"] = htmlsafe_json_dumps(
            self.filters.get_filters_values_tojson(), dumps=current_app.json.dumps)
        return super(SearchWidget, self).__call__(**kwargs)

    def _render_static(self, form, cols) -> dict:
        dumps = current_app.json.dumps
        dict_filters = self.filters.get_search_filters()
        labels = {c: str(form[c].label.text) for c in cols}
        fields = {c: _clean(form[c]()) for c in cols}
        search_filters = {c: [str(flt.name) for flt in dict_filters[c]] for c in cols}
        return {"labels_json": htmlsafe_json_dumps(labels, dumps=dumps),
                "fields_json": htmlsafe_json_dumps(fields, dumps=dumps),
                "filters_json": htmlsafe_json_dumps(search_filters, dumps=dumps),
                "label_columns": labels}


_RECENT_KEY = "agencydesk_search_recent"
#: bumped when a row of a table some search form offers choices from is written
#: in this process (the recent entries are then stale)
_generation = [0]
_watched_tables: set = set()


def _watch_related(datamodel, cols) -> None:
    for col in cols:
        if datamodel.is_relation(col):
            _watched_tables.add(datamodel.get_related_model(col).__table__.name)


@event.listens_for(Session, "after_flush")
def _on_flush(session, flush_context):
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(obj, "__table__", None)
        if table is not None and table.name in _watched_tables:
            _generation[0] += 1
            return


# ---- the navbar's menu ----------------------------------------------------------------
_MENU_KEY = "agencydesk_menu_html"


def navbar_menu_html() -> Markup:
    """The navbar's menu items (``appbuilder/navbar_menu.html``), rendered once per
    language, set of permissions and list of obligation types, and reused: the
    template's output depends on nothing else (the menu itself is fixed when the
    app is built). Permissions and types are read per request as before, so a
    changed role or a new type shows at once."""
    from flask import request
    from flask_babel import get_locale

    from .obligations import obligation_menu_items

    app = current_app._get_current_object()
    sm = app.appbuilder.sm
    items = tuple(obligation_menu_items())
    key = (str(get_locale()), request.script_root, sm.access_signature(), items)
    cache = app.extensions.setdefault(_MENU_KEY, {})
    html = cache.get(key)
    if html is None:
        template = app.jinja_env.get_template("appbuilder/navbar_menu.html")
        html = Markup(template.render(menu=app.appbuilder.menu,
                                      obligation_menu_items=lambda: items))
        if len(cache) >= _CACHE_SIZE:
            cache.clear()
        cache[key] = html
    return html


# ---- a list row's cells -----------------------------------------------------------------
def render_value(value) -> Markup:
    """``lib.render_value`` in Python: blank for None, 是/否, datetimes to the
    second, lists joined with 、, the rest as text (escaped)."""
    import numbers

    from markupsafe import escape

    if value is None:
        return Markup("")
    if value is True or value is False:
        from flask_babel import gettext

        return escape(gettext("Yes" if value else "No"))
    if isinstance(value, (str, numbers.Number)):
        return escape(value)
    if hasattr(value, "strftime") and hasattr(value, "hour"):
        return escape(value.strftime("%Y-%m-%d %H:%M:%S"))
    if not hasattr(value, "keys"):
        try:
            items = iter(value)
        except TypeError:
            pass
        else:
            return Markup("、").join(escape(v) for v in items)
    return escape(value)


def row_cells(item, columns, formatters=None) -> Markup:
    """The ``<td>`` cells of one list row: ``formatters_columns`` where given,
    else :func:`render_value` — one call per row instead of a macro per cell."""
    from markupsafe import escape

    formatters = formatters or {}
    out = []
    for column in columns:
        formatter = formatters.get(column)
        value = item[column]
        out.append("<td>%s</td>" % (escape(formatter(value)) if formatter
                                    else render_value(value)))
    return Markup("\n".join(out))


# ---- a details page's values ------------------------------------------------------------
def show_value(column, columns, values, formatters=None) -> Markup:
    """One value of the details page: its formatter's output, else
    :func:`render_value` (the show widget's ``render_column`` macro, in Python)."""
    from markupsafe import escape

    formatter = (formatters or {}).get(column)
    value = values[columns.index(column)]
    return escape(formatter(value)) if formatter else render_value(value)


# ---- static assets ----------------------------------------------------------------------
_ASSETS_KEY = "agencydesk_asset_urls"


def asset_url(filename: str, endpoint: str = "appbuilder.static") -> str:
    """``url_for(endpoint, filename=…)`` kept per app and script root: a page links
    ~17 of FAB's assets, each a full URL build."""
    from flask import request, url_for

    cache = current_app.extensions.setdefault(_ASSETS_KEY, {})
    key = (request.script_root, endpoint, filename)
    url = cache.get(key)
    if url is None:
        url = cache[key] = url_for(endpoint, filename=filename)
    return url
