"""Sessions end when they should: logout, a password change or reset, and a lockout
revoke every open session and token of the user.

Flask's session is a signed cookie: ``/logout/`` clears it in the browser, but a
copy of it kept working until it expired (FAB_NOTES). Each user has a
``session_version``; a browser session and a JWT carry the version they were
issued at (``session["_sv"]``, the claim ``sv``), and one that does not match the
user's current version is no login. Revoking is one ``UPDATE``: every machine behind
the load balancer sees it at the next request, with no server-side session store.
"""
from __future__ import annotations

from flask import Flask, has_request_context, jsonify, session
from flask_babel import gettext
from flask_login import user_logged_in
from sqlalchemy import select, update

SESSION_KEY = "_sv"
CLAIM = "sv"


def current_version(db_session, user_id) -> int | None:
    from ..models import Staff

    return db_session.execute(select(Staff.session_version)
                              .where(Staff.id == int(user_id))).scalar()


def revoke(db_session, user_id) -> int:
    """End every session and token of the user (the caller commits).

    :return: the user's new session version.
    """
    from ..models import Staff

    user_id = int(user_id)  # FAB hands the reset screen's ?pk= on as text
    db_session.execute(update(Staff).where(Staff.id == user_id)
                       .values(session_version=Staff.session_version + 1)
                       .execution_options(synchronize_session=False))
    user = db_session.identity_map.get(db_session.identity_key(Staff, user_id))
    if user is not None:
        db_session.expire(user, ["session_version"])
    return current_version(db_session, user_id)


def browser_session_valid(user) -> bool:
    """Whether this request's cookie session was issued at the user's current
    version (outside a request: yes)."""
    if not has_request_context():
        return True
    return session.get(SESSION_KEY) == user.session_version


def token_valid(user, claims: dict) -> bool:
    return claims.get(CLAIM) == user.session_version


def keep_this_session(version: int) -> None:
    """After the user revoked his own sessions (a password change), this browser
    stays logged in at the new version."""
    if has_request_context():
        session[SESSION_KEY] = version


def install(app: Flask, db) -> None:
    """Stamp the version on logins and tokens; answer token errors in Chinese."""

    def remember_version(sender, user, **extra):
        session[SESSION_KEY] = user.session_version

    user_logged_in.connect(remember_version, app, weak=False)

    jwt = app.extensions["flask-jwt-extended"]

    @jwt.additional_claims_loader
    def _claims(identity):
        return {CLAIM: current_version(db.session, identity)}

    @jwt.token_in_blocklist_loader
    def _revoked(jwt_header, jwt_payload) -> bool:
        # access and refresh tokens alike: a refresh token issued before a logout
        # mints nothing afterwards
        try:
            version = current_version(db.session, jwt_payload.get("sub"))
        except (TypeError, ValueError):
            return True
        return version is None or jwt_payload.get(CLAIM) != version

    def _answer(text):
        return jsonify(message=text), 401

    jwt.unauthorized_loader(lambda reason: _answer(gettext("Not logged in.")))
    jwt.invalid_token_loader(lambda reason: _answer(gettext("The login token is invalid.")))
    jwt.expired_token_loader(lambda header, payload: _answer(
        gettext("The login token has expired: log in again.")))
    jwt.revoked_token_loader(lambda header, payload: _answer(
        gettext("The login token is no longer valid: log in again.")))
    jwt.needs_fresh_token_loader(lambda header, payload: _answer(
        gettext("Log in again to do this.")))
    jwt.user_lookup_error_loader(lambda header, payload: _answer(
        gettext("The login token is no longer valid: log in again.")))
