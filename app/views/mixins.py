"""What every model screen needs, FAB's own (users, roles, groups) included:

- :class:`SafeActionsMixin`: actions only on POST (CSRF-checked), on rows loaded by
  id through the view's data interface (404 when any id is missing or no id at all),
  single-row only where the action allows one row, and with the version the page
  showed where the view asks for it (409 without);
- :class:`RuleFormsMixin`: add and edit forms whose values pass the domain's field
  rules (``app.data.integrity``) at validation, beside their fields, and again at
  save; a refused save answers 422 with the form, never a redirect with an empty
  message; NOT NULL booleans as checkboxes (FAB would require them ticked).
"""
from __future__ import annotations

from flask import abort, flash, g, redirect, request
from flask_appbuilder import expose
from flask_appbuilder.const import FLAMSG_ERR_SEC_ACCESS_DENIED
from flask_appbuilder.urltools import get_filter_args
from flask_babel import gettext
from flask_appbuilder.exceptions import FABException
from sqlalchemy import Boolean
from sqlalchemy.exc import SQLAlchemyError
from wtforms import BooleanField

from .. import guards
from ..data import integrity
from ..domain.validation import FieldErrors, parse_id
from ..i18n import field_messages


class SafeActionsMixin:
    """FAB's ``/action/<name>/<pk>`` and ``/action_post`` made safe (FAB_NOTES: they
    load rows without filters and take GET)."""

    #: actions need the version the user saw of each row (``id@version`` in lists,
    #: ``?v=`` from the details page); None: no
    require_versions: bool | None = None

    # ---- actions: scope first, then compare counts ---------------------------
    def _action_allowed(self, name: str) -> bool:
        if name not in (self.actions or {}):
            abort(404)
        return self.appbuilder.sm.has_access(self.get_action_permission_name(name),
                                             self.class_permission_name)

    def load_scoped(self, pks) -> list:
        """Rows for these ids through the scope; 404 if any id is not visible (or is
        no id at all). ``id@version`` tokens and ``?v=`` put the version the user
        saw of each row in ``g.seen_versions``; with ``require_versions``, a row
        without one answers 409 (an action never runs on an unseen row).

        :raises werkzeug.exceptions.HTTPException: 404, 409.
        """
        versions, ids = {}, set()
        for token in pks:
            text, _, version = str(token).partition("@")
            pk = parse_id(text)
            if pk is None:
                abort(404)
            ids.add(pk)
            if version:
                versions[pk] = version
        if request.args.get("v") and len(ids) == 1:
            versions[next(iter(ids))] = request.args["v"]
        g.seen_versions = versions
        items = self._rows_by_ids(ids)
        if not ids or len(items) != len(ids):
            abort(404)
        if self.require_versions and any(pk not in versions for pk in ids):
            raise guards.UserError(409, gettext(
                "This page is out of date: reload it and try again (the action was not "
                "done)."))
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
        if not self.actions[name].single:
            abort(404)  # an action for several selected rows only (FAB would run it)
        item = self.load_scoped([pk])[0]
        return self.actions[name].func(item)

    @expose("/action_post", methods=["POST"])
    def action_post(self):
        name = request.form.get("action", "")
        if not self._action_allowed(name):
            flash(FLAMSG_ERR_SEC_ACCESS_DENIED, "danger")
            return redirect(self.get_redirect())
        if not self.actions[name].multiple:
            abort(404)
        items = self.load_scoped(request.form.getlist("rowid"))
        return self.actions[name].func(items)

    def _rows_by_ids(self, ids) -> list:
        """The rows with these primary keys (a scoped view narrows this)."""
        model = self.datamodel.obj
        pk = getattr(model, self.datamodel.get_pk_name())
        return self.datamodel.session.query(model).filter(pk.in_(ids)).all()


