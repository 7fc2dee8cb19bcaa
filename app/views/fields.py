"""Form fields that parse what a person types with the domain's field rules, so a
form refuses exactly what every other path refuses, with the same Chinese message
beside the field (WTForms' DecimalField takes NaN, Infinity, 1e5 and negatives, and
answers in English)."""
from __future__ import annotations

from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
from flask_babel import gettext
from markupsafe import Markup
from wtforms import Field, StringField
from wtforms.utils import unset_value
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
        rows = []
        blank = gettext("By taxpayer type")
        for kind in self.kinds():
            current = (self.raw.get(str(kind.id)) if getattr(self, "raw", None)
                       else self.data.get(kind.id, ""))
            options = [("", blank)] + [(code, gettext(label))
                                       for code, label in TAX_KIND_CYCLE.items()]
            opts = Markup("").join(
                Markup('<option value="{0}"{1}>{2}</option>').format(
                    code, Markup(" selected") if code == (current or "") else "", text)
                for code, text in options)
            rows.append(Markup(
                '<tr><td>{0}</td><td><select class="form-control input-sm" name="{1}-{2}">'
                '{3}</select></td></tr>').format(kind.name, self.name, kind.id, opts))
        return Markup('<table class="table table-condensed tax-kinds">{0}</table>').format(
            Markup("").join(rows))


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
