"""The one client picker of every form that chooses a client (todos, contracts,
addresses, journal, invoices …): a search box, not a dropdown — a firm has up to
100,000 clients, and FAB's relation dropdown would list all of them (its AJAX
endpoint ``/api/column/add`` answers 404 in FAB 5.x).

A view mixes in :class:`ClientPickerMixin` and declares its client field as
:class:`ClientField`; the box asks the view's ``client-search`` endpoint (20
visible clients at most), and the posted value is resolved through the same scope.
What the box shows and matches respects 字段可见性 (``app.data.clients``).
"""
from __future__ import annotations

import json

from flask import abort, g, has_request_context, jsonify, request, url_for
from flask_appbuilder import expose
from flask_babel import gettext
from markupsafe import Markup
from sqlalchemy import inspect
from wtforms import Field
from wtforms.utils import unset_value
from wtforms.validators import ValidationError
from wtforms.widgets import html_params

from ..data import clients as picker
from ..data.interface import current_user_or_none
from ..domain.validation import parse_id
from ..extensions import db
from ..models import Client

SEARCH_SCRIPT = """<script>
$(function () {
  var box = $(document.getElementById(%s));
  box.select2({
    theme: "bootstrap", width: "100%%", allowClear: true, minimumInputLength: 1,
    placeholder: box.data("placeholder"),
    ajax: {url: box.data("endpoint"), dataType: "json", delay: 250,
           data: function (params) { return {q: params.term}; },
           processResults: function (data) { return {results: data.results}; }}
  });
});
</script>"""


class ClientSearchWidget:
    """A select box holding only the chosen client; select2 fills it as one types,
    from the view's ``client_search`` endpoint."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        client = field.data if isinstance(field.data, Client) else None
        options = Markup('<option value=""></option>')
        if client is not None:
            options += Markup('<option value="{0}" selected>{1}</option>').format(
                client.id, picker.label(client))
        elif field.raw_text:  # what was typed, shown again beside its error
            options += Markup('<option value="{0}" selected>{0}</option>').format(field.raw_text)
        params = html_params(name=field.name, class_="form-control client-search",
                             data_endpoint=url_for(".client_search"),
                             data_placeholder=gettext("Type a company name or credit code"),
                             **kwargs)
        return (Markup("<select {0}>{1}</select>").format(Markup(params), options)
                + Markup(SEARCH_SCRIPT % json.dumps(kwargs["id"])))


class _Required:
    """Marks the field required (red star); :class:`ClientField` does the check."""

    field_flags = {"required": True}

    def __call__(self, form, field):
        pass


class ClientField(Field):
    """The client of a form: posted as a client id (the search box) or typed as an
    exact name, short name or credit code; resolved through the user's scope, with a
    Chinese error beside the field when no visible client, or more than one, fits.

    :param model: the form's model, on edit forms: the client a row already has is
        kept even when the user does not see it (a todo assigned to him by someone
        who does).
    """

    widget = ClientSearchWidget()

    def __init__(self, label=None, required=False, model=None, **kwargs):
        super().__init__(label, [_Required()] if required else [], **kwargs)
        self.required, self.model = required, model
        self.raw_text = None

    def _current_client(self, form):
        pk = getattr(form, "_id", None)
        if pk is None or self.model is None:
            return None
        row = db.session.get(self.model, pk)
        client_id = getattr(row, "client_id", None)
        if client_id is not None and self.raw_text == str(client_id):
            return db.session.get(Client, client_id)
        return None

    def process_formdata(self, valuelist):
        self.raw_text = (valuelist[0] if valuelist else "").strip()

    def process(self, formdata, data=unset_value, extra_filters=None):
        super().process(formdata, data, extra_filters)
        # an empty add form opened from the client page (``?client=<id>``) starts
        # with that client, if the user may see him
        if formdata is None and self.data is None and has_request_context() \
                and request.method == "GET" and "client" in request.args:
            pk = parse_id(request.args["client"])
            if pk is not None and picker.is_visible(pk):
                self.data = db.session.get(Client, pk)

    def pre_validate(self, form):
        if self.raw_text is None:
            return  # nothing posted: the form is being shown
        if not self.raw_text:
            self.data = None
            if self.required:
                raise ValidationError(gettext("Choose a client."))
            return
        current = self._current_client(form)
        if current is not None:
            self.data = current
            return
        try:
            self.data = picker.resolve(self.raw_text)
        except picker.ClientLookupError as exc:
            self.data = None
            if exc.reason == "ambiguous":
                raise ValidationError(gettext(
                    "Several clients are called %(text)s: enter the unified social credit "
                    "code instead.", text=exc.text))
            raise ValidationError(gettext(
                "No client you may see has the name or credit code %(text)s.",
                text=exc.text))


class ClientPickerMixin:
    """The scoped client search a form's :class:`ClientField` asks, and a second check
    on save that a new or changed client is one the user may see."""

    @expose("/client-search")
    def client_search(self):
        """JSON for the search box: ``{"results": [{id, text, name, credit_code}]}``,
        at most 20 visible clients matching ``?q=``. Open to whoever may add or edit
        rows of this view."""
        self.require_form_access()
        found = picker.search(request.args.get("q", ""))
        return jsonify(results=[picker.option(c) for c in found])

    def require_form_access(self) -> None:
        """The form's JSON helpers answer whoever may add or edit rows here.

        :raises werkzeug.exceptions.HTTPException: 401 / 403.
        """
        user = current_user_or_none()
        if user is None or not getattr(user, "is_authenticated", False):
            abort(401)
        sm = self.appbuilder.sm
        if not any(sm.has_access(perm, self.class_permission_name)
                   for perm in ("can_add", "can_edit")):
            abort(403)

    def process_form(self, form, is_created):
        # Runs after validation and before the form is copied onto the row: the
        # client the row has in the database, to tell a kept client from a new one.
        super().process_form(form, is_created)
        pk = None if is_created else getattr(form, "_id", None)
        row = db.session.get(self.datamodel.obj, pk) if pk is not None else None
        g.saved_client_id = getattr(row, "client_id", None)

    def check_client(self, item) -> None:
        """Refuse a new or changed client the user may not see (a todo stays visible
        to its creator and assignee whatever its client, so the row's scope check
        alone would not catch a forged client id).

        :raises ValueError: (the base view shows it; nothing is saved)
        """
        new_id = item.client.id if item.client is not None else item.client_id
        if new_id is None:
            return
        if inspect(item).persistent and new_id == g.get("saved_client_id"):
            return
        if not picker.is_visible(new_id):
            raise ValueError(gettext("Not saved: choose a client you may see."))

    def pre_add(self, item):
        self.check_client(item)
        super().pre_add(item)

    def pre_update(self, item):
        self.check_client(item)
        super().pre_update(item)
