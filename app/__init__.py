"""AgencyDesk (代账工作台): the back office of a Chinese accounting agency."""
from __future__ import annotations

import os

from flask import Flask


def create_app(config: dict | None = None) -> Flask:
    """Build an app: config → extensions → views/apis → CLI. Nothing else.

    :param config: values applied over ``config.Config`` (tests pass their own).
    """
    from flask_appbuilder import AppBuilder

    from . import api, cli, views
    from .extensions import csrf, db, migrate

    app = Flask(__name__, instance_path=os.path.join(_project_root(), "instance"))
    app.config.from_object("config.Config")
    if config:
        app.config.update(config)
    os.makedirs(app.instance_path, exist_ok=True)

    with app.app_context():
        db.init_app(app)
        # FAB never registers CSRFProtect itself (FAB_NOTES): forms, deletes and
        # actions are only protected because of this line.
        csrf.init_app(app)
        migrate.init_app(app, db, directory=os.path.join(_project_root(), "migrations"),
                         render_as_batch=True)
        appbuilder = AppBuilder()
        appbuilder.init_app(app, db.session)
        views.register(appbuilder)
        api.register(appbuilder)
        # The API authenticates with JWT, not the session form token.
        for bp_name, bp in app.blueprints.items():
            if bp_name.endswith("RestApi") or bp_name in ("SecurityApi", "MenuApi", "OpenApi"):
                csrf.exempt(bp)
    _register_template_helpers(app)
    cli.register(app)
    return app


def _project_root() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _register_template_helpers(app: Flask) -> None:
    @app.context_processor
    def company_settings_helper():
        def company_settings():
            from .services.settings import company

            return company()

        return {"company_settings": company_settings}
