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


# ---- translations resolved once per request --------------------------------------
# Flask-Babel resolves every gettext through ~9 werkzeug LocalProxy lookups (g, the
# babel context, the locale, the domain) before a dict lookup in the catalogue; a
# list page makes several hundred of them. Here the request's locale is resolved
# once (Flask-Babel's own ``get_locale``, so FAB's locale selector and its session
# side effect still run) and every msgid is looked up in a per-app, per-locale
# dict filled from Flask-Babel's translations on first use. Catalogues do not
# change while a process runs, so the dict never goes stale.
_G_KEY = "_agencydesk_translations"


def _table():
    """The msgid → text dict of the current request's locale, or None outside an
    app context (then Flask-Babel's NullTranslations rule applies: the msgid)."""
    from flask.globals import _cv_app

    ctx = _cv_app.get(None)
    if ctx is None:
        return None
    store = ctx.g.__dict__
    table = store.get(_G_KEY)
    if table is None:
        import flask_babel

        tables = ctx.app.extensions.setdefault("agencydesk_translations", {})
        locale = str(flask_babel.get_locale())
        table = store[_G_KEY] = tables.setdefault(locale, {})
    return table


def fast_ugettext(string: str) -> str:
    """``get_translations().ugettext(string)``, memoised per locale."""
    table = _table()
    if table is None:
        return string
    text = table.get(string)
    if text is None:
        import flask_babel

        text = table[string] = flask_babel.get_translations().ugettext(string)
    return text


def install_fast_gettext(app) -> None:
    """Route Python's ``gettext``/``lazy_gettext`` (through the default domain) and
    the templates' ``_()``/``gettext()`` through :func:`fast_ugettext`."""
    import flask_babel

    class FastDomain(flask_babel.Domain):
        def gettext(self, string, **variables):
            text = fast_ugettext(string)
            return text % variables if variables else text

    config = flask_babel.get_babel(app)
    # ``domain_instance`` is a cached_property of the Babel object: set its value
    config.instance.__dict__["domain_instance"] = FastDomain(domain=config.default_domain)
    app.jinja_env.install_gettext_callables(
        gettext=fast_ugettext,
        ngettext=lambda s, p, n: flask_babel.get_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: flask_babel.get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: flask_babel.get_translations().unpgettext(c, s, p, n),
    )
