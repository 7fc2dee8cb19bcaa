"""``ScopedRestApi``: ModelRestApi on the scoped data interface, with the same rules
as the screens.

- Reads go through ``ScopedInterface`` (404 outside the scope); hidden fields
  (字段可见性) never leave and are never written, filtered or sorted on.
- Writes: the posted JSON is checked field by field with the domain's rules before
  FAB sees it (FAB's marshmallow schema checks types and lengths only, turns an
  unknown related id into a new row and answers in English); a refused value answers
  422 ``{"message": {field: [中文]}}`` and nothing is stored. The flush-time check
  (``app.data.integrity``) and the scope check run behind it, as for the screens.
- Documents with a workflow: a new one starts in its first state; a locked one
  refuses put and delete (422); ``POST /api/v1/<resource>/<id>/<step>`` with
  ``{"version": n}`` (and the step's reason or values) fires a step through the one
  transition service, with the permission of the screen.
- Bearer tokens only (``allow_browser_login`` off): a session cookie, which a
  malicious page could make the browser send, is no login here.
"""
from __future__ import annotations

from flask import g, request
from flask_appbuilder.api import ModelRestApi, expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext
from marshmallow import ValidationError as MarshmallowError

from .. import clock
from ..data import integrity
from ..data.interface import current_user_or_none
from ..domain import validation as v
from ..domain.choices import N_
from ..i18n import field_messages, message
from ..security.fields import hidden_fields
from ..security.scope import OUT_OF_SCOPE, ScopeError
from ..services import transitions

#: marshmallow's (English) messages, should one still reach a client
MARSHMALLOW_MESSAGES = {
    "Missing data for required field.": N_("This field is required."),
    "Field may not be null.": N_("This field is required."),
    "Unknown field.": N_("Unknown field."),
    "Not a valid integer.": N_("Enter a whole number."),
    "Not a valid string.": N_("Enter text."),
    "Not a valid date.": N_("Not a date: write it as 2026-12-01."),
    "Not a valid datetime.": N_("Not a date and time: write it as 2026-12-01 09:30."),
    "Not a valid number.": N_("Not an amount: write a number such as 300 or 1200.50."),
    "Not a valid boolean.": N_("Enter yes or no."),
    "Invalid input type.": N_("Invalid value."),
}


def _translated(messages):
    """marshmallow's error structure with every message in the user's language."""
    if isinstance(messages, dict):
        return {key: _translated(value) for key, value in messages.items()}
    if isinstance(messages, (list, tuple)):
        return [_translated(m) for m in messages]
    return gettext(MARSHMALLOW_MESSAGES.get(str(messages), N_("Invalid value.")))


