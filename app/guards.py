"""Every request argument is parsed before a view sees it; hostile input gets a
Chinese 400 or 404, never a 500.

FAB's list views read ``page_<View>``, ``psize_<View>``, ``_oc_<View>``,
``_od_<View>`` and ``_flt_<n>_<column>`` with bare ``int()`` and no bounds, and put
``_oc_`` straight into ORDER BY (FAB_NOTES). One ``before_request`` check here
parses them for every view, FAB's own screens included: a page or size that is not
a whole number, a sort column the list does not offer, a filter on a column the
search does not offer or with a value of the wrong type (a date that is no date, a
25-digit number, text with a NUL byte) answers 400 with the reason; a page size
above :data:`MAX_PAGE_SIZE` is lowered to it (as the REST API caps its own); an id
in the URL that cannot be a row's id answers 404 (there is no such row). Responses
carry the headers that keep the pages out of frames and sniffers, and a form posted
with errors answers 422.
"""
from __future__ import annotations

import logging
import re

from flask import Flask, g, request
from flask_babel import gettext
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import HTTPException

from .domain import validation as v
from .domain.choices import N_

log = logging.getLogger(__name__)

#: rows per list page at most (as FAB_API_MAX_PAGE_SIZE for the REST API)
MAX_PAGE_SIZE = 100
#: pages beyond this are not a list anybody reads
MAX_PAGE = 100_000
#: longest text a search or filter argument may carry
MAX_ARG_TEXT = 200
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

MESSAGES = {
    "control": N_("The request contains control characters (such as a NUL byte)."),
    "page": N_("The page number must be a whole number from 0."),
    "page_size": N_("The number of rows per page must be a whole number from 1 to "
                    "%(n)d."),
    "order": N_("This list cannot be sorted by that column."),
    "direction": N_("The sort direction must be asc or desc."),
    "filter": N_("This list cannot be filtered that way."),
    "filter_value": N_("The filter value is not valid for this column: %(reason)s"),
    "too_long": N_("A search or filter text may have at most %(n)d characters."),
    "month": N_("The month must be written as 2026-11 (years 1900 to 2100)."),
    "year": N_("The year must be a number from 1900 to 2100."),
    "id": N_("No such record."),
    "api_query": N_("The query (q) is not valid: give page, page_size, order_column, "
                    "order_direction and filters as the API describes them."),
}


class UserError(HTTPException):
    """An HTTP error whose ``message`` (Chinese, already translated) says what was
    wrong with the request; the error page and the API's JSON show it."""

    def __init__(self, code: int, message: str):
        self.code = code
        self.message = message
        super().__init__(description=message)


def refuse(code: int, key: str, **params):
    """Answer ``code`` with the message of ``key`` (raises).

    :raises UserError:
    """
    raise UserError(code, gettext(MESSAGES[key], **params))


# ---- small parsers other modules use --------------------------------------------------
def month_arg(value: str | None):
    """``YYYY-MM`` → first day of that month, None when blank. :raises UserError: 400"""
    import datetime

    text = (value or "").strip()
    if not text:
        return None
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", text)
    if not match:
        refuse(400, "month")
    year, month = int(match.group(1)), int(match.group(2))
    if not (1 <= month <= 12 and v.MIN_DATE.year <= year <= v.MAX_DATE.year):
        refuse(400, "month")
    return datetime.date(year, month, 1)


def year_arg(value: str | None, default: int) -> int:
    """``?year=`` (1900–2100), ``default`` when blank. :raises UserError: 400"""
    text = (value or "").strip()
    if not text:
        return default
    if not (text.isascii() and text.isdigit() and len(text) == 4
            and v.MIN_DATE.year <= int(text) <= v.MAX_DATE.year):
        refuse(400, "year")
    return int(text)


def id_arg(value) -> int:
    """A row id from the request, or 404. :raises UserError: 404"""
    number = v.parse_id(value)
    if number is None:
        refuse(404, "id")
    return number


# ---- the check of every request ----------------------------------------------------------
def _views_by_blueprint(app: Flask) -> dict:
    views = app.extensions.get("agencydesk_views")
    if views is None:
        views = {getattr(view, "endpoint", None) or view.__class__.__name__: view
                 for view in app.appbuilder.baseviews}
        app.extensions["agencydesk_views"] = views
    return views