class RuleFormsMixin:
    """Forms that refuse what every other path refuses, in the same words."""

    def __init__(self, *args, **kwargs):
        self.add_form_extra_fields = dict(self.add_form_extra_fields or {})
        self.edit_form_extra_fields = dict(self.edit_form_extra_fields or {})
        # FAB puts DataRequired on NOT NULL booleans, so an unticked box ("no") could
        # never be saved; a checkbox always has a value.
        for col in self.datamodel.obj.__table__.columns:
            if isinstance(col.type, Boolean) and not col.nullable:
                label = (self.label_columns or {}).get(col.name, col.name)
                for extra in (self.add_form_extra_fields, self.edit_form_extra_fields):
                    extra.setdefault(col.name, BooleanField(label))
        super().__init__(*args, **kwargs)

    def _init_forms(self):
        super()._init_forms()
        self.add_form = _with_domain_rules(self.add_form, self)
        self.edit_form = _with_domain_rules(self.edit_form, self)

    def fill_defaults(self, form) -> None:
        """Fill blank fields the view derives from others (an invoice's title from
        its client) after the form's own checks and before the domain's rules."""

    def _strip_hidden(self, form):
        return form

    def _add(self):
        # FAB's _add, with hidden fields stripped before validation and the error
        # of a refused save kept beside the form (422) instead of a redirect.
        get_filter_args(self._filters, disallow_if_not_in_search=False)
        form = self._strip_hidden(self.add_form.refresh())
        if request.method == "POST":
            if form.validate() and self._save(form, self.datamodel.obj(), new=True):
                flash(self.add_row_message, "success")
                return None
            guards.mark_form_invalid()
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
            if form.validate() and self._save(form, item, new=False):
                flash(self.edit_row_message, "success")
                return None
            guards.mark_form_invalid()
        else:
            form = self._strip_hidden(self.edit_form.refresh(obj=item))
            self.prefill_form(form, pk)
        self.update_redirect()
        return self._get_edit_widget(form=form)

    def _save(self, form, item, new: bool) -> bool:
        """Copy the form onto the row and save it; a value the field rules refuse is
        put beside its field, any other refusal (scope, lock) flashed. True: saved."""
        self.process_form(form, new)
        try:
            form.populate_obj(item)
            if new:
                self.pre_add(item)
                self.datamodel.add(item)
                self.post_add(item)
            else:
                self.pre_update(item)
                self.datamodel.edit(item)
                self.post_update(item)
        except FieldErrors as exc:
            self.datamodel.session.rollback()
            self.show_field_errors(form, exc)
            return False
        except ValueError as exc:
            self.datamodel.session.rollback()
            flash(str(exc), "danger")
            return False
        except (SQLAlchemyError, FABException):
            # the database's own constraints, the last line: nothing was saved
            self.datamodel.session.rollback()
            flash(gettext("Not saved: the database refused a value of this form."), "danger")
            return False
        return True

    def show_field_errors(self, form, errors: FieldErrors) -> None:
        """Each refused value's message beside its field (a relation's field shows
        the errors of its foreign key); errors of columns the form lacks are flashed."""
        rename = {}
        for name in self.datamodel.list_properties:
            if self.datamodel.is_relation_many_to_one(name):
                for column in self.datamodel.list_properties[name].local_columns:
                    rename[column.key] = name
        for name, texts in field_messages(errors, rename).items():
            if name in form:
                form[name].errors = list(form[name].errors or []) + texts
            else:
                label = str(self.label_columns.get(name, name))
                for text in texts:
                    flash(f"{label}: {text}", "danger")



def _with_domain_rules(form_class, view):
    """The form, whose validation also runs the domain's field rules on every field
    that parsed (``app.data.integrity.check_values``): all of a form's errors show at
    once, beside their fields, in the words every other path uses; the values are
    normalised as they will be stored. The flush-time check stays behind it."""
    model = view.datamodel.obj
    from flask_appbuilder.validators import Unique
    from wtforms.validators import Length

    rules = integrity.rules_of(model)
    for name in dir(form_class):
        unbound = getattr(form_class, name, None)
        validators = getattr(unbound, "kwargs", {}).get("validators") if hasattr(
            unbound, "field_class") else None
        if validators and name in rules:
            # the domain checks lengths and uniqueness, in the words every path uses
            unbound.kwargs["validators"] = [x for x in validators
                                            if not isinstance(x, (Unique, Length))]

    class DomainRulesForm(form_class):
        def validate(self, extra_validators=None):
            ok = super().validate(extra_validators)
            view.fill_defaults(self)
            rules = integrity.rules_of(model)
            values = {name: field.data for name, field in self._fields.items()
                      if name in rules and not field.errors}
            cleaned, errors = integrity.check_values(
                view.datamodel.session, model, values, values, getattr(self, "_id", None))
            for name, texts in field_messages(FieldErrors(errors)).items():
                if name in self._fields:
                    self[name].errors = list(self[name].errors or []) + texts
            for name, value in cleaned.items():
                if name not in errors and name in self._fields:
                    self[name].data = value
            return ok and not errors

    DomainRulesForm.__name__ = form_class.__name__
    return DomainRulesForm


