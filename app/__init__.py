"""AgencyDesk (代账工作台): the back office of a Chinese accounting agency."""
from __future__ import annotations

import os

from flask import Flask


def _engine_options(app: Flask) -> None:
    """PostgreSQL through psycopg 3: no server-side prepared statements. psycopg
    prepares a query after five runs, and PostgreSQL then may keep a generic plan
    that cannot know the parameters: ``active = $1`` cannot use the partial index of
    active obligations, and an accountant's ``bookkeeper_id IN ($1)`` is estimated
    as a tenth of the clients — his 报税管理 went from 60 to 600 ms. Each statement is
    planned for its own values instead (what Django does too)."""
    uri = app.config.get("SQLALCHEMY_DATABASE_URI") or ""
    if uri.startswith("postgresql+psycopg"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("prepare_threshold", None)
        options["connect_args"] = connect_args
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def create_app(config: dict | None = None) -> Flask:
    """Build an app: config → extensions → views/apis → CLI. Nothing else.

    :param config: values applied over ``config.Config`` (tests pass their own).
    """
    from flask_appbuilder import AppBuilder

    from . import api, audit, cli, guards, views
    from .data import integrity, textsearch
    from .extensions import csrf, db, migrate

    app = Flask(__name__, instance_path=os.path.join(_project_root(), "instance"))
    app.config.from_object("config.Config")
    if config:
        app.config.update(config)
    os.makedirs(app.instance_path, exist_ok=True)
    from .security import vault

    vault.install(app)  # no key, no app: secrets are never kept in plain text
    from .security.passwords import validate_password

    app.config.setdefault("FAB_PASSWORD_COMPLEXITY_VALIDATOR", validate_password)
    _engine_options(app)

    with app.app_context():
        db.init_app(app)
        # FAB never registers CSRFProtect itself (FAB_NOTES): forms, deletes and
        # actions are only protected because of this line.
        csrf.init_app(app)
        migrate.init_app(app, db, directory=os.path.join(_project_root(), "migrations"),
                         render_as_batch=True, include_object=textsearch.include_object)
        from .security.manager import AgencySecurityManager
        from .views.security import install as install_security_views

        install_security_views(AgencySecurityManager)
        appbuilder = AppBuilder()
        appbuilder.init_app(app, db.session)
        views.register(appbuilder)
        api.register(appbuilder)
        # The API authenticates with JWT, not the session form token.
        for bp_name, bp in app.blueprints.items():
            if bp_name.endswith("RestApi") or bp_name in ("SecurityApi", "MenuApi", "OpenApi"):
                csrf.exempt(bp)
        _limit_api_login(app, appbuilder)
        from .security import sessions

        sessions.install(app, db)
    audit.install()
    integrity.install()
    from .services import contacts, ledger

    contacts.install()  # 防撞单: after the field rules (values already normalised)
    ledger.install()  # 下次收费日期 derived, 停止计费 → 正常收费 skips the stopped time
    guards.install(app)
    from .security import portal as portal_wall

    portal_wall.install(app)  # client users reach the portal and nothing else
    from .security.roles import register_view_labels

    register_view_labels(app.appbuilder)
    _install_error_pages(app)
    _install_idle_timeout(app)
    _register_template_helpers(app)
    from .i18n import install_fast_gettext

    install_fast_gettext(app)
    cli.register(app)
    return app


def _project_root() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _limit_api_login(app: Flask, appbuilder) -> None:
    """FAB limits /login/ but not /api/v1/security/login (FAB_NOTES): same limit here,
    on the same limiter (Redis-backed when RATELIMIT_STORAGE_URI says so)."""
    sm = appbuilder.sm
    if not app.config.get("AUTH_RATE_LIMITED"):
        return
    blueprint = app.blueprints.get("SecurityApi")
    if blueprint is not None:
        # FAB limits its login view's blueprint the same way (after registration).
        sm.limiter.limit(app.config["AUTH_RATE_LIMIT"], methods=["POST"])(blueprint)


def _install_error_pages(app: Flask) -> None:
    """Chinese error pages (Werkzeug's are English); the API keeps its JSON answers."""
    from flask import g, render_template, request
    from flask_login import current_user
    from werkzeug.exceptions import HTTPException

    from flask import jsonify

    from .guards import UserError

    @app.errorhandler(HTTPException)
    def http_error(exc):
        message = exc.message if isinstance(exc, UserError) else None
        if request.path.startswith("/api/"):
            # the API answers JSON in the user's language, as its 422s do
            body = jsonify(message=message or _api_message(exc.code))
            return body, exc.code
        if not hasattr(g, "user"):  # a CSRF error fires before FAB sets g.user
            g.user = current_user
        return render_template("appbuilder/general/http_error.html", error=exc,
                               message=message, appbuilder=app.appbuilder), exc.code


def _api_message(code: int) -> str:
    from flask_babel import gettext

    return {400: gettext("Invalid request."), 401: gettext("Not logged in."),
            403: gettext("Access is Denied"), 404: gettext("Not found"),
            405: gettext("Method not allowed."), 409: gettext("The record has changed "
                                                              "since it was read."),
            413: gettext("The uploaded file is too large."),
            429: gettext("Too many attempts in a short time. Please wait a moment and "
                         "try again.")}.get(code, gettext("Invalid request."))


def _install_idle_timeout(app: Flask) -> None:
    """End a browser session after AGENCYDESK_IDLE_MINUTES without a request."""
    import time

    from flask import flash, redirect, request, session
    from flask_babel import gettext
    from flask_login import current_user, logout_user

    idle = app.config.get("AGENCYDESK_IDLE_MINUTES", 30) * 60

    @app.before_request
    def end_idle_session():
        if request.path.startswith(("/static/", "/api/")) or not idle:
            return None
        if not current_user.is_authenticated:
            return None
        now = int(time.time())
        seen = session.get("_seen")
        if seen is not None and now - seen > idle:
            logout_user()
            session.clear()
            flash(gettext("You were logged out after a period of inactivity."), "warning")
            return redirect(app.appbuilder.get_url_for_login)
        if seen is None or now - seen > 30:  # don't rewrite the cookie on every click
            session["_seen"] = now
        return None


def _register_template_helpers(app: Flask) -> None:
    from .views.widgets import asset_url, row_cells, show_value

    app.add_template_filter(row_cells, "row_cells")
    app.add_template_global(show_value, "show_value")
    app.add_template_global(asset_url, "asset_url")

    @app.context_processor
    def company_settings_helper():
        def company_settings():
            from .services.settings import company

            return company()

        def obligation_menu_items():
            from .views.obligations import obligation_menu_items as items

            return items()

        from .views.notices import bell as notice_bell
        from .views.widgets import navbar_menu_html

        return {"company_settings": company_settings, "notice_bell": notice_bell,
                "obligation_menu_items": obligation_menu_items,
                "navbar_menu_html": navbar_menu_html}
