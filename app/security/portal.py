"""The wall between the portal and the back office, keyed on the ClientUser role.

A client user holds no permission, so FAB already refuses him its screens and API;
this guard makes it structural and uniform: before any view runs, a client user
signed in by the browser session reaches only the portal (``portal.*``), the login
and logout pages and static files; every other URL answers 403 (the home page sends
him to /portal/). A client user who must still replace the password staff gave
him reaches only the password page. The REST API's token loader
(``AgencySecurityManager.load_user_jwt``) refuses client users' tokens as well.
"""
from __future__ import annotations

from flask import Flask, abort, redirect, request, url_for
from flask_login import current_user

from .scope import is_client_user

#: what a client user may reach outside the portal's own blueprint
OPEN_ENDPOINTS = frozenset({"static", "appbuilder.static", "AuthDBView.login",
                            "AuthDBView.logout"})
PORTAL_PREFIX = "portal."
PASSWORD_ENDPOINT = "portal.password"


def install(app: Flask) -> None:
    @app.before_request
    def keep_client_users_in_the_portal():
        if not current_user.is_authenticated or not is_client_user(current_user):
            return None
        endpoint = request.endpoint or ""
        if endpoint in OPEN_ENDPOINTS:
            return None
        if endpoint.startswith(PORTAL_PREFIX):
            from ..services.portal import must_change_password

            if endpoint != PASSWORD_ENDPOINT and must_change_password(current_user):
                return redirect(url_for(PASSWORD_ENDPOINT))
            return None
        if request.path == "/" and request.method == "GET":
            return redirect(url_for("portal.index"))
        abort(403)