class ScopedRestApi(ModelRestApi):
    """Base of every resource of ``/api/v1/``."""

    allow_browser_login = False

    # ---- answers in the user's language ---------------------------------------------
    # FAB calls these with English texts; this module answers with its own through
    # ``answer``.
    def answer(self, code: int, text):
        return self.response(code, message=text)

    def response_400(self, message: str = None):
        return self.answer(400, gettext("Invalid request."))

    def response_401(self):
        return self.answer(401, gettext("Not logged in."))

    def response_403(self):
        return self.answer(403, gettext("Access is Denied"))

    def response_404(self):
        return self.answer(404, gettext("Not found"))

    def response_422(self, message=None):
        if isinstance(message, (dict, list)):  # marshmallow's field errors
            return self.answer(422, _translated(message))
        return self.answer(422, gettext("Some values were not accepted."))

    # ---- 字段可见性: hidden fields never leave, and are never written -----------
    def hidden(self) -> frozenset:
        return hidden_fields(current_user_or_none(), self.datamodel.obj.__tablename__,
                             self.datamodel.session)

    def _drop_hidden(self, record: dict) -> None:
        for name in self.hidden():
            record.pop(name, None)
            for key in [k for k in record if k.startswith(name + ".")]:
                record.pop(key, None)

    def pre_get(self, data):
        self._drop_hidden(data.get("result", {}))

    def pre_get_list(self, data):
        for record in data.get("result", []):
            self._drop_hidden(record)
        hidden = self.hidden()
        for key in ("list_columns", "label_columns", "description_columns"):
            value = data.get(key)
            if isinstance(value, list):
                data[key] = [c for c in value if c not in hidden]
            elif isinstance(value, dict):
                data[key] = {k: val for k, val in value.items() if k not in hidden}

    def _handle_filters_args(self, rison_args):
        # A fresh Filters object per request (FAB issue #2366: the view's shared one
        # leaks between concurrent requests), without the hidden fields.
        hidden = self.hidden()
        filters = self.datamodel.get_filters([c for c in self.search_columns
                                              if c not in hidden])
        filters.rest_add_filters([f for f in rison_args.get("filters", [])
                                  if isinstance(f, dict) and f.get("col") not in hidden])
        return filters.get_joined_filters(self._base_filters)

    def _handle_order_args(self, rison_args):
        column = rison_args.get("order_column", "")
        if column and column in self.hidden():
            rison_args = {k: val for k, val in rison_args.items()
                          if k not in ("order_column", "order_direction")}
        return super()._handle_order_args(rison_args)

    # ---- writes: the domain's rules on the posted JSON ---------------------------
    def check_body(self, columns: list, new: bool):
        """The posted JSON object, cleaned (values normalised in place, so FAB reads
        the cleaned ones), or a 400/422 response.

        :return: (body, None) or (None, response)
        """
        if not request.is_json:
            return None, self.answer(400, gettext("Send the data as a JSON object."))
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return None, self.answer(400, gettext("Send the data as a JSON object."))
        for name in self.hidden():
            body.pop(name, None)  # a posted hidden value is ignored
        model = self.datamodel.obj
        rules = integrity.rules_of(model)
        errors = v.FieldErrors({})
        for key in list(body):
            value = body[key]
            if key not in columns:
                errors.merge(v.FieldErrors.one(key, "unknown"))
            elif self.datamodel.is_relation(key):
                if not self._related_ok(key, value):
                    errors.merge(v.FieldErrors.one(key, "reference"))
            elif key in rules:
                try:
                    cleaned = rules[key].clean(value)
                except v.FieldError as exc:
                    errors.merge(v.FieldErrors.one(key, exc.reason, **exc.params))
                else:
                    body[key] = _json_value(cleaned)
        if new:
            for key in columns:
                rule = rules.get(key) or rules.get(key + "_id")
                if rule is not None and rule.required and body.get(key) is None \
                        and key not in errors.errors:
                    errors.merge(v.FieldErrors.one(key, "required"))
        if errors.errors:
            return None, self.answer(422, field_messages(errors, self._relation_names()))
        return body, None

    def _related_ok(self, key: str, value) -> bool:
        """A related id that exists and that the user may choose (the related model's
        scope; staff must be active where the column's rule says so)."""
        if value is None:
            rule = integrity.rules_of(self.datamodel.obj).get(self._fk_of(key))
            return not (rule is not None and rule.required)
        pk = v.parse_id(value)
        if pk is None:
            return False
        related = self.datamodel.get_related_interface(key).get(pk)
        if related is None:
            return False
        rule = integrity.rules_of(self.datamodel.obj).get(self._fk_of(key))
        if isinstance(rule, v.Reference) and rule.active_only:
            return bool(getattr(related, "active", True))
        return True

    def _fk_of(self, relation: str) -> str:
        columns = list(self.datamodel.list_properties[relation].local_columns)
        return columns[0].key if columns else relation

    def _relation_names(self) -> dict:
        return {self._fk_of(name): name for name in self.datamodel.list_properties
                if self.datamodel.is_relation_many_to_one(name)}

    def _write(self, run):
        """Run FAB's post/put; the rules, the scope and a lock answer 422."""
        try:
            return run()
        except v.FieldErrors as exc:
            self.datamodel.session.rollback()
            return self.answer(422, field_messages(exc, self._relation_names()))
        except ScopeError:
            self.datamodel.session.rollback()
            return self.answer(422, gettext(OUT_OF_SCOPE))
        except transitions.LockedError as exc:
            self.datamodel.session.rollback()
            return self.answer(422, _locked(exc))
        except MarshmallowError as exc:
            return self.answer(422, _translated(exc.messages))

    def post_headless(self):
        _, refused = self.check_body(self.add_columns, new=True)
        if refused is not None:
            return refused
        return self._write(super().post_headless)

    def put_headless(self, pk):
        if self.datamodel.get(pk, self._base_filters) is None:
            return self.response_404()
        _, refused = self.check_body(self.edit_columns, new=False)
        if refused is not None:
            return refused
        return self._write(lambda: super(ScopedRestApi, self).put_headless(pk))

    def delete_headless(self, pk):
        return self._write(lambda: super(ScopedRestApi, self).delete_headless(pk))

    def pre_add(self, item):
        transitions.prepare_new(item, g.user)
        self.datamodel.check_write(item)

    def pre_update(self, item):
        transitions.ensure_editable(item)
        self.datamodel.check_write(item)

    def pre_delete(self, item):
        transitions.ensure_editable(item)

    # ---- workflow steps --------------------------------------------------------------
    @expose("/<pk>/<step>", methods=["POST"])
    @protect()
    @safe
    @permission_name("get")
    def transition(self, pk, step):
        """Fire a workflow step on one row: ``{"version": n}`` (the version read, as
        ``GET`` returns it), plus ``reason`` or the step's values when it asks for
        them. 200 with the row's new state; 404 outside the scope; 403 without the
        step's permission or for the author where he may not; 409 without the
        version, or when the row changed since, or is not in a state the step
        starts from; 422 for a refused reason or value."""
        wf = transitions.workflow_of(self.datamodel.obj)
        if wf is None or step not in wf.names():
            return self.response_404()
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            return self.response_404()
        declared = wf.transition(step)
        sm = self.appbuilder.sm
        if not sm.has_access(declared.permission, wf.permission_view):
            return self.response_403()
        body = request.get_json(silent=True) if request.is_json else None
        if not isinstance(body, dict):
            return self.answer(400, gettext("Send the data as a JSON object."))
        version = transitions.parse_version(body.get("version"))
        if version is None:
            return self.answer(409, gettext(
                "Give the version of the record you read (\"version\"): a step is never "
                "applied to a record nobody looked at."))
        try:
            result = transitions.fire(self.datamodel.obj, [item], step, g.user, clock.now(),
                                      seen={item.id: version},
                                      values={c: body.get(c) for c in declared.inputs},
                                      reason=body.get("reason"))
        except v.FieldErrors as exc:
            return self.answer(422, field_messages(exc))
        if result.held:
            return self.answer(422, message(transitions.OUTCOME["held"], n=1))
        if result.refused:
            return self.answer(403, message(transitions.OUTCOME["refused"],
                                            step=gettext(declared.label), n=1))
        if not result.changed:
            return self.answer(409, message(transitions.OUTCOME["skipped"],
                                            step=gettext(declared.label), n=1))
        item = self.datamodel.get(pk, self._base_filters)
        return self.response(200, id=item.id, status=getattr(item, wf.status_column),
                             version=getattr(item, wf.version_column))


def _locked(exc) -> str:
    if exc.reason:
        return message(exc.reason)
    wf = exc.workflow
    return message(transitions.OUTCOME["locked"], document=gettext(wf.label),
                   status=gettext(wf.states.get(exc.status, exc.status or "")))


def _json_value(value):
    """A cleaned value as JSON gives it to FAB's schema (dates as ISO text, money as
    text: marshmallow reads both back exactly)."""
    import datetime
    import decimal

    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value
