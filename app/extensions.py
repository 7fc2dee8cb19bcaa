"""Extensions created unbound here and bound to an app in ``create_app``.

``db`` is the Flask-SQLAlchemy object FAB expects (``flask_appbuilder.SQLA`` is gone in
5.x: FAB_NOTES). AppBuilder itself is created per app in ``create_app`` because it
keeps the list of registered views on the instance: a module-level one would
register every view again for each app a test builds.
"""
from flask_appbuilder.utils.legacy import get_sqla_class
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

db = get_sqla_class()()
migrate = Migrate()
csrf = CSRFProtect()