def check_request(app: Flask) -> None:
    """Parse the arguments of this request (see the module docstring).

    :raises UserError: 400 or 404.
    """
    for key, value in request.args.items(multi=True):
        if _CONTROL.search(key) or _CONTROL.search(value):
            refuse(400, "control")
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        for key, value in request.form.items(multi=True):
            if _CONTROL.search(key) or _CONTROL.search(value):
                refuse(400, "control")
    view = _views_by_blueprint(app).get(request.blueprint or "")
    pk = (request.view_args or {}).get("pk")
    if pk is not None and v.parse_id(pk) is None and _has_integer_pk(view):
        refuse(404, "id")
    month = request.args.get("month")
    if month is not None:
        month_arg(month)
    if view is not None and hasattr(view, "datamodel") and request.method == "GET":
        if _is_rest_api(view):
            _check_api_query(view)
        else:
            _check_list_args(view)


def _has_integer_pk(view) -> bool:
    datamodel = getattr(view, "datamodel", None)
    if datamodel is None:
        return False
    try:
        return datamodel.is_integer(datamodel.get_pk_name())
    except Exception:  # a view on something that is not one SQLAlchemy table
        return False


def _check_list_args(view) -> None:
    """``page_*``, ``psize_*``, ``_oc_*``, ``_od_*``, ``_flt_*`` of a model view."""
    name = view.__class__.__name__
    args = request.args
    capped = None
    for key, value in args.items(multi=True):
        if key.startswith("page_"):
            if not (value.isascii() and value.isdigit() and len(value) <= 6
                    and int(value) <= MAX_PAGE):
                refuse(400, "page")
        elif key.startswith("psize_"):
            if not (value.isascii() and value.isdigit() and len(value) <= 9
                    and int(value) >= 1):
                refuse(400, "page_size", n=MAX_PAGE_SIZE)
            if int(value) > MAX_PAGE_SIZE:
                capped = capped or args.copy()
                capped.setlist(key, [str(MAX_PAGE_SIZE)])
        elif key.startswith("_od_"):
            if value not in ("asc", "desc"):
                refuse(400, "direction")
        elif key.startswith("_oc_"):
            if key == "_oc_" + name and value not in (getattr(view, "order_columns", None)
                                                      or []):
                refuse(400, "order")
        elif key.startswith("_flt_"):
            _check_filter(view, key, args.getlist(key))
        elif key == "q" and len(value) > MAX_ARG_TEXT:
            refuse(400, "too_long", n=MAX_ARG_TEXT)
    if capped is not None:
        request.args = ImmutableMultiDict(capped)


def _check_filter(view, key: str, values: list) -> None:
    match = re.fullmatch(r"_flt_(\d)_(.+)", key)
    if not match:
        refuse(400, "filter")
    index, column = int(match.group(1)), match.group(2)
    search = getattr(view, "search_columns", None) or []
    if column not in search:
        refuse(400, "filter")
    datamodel = view.datamodel
    filters = datamodel.get_filters(search)._search_filters.get(column) or []
    if index >= len(filters) or len(values) > 20:
        refuse(400, "filter")
    rule = _filter_rule(datamodel, column)
    for value in values:
        if len(value) > MAX_ARG_TEXT:
            refuse(400, "too_long", n=MAX_ARG_TEXT)
        if rule is None or not value.strip():
            continue
        try:
            rule.clean(value)
        except v.FieldError as exc:
            from .i18n import message

            refuse(400, "filter_value", reason=message(exc.reason, **exc.params))


def _is_rest_api(view) -> bool:
    from flask_appbuilder.api import ModelRestApi

    return isinstance(view, ModelRestApi)


#: the keys FAB's list query ``q`` takes
API_QUERY_KEYS = {"page", "page_size", "order_column", "order_direction", "filters",
                  "columns", "select_columns", "keys"}
MAX_QUERY = 4000


