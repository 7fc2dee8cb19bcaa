"""Field checks with Chinese messages, in the two shapes the app needs: WTForms
validators for screens and marshmallow validators for the REST API. Both call the
same pure checks in ``app.domain.codes``.
"""
from __future__ import annotations

from flask_babel import gettext
from marshmallow import ValidationError as MarshmallowError
from sqlalchemy import select
from wtforms.validators import ValidationError as FormError

from .domain import codes
from .domain.choices import N_
from .extensions import db

CODE_MESSAGES = {
    "length": N_("A unified social credit code has exactly 18 characters."),
    "chars": N_("The code contains characters a unified social credit code cannot have "
             "(I, O, S, V, Z or punctuation), or its region part is not six digits."),
    "check": N_("The check digit (18th character) is wrong: please check the code for a typo."),
    "org_check": N_("The organization code part (characters 9–17) has a wrong check digit: "
                 "please check the code for a typo."),
    "phone": N_("Enter a mobile number (11 digits) or a landline with area code, "
             "e.g. 010-12345678."),
}


def code_message(reason: str) -> str:
    return gettext(CODE_MESSAGES[reason])


def check_credit_code(value):
    """Normalised credit code or None for blank. :raises codes.CodeError:"""
    if value is None or not str(value).strip():
        return None
    return codes.validate_uscc(value)


def check_phone(value):
    if value is None or not str(value).strip():
        return None
    return codes.validate_phone(value)


def credit_code_taken(model, code: str, own_id=None) -> bool:
    """Whether another row already uses ``code`` (checked across the whole table:
    uniqueness does not depend on who is looking)."""
    query = select(model.id).where(model.credit_code == code)
    if own_id is not None:
        query = query.where(model.id != own_id)
    return db.session.execute(query.limit(1)).first() is not None


# ---- WTForms (screens) -------------------------------------------------------
class CreditCode:
    """Validates and normalises a credit code field; optionally checks uniqueness."""

    def __init__(self, model=None):
        self.model = model

    def __call__(self, form, field):
        try:
            field.data = check_credit_code(field.data)
        except codes.CodeError as exc:
            raise FormError(code_message(exc.reason))
        if field.data and self.model is not None:
            if credit_code_taken(self.model, field.data, getattr(form, "_id", None)):
                raise FormError(gettext("Another client already has this unified social credit code."))


class Phone:
    def __call__(self, form, field):
        try:
            field.data = check_phone(field.data)
        except codes.CodeError as exc:
            raise FormError(code_message(exc.reason))


class NotBefore:
    """This date field may not be earlier than another date field of the form."""

    def __init__(self, other: str, message: str):
        self.other, self.message = other, message

    def __call__(self, form, field):
        other = getattr(form, self.other, None)
        if field.data and other is not None and other.data and field.data < other.data:
            raise FormError(gettext(self.message))


# ---- marshmallow (REST API) --------------------------------------------------
def api_credit_code(value):
    try:
        check_credit_code(value)
    except codes.CodeError as exc:
        raise MarshmallowError(code_message(exc.reason))


def api_phone(value):
    try:
        check_phone(value)
    except codes.CodeError as exc:
        raise MarshmallowError(code_message(exc.reason))
