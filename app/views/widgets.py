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

from flask import current_app
from flask_appbuilder.widgets import SearchWidget
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

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
    choices and language (see the module docstring)."""

    def __call__(self, **kwargs):
        from flask_babel import get_locale

        form = self.template_args["form"]
        cols = list(self.template_args["include_cols"])
        key = (type(form), str(get_locale()), tuple(_field_key(form[c]) for c in cols))
        cache = current_app.extensions.setdefault(_CACHE_KEY, {})
        static = cache.get(key)
        if static is None:
            dumps = current_app.json.dumps
            dict_filters = self.filters.get_search_filters()
            labels = {c: str(form[c].label.text) for c in cols}
            fields = {c: _clean(form[c]()) for c in cols}
            search_filters = {c: [str(flt.name) for flt in dict_filters[c]] for c in cols}
            static = {"labels_json": htmlsafe_json_dumps(labels, dumps=dumps),
                      "fields_json": htmlsafe_json_dumps(fields, dumps=dumps),
                      "filters_json": htmlsafe_json_dumps(search_filters, dumps=dumps),
                      "label_columns": labels}
            if len(cache) >= _CACHE_SIZE:
                cache.clear()
            cache[key] = static
        kwargs.update(static)
        kwargs["active_filters_json"] = htmlsafe_json_dumps(
            self.filters.get_filters_values_tojson(), dumps=current_app.json.dumps)
        return super(SearchWidget, self).__call__(**kwargs)
