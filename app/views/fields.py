"""Form fields that parse what a person types with the domain's field rules, so a
form refuses exactly what every other path refuses, with the same Chinese message
beside the field (WTForms' DecimalField takes NaN, Infinity, 1e5 and negatives, and
answers in English)."""
from __future__ import annotations

from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
from flask_babel import gettext
from markupsafe import Markup, escape
from wtforms import Field, StringField
from wtforms.utils import unset_value
from wtforms.widgets import Select
from wtforms.validators import ValidationError

from ..domain import validation
from ..domain.choices import TAX_KIND_CYCLE
from ..i18n import message


class RuleField(StringField):
    """Text parsed by a domain rule (``app.domain.validation``); ``data`` is the
    cleaned value (a ``Decimal`` for money), None when blank."""

    widget = BS3TextFieldWidget()

    def __init__(self, label=None, validators=None, rule: validation.Rule | None = None,
                 **kwargs):
        super().__init__(label, validators, **kwargs)
        self.rule = rule or validation.Text()

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "")
        self.data = None
        if not str(text).strip():
            return  # a required field says so (InputRequired / the flush check)
        try:
            self.data = self.rule.clean(text)
        except validation.FieldError as exc:
            raise ValueError(message(exc.reason, **exc.params))

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return f"{self.data:.2f}" if isinstance(self.rule, validation.Money) else str(self.data)


def money_field(label, rule: validation.Money, required: bool = False, **kwargs):
    """An amount typed as text, kept as a two-place ``Decimal``."""
    from flask_babel import lazy_gettext as _l
    from wtforms.validators import InputRequired, Optional

    validators = [InputRequired(message=_l("Enter an amount."))] if required else [Optional()]
    return RuleField(label, validators, rule=rule, **kwargs)


def _fast_render_option(cls, choice, **kwargs):
    """WTForms' ``Select.render_option`` with the same output, for the common option
    (no extra attributes): WTForms builds each ``<option>`` through ``html_params``
    (a sort, a Markup.format per attribute) — the dropdowns (记账会计, 外勤会计,
    客户来源 …) were a third of a form's rendering."""
    if kwargs or choice.render_kw:
        return _wtforms_render_option(cls, choice, **kwargs)
    value = str(choice.value) if isinstance(choice.value, bool) else choice.value
    label = escape(choice.label or choice.value)
    if choice.selected:  # html_params sorts: "selected" comes before "value"
        return Markup(f'<option selected value="{escape(value)}">{label}</option>')
    return Markup(f'<option value="{escape(value)}">{label}</option>')


_wtforms_render_option = Select.render_option.__func__
Select.render_option = classmethod(_fast_render_option)


class TaxKindsField(Field):
    """报税税种 on the client form: for each tax kind (the active filing types, read
    when the form is shown: an Admin adds kinds), how often this client files it.
    ``data`` is ``{type id: cycle}``; on a new client a kind left at "by taxpayer
    type" takes the default of his taxpayer type."""

    widget = None  # rendered by __call__

    def __init__(self, label=None, **kwargs):
        super().__init__(label, **kwargs)
        self.data = {}

    def kinds(self):
        from ..services import taxkinds

        return taxkinds.filing_types()

    def process(self, formdata, data=unset_value, extra_filters=None):
        self.process_errors = []
        self.data = dict(data) if isinstance(data, dict) else {}
        self.raw = {}
        if formdata is None:
            return
        prefix = self.name + "-"
        for key in formdata:
            if key.startswith(prefix):
                self.raw[key[len(prefix):]] = formdata.get(key, "")

    def pre_validate(self, form):
        if not self.raw:
            return
        known = {str(t.id): t for t in self.kinds()}
        data = {}
        for key, value in self.raw.items():
            if key not in known or value not in ("",) + tuple(TAX_KIND_CYCLE):
                raise ValidationError(message("choice"))
            if value:
                data[known[key].id] = value
        self.data = data

    def populate_obj(self, obj, name):
        setattr(obj, name, dict(self.data or {}))

    def __call__(self, **kwargs):
        # plain string building with escape() per value: Markup.format per option
        # was a fifth of the client form's rendering (12 kinds × 5 options)
        options = [("", escape(gettext("By taxpayer type")))] + [
            (code, escape(gettext(label))) for code, label in TAX_KIND_CYCLE.items()]
        name = escape(self.name)
        rows = []
        for kind in self.kinds():
            current = (self.raw.get(str(kind.id)) if getattr(self, "raw", None)
                       else self.data.get(kind.id, "")) or ""
            opts = "".join(
                f'<option value="{escape(code)}"{" selected" if code == current else ""}>'
                f"{text}</option>" for code, text in options)
            rows.append(f'<tr><td>{escape(kind.name)}</td><td><select class="form-control '
                        f'input-sm" name="{name}-{escape(kind.id)}">{opts}</select></td></tr>')
        return Markup(f'<table class="table table-condensed tax-kinds">{"".join(rows)}</table>')


class SecretField(StringField):
    """A password typed on a form: checked by the domain's text rule, never written
    back into the page (an edit form shows it empty; empty keeps the stored one)."""

    def __init__(self, label=None, validators=None, max_length: int = 256, **kwargs):
        from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget

        super().__init__(label, validators, widget=BS3PasswordFieldWidget(), **kwargs)
        self.rule = validation.Text(max_length=max_length)

    def process_formdata(self, valuelist):
        text = valuelist[0] if valuelist else ""
        self.data = None
        if text == "":
            return
        try:
            self.data = self.rule.clean(text)
        except validation.FieldError as exc:
            raise ValueError(message(exc.reason, **exc.params))

    def process_data(self, value):
        self.data = None  # the stored secret is never put into a form

    def _value(self):
        return ""
