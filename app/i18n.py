"""Messages of the domain's stable reason keys, in the request's language.

The domain raises errors with English msgids or keys of
``app.domain.validation.MESSAGES``; screens, the API and the import turn them into
text here (one place), so a rule's message is the same on every path.
"""
from __future__ import annotations

from flask_babel import gettext

from .domain.validation import MESSAGES, FieldErrors


def message(reason: str, **params) -> str:
    """The text of a reason key (or of a msgid given as the reason)."""
    return gettext(MESSAGES.get(reason, reason), **params)


def field_messages(errors: FieldErrors, rename: dict | None = None) -> dict:
    """``{field: [text, …]}`` for a 422 answer or a form; ``rename`` maps a column to
    the name the caller shows (``bookkeeper_id`` → ``bookkeeper``)."""
    rename = rename or {}
    out: dict = {}
    for name, items in errors.errors.items():
        shown = rename.get(name, name)
        for reason, params in items:
            text = message(reason, **params)
            if text not in out.setdefault(shown, []):
                out[shown].append(text)
    return out
