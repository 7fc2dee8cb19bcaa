"""Form fields that parse what a person types with the domain's field rules, so a
form refuses exactly what every other path refuses, with the same Chinese message
beside the field (WTForms' DecimalField takes NaN, Infinity, 1e5 and negatives, and
answers in English)."""
from __future__ import annotations

from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
from wtforms import StringField

from ..domain import validation
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