def _check_api_query(view) -> None:
    """The REST API's rison ``q``: parsed here (FAB's parser recurses on ``((`` and its
    pages, orders and filter values reach SQL unchecked), shapes and values checked
    like the screens' list arguments.

    :raises UserError: 400.
    """
    text = request.args.get("q")
    if text is None:
        return
    if len(text) > MAX_QUERY:
        refuse(400, "api_query")
    try:
        import prison

        query = prison.loads(text)
    except Exception:  # ParserException, RecursionError, …: not a rison value
        try:
            import json

            query = json.loads(text)
        except Exception:
            refuse(400, "api_query")
    if not isinstance(query, dict) or not set(query) <= API_QUERY_KEYS:
        refuse(400, "api_query")
    page, size = query.get("page", 0), query.get("page_size", 1)
    for number, low, high in ((page, 0, MAX_PAGE), (size, 1, MAX_PAGE_SIZE)):
        if not isinstance(number, int) or isinstance(number, bool) or not low <= number <= high:
            refuse(400, "api_query")
    column = query.get("order_column")
    if column is not None and column not in (getattr(view, "order_columns", None) or []):
        refuse(400, "order")
    if query.get("order_direction", "asc") not in ("asc", "desc"):
        refuse(400, "direction")
    for key in ("columns", "select_columns", "keys"):
        value = query.get(key, [])
        if not isinstance(value, list) or len(value) > 200 or \
                not all(isinstance(x, str) for x in value):
            refuse(400, "api_query")
    filters = query.get("filters", [])
    if not isinstance(filters, list) or len(filters) > 20:
        refuse(400, "filter")
    search = getattr(view, "search_columns", None) or []
    offered = view.datamodel.get_filters(search)._search_filters
    for item in filters:
        if not isinstance(item, dict) or set(item) != {"col", "opr", "value"}:
            refuse(400, "filter")
        col, opr, value = item["col"], item["opr"], item["value"]
        names = {f.arg_name for f in offered.get(col, [])} if isinstance(col, str) else set()
        if opr not in names:
            refuse(400, "filter")
        values = value if opr in ("in", "not_in") and isinstance(value, list) else [value]
        rule = _filter_rule(view.datamodel, col)
        for one in values:
            if isinstance(one, bool) or not isinstance(one, (str, int, float)):
                refuse(400, "filter")
            text_value = str(one)
            if len(text_value) > MAX_ARG_TEXT or _CONTROL.search(text_value):
                refuse(400, "too_long", n=MAX_ARG_TEXT)
            if (rule is None or opr in ("sw", "ew", "ct", "nsw", "new", "nct")) \
                    and not isinstance(one, str):
                refuse(400, "filter")  # a text column is searched with text
            if rule is not None:
                try:
                    rule.clean(text_value)
                except v.FieldError as exc:
                    from .i18n import message

                    refuse(400, "filter_value", reason=message(exc.reason, **exc.params))


def _filter_rule(datamodel, column: str):
    """The rule a filter value of ``column`` must pass (None: any short text)."""
    choices = getattr(datamodel, "choices", {}) or {}
    if column in choices:
        return v.Choice(codes=tuple(choices[column]))
    if datamodel.is_relation(column):
        return v.Reference()
    if datamodel.is_boolean(column):
        # FAB's filter turns "y" into yes and hands anything else to SQL as text
        # (PostgreSQL: boolean = varchar); its search form sends "y"
        return v.Choice(codes=("y",))
    if datamodel.is_datetime(column):
        return v.DateTime()
    if datamodel.is_date(column):
        return v.Date()
    if datamodel.is_integer(column):
        return v.Integer()
    if datamodel.is_numeric(column) or datamodel.is_float(column):
        return _Number()
    return None


class _Number(v.Rule):
    """Any finite amount in NUMERIC(12, 2)'s range, negative allowed (a filter)."""

    def convert(self, value):
        text = value.strip()
        negative = text.startswith("-")
        return v.parse_money(text[1:] if negative else text, allow_zero=True)


# ---- responses ------------------------------------------------------------------------
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "frame-ancestors 'none'",
}


def mark_form_invalid() -> None:
    """The page being built shows a form posted with errors: answer 422."""
    g.agencydesk_form_invalid = True


def install(app: Flask) -> None:
    """Register the request check, the response headers and the error answers."""

    @app.before_request
    def _check_arguments():
        check_request(app)

    @app.after_request
    def _headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if g.get("agencydesk_form_invalid") and response.status_code == 200:
            response.status_code = 422
        return response

    from sqlalchemy.exc import DataError

    @app.errorhandler(DataError)
    def _database_refused(exc):
        # The last line: a value the checks above let through and the database
        # refused (nothing was stored: the transaction is rolled back).
        log.warning("database refused a value: %s", exc)
        from .extensions import db

        db.session.rollback()
        return app.handle_http_exception(UserError(400, gettext(
            "The database refused a value of this request; nothing was saved.")))
